package alertmanager

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// message is Alertmanager's webhook body, version 4, as far as these tests
// read it. Pointers tell a field sent as zero from one not sent.
type message struct {
	Version            string            `json:"version"`
	GroupKey           string            `json:"groupKey"`
	TruncatedAlerts    *int              `json:"truncatedAlerts"`
	Status             string            `json:"status"`
	Receiver           string            `json:"receiver"`
	GroupLabels        map[string]string `json:"groupLabels"`
	CommonLabels       map[string]string `json:"commonLabels"`
	CommonAnnotations  map[string]string `json:"commonAnnotations"`
	ExternalURL        string            `json:"externalURL"`
	NotificationReason *string           `json:"notification_reason"`
	Alerts             []struct {
		Status       string            `json:"status"`
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     time.Time         `json:"startsAt"`
		EndsAt       time.Time         `json:"endsAt"`
		GeneratorURL string            `json:"generatorURL"`
		Fingerprint  string            `json:"fingerprint"`
	} `json:"alerts"`
}

// delivery is one request the receiver got.
type delivery struct {
	at     time.Time
	header http.Header
	body   []byte
	msg    message
}

// receiver is a webhook endpoint that records every request and answers
// each with the status statusFor gives its (1-based) number.
type receiver struct {
	*httptest.Server
	got chan delivery

	mu sync.Mutex
	n  int
}

func newReceiver(t *testing.T, statusFor func(n int) int) *receiver {
	t.Helper()
	r := &receiver{got: make(chan delivery, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			t.Errorf("receiver: read body: %v", err)
		}
		d := delivery{at: time.Now(), header: req.Header.Clone(), body: body}
		if err := json.Unmarshal(body, &d.msg); err != nil {
			t.Errorf("receiver: body is not a webhook message (%v): %s", err, body)
		}
		r.mu.Lock()
		r.n++
		n := r.n
		r.mu.Unlock()
		status := http.StatusOK
		if statusFor != nil {
			status = statusFor(n)
		}
		if status == http.StatusServiceUnavailable {
			// What the product answers (§7): Alertmanager ignores it.
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(status)
		select {
		case r.got <- d:
		default:
			t.Errorf("receiver: more than %d deliveries", cap(r.got))
		}
	}))
	t.Cleanup(r.Close)
	return r
}

// deliveryTimeout is far above the 1s group_wait: a loaded 2-core machine
// can be slow.
const deliveryTimeout = 15 * time.Second

// next waits for the next delivery; on a timeout it fails t with what the
// servers hold and logged.
func (r *receiver) next(t *testing.T, servers ...*Server) delivery {
	t.Helper()
	select {
	case d := <-r.got:
		return d
	case <-time.After(deliveryTimeout):
		var b strings.Builder
		for _, s := range servers {
			alerts, err := s.Alerts()
			b.WriteString("\n" + s.URL() + ":")
			if err != nil {
				b.WriteString(" alerts: " + err.Error())
			}
			for _, a := range alerts {
				b.WriteString("\n  alert " + a.Fingerprint + " " + a.Status.State)
			}
			b.WriteString("\n" + s.Log())
		}
		t.Fatalf("no delivery within %v%s", deliveryTimeout, b.String())
		return delivery{}
	}
}

// none fails t if a delivery arrives within d.
func (r *receiver) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case got := <-r.got:
		t.Errorf("unexpected delivery: %s", got.body)
	case <-time.After(d):
	}
}
