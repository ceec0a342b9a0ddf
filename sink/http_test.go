package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cecontext "github.com/cloudevents/sdk-go/v2/context"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/backoff"
)

func newHTTP(t *testing.T, target string, p backoff.Policy) *HTTP {
	t.Helper()
	h, err := NewHTTP(target, HTTPOptions{Retry: p})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHTTPPostsStructuredCloudEvent(t *testing.T) {
	for _, tp := range []bool{false, true} {
		t.Run(fmt.Sprintf("traceparent=%v", tp), func(t *testing.T) {
			srv := newServer(t, statuses(http.StatusAccepted))
			want := outcomeEvent(t, tp)
			if err := newHTTP(t, srv.URL+"/events", fast).Publish(context.Background(), want); err != nil {
				t.Fatal(err)
			}
			reqs := srv.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			mt, _, err := mime.ParseMediaType(r.header.Get("Content-Type"))
			if err != nil || mt != "application/cloudevents+json" {
				t.Errorf("Content-Type = %q, want application/cloudevents+json", r.header.Get("Content-Type"))
			}
			for k := range r.header {
				if strings.HasPrefix(strings.ToLower(k), "ce-") {
					t.Errorf("binary-mode header %s in a structured request", k)
				}
			}
			var got event.Event
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatalf("body is not a CloudEvent: %v\n%s", err, r.body)
			}
			sameEvent(t, got, want)
		})
	}
}

func TestHTTPRetries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		answers  []int
		requests int
		ok       bool
		// code of the failure: a refusal for good is api_error, which does
		// not make the delivery retryable (docs/contract.md §12).
		code resizer.Code
	}{
		{"503 503 200 succeeds on the third request", []int{503, 503, 200}, 3, true, ""},
		{"persistent 503 fails after Policy.Attempts", []int{503}, fast.Attempts, false, resizer.CodeUnavailable},
		{"400 is permanent", []int{400}, 1, false, resizer.CodeAPIError},
		{"404 is permanent", []int{404}, 1, false, resizer.CodeAPIError},
		{"401 is permanent", []int{401}, 1, false, resizer.CodeAPIError},
		{"403 is permanent", []int{403}, 1, false, resizer.CodeAPIError},
		{"410 is permanent", []int{410}, 1, false, resizer.CodeAPIError},
		{"413 is permanent", []int{413}, 1, false, resizer.CodeAPIError},
		{"422 is permanent", []int{422}, 1, false, resizer.CodeAPIError},
		{"405 is not retried but not a refusal for good", []int{405}, 1, false, resizer.CodeUnavailable},
		{"408 is retried", []int{408, 204}, 2, true, ""},
		{"429 is retried", []int{429, 200}, 2, true, ""},
		{"500 is retried", []int{500, 200}, 2, true, ""},
		{"504 is retried", []int{504, 200}, 2, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, statuses(tc.answers...))
			err := newHTTP(t, srv.URL, fast).Publish(context.Background(), outcomeEvent(t, false))
			if got := len(srv.requests()); got != tc.requests {
				t.Errorf("%d requests, want %d", got, tc.requests)
			}
			if tc.ok {
				if err != nil {
					t.Fatalf("Publish: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Publish succeeded, want an error")
			}
			last := tc.answers[len(tc.answers)-1]
			wantMsg := fmt.Sprintf("http sink %s: %d", srv.URL, last)
			if !strings.Contains(err.Error(), wantMsg) || !strings.Contains(err.Error(), attempts(tc.requests)) {
				t.Errorf("error %q does not say %q … %q", err, wantMsg, attempts(tc.requests))
			}
			if resizer.ErrorCode(err) != tc.code {
				t.Errorf("code = %q, want %s", resizer.ErrorCode(err), tc.code)
			}
		})
	}
}

func TestHTTPRedirects(t *testing.T) {
	for _, tc := range []struct {
		name     string
		status   int
		client   *http.Client
		followed bool
	}{
		{"302 would turn the POST into a GET: refused", http.StatusFound, nil, false},
		{"303 likewise, even with a caller's client that follows redirects", http.StatusSeeOther, &http.Client{}, false},
		{"307 resends the event: followed", http.StatusTemporaryRedirect, nil, true},
		{"308 resends the event: followed", http.StatusPermanentRedirect, &http.Client{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/moved" {
					// 200, to the resent POST or to the body-less GET a
					// lossy redirect would make.
					return
				}
				http.Redirect(w, r, "/moved", tc.status)
			})
			h, err := NewHTTP(srv.URL, HTTPOptions{Client: tc.client, Retry: fast})
			if err != nil {
				t.Fatal(err)
			}
			want := outcomeEvent(t, false)
			err = h.Publish(context.Background(), want)
			reqs := srv.requests()
			if !tc.followed {
				if err == nil || !strings.Contains(err.Error(), fmt.Sprint(tc.status)) {
					t.Errorf("err = %v, want the %d reported", err, tc.status)
				}
				if len(reqs) != 1 {
					t.Errorf("%d requests, want 1", len(reqs))
				}
				return
			}
			if err != nil {
				t.Fatalf("Publish: %v", err)
			}
			if len(reqs) != 2 {
				t.Fatalf("%d requests, want 2", len(reqs))
			}
			var got event.Event
			if err := json.Unmarshal(reqs[1].body, &got); err != nil {
				t.Fatalf("redirected body is not the event: %v", err)
			}
			sameEvent(t, got, want)
		})
	}
}

func TestHTTPRetriesNetworkErrors(t *testing.T) {
	// The first connection is dropped before any answer; the second request
	// gets a 200.
	srv := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			conn.Close()
		}
	})
	if err := newHTTP(t, srv.URL, fast).Publish(context.Background(), outcomeEvent(t, false)); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if got := len(srv.requests()); got != 2 {
		t.Errorf("%d requests, want 2", got)
	}
}

func TestHTTPIgnoresSDKSettingsInContext(t *testing.T) {
	srv := newServer(t, statuses(503))
	other := newServer(t, statuses(200))
	// A caller's context asking sdk-go to retry (5 more tries per attempt),
	// to send elsewhere, or lending it a header map (which sdk-go writes to)
	// must not change what the sink does.
	ctx := cecontext.WithRetriesConstantBackoff(context.Background(), time.Millisecond, 5)
	ctx = cecontext.WithTarget(ctx, other.URL)
	shared := http.Header{}
	ctx = cehttp.WithCustomHeader(ctx, shared)
	p := backoff.Policy{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond}
	if err := newHTTP(t, srv.URL, p).Publish(ctx, outcomeEvent(t, false)); err == nil {
		t.Fatal("Publish succeeded, want an error")
	}
	if got := len(srv.requests()); got != 2 {
		t.Errorf("%d requests, want 2 (ours only)", got)
	}
	if got := len(other.requests()); got != 0 {
		t.Errorf("the context's target got %d requests", got)
	}
	if len(shared) != 0 {
		t.Errorf("the context's header map was written: %v", shared)
	}
}

func TestHTTPHonoursRetryAfter(t *testing.T) {
	srv := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	// Our own backoff would wait at most 1 ms; the server asks for 1 s.
	p := backoff.Policy{Attempts: 2, Base: time.Millisecond, Max: time.Second}
	if err := newHTTP(t, srv.URL, p).Publish(context.Background(), outcomeEvent(t, false)); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	reqs := srv.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	if gap := reqs[1].at.Sub(reqs[0].at); gap < time.Second {
		t.Errorf("retried after %v, want at least the 1 s of Retry-After", gap)
	}
}

func TestHTTPBoundsRetryAfter(t *testing.T) {
	srv := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	})
	// Unbounded, the hour would outlast the deadline and Retry would give up
	// after one request; bounded by 2·Max it waits 100 ms and succeeds.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := backoff.Policy{Attempts: 2, Base: time.Millisecond, Max: 50 * time.Millisecond}
	if err := newHTTP(t, srv.URL, p).Publish(ctx, outcomeEvent(t, false)); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if got := len(srv.requests()); got != 2 {
		t.Errorf("%d requests, want 2", got)
	}
}

func TestHTTPRespectsDeadline(t *testing.T) {
	t.Run("a Retry-After past the deadline ends the retries", func(t *testing.T) {
		srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "60")
			w.WriteHeader(http.StatusServiceUnavailable)
		})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		p := backoff.Policy{Attempts: 4, Base: time.Millisecond, Max: time.Minute}
		err := newHTTP(t, srv.URL, p).Publish(ctx, outcomeEvent(t, false))
		if err == nil {
			t.Fatal("Publish succeeded, want an error")
		}
		if ctx.Err() != nil {
			t.Errorf("Publish waited until the deadline; it should give up at once")
		}
		if got := len(srv.requests()); got != 1 {
			t.Errorf("%d requests, want 1", got)
		}
	})
	t.Run("a hanging sink is abandoned at the deadline", func(t *testing.T) {
		srv := newServer(t, func(_ int, _ http.ResponseWriter, r *http.Request) {
			<-r.Context().Done() // ends when the client gives up
		})
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := newHTTP(t, srv.URL, fast).Publish(ctx, outcomeEvent(t, false))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want one wrapping context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Publish returned %v after a 200 ms deadline", d)
		}
		if got := len(srv.requests()); got != 1 {
			t.Errorf("%d requests, want 1", got)
		}
	})
}

func TestHTTPErrorsHideURLCredentials(t *testing.T) {
	srv := newServer(t, statuses(503))
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // connections to it are refused
	for _, base := range []string{srv.URL, dead.URL} {
		u := strings.Replace(base, "://", "://alice:pa55word@", 1) + "/hook?token=t0ken&x=1#frag"
		h := newHTTP(t, u, backoff.Policy{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond})
		err := h.Publish(context.Background(), outcomeEvent(t, false))
		if err == nil {
			t.Fatal("Publish succeeded, want an error")
		}
		for _, s := range []string{err.Error(), h.String()} {
			for _, secret := range []string{"alice", "pa55word", "t0ken", "frag"} {
				if strings.Contains(s, secret) {
					t.Errorf("%q reveals %q", s, secret)
				}
			}
			// A Slack-style URL carries its secret in the path: only
			// scheme://host[:port] names the sink.
			if !strings.Contains(s, "http sink "+base) || strings.Contains(s, "/hook") {
				t.Errorf("%q does not name the sink as %s alone", s, base)
			}
		}
	}
	if got := srv.requests(); len(got) == 0 || got[0].header.Get("Authorization") == "" {
		t.Error("userinfo was not sent as basic auth")
	}
}

func TestNewHTTPRejectsBadTargets(t *testing.T) {
	for _, target := range []string{
		"",
		"relative/path",
		"/events",
		"ftp://alice:pa55word@example.com/x?token=t0ken",
		"http://",
		"http:opaque?token=t0ken",
		"http://alice:pa55word@[::1/x?token=t0ken",
		"http://alice:pa55word@exa mple.com/?token=t0ken",
	} {
		_, err := NewHTTP(target, HTTPOptions{})
		if err == nil {
			t.Errorf("NewHTTP(%q) succeeded, want an error", target)
			continue
		}
		for _, secret := range []string{"pa55word", "t0ken"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("NewHTTP(%q) error %q reveals %q", target, err, secret)
			}
		}
	}
}

func TestHTTPReusesClientAndConnections(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		// A body the sink must drain for the connection to be reused.
		fmt.Fprint(w, strings.Repeat("ok ", 1000))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	var trips atomic.Int32
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		trips.Add(1)
		return srv.Client().Transport.RoundTrip(r)
	})}
	h, err := NewHTTP(srv.URL, HTTPOptions{Client: client, Retry: fast})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := h.Publish(context.Background(), outcomeEvent(t, false)); err != nil {
			t.Fatal(err)
		}
	}
	if got := trips.Load(); got != 3 {
		t.Errorf("the given client carried %d requests, want 3", got)
	}
	if got := conns.Load(); got != 1 {
		t.Errorf("%d connections for 3 sequential publishes, want 1 (keep-alive)", got)
	}
}

func TestHTTPRefusesInvalidEventWithoutSending(t *testing.T) {
	srv := newServer(t, statuses(200))
	e := outcomeEvent(t, false)
	e.JSON = nil
	err := newHTTP(t, srv.URL, fast).Publish(context.Background(), e)
	if err == nil || !strings.Contains(err.Error(), "invalid event") {
		t.Errorf("err = %v, want invalid event", err)
	}
	if got := len(srv.requests()); got != 0 {
		t.Errorf("%d requests, want 0", got)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
