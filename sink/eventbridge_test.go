package sink

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/cloudevents/sdk-go/v2/event"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/backoff"
)

const testBus = "arn:aws:events:us-east-1:123456789012:event-bus/resizer-outcomes"

// eventBridgeClient is the real SDK client pointed at endpoint through the
// environment, as function/ will build it, with fake static credentials and
// no shared config or instance metadata lookups.
func eventBridgeClient(t *testing.T, endpoint string, optFns ...func(*eventbridge.Options)) *eventbridge.Client {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_EVENTBRIDGE":        endpoint,
		"AWS_ENDPOINT_URL":                    "",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "",
		"AWS_ACCESS_KEY_ID":                   "AKIDFAKEFAKEFAKE",
		"AWS_SECRET_ACCESS_KEY":               "fake-secret",
		"AWS_SESSION_TOKEN":                   "",
		"AWS_REGION":                          "us-east-1",
		"AWS_PROFILE":                         "",
		"AWS_CONFIG_FILE":                     filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE":         filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":           "true",
	} {
		t.Setenv(k, v)
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return eventbridge.NewFromConfig(cfg, optFns...)
}

// noSDKRetries is how function/ should build the client: the sink retries
// with internal/backoff, so the SDK makes exactly one attempt per call
// (the sink also forces this per call, see singleAttempt).
func noSDKRetries(o *eventbridge.Options) { o.RetryMaxAttempts = 1 }

// putEventsRequest is the JSON body of PutEvents.
type putEventsRequest struct {
	Entries []struct {
		EventBusName string
		Source       string
		DetailType   string
		Detail       string
		Time         json.Number
	}
}

// ebServer is a loopback EventBridge: it checks each request is a
// PutEvents call, records its body and answers with answer(n).
func ebServer(t *testing.T, answer func(n int) (status int, body string)) *server {
	t.Helper()
	return newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("X-Amz-Target"); got != "AWSEvents.PutEvents" {
			t.Errorf("X-Amz-Target = %q, want AWSEvents.PutEvents", got)
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDFAKEFAKEFAKE/") {
			t.Errorf("request not signed with the fake credentials: %q", r.Header.Get("Authorization"))
		}
		status, body := answer(n)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
}

const (
	putOK            = `{"FailedEntryCount":0,"Entries":[{"EventId":"11710aed-b79e-4468-a20b-bb3c0c3b4860"}]}`
	putInternal      = `{"FailedEntryCount":1,"Entries":[{"ErrorCode":"InternalFailure","ErrorMessage":"try again"}]}`
	putMalformed     = `{"FailedEntryCount":1,"Entries":[{"ErrorCode":"MalformedDetail","ErrorMessage":"Detail is malformed."}]}`
	apiValidation    = `{"__type":"ValidationException","message":"1 validation error detected"}`
	apiThrottling    = `{"__type":"ThrottlingException","message":"Rate exceeded"}`
	apiInternalError = `{"__type":"InternalException","message":"internal error"}`
)

// answers replies with the given (status, body) pairs in turn, repeating
// the last.
func answers(pairs ...any) func(int) (int, string) {
	return func(n int) (int, string) {
		i := 2 * (min(n, len(pairs)/2) - 1)
		return pairs[i].(int), pairs[i+1].(string)
	}
}

func TestEventBridgePutsOneEntry(t *testing.T) {
	for _, tp := range []bool{false, true} {
		srv := ebServer(t, answers(200, putOK))
		sink := NewEventBridge(eventBridgeClient(t, srv.URL, noSDKRetries), testBus, "ops/resizer", fast)
		want := outcomeEvent(t, tp)
		if err := sink.Publish(context.Background(), want); err != nil {
			t.Fatal(err)
		}
		reqs := srv.requests()
		if len(reqs) != 1 {
			t.Fatalf("%d requests, want 1", len(reqs))
		}
		var in putEventsRequest
		dec := json.NewDecoder(strings.NewReader(string(reqs[0].body)))
		dec.UseNumber()
		if err := dec.Decode(&in); err != nil {
			t.Fatalf("body: %v\n%s", err, reqs[0].body)
		}
		if len(in.Entries) != 1 {
			t.Fatalf("%d entries, want 1", len(in.Entries))
		}
		got := in.Entries[0]
		if got.EventBusName != testBus || got.Source != "ops/resizer" || got.DetailType != resizer.TypeSucceeded {
			t.Errorf("entry bus/source/detail-type = %q/%q/%q", got.EventBusName, got.Source, got.DetailType)
		}
		secs, err := got.Time.Float64()
		if err != nil || !time.Unix(int64(secs), int64(math.Mod(secs, 1)*1e9)).Equal(want.Time) {
			t.Errorf("entry Time = %s, want %v", got.Time, want.Time)
		}
		var detail event.Event
		if err := json.Unmarshal([]byte(got.Detail), &detail); err != nil {
			t.Fatalf("Detail is not a structured CloudEvent: %v\n%s", err, got.Detail)
		}
		sameEvent(t, detail, want)
	}
}

func TestEventBridgeRetries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		answer   func(int) (int, string)
		requests int
		ok       bool
		errHas   string
	}{
		{"a failed entry (InternalFailure) is put again", answers(200, putInternal, 200, putOK), 2, true, ""},
		{"throttling is retried", answers(400, apiThrottling, 200, putOK), 2, true, ""},
		{"a 5xx is retried", answers(500, apiInternalError, 200, putOK), 2, true, ""},
		{"persistent 5xx fails after Policy.Attempts", answers(500, apiInternalError), fast.Attempts, false, "InternalException: internal error after 4 attempts"},
		{"persistently failing entry", answers(200, putInternal), fast.Attempts, false, "entry failed: InternalFailure: try again after 4 attempts"},
		{"ValidationException is permanent", answers(400, apiValidation), 1, false, "ValidationException: 1 validation error detected after 1 attempt"},
		{"a malformed entry is permanent", answers(200, putMalformed), 1, false, "entry failed: MalformedDetail: Detail is malformed. after 1 attempt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := ebServer(t, tc.answer)
			sink := NewEventBridge(eventBridgeClient(t, srv.URL, noSDKRetries), testBus, "", fast)
			err := sink.Publish(context.Background(), outcomeEvent(t, false))
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
			if want := "eventbridge sink " + testBus + ": " + tc.errHas; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
			if resizer.ErrorCode(err) != resizer.CodeUnavailable {
				t.Errorf("code = %q, want unavailable", resizer.ErrorCode(err))
			}
		})
	}
}

func TestEventBridgeDefaultSource(t *testing.T) {
	srv := ebServer(t, answers(200, putOK))
	sink := NewEventBridge(eventBridgeClient(t, srv.URL, noSDKRetries), testBus, "", backoff.Policy{})
	if err := sink.Publish(context.Background(), outcomeEvent(t, false)); err != nil {
		t.Fatal(err)
	}
	var in putEventsRequest
	if err := json.Unmarshal(srv.requests()[0].body, &in); err != nil {
		t.Fatal(err)
	}
	if got := in.Entries[0].Source; got != resizer.DefaultSource {
		t.Errorf("Source = %q, want %q", got, resizer.DefaultSource)
	}
}

func TestEventBridgeTurnsOffSDKRetries(t *testing.T) {
	// A client built with the SDK's default retryer (3 attempts per call)
	// still makes one request per attempt of ours.
	srv := ebServer(t, answers(503, apiInternalError))
	p := backoff.Policy{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond}
	sink := NewEventBridge(eventBridgeClient(t, srv.URL), testBus, "", p)
	if err := sink.Publish(context.Background(), outcomeEvent(t, false)); err == nil {
		t.Fatal("Publish succeeded, want an error")
	}
	if got := len(srv.requests()); got != 2 {
		t.Errorf("%d requests, want 2", got)
	}
}

func TestEventBridgeRespectsDeadline(t *testing.T) {
	srv := newServer(t, func(_ int, _ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // ends when the client gives up
	})
	sink := NewEventBridge(eventBridgeClient(t, srv.URL, noSDKRetries), testBus, "", fast)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := sink.Publish(ctx, outcomeEvent(t, false)); err == nil {
		t.Fatal("Publish succeeded, want an error")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Publish returned %v after a 200 ms deadline", d)
	}
	if got := len(srv.requests()); got != 1 {
		t.Errorf("%d requests, want 1", got)
	}
}
