package testkit

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"go.uber.org/zap"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/backoff"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud/jdcloudsim"
	"github.com/jdcloud-vm-resizer/resizer/store"
)

// Rig is one Handler wired to a fresh simulator over loopback, with fast
// retries and polling, an in-memory store unless told otherwise, and a
// recording Publisher.
type Rig struct {
	Sim     *jdcloudsim.Server
	Handler *resizer.Handler
	Pub     *Publisher
	// Options built Handler; Rebuild makes a new Handler from them.
	Options resizer.Options
}

// Option tunes a Rig.
type Option func(*config)

type config struct {
	sim    jdcloudsim.Options
	secret string
	opts   resizer.Options
}

func WithPolicy(p resizer.Policy) Option    { return func(c *config) { c.opts.Policy = p } }
func WithSecret(s string) Option            { return func(c *config) { c.secret = s } }
func WithTransition(d time.Duration) Option { return func(c *config) { c.sim.Transition = d } }
func WithCooldown(d time.Duration) Option   { return func(c *config) { c.opts.Cooldown = d } }
func WithStore(s resizer.Store) Option      { return func(c *config) { c.opts.Store = s } }
func WithLog(l *zap.Logger) Option          { return func(c *config) { c.opts.Log = l } }

// WithCredentials makes the simulator accept only creds, which the client signs with.
func WithCredentials(creds jdcloud.Credentials) Option {
	return func(c *config) {
		c.sim.Credentials = []jdcloud.Credentials{creds}
		c.secret = creds.SecretKey
	}
}

// WithOptions edits the Handler's options last.
func WithOptions(f func(*resizer.Options)) Option { return func(c *config) { f(&c.opts) } }

// AllowAll allows force and stopIfRunning.
func AllowAll() Option { return WithPolicy(resizer.Policy{AllowForce: true, AllowStop: true}) }

// FastRetry retries without making tests wait.
func FastRetry() backoff.Policy {
	return backoff.Policy{Attempts: 3, Base: time.Millisecond, Max: 2 * time.Millisecond}
}

// New starts a simulator and wires a Handler to it.
func New(t testing.TB, opts ...Option) *Rig {
	t.Helper()
	c := config{secret: jdcloudsim.DemoSecretKey}
	c.opts = resizer.Options{
		Source: "test-resizer", PublishMargin: 200 * time.Millisecond,
		PollInterval: 5 * time.Millisecond, PollMax: 20 * time.Millisecond, InProgressWait: 100 * time.Millisecond,
	}
	ak := jdcloudsim.DemoAccessKey
	for _, o := range opts {
		o(&c)
	}
	if len(c.sim.Credentials) > 0 {
		ak = c.sim.Credentials[0].AccessKey
	}
	sim, err := jdcloudsim.Start(c.sim)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	client, err := jdcloud.New(jdcloud.Options{Endpoint: sim.URL(), Credentials: jdcloud.StaticCredentials{AccessKey: ak, SecretKey: c.secret}, Retry: FastRetry()})
	if err != nil {
		t.Fatal(err)
	}
	if c.opts.Store == nil {
		// The store keeps time by the handler's clock: a test that fixes
		// Options.Now must not see its counters and marks expire by the
		// wall clock (they did, once the real time passed the fixed one).
		m := store.NewMemory(1000)
		m.Now = c.opts.Now
		c.opts.Store = m
	}
	pub := &Publisher{}
	c.opts.Compute, c.opts.Publisher = client, pub
	return &Rig{Sim: sim, Handler: resizer.NewHandler(c.opts), Pub: pub, Options: c.opts}
}

// Rebuild makes a new Handler from the rig's options after edit, keeping
// the simulator, the store and the publisher.
func (r *Rig) Rebuild(edit func(*resizer.Options)) *resizer.Handler {
	edit(&r.Options)
	r.Handler = resizer.NewHandler(r.Options)
	return r.Handler
}

// Handle runs one delivery with a 10 s deadline.
func (r *Rig) Handle(t testing.TB, e event.Event) resizer.Outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return r.Handler.Handle(ctx, e)
}

// StateChanging counts the calls that change an instance.
func (r *Rig) StateChanging() int {
	return r.Sim.Calls("resizeInstance") + r.Sim.Calls("stopInstance") + r.Sim.Calls("startInstance")
}

// Ops lists the simulator's operations in the order they were called,
// dropping repeated describeInstance polls.
func (r *Rig) Ops() []string {
	var out []string
	for _, q := range r.Sim.Requests() {
		if len(out) > 0 && q.Op == "describeInstance" && out[len(out)-1] == "describeInstance" {
			continue
		}
		out = append(out, q.Op)
	}
	return out
}

// JDCalls counts every request the simulator saw.
func (r *Rig) JDCalls() int { return len(r.Sim.Requests()) }

var seq atomic.Int64

// Request builds a structured request event from alertmanager/prod with
// the given data fields and a fresh id.
func Request(data map[string]any) event.Event {
	n := seq.Add(1)
	e := event.New()
	e.SetID("req-" + time.Now().Format("150405.000000") + "-" + strings.Repeat("x", int(n%3)) + string(rune('a'+n%26)) + "-" + strconv.FormatInt(n, 10))
	e.SetSource("alertmanager/prod")
	e.SetType(resizer.TypeRequested)
	_ = e.SetData(event.ApplicationJSON, data)
	return e
}

// Resize is request data for instance to target in cn-north-1, plus extra
// key/value pairs.
func Resize(instance, target string, extra ...any) map[string]any {
	d := map[string]any{"regionId": "cn-north-1", "instanceId": instance, "instanceType": target}
	for i := 0; i+1 < len(extra); i += 2 {
		d[extra[i].(string)] = extra[i+1]
	}
	return d
}
