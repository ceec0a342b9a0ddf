package acceptance_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/testkit"
	"github.com/jdcloud-vm-resizer/resizer/sink"
	"github.com/jdcloud-vm-resizer/resizer/trigger"
)

// A sink that refuses every event with 400 must not make every delivery
// 503 forever: the refusal is logged with the outcome, not retried
// (docs/contract.md §12). A sink URL appears as scheme://host only.
func TestASinkThatRefusesForGoodDoesNotMakeDeliveriesRetryable(t *testing.T) {
	var posts atomic.Int64
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		posts.Add(1)
		http.Error(w, "unknown channel", http.StatusBadRequest)
	}))
	defer refusing.Close()
	s, err := sink.NewHTTP(refusing.URL+"/services/T000/B000/XXXXSECRETPATH", sink.HTTPOptions{Retry: testkit.FastRetry()})
	if err != nil {
		t.Fatal(err)
	}
	log, logs := testkit.Logger()
	r := newRig(t)
	r.Rebuild(func(o *resizer.Options) { o.Publisher, o.Log = s, log })
	d := trigger.New(r.Handler, trigger.Options{AllowUnauthenticated: true, Log: log})
	for range 3 {
		e := request(resize("i-stopped01", "g.n2.medium"))
		body, _ := e.MarshalJSON()
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/cloudevents+json")
		w := httptest.NewRecorder()
		d.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("status %d, want 200: the sink's refusal is not the sender's to retry", w.Code)
		}
	}
	if n := posts.Load(); n != 3 {
		t.Fatalf("%d posts for 3 deliveries: a refusal for good is not retried", n)
	}
	text := logs.String()
	if !strings.Contains(text, "refused the outcome for good") || !strings.Contains(text, `"outcomeEvent"`) {
		t.Fatalf("the refusal is not logged with the outcome:\n%s", text)
	}
	if strings.Contains(text, "XXXXSECRETPATH") {
		t.Fatal("the sink URL's path reached the log")
	}
}
