package alertmanager

import (
	"maps"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jdcloud-vm-resizer/resizer/internal/childproc"
)

const token = "test-token-never-logged"

// The alert every test fires: the contract's default labels (§7.1), and
// values amtool would mangle unquoted (spaces kept, a leading "~", quotes,
// a backslash, a comma, a newline).
func alert(instance string) (labels, annotations map[string]string) {
	return map[string]string{
			"alertname":           "HighCPU",
			"jdcloud_instance_id": instance,
			"jdcloud_region":      "cn-north-1",
			"resize_direction":    "up",
			"team":                ` ~ops, "core" `,
		}, map[string]string{
			"summary": "CPU > 90% for 5m, \"hot\" =~ C:\\path\nsecond line",
		}
}

var fingerprintRE = regexp.MustCompile(`^[0-9a-f]{16}$`)

func TestFire(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, nil)
	s := New(t, Options{WebhookURL: r.URL + "/alertmanager", Token: token})
	labels, annotations := alert("i-fire")
	startsAt, err := s.Fire(labels, annotations)
	if err != nil {
		t.Fatal(err)
	}
	d := r.next(t, s)
	t.Logf("after %v: %s %s", d.at.Sub(startsAt).Round(time.Millisecond), d.header, d.body)

	m := d.msg
	if m.Version != "4" || m.Status != "firing" || m.Receiver != "resizer" {
		t.Errorf("version %q status %q receiver %q, want 4 firing resizer", m.Version, m.Status, m.Receiver)
	}
	if m.ExternalURL != s.URL() {
		t.Errorf("externalURL %q, want %q", m.ExternalURL, s.URL())
	}
	if m.GroupKey == "" || m.TruncatedAlerts == nil || *m.TruncatedAlerts != 0 {
		t.Errorf("groupKey %q truncatedAlerts %v, want set and 0", m.GroupKey, m.TruncatedAlerts)
	}
	if want := map[string]string{"alertname": "HighCPU", "jdcloud_instance_id": "i-fire"}; !maps.Equal(m.GroupLabels, want) {
		t.Errorf("groupLabels %v, want %v", m.GroupLabels, want)
	}
	if !maps.Equal(m.CommonLabels, labels) || !maps.Equal(m.CommonAnnotations, annotations) {
		t.Errorf("commonLabels %v commonAnnotations %v, want the alert's", m.CommonLabels, m.CommonAnnotations)
	}
	if len(m.Alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(m.Alerts))
	}
	a := m.Alerts[0]
	if a.Status != "firing" || !maps.Equal(a.Labels, labels) || !maps.Equal(a.Annotations, annotations) {
		t.Errorf("alert %s %v %v, want firing with the labels and annotations fired", a.Status, a.Labels, a.Annotations)
	}
	if !fingerprintRE.MatchString(a.Fingerprint) {
		t.Errorf("fingerprint %q, want 16 hex digits", a.Fingerprint)
	}
	if !a.StartsAt.Equal(startsAt) {
		t.Errorf("startsAt %v, want %v as fired", a.StartsAt, startsAt)
	}

	if got := d.header.Get("Authorization"); got != "Bearer "+token {
		t.Errorf("Authorization %q, want the bearer token", got)
	}
	if got := d.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type %q", got)
	}
	if got := d.header.Get("User-Agent"); !strings.HasPrefix(got, "Alertmanager/") {
		t.Errorf("User-Agent %q", got)
	}

	alerts, err := s.Alerts()
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || alerts[0].Fingerprint != a.Fingerprint || alerts[0].Status.State != "active" ||
		!alerts[0].StartsAt.Equal(startsAt) || len(alerts[0].Receivers) != 1 || alerts[0].Receivers[0].Name != "resizer" {
		t.Errorf("Alerts() = %+v, want the one active alert, fingerprint %s", alerts, a.Fingerprint)
	}
	r.none(t, 1500*time.Millisecond) // no repeat within the hour
}

func TestResolve(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, nil)
	s := New(t, Options{WebhookURL: r.URL, SendResolved: true})
	labels, annotations := alert("i-resolve")
	startsAt, err := s.Fire(labels, annotations)
	if err != nil {
		t.Fatal(err)
	}
	firing := r.next(t, s)
	if firing.msg.Status != "firing" {
		t.Fatalf("first delivery %s, want firing", firing.body)
	}
	if got := firing.header.Get("Authorization"); got != "" {
		t.Errorf("Authorization %q without a token", got)
	}
	resolvedAt := time.Now()
	if err := s.Resolve(labels); err != nil {
		t.Fatal(err)
	}
	d := r.next(t, s)
	t.Logf("resolved after %v: %s", d.at.Sub(resolvedAt).Round(time.Millisecond), d.body)
	if d.msg.Status != "resolved" || len(d.msg.Alerts) != 1 {
		t.Fatalf("second delivery %s, want one resolved alert", d.body)
	}
	a, f := d.msg.Alerts[0], firing.msg.Alerts[0]
	if a.Status != "resolved" || a.Fingerprint != f.Fingerprint || !a.StartsAt.Equal(startsAt) {
		t.Errorf("resolved alert %s %s %v, want resolved %s %v", a.Status, a.Fingerprint, a.StartsAt, f.Fingerprint, startsAt)
	}
	if !a.EndsAt.After(a.StartsAt) || a.EndsAt.After(d.at) {
		t.Errorf("endsAt %v, want between startsAt %v and the delivery", a.EndsAt, a.StartsAt)
	}
	if !maps.Equal(a.Annotations, annotations) || !maps.Equal(a.Labels, labels) {
		t.Errorf("resolved alert lost its labels or annotations: %v %v", a.Labels, a.Annotations)
	}
	if alerts, err := s.Alerts(); err != nil || len(alerts) != 0 {
		t.Errorf("Alerts() after Resolve = %+v, %v; want none", alerts, err)
	}
}

// Alertmanager's own default is send_resolved: true; the Options' default
// must really be off.
func TestResolvedNotSentByDefault(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, nil)
	s := New(t, Options{WebhookURL: r.URL})
	labels, annotations := alert("i-quiet")
	if _, err := s.Fire(labels, annotations); err != nil {
		t.Fatal(err)
	}
	r.next(t, s)
	if err := s.Resolve(labels); err != nil {
		t.Fatal(err)
	}
	r.none(t, 3*time.Second) // three group intervals
}

// A 503 is retried with the same notification: Alertmanager's exponential
// backoff (0.5s, times 1.5 each time, ±50%), Retry-After ignored.
func TestRetryOn503(t *testing.T) {
	t.Parallel()
	const failures = 3
	r := newReceiver(t, func(n int) int {
		if n <= failures {
			return 503
		}
		return 200
	})
	s := New(t, Options{WebhookURL: r.URL, Token: token})
	labels, annotations := alert("i-retry")
	if _, err := s.Fire(labels, annotations); err != nil {
		t.Fatal(err)
	}
	first := r.next(t, s)
	var gaps []time.Duration
	prev := first
	for range failures {
		d := r.next(t, s)
		gaps = append(gaps, d.at.Sub(prev.at).Round(time.Millisecond))
		if d.msg.GroupKey != first.msg.GroupKey || len(d.msg.Alerts) != 1 ||
			d.msg.Alerts[0].Fingerprint != first.msg.Alerts[0].Fingerprint ||
			!d.msg.Alerts[0].StartsAt.Equal(first.msg.Alerts[0].StartsAt) {
			t.Errorf("retry %s differs from the first attempt %s", d.body, first.body)
		}
		if got := d.header.Get("Authorization"); got != "Bearer "+token {
			t.Errorf("retry's Authorization %q", got)
		}
		prev = d
	}
	t.Logf("%d answers 503, then 200: the attempts came %v apart", failures, gaps)
	// The backoff's first waits are 0.25–0.75s, 0.375–1.125s, 0.56–1.69s:
	// 3.6s at most, plus slack for a loaded machine. (A receiver that never
	// recovers is retried for 10s, Alertmanager's least notify timeout,
	// then again from the next group_interval, for as long as it fails.)
	if total := prev.at.Sub(first.at); total > 8*time.Second {
		t.Errorf("the retries took %v", total)
	}
	if strings.Contains(s.Log(), token) {
		t.Errorf("alertmanager logged the bearer token: %s", s.Log())
	}
	r.none(t, 2*time.Second) // a 200 ends it
}

// Two Servers, one receiver: an HA pair without gossip. Each notifies, with
// the same fingerprint and startsAt, so the product sees the same request id
// twice.
func TestHAPairBothDeliver(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, nil)
	opts := Options{WebhookURL: r.URL, Token: token}
	a, b := New(t, opts), New(t, opts)
	if a.URL() == b.URL() {
		t.Fatalf("both servers at %s", a.URL())
	}
	labels, annotations := alert("i-pair")
	startsAt := time.Now()
	for _, s := range []*Server{a, b} {
		if err := s.FireAt(startsAt, labels, annotations); err != nil {
			t.Fatal(err)
		}
	}
	d1, d2 := r.next(t, a, b), r.next(t, a, b)
	from := map[string]bool{d1.msg.ExternalURL: true, d2.msg.ExternalURL: true}
	if !from[a.URL()] || !from[b.URL()] {
		t.Errorf("deliveries from %v, want one from each of %s and %s", from, a.URL(), b.URL())
	}
	x, y := d1.msg.Alerts[0], d2.msg.Alerts[0]
	if x.Fingerprint != y.Fingerprint || !x.StartsAt.Equal(y.StartsAt) || !x.StartsAt.Equal(startsAt.Truncate(time.Millisecond)) {
		t.Errorf("the pair sent %s %v and %s %v, want one fingerprint and startsAt %v", x.Fingerprint, x.StartsAt, y.Fingerprint, y.StartsAt, startsAt)
	}
	if d1.msg.GroupKey != d2.msg.GroupKey {
		t.Errorf("groupKeys %q and %q", d1.msg.GroupKey, d2.msg.GroupKey)
	}
	r.none(t, time.Second)
}

func TestClose(t *testing.T) {
	t.Parallel()
	Installed(t)
	s, err := Start(Options{WebhookURL: "http://127.0.0.1:9/unused"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Errorf("URL() = %q, want loopback", s.URL())
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	requireGone(t, s)
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// requireGone checks that Close left no process, listener or directory.
func requireGone(t *testing.T, s *Server) {
	t.Helper()
	childproc.RequireGone(t, "alertmanager", s.proc, s.URL())
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Errorf("%s is still there (%v)", s.dir, err)
	}
}
