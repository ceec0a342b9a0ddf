package jdcloudsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/jdcloud-vm-resizer/resizer/jdcloud"
	"golang.org/x/time/rate"
)

// The demo key pair the simulator accepts unless told otherwise. It is
// public on purpose: it only ever opens this fake.
const (
	DemoAccessKey = "JDSIMDEMOACCESSKEY0001"
	DemoSecretKey = "jdsim-demo-secret-key-not-for-production"
)

// signingService is the service name in JD's credential scope for the VM API.
const signingService = "vm"

// maxBody bounds what the simulator reads of a request body; JD's bodies
// here are a few dozen bytes.
const maxBody = 1 << 20

// Options configure a Server. The zero value is a usable simulator with
// the demo credentials and the embedded fixture.
type Options struct {
	// Credentials are the accepted key pairs; empty means the demo pair.
	Credentials []jdcloud.Credentials
	// Fixture is the world in the fixture format (see fixture.json); nil
	// means the embedded default fixture.
	Fixture []byte
	// Transition is how long stopping, starting and resizing last, on the
	// clock of Now and to the nanosecond (5.5s is 5.5s): a describeInstance
	// before then shows stopping/starting/resizing, one at or after it the
	// final status, however often or seldom it is asked. Zero makes the
	// transitional status visible to exactly the next describeInstance of
	// that instance, after which it is final; OutOfService then counts a
	// transition as over when it is accepted.
	Transition time.Duration
	// Now is the clock for request times, transitions and the rate limit;
	// nil is time.Now.
	Now func() time.Time
	// RateLimit is how many requests per second JD's gateway takes over
	// every op and caller before answering 429 RATE_LIMIT_EXCEEDED, as a
	// token bucket with bursts of max(1, RateLimit); 0 means no limit.
	// Only authenticated requests take tokens. See SetRateLimit.
	RateLimit float64
	// OnRequest, when set, receives a copy of each request's record once it
	// has been answered or abandoned; cmd/jdcloudsim logs through it. It
	// runs on the request's goroutine, outside the Server's lock.
	OnRequest func(Request)
}

// Server is one simulated JD Cloud VM OpenAPI. It is safe for concurrent use.
type Server struct {
	creds      map[string]jdcloud.Credentials
	now        func() time.Time
	transition time.Duration
	onRequest  func(Request)

	mu       sync.Mutex
	regions  map[string]*region
	requests []Request
	calls    map[string]int
	faults   map[string][]fault
	// startFaults are RefuseStart and StartEndsIn, kept apart from the
	// instances so that PutInstance does not silently drop them.
	startFaults map[instanceKey]startFault
	peakOut     int           // PeakOutOfService
	limiter     *rate.Limiter // nil: no rate limit
	throttled   int
	latency     map[string]time.Duration // "" is the default for every op

	closing   chan struct{}
	closeOnce sync.Once
	ts        *httptest.Server // set by Start
}

// New builds a simulator without listening; serve it through Handler.
func New(o Options) (*Server, error) {
	data := o.Fixture
	if data == nil {
		data = defaultFixture
	}
	regions, err := loadFixture(data)
	if err != nil {
		return nil, err
	}
	if err := checkRate(o.RateLimit); err != nil {
		return nil, err
	}
	creds := o.Credentials
	if len(creds) == 0 {
		creds = []jdcloud.Credentials{{AccessKey: DemoAccessKey, SecretKey: DemoSecretKey}}
	}
	s := &Server{
		creds:       make(map[string]jdcloud.Credentials, len(creds)),
		now:         o.Now,
		transition:  o.Transition,
		onRequest:   o.OnRequest,
		regions:     regions,
		calls:       map[string]int{},
		faults:      map[string][]fault{},
		startFaults: map[instanceKey]startFault{},
		latency:     map[string]time.Duration{},
		closing:     make(chan struct{}),
		limiter:     newLimiter(o.RateLimit),
	}
	for _, c := range creds {
		if c.AccessKey == "" || c.SecretKey == "" {
			return nil, errors.New("jdcloudsim: a credential pair has an empty access or secret key")
		}
		s.creds[c.AccessKey] = c
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Start builds a simulator and serves it on 127.0.0.1 at a free port.
// It serves through httptest.Server because that server's Close closes
// connections that never sent a request at once and waits for the rest,
// which http.Server.Shutdown would hold for seconds; tests and goleak
// depend on Close being prompt and complete.
func Start(o Options) (*Server, error) {
	s, err := New(o)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("jdcloudsim: listen: %w", err)
	}
	s.ts = &httptest.Server{Listener: l, Config: &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}}
	s.ts.Start()
	return s, nil
}

// URL is the base URL ("http://127.0.0.1:port") of a started Server, ""
// for one made by New.
func (s *Server) URL() string {
	if s.ts == nil {
		return ""
	}
	return s.ts.URL
}

// Handler serves the simulated API.
func (s *Server) Handler() http.Handler { return s }

// Close cuts short every latency wait and, for a started Server, stops
// listening and waits for the requests in flight to finish. It is safe to
// call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing) // first, so that the wait below is not held by latencies
		if s.ts != nil {
			s.ts.Close()
		}
	})
}

// ServeHTTP answers one request in JD's order: the caller is
// authenticated before anything is looked up, so an unauthenticated caller
// learns nothing about regions or instances.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	rt := matchRoute(r.Method, r.URL.Path)
	idx := s.begin(Request{
		Op:       rt.op,
		Method:   r.Method,
		Path:     r.URL.Path,
		RawQuery: r.URL.RawQuery,
		Header:   r.Header.Clone(),
		Body:     append([]byte(nil), body...),
		At:       s.now(),
	})
	rep := s.answer(w, r, body, readErr, rt)
	s.finish(idx, rep)
	if rep.conn != nil {
		_ = rep.conn.Close()
	}
	if rep.dropped && rep.conn == nil {
		panic(http.ErrAbortHandler)
	}
}

// reply is how a request was answered, for its record.
type reply struct {
	status    int // 0 when nothing was answered
	accessKey string
	authOK    bool
	dropped   bool      // an injected drop closes the connection unanswered
	conn      io.Closer // the hijacked connection ServeHTTP closes; nil: ServeHTTP aborts
}

func (s *Server) answer(w http.ResponseWriter, r *http.Request, body []byte, readErr error, rt route) reply {
	switch s.wait(r.Context(), rt.op) {
	case waitAbandoned:
		return reply{}
	case waitClosing:
		return reply{status: writeEnvelope(w, nil, &apiError{http.StatusServiceUnavailable, "UNAVAILABLE", "the simulator is shutting down"})}
	}
	if readErr != nil {
		return reply{status: writeEnvelope(w, nil, invalidArgument("request body unreadable or over %d bytes", maxBody))}
	}
	accessKey, authErr := s.authenticate(r, body, rt.region)
	if authErr != nil {
		return reply{status: writeEnvelope(w, nil, authErr), accessKey: accessKey}
	}
	rep := reply{accessKey: accessKey, authOK: true}
	// After authentication: an unauthenticated call is 401 whatever the
	// load and takes no token from the callers' budget. Before faults: a
	// throttled call never reached the service, so it uses none.
	if !s.admit() {
		rep.status = writeThrottled(w)
		return rep
	}
	f, faulted := s.takeFault(rt.op)
	if faulted && !f.applies() {
		return s.injected(w, rep, f, rt.op, false)
	}
	if r.Method == http.MethodPost {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			rep.status = writeEnvelope(w, nil, invalidArgument("Content-Type must be application/json, got %q", r.Header.Get("Content-Type")))
			return rep
		}
	}
	result, apiErr := s.dispatch(rt, r.URL.RawQuery, body)
	if faulted {
		return s.injected(w, rep, f, rt.op, true)
	}
	rep.status = writeEnvelope(w, result, apiErr)
	return rep
}

// injected meets the caller with fault f, after op was applied or not.
func (s *Server) injected(w http.ResponseWriter, rep reply, f fault, op string, applied bool) reply {
	if f.drops() {
		rep.dropped, rep.conn = true, dropConnection(w)
		return rep
	}
	msg := "injected fault for " + op
	if applied {
		msg += " after applying it"
	}
	rep.status = writeEnvelope(w, nil, &apiError{f.status, statusName(f.status), msg})
	return rep
}

// dispatch runs the operation the route names.
func (s *Server) dispatch(rt route, rawQuery string, body []byte) (any, *apiError) {
	switch rt.op {
	case OpDescribeInstance:
		return s.describeInstance(rt.region, rt.id)
	case OpDescribeInstanceTypes:
		return s.describeInstanceTypes(rt.region, rawQuery)
	case OpDescribeImageConstraints:
		return s.describeImageConstraints(rt.region, rt.id)
	case OpResizeInstance:
		return s.resizeInstance(rt.region, rt.id, body)
	case OpStopInstance:
		return s.stopInstance(rt.region, rt.id, body)
	case OpStartInstance:
		return s.startInstance(rt.region, rt.id, body)
	}
	return nil, notFound("no such API: %s", rt.path)
}

type waitResult int

const (
	waitDone waitResult = iota
	waitAbandoned
	waitClosing
)

// wait applies the op's configured latency. A caller that gives up is
// abandoned (there is nobody to answer); Close cuts the wait short.
func (s *Server) wait(ctx context.Context, op string) waitResult {
	s.mu.Lock()
	d, ok := s.latency[op]
	if !ok {
		d = s.latency[""]
	}
	s.mu.Unlock()
	if d <= 0 {
		return waitDone
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return waitDone
	case <-ctx.Done():
		return waitAbandoned
	case <-s.closing:
		return waitClosing
	}
}
