package jdcloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/backoff"
)

// testCreds are the keys the fake JD knows; the secret must never show up
// in an error.
var testCreds = Credentials{AccessKey: "AKTEST0123456789", SecretKey: "SECRETtest-do-not-leak-0123456789"}

var fixedNow = time.Date(2026, 11, 28, 1, 2, 3, 0, time.UTC)

// fastRetry keeps retry tests quick while still exercising backoff.
var fastRetry = backoff.Policy{Attempts: 3, Base: time.Millisecond, Max: 2 * time.Millisecond}

// seen is one request as the fake JD received it.
type seen struct {
	at        time.Time
	method    string
	path      string // escaped, as on the wire
	query     string
	body      string
	header    http.Header
	signedOK  bool
	accessKey string
	scope     []string // date, region, service, terminator of the credential scope
}

// fakeJD is a loopback JD Cloud that verifies every signature with Verify
// and answers with what the test's respond func says. A badly signed
// request gets JD's 401 without reaching respond.
type fakeJD struct {
	t       *testing.T
	srv     *httptest.Server
	keys    map[string]Credentials
	respond func(n int, r *http.Request) (status int, header http.Header, body string)

	mu   sync.Mutex
	reqs []seen
}

func newFakeJD(t *testing.T, respond func(n int, r *http.Request) (int, http.Header, string)) *fakeJD {
	t.Helper()
	f := &fakeJD{t: t, keys: map[string]Credentials{testCreds.AccessKey: testCreds}, respond: respond}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeJD) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("fake JD: reading body: %v", err)
		return
	}
	f.mu.Lock()
	keys := f.keys
	f.mu.Unlock()
	ak, ok := Verify(r, body, func(ak string) (Credentials, bool) { c, found := keys[ak]; return c, found }, "vm")
	s := seen{at: time.Now(), method: r.Method, path: r.URL.EscapedPath(), query: r.URL.RawQuery, body: string(body),
		header: r.Header.Clone(), signedOK: ok, accessKey: ak}
	if _, rest, found := strings.Cut(r.Header.Get("Authorization"), "Credential="); found {
		cred, _, _ := strings.Cut(rest, ",")
		if parts := strings.Split(cred, "/"); len(parts) == 5 {
			s.scope = parts[1:]
		}
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, s)
	n := len(f.reqs)
	f.mu.Unlock()

	if !ok {
		writeAnswer(w, http.StatusUnauthorized, nil, jdErr("req-badsig", 401, "UNAUTHENTICATED", "signature does not match"))
		return
	}
	status, hdr, answer := f.respond(n, r)
	writeAnswer(w, status, hdr, answer)
}

func writeAnswer(w http.ResponseWriter, status int, hdr http.Header, body string) {
	for k, v := range hdr {
		w.Header()[k] = v
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func (f *fakeJD) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

func (f *fakeJD) setKeys(keys ...Credentials) {
	m := map[string]Credentials{}
	for _, k := range keys {
		m[k.AccessKey] = k
	}
	f.mu.Lock()
	f.keys = m
	f.mu.Unlock()
}

func (f *fakeJD) client(t *testing.T, mod func(*Options)) *Client {
	t.Helper()
	o := Options{Endpoint: f.srv.URL, Credentials: StaticCredentials(testCreds), Retry: fastRetry, Now: func() time.Time { return fixedNow }}
	if mod != nil {
		mod(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func jdOK(requestID, result string) string {
	return `{"requestId":"` + requestID + `","result":` + result + `}`
}

func jdErr(requestID string, code int, status, message string) string {
	return fmt.Sprintf(`{"requestId":%q,"error":{"code":%d,"status":%q,"message":%q}}`, requestID, code, status, message)
}

// always answers every request the same way.
func always(status int, body string) func(int, *http.Request) (int, http.Header, string) {
	return func(int, *http.Request) (int, http.Header, string) { return status, nil, body }
}

// mustCode asserts err is a *resizer.Error with code and returns it.
func mustCode(t *testing.T, err error, code resizer.Code) *resizer.Error {
	t.Helper()
	var re *resizer.Error
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T) is not a *resizer.Error", err, err)
	}
	if re.Code != code {
		t.Fatalf("code = %s, want %s; error: %v", re.Code, code, err)
	}
	if strings.Contains(err.Error(), testCreds.SecretKey) {
		t.Fatalf("error leaks the secret key: %v", err)
	}
	return re
}

const (
	region   = "cn-north-1"
	instance = "i-abc123xyz"
)

// Each operation sends exactly what docs/jdcloud-api.md says, signed so that
// Verify accepts it, scoped to the path's region and the vm service, with
// JSON content type, the fixed date and a fresh UUID v4 nonce.
func TestRequestsMatchTheAPI(t *testing.T) {
	f := newFakeJD(t, func(n int, r *http.Request) (int, http.Header, string) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/instanceTypes"):
			return 200, nil, jdOK("r", `{"instanceTypes":[],"totalCount":0}`)
		case strings.HasSuffix(r.URL.Path, "/constraints"):
			return 200, nil, jdOK("r", `{"imageConstraints":null}`)
		case r.Method == http.MethodGet:
			return 200, nil, jdOK("r", `{"instance":{"instanceId":"i-abc123xyz"}}`)
		}
		return 200, nil, jdOK("r", `{}`)
	})
	c := f.client(t, nil)
	ctx := context.Background()
	cases := []struct {
		name              string
		call              func() error
		method, path, qry string
		body              string
	}{
		{"describeInstance", func() error { _, err := c.DescribeInstance(ctx, region, instance); return err },
			"GET", "/v1/regions/cn-north-1/instances/i-abc123xyz", "", ""},
		{"describeInstanceTypes", func() error {
			_, err := c.DescribeInstanceTypes(ctx, "cn-east-2", []string{"g.n2.large", "c.n3.xlarge"})
			return err
		}, "GET", "/v1/regions/cn-east-2/instanceTypes",
			"filters.1.name=instanceTypes&filters.1.values.1=g.n2.large&filters.1.values.2=c.n3.xlarge", ""},
		{"describeImageConstraints", func() error { _, err := c.DescribeImageConstraints(ctx, region, "img-abcd1234"); return err },
			"GET", "/v1/regions/cn-north-1/images/img-abcd1234/constraints", "", ""},
		{"resizeInstance", func() error { _, err := c.ResizeInstance(ctx, region, instance, "g.n2.large", false); return err },
			"POST", "/v1/regions/cn-north-1/instances/i-abc123xyz:resizeInstance", "", `{"instanceType":"g.n2.large"}`},
		{"resizeInstance force", func() error { _, err := c.ResizeInstance(ctx, region, instance, "g.n2.large", true); return err },
			"POST", "/v1/regions/cn-north-1/instances/i-abc123xyz:resizeInstance", "", `{"instanceType":"g.n2.large","force":true}`},
		{"stopInstance", func() error { _, err := c.StopInstance(ctx, region, instance); return err },
			"POST", "/v1/regions/cn-north-1/instances/i-abc123xyz:stopInstance", "", `{"chargeOnStopped":"keepCharging"}`},
		{"startInstance", func() error { _, err := c.StartInstance(ctx, region, instance); return err },
			"POST", "/v1/regions/cn-north-1/instances/i-abc123xyz:startInstance", "", `{}`},
	}
	nonces := map[string]bool{}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); err != nil {
				t.Fatal(err)
			}
			reqs := f.requests()
			if len(reqs) != i+1 {
				t.Fatalf("%d requests so far, want %d", len(reqs), i+1)
			}
			r := reqs[i]
			if r.method != tc.method || r.path != tc.path || r.query != tc.qry || r.body != tc.body {
				t.Errorf("sent %s %s ?%s body %q\nwant %s %s ?%s body %q", r.method, r.path, r.query, r.body, tc.method, tc.path, tc.qry, tc.body)
			}
			if !r.signedOK || r.accessKey != testCreds.AccessKey {
				t.Errorf("signature did not verify (access key %q)", r.accessKey)
			}
			wantRegion := strings.Split(tc.path, "/")[3]
			if want := []string{"20261128", wantRegion, "vm", "jdcloud2_request"}; !reflect.DeepEqual(r.scope, want) {
				t.Errorf("credential scope %v, want %v", r.scope, want)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if d := r.header.Get(HeaderDate); d != "20261128T010203Z" {
				t.Errorf("date %q", d)
			}
			if ua := r.header.Get("User-Agent"); ua != DefaultUserAgent {
				t.Errorf("User-Agent %q", ua)
			}
			nonce := r.header.Get(HeaderNonce)
			if u, err := uuid.Parse(nonce); err != nil || u.Version() != 4 {
				t.Errorf("nonce %q is not a UUID v4", nonce)
			}
			if nonces[nonce] {
				t.Errorf("nonce %q reused", nonce)
			}
			nonces[nonce] = true
		})
	}
}

func TestDescribeInstanceMapsTheAnswer(t *testing.T) {
	const answer = `{
	  "instanceId": "i-abc123xyz", "instanceName": "web", "instanceType": "g.n2.medium",
	  "status": "stopped", "az": "cn-north-1a", "imageId": "img-abcd1234",
	  "systemDisk": {"diskCategory": "cloud", "autoDelete": true,
	    "cloudDisk": {"diskId": "vol-sys", "createTime": "2016-05-04T03:02:01+08:00", "encrypted": false}},
	  "dataDisks": [
	    {"diskCategory": "cloud", "cloudDisk": {"diskId": "vol-data", "createTime": "2019-01-02 03:04:05"}},
	    {"diskCategory": "local", "localDisk": {"diskType": "ssd", "diskSizeGB": 40}},
	    {"diskCategory": "cloud", "cloudDisk": {"diskId": "vol-odd", "createTime": "yesterday"}}
	  ],
	  "primaryNetworkInterface": {"deviceIndex": 0, "networkInterface": {"networkInterfaceId": "port-1"}},
	  "secondaryNetworkInterfaces": [{"deviceIndex": 1}, {"deviceIndex": 2}],
	  "ag": {"id": "ag-xyz", "name": "pool"},
	  "charge": {"chargeMode": "postpaid_by_duration", "chargeStatus": "arrear"},
	  "somethingNew": {"nested": [1, 2, 3]}
	}`
	f := newFakeJD(t, always(200, jdOK("req-1", `{"instance":`+answer+`}`)))
	got, err := f.client(t, nil).DescribeInstance(context.Background(), region, instance)
	if err != nil {
		t.Fatal(err)
	}
	want := &resizer.Instance{
		InstanceID: "i-abc123xyz", InstanceType: "g.n2.medium", Status: "stopped", AZ: "cn-north-1a", ImageID: "img-abcd1234",
		SystemDisk: resizer.Disk{Category: "cloud", DiskID: "vol-sys", CreateTime: time.Date(2016, 5, 4, 3, 2, 1, 0, time.FixedZone("", 8*3600))},
		DataDisks: []resizer.Disk{
			{Category: "cloud", DiskID: "vol-data", CreateTime: time.Date(2019, 1, 2, 3, 4, 5, 0, time.UTC)},
			{Category: "local"},
			{Category: "cloud", DiskID: "vol-odd"},
		},
		NICs: 3, AGID: "ag-xyz", ChargeStatus: "arrear",
	}
	if !got.SystemDisk.CreateTime.Equal(want.SystemDisk.CreateTime) {
		t.Errorf("system disk createTime %v, want %v", got.SystemDisk.CreateTime, want.SystemDisk.CreateTime)
	}
	got.SystemDisk.CreateTime = want.SystemDisk.CreateTime // compared above; zones differ in representation
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestDescribeInstanceAbsentMembers(t *testing.T) {
	const answer = `{"instanceId":"i-abc123xyz","status":"running","systemDisk":{"diskCategory":"local","localDisk":{}},
	  "primaryNetworkInterface":null,"secondaryNetworkInterfaces":[{}],"ag":null}`
	f := newFakeJD(t, always(200, jdOK("req-1", `{"instance":`+answer+`}`)))
	got, err := f.client(t, nil).DescribeInstance(context.Background(), region, instance)
	if err != nil {
		t.Fatal(err)
	}
	want := &resizer.Instance{InstanceID: "i-abc123xyz", Status: "running", SystemDisk: resizer.Disk{Category: "local"}, NICs: 1}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// A 200 without result.instance is not an instance: api_error, not a
// zero-valued Instance the rules would misread.
func TestDescribeInstanceWithoutInstanceIsAPIError(t *testing.T) {
	f := newFakeJD(t, always(200, jdOK("req-1", `{}`)))
	_, err := f.client(t, nil).DescribeInstance(context.Background(), region, instance)
	mustCode(t, err, resizer.CodeAPIError)
	if !errors.Is(err, ErrMalformedAnswer) {
		t.Errorf("%v does not wrap ErrMalformedAnswer", err)
	}
}

func TestDescribeInstanceTypesMapsAndKeepsOnlyAskedTypes(t *testing.T) {
	const result = `{"instanceTypes":[
	  {"family":"g.n2","instanceType":"g.n2.large","cpu":4,"memoryMB":16384,"nicLimit":4,"cloudDiskCountLimit":8,
	   "generation":2,"localDisks":[{"diskType":"ssd","diskSizeGB":0}],"state":[{"az":"cn-north-1a","inStock":true},{"az":"cn-north-1b","inStock":false}]},
	  {"family":"g.n1","instanceType":"g.n1.large","cpu":4,"memoryMB":16384,"nicLimit":2,"cloudDiskCountLimit":4,"generation":1,"localDisks":null,"state":[]}
	],"totalCount":2}`
	f := newFakeJD(t, always(200, jdOK("req-1", result)))
	got, err := f.client(t, nil).DescribeInstanceTypes(context.Background(), region, []string{"g.n2.large", "g.n9.huge"})
	if err != nil {
		t.Fatal(err)
	}
	want := []resizer.InstanceType{{Name: "g.n2.large", Family: "g.n2", Generation: 2, CPU: 4, MemoryMB: 16384, NICLimit: 4,
		CloudDiskCountLimit: 8, InStock: map[string]bool{"cn-north-1a": true, "cn-north-1b": false}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestDescribeInstanceTypesWithNoTypesListsTheRegion(t *testing.T) {
	f := newFakeJD(t, always(200, jdOK("r", `{"instanceTypes":[{"instanceType":"g.n2.large","cpu":4},{"instanceType":"c.n2.small","cpu":1}],"totalCount":2}`)))
	got, err := f.client(t, nil).DescribeInstanceTypes(context.Background(), region, nil)
	if err != nil || len(got) != 2 || got[0].Name != "g.n2.large" || got[1].Name != "c.n2.small" {
		t.Fatalf("got %v, %v", got, err)
	}
	reqs := f.requests()
	if len(reqs) != 1 || reqs[0].query != "" {
		t.Fatalf("requests %v, want one without filters", reqs)
	}
}

func TestDescribeImageConstraints(t *testing.T) {
	cases := []struct {
		name, result string
		want         resizer.ImageConstraints
	}{
		{"includes", `{"imageConstraints":{"imageId":"img-abcd1234","imageInstanceTypeConstraint":{"constraintsType":"includes","instanceTypes":["g.n2.large","g.n2.xlarge"]}}}`,
			resizer.ImageConstraints{ImageID: "img-abcd1234", ConstraintsType: "includes", InstanceTypes: []string{"g.n2.large", "g.n2.xlarge"}}},
		{"excludes", `{"imageConstraints":{"imageId":"img-abcd1234","imageInstanceTypeConstraint":{"constraintsType":"excludes","instanceTypes":["c.n1.large"]}}}`,
			resizer.ImageConstraints{ImageID: "img-abcd1234", ConstraintsType: "excludes", InstanceTypes: []string{"c.n1.large"}}},
		{"null constraint", `{"imageConstraints":{"imageId":"img-abcd1234","imageInstanceTypeConstraint":null}}`,
			resizer.ImageConstraints{ImageID: "img-abcd1234"}},
		{"absent constraint", `{"imageConstraints":{"imageId":"img-abcd1234"}}`,
			resizer.ImageConstraints{ImageID: "img-abcd1234"}},
		{"absent everything", `{}`, resizer.ImageConstraints{ImageID: "img-abcd1234"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeJD(t, always(200, jdOK("r", tc.result)))
			got, err := f.client(t, nil).DescribeImageConstraints(context.Background(), region, "img-abcd1234")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("got %+v, want %+v", *got, tc.want)
			}
		})
	}
}

func TestRetry503ThenSuccess(t *testing.T) {
	f := newFakeJD(t, func(n int, _ *http.Request) (int, http.Header, string) {
		if n == 1 {
			return 503, nil, jdErr("req-1", 503, "UNAVAILABLE", "try later")
		}
		return 200, nil, jdOK("req-2", `{}`)
	})
	rid, err := f.client(t, nil).ResizeInstance(context.Background(), region, instance, "g.n2.large", false)
	if err != nil || rid != "req-2" {
		t.Fatalf("got %q, %v; want req-2", rid, err)
	}
	reqs := f.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	if reqs[0].header.Get(HeaderNonce) == reqs[1].header.Get(HeaderNonce) {
		t.Error("the retry reused the nonce")
	}
}

func TestPersistentFailureIsUnavailableAfterAllAttempts(t *testing.T) {
	cases := []struct {
		name, body, inMsg string
		status            int
	}{
		{"503 JD", jdErr("req-x", 503, "UNAVAILABLE", "vm service down"), "503 UNAVAILABLE: vm service down", 503},
		{"500 JD", jdErr("req-x", 500, "INTERNAL", "oops"), "500 INTERNAL: oops", 500},
		{"502 proxy page", "<html>Bad Gateway</html>", "Bad Gateway", 502},
		{"429 JD", jdErr("req-x", 429, "RATE_LIMIT_EXCEEDED", "slow down"), "429 RATE_LIMIT_EXCEEDED", 429},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeJD(t, always(tc.status, tc.body))
			_, err := f.client(t, nil).StopInstance(context.Background(), region, instance)
			re := mustCode(t, err, resizer.CodeUnavailable)
			if n := len(f.requests()); n != fastRetry.Attempts {
				t.Fatalf("%d requests, want %d", n, fastRetry.Attempts)
			}
			if re.Status != tc.status || !re.Retryable() {
				t.Errorf("status %d retryable %v", re.Status, re.Retryable())
			}
			if !strings.Contains(re.Message, "3 attempts") || !strings.Contains(re.Message, tc.inMsg) {
				t.Errorf("message %q should say 3 attempts and %q", re.Message, tc.inMsg)
			}
			var ae *APIError
			if !errors.As(err, &ae) || ae.HTTPStatus != tc.status {
				t.Errorf("does not wrap the APIError: %v", err)
			}
		})
	}
}

func TestNetworkFailureIsUnavailableAfterAllAttempts(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	endpoint := srv.URL
	srv.Close() // nothing listens there any more: every dial is refused
	c, err := New(Options{Endpoint: endpoint, Credentials: StaticCredentials(testCreds), Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeInstance(context.Background(), region, instance)
	re := mustCode(t, err, resizer.CodeUnavailable)
	if re.Status != 0 || !strings.Contains(re.Message, "3 attempts") {
		t.Errorf("status %d message %q", re.Status, re.Message)
	}
}

// Retry-After (seconds) is a floor for the next attempt.
func TestRetryAfterIsHonoured(t *testing.T) {
	f := newFakeJD(t, func(n int, _ *http.Request) (int, http.Header, string) {
		if n == 1 {
			return 429, http.Header{"Retry-After": {"1"}}, jdErr("req-1", 429, "RATE_LIMIT_EXCEEDED", "slow down")
		}
		return 200, nil, jdOK("req-2", `{}`)
	})
	// Max of 1 s allows a 2 s wait, so the server's 1 s stands; the jitter
	// alone would be at most 1 ms.
	c := f.client(t, func(o *Options) { o.Retry = backoff.Policy{Attempts: 2, Base: time.Millisecond, Max: time.Second} })
	if _, err := c.StartInstance(context.Background(), region, instance); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	if gap := reqs[1].at.Sub(reqs[0].at); gap < time.Second {
		t.Fatalf("second attempt came %v after the first; Retry-After asked for 1s", gap)
	}
}

// A huge Retry-After is capped at twice the policy's Max.
func TestRetryAfterIsCapped(t *testing.T) {
	f := newFakeJD(t, func(n int, _ *http.Request) (int, http.Header, string) {
		if n == 1 {
			return 503, http.Header{"Retry-After": {"3600"}}, jdErr("req-1", 503, "UNAVAILABLE", "maintenance")
		}
		return 200, nil, jdOK("req-2", `{}`)
	})
	c := f.client(t, func(o *Options) {
		o.Retry = backoff.Policy{Attempts: 2, Base: time.Millisecond, Max: 50 * time.Millisecond}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.StartInstance(ctx, region, instance); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	if gap := reqs[1].at.Sub(reqs[0].at); gap < 100*time.Millisecond || gap > 10*time.Second {
		t.Fatalf("gap %v, want the 100ms cap (2 x Max)", gap)
	}
}

func TestNotFound(t *testing.T) {
	f := newFakeJD(t, always(404, jdErr("req-404", 404, "NOT_FOUND", "Instance not found")))
	c := f.client(t, nil)
	_, err := c.DescribeInstance(context.Background(), region, instance)
	re := mustCode(t, err, resizer.CodeNotFound)
	if !strings.Contains(re.Message, instance) || !strings.Contains(re.Message, region) || re.Status != 404 {
		t.Errorf("message %q status %d should name instance and region", re.Message, re.Status)
	}
	_, err = c.DescribeImageConstraints(context.Background(), region, "img-abcd1234")
	re = mustCode(t, err, resizer.CodeNotFound)
	if !strings.Contains(re.Message, "img-abcd1234") {
		t.Errorf("message %q should name the image", re.Message)
	}
	if n := len(f.requests()); n != 2 {
		t.Fatalf("%d requests, want 2 (no retry of a 404)", n)
	}
}

// A 404 page that is not JD's JSON points at a wrong endpoint, not at a
// missing instance.
func TestNotFoundPageIsAPIError(t *testing.T) {
	f := newFakeJD(t, always(404, "404 page not found"))
	_, err := f.client(t, nil).DescribeInstance(context.Background(), region, instance)
	mustCode(t, err, resizer.CodeAPIError)
}

func TestAuthFailed(t *testing.T) {
	for _, status := range []int{401, 403} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			f := newFakeJD(t, always(status, jdErr("req-a", status, "PERMISSION_DENIED", "no")))
			_, err := f.client(t, nil).ResizeInstance(context.Background(), region, instance, "g.n2.large", false)
			re := mustCode(t, err, resizer.CodeAuthFailed)
			if re.Status != status || re.Retryable() {
				t.Errorf("status %d retryable %v", re.Status, re.Retryable())
			}
			if n := len(f.requests()); n != 1 {
				t.Fatalf("%d requests, want 1: static keys cannot change", n)
			}
		})
	}
}

// rotatingSource hands out old keys until Refresh, which returns new ones.
type rotatingSource struct {
	mu         sync.Mutex
	cur, next  Credentials
	refreshes  int
	refreshErr error
}

func (s *rotatingSource) Credentials(context.Context) (Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur, nil
}

func (s *rotatingSource) Refresh(context.Context) (Credentials, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshes++
	if s.refreshErr != nil {
		return Credentials{}, false, s.refreshErr
	}
	changed := s.cur != s.next
	s.cur = s.next
	return s.cur, changed, nil
}

func TestUnauthorizedRefreshesOnceAndRetries(t *testing.T) {
	f := newFakeJD(t, always(200, jdOK("req-ok", `{}`)))
	rotated := Credentials{AccessKey: "AKROTATED000000001", SecretKey: "SECRETrotated-do-not-leak"}
	f.setKeys(rotated) // JD already forgot the old key
	src := &rotatingSource{cur: testCreds, next: rotated}
	c := f.client(t, func(o *Options) { o.Credentials = src })
	rid, err := c.StopInstance(context.Background(), region, instance)
	if err != nil || rid != "req-ok" {
		t.Fatalf("got %q, %v", rid, err)
	}
	reqs := f.requests()
	if len(reqs) != 2 || reqs[0].signedOK || !reqs[1].signedOK || reqs[1].accessKey != rotated.AccessKey {
		t.Fatalf("requests %+v: want a refused one with the old key, then one signed with the new key", reqs)
	}
	if src.refreshes != 1 {
		t.Fatalf("%d refreshes, want 1", src.refreshes)
	}
}

func TestUnauthorizedAfterRefreshIsAuthFailed(t *testing.T) {
	f := newFakeJD(t, always(200, jdOK("req-ok", `{}`)))
	f.setKeys() // JD knows no key at all
	src := &rotatingSource{cur: testCreds, next: Credentials{AccessKey: "AKNEW", SecretKey: "SECRETnew"}}
	_, err := f.client(t, func(o *Options) { o.Credentials = src }).StopInstance(context.Background(), region, instance)
	mustCode(t, err, resizer.CodeAuthFailed)
	if n := len(f.requests()); n != 2 || src.refreshes != 1 {
		t.Fatalf("%d requests and %d refreshes, want 2 and 1", n, src.refreshes)
	}
	if strings.Contains(err.Error(), "SECRETnew") {
		t.Fatalf("error leaks the new secret: %v", err)
	}
}

func TestUnauthorizedWithFailingRefresh(t *testing.T) {
	f := newFakeJD(t, always(200, jdOK("req-ok", `{}`)))
	f.setKeys()
	src := &rotatingSource{cur: testCreds, refreshErr: errors.New("secrets manager: access denied")}
	_, err := f.client(t, func(o *Options) { o.Credentials = src }).StopInstance(context.Background(), region, instance)
	re := mustCode(t, err, resizer.CodeAuthFailed)
	if !strings.Contains(re.Message, "access denied") {
		t.Errorf("message %q should say why re-reading failed", re.Message)
	}
	if n := len(f.requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

func TestOtherClientErrorIsAPIErrorWithJDMessage(t *testing.T) {
	f := newFakeJD(t, always(400, jdErr("req-bad", 400, "FAILED_PRECONDITION", "instance status is running")))
	_, err := f.client(t, nil).ResizeInstance(context.Background(), region, instance, "g.n2.large", false)
	re := mustCode(t, err, resizer.CodeAPIError)
	want := "jdcloud resizeInstance: 400 FAILED_PRECONDITION: instance status is running (requestId req-bad)"
	if re.Message != want || re.Status != 400 {
		t.Errorf("message %q status %d\nwant %q 400", re.Message, re.Status, want)
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.RequestID != "req-bad" || ae.Status != "FAILED_PRECONDITION" || ae.Op != "resizeInstance" {
		t.Errorf("APIError %+v", ae)
	}
	if n := len(f.requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

// A success status whose body is not JD's answer is api_error and is not
// retried: a state-changing call may already have happened.
func TestMalformedSuccessIsAPIErrorWithoutRetry(t *testing.T) {
	big := `{"requestId":"r","result":{"pad":"` + strings.Repeat("x", maxAnswerBytes) + `"}}`
	for name, body := range map[string]string{"html": "<html>ok</html>", "truncated": `{"requestId":"r","result":{`, "over 1 MiB": big} {
		t.Run(name, func(t *testing.T) {
			f := newFakeJD(t, always(200, body))
			_, err := f.client(t, nil).ResizeInstance(context.Background(), region, instance, "g.n2.large", false)
			mustCode(t, err, resizer.CodeAPIError)
			if !errors.Is(err, ErrMalformedAnswer) {
				t.Errorf("%v should wrap ErrMalformedAnswer", err)
			}
			if n := len(f.requests()); n != 1 {
				t.Fatalf("%d requests, want 1", n)
			}
			if len(err.Error()) > 512 {
				t.Errorf("error is %d bytes long; the body must not be copied into it", len(err.Error()))
			}
		})
	}
}

// The client does not follow redirects: a signed call re-sent elsewhere
// would fail verification anyway, and JD does not redirect.
func TestRedirectIsNotFollowed(t *testing.T) {
	f := newFakeJD(t, func(int, *http.Request) (int, http.Header, string) {
		return http.StatusFound, http.Header{"Location": {"/elsewhere"}}, ""
	})
	_, err := f.client(t, nil).DescribeInstance(context.Background(), region, instance)
	mustCode(t, err, resizer.CodeAPIError)
	if n := len(f.requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

// The deadline cutting a request in flight is timeout, with no retry.
func TestDeadlineCutsTheCall(t *testing.T) {
	release := make(chan struct{})
	f := newFakeJD(t, func(int, *http.Request) (int, http.Header, string) {
		<-release
		return 200, nil, jdOK("late", `{}`)
	})
	// Unblock the handler before the server's Close waits for it.
	t.Cleanup(func() { close(release) })
	c := f.client(t, func(o *Options) { o.Retry = backoff.Policy{Attempts: 5, Base: time.Millisecond, Max: time.Millisecond} })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.ResizeInstance(ctx, region, instance, "g.n2.large", false)
	re := mustCode(t, err, resizer.CodeTimeout)
	if !re.Retryable() || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("retryable %v, wraps deadline %v: %v", re.Retryable(), errors.Is(err, context.DeadlineExceeded), err)
	}
	if n := len(f.requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

// A wait that would end past the deadline is not started: timeout at once.
func TestNoRetryPastTheDeadline(t *testing.T) {
	f := newFakeJD(t, always(503, jdErr("req-1", 503, "UNAVAILABLE", "busy")))
	f.respond = func(int, *http.Request) (int, http.Header, string) {
		return 503, http.Header{"Retry-After": {"10"}}, jdErr("req-1", 503, "UNAVAILABLE", "busy")
	}
	c := f.client(t, func(o *Options) { o.Retry = backoff.Policy{Attempts: 5, Base: time.Millisecond, Max: 10 * time.Second} })
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.DescribeInstance(ctx, region, instance)
	re := mustCode(t, err, resizer.CodeTimeout)
	if n := len(f.requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	if re.Status != 503 || !strings.Contains(re.Message, "busy") {
		t.Errorf("status %d message %q should tell the last answer", re.Status, re.Message)
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("took %v: it waited instead of giving up", d)
	}
}

func TestCanceledContextSendsNothing(t *testing.T) {
	f := newFakeJD(t, always(200, jdOK("r", `{}`)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.client(t, nil).StopInstance(ctx, region, instance)
	mustCode(t, err, resizer.CodeTimeout)
	if n := len(f.requests()); n != 0 {
		t.Fatalf("%d requests, want 0", n)
	}
}

// Path segments come only from validated values: a bad one is
// invalid_request before any request.
func TestInvalidInputsSendNothing(t *testing.T) {
	f := newFakeJD(t, always(200, jdOK("r", `{}`)))
	c := f.client(t, nil)
	ctx := context.Background()
	badInstances := []string{"../../x", "i-abc/../y", "I-ABC123XYZ", "i-ABC123XYZ", "", "i-abc", "i-abc123xyz\n", "i-abc123xyz%2f", "i-" + strings.Repeat("a", 33)}
	badRegions := []string{"../../x", "CN-NORTH-1", "", "cn-north-1/..", "cn-north-1\n", "cn-north"}
	badTypes := []string{"../../x", "G.N2.LARGE", "", "g.n2.large/../x", "g", "g.n2.large?x=1", "g." + strings.Repeat("a", 63)}
	badImages := []string{"../../x", "img-ABCD", "", "img-abc/../d", "img-abc"}
	var calls []func() error
	for _, id := range badInstances {
		calls = append(calls,
			func() error { _, err := c.DescribeInstance(ctx, region, id); return err },
			func() error { _, err := c.ResizeInstance(ctx, region, id, "g.n2.large", false); return err },
			func() error { _, err := c.StopInstance(ctx, region, id); return err },
			func() error { _, err := c.StartInstance(ctx, region, id); return err })
	}
	for _, r := range badRegions {
		calls = append(calls,
			func() error { _, err := c.DescribeInstance(ctx, r, instance); return err },
			func() error { _, err := c.DescribeInstanceTypes(ctx, r, []string{"g.n2.large"}); return err },
			func() error { _, err := c.DescribeImageConstraints(ctx, r, "img-abcd1234"); return err },
			func() error { _, err := c.ResizeInstance(ctx, r, instance, "g.n2.large", false); return err },
			func() error { _, err := c.StopInstance(ctx, r, instance); return err },
			func() error { _, err := c.StartInstance(ctx, r, instance); return err })
	}
	for _, ty := range badTypes {
		calls = append(calls,
			func() error { _, err := c.DescribeInstanceTypes(ctx, region, []string{"g.n2.large", ty}); return err },
			func() error { _, err := c.ResizeInstance(ctx, region, instance, ty, true); return err })
	}
	for _, img := range badImages {
		calls = append(calls, func() error { _, err := c.DescribeImageConstraints(ctx, region, img); return err })
	}
	for i, call := range calls {
		err := call()
		re := mustCode(t, err, resizer.CodeInvalidRequest)
		if re.Retryable() {
			t.Errorf("call %d: invalid_request must not be retryable", i)
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Fatalf("%d requests reached JD, want 0", n)
	}
}

// The limiter is waited on before every attempt: with one token for the
// hour, a second attempt cannot happen inside the deadline.
func TestLimiterIsWaitedOn(t *testing.T) {
	f := newFakeJD(t, always(200, jdOK("r", `{}`)))
	lim := rate.NewLimiter(rate.Every(time.Hour), 1)
	c := f.client(t, func(o *Options) { o.Limiter = lim })
	if _, err := c.StopInstance(context.Background(), region, instance); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.StopInstance(ctx, region, instance)
	mustCode(t, err, resizer.CodeTimeout)
	if n := len(f.requests()); n != 1 {
		t.Fatalf("%d requests, want 1: the limiter had no token left", n)
	}
}

func TestLimiterIsWaitedOnBeforeRetries(t *testing.T) {
	f := newFakeJD(t, always(503, jdErr("r", 503, "UNAVAILABLE", "busy")))
	lim := rate.NewLimiter(rate.Every(time.Hour), 2)
	c := f.client(t, func(o *Options) { o.Limiter = lim; o.Retry.Attempts = 4 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.StopInstance(ctx, region, instance)
	mustCode(t, err, resizer.CodeTimeout)
	if n := len(f.requests()); n != 2 {
		t.Fatalf("%d requests, want 2: one per token", n)
	}
}

func TestConcurrentCalls(t *testing.T) {
	f := newFakeJD(t, func(n int, r *http.Request) (int, http.Header, string) {
		// Ten failures in all, fewer than any call's attempts: every call
		// must end in success whatever the interleaving.
		if n <= 10 {
			return 503, nil, jdErr("busy", 503, "UNAVAILABLE", "busy")
		}
		if r.Method == http.MethodGet {
			return 200, nil, jdOK("r", `{"instance":{"instanceId":"i-abc123xyz","status":"stopped"}}`)
		}
		return 200, nil, jdOK("r", `{}`)
	})
	c := f.client(t, func(o *Options) {
		o.Retry = backoff.Policy{Attempts: 12, Base: time.Millisecond, Max: time.Millisecond}
	})
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Go(func() {
			if i%2 == 0 {
				_, err := c.DescribeInstance(context.Background(), region, instance)
				errs <- err
			} else {
				_, err := c.StopInstance(context.Background(), region, instance)
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for _, r := range f.requests() {
		if !r.signedOK {
			t.Fatal("a concurrent request was badly signed")
		}
	}
}

func TestNewValidatesEndpoint(t *testing.T) {
	good := map[string]string{
		"":                           "https://vm.jdcloud-api.com",
		"https://vm.jdcloud-api.com": "https://vm.jdcloud-api.com",
		"http://127.0.0.1:8080":      "http://127.0.0.1:8080",
		"http://[::1]:9000/":         "http://[::1]:9000",
		"HTTPS://Example.com":        "https://Example.com",
	}
	for in, want := range good {
		c, err := New(Options{Endpoint: in, Credentials: StaticCredentials(testCreds)})
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if got := c.base.String(); got != want {
			t.Errorf("%q became %q, want %q", in, got, want)
		}
	}
	bad := []string{"ftp://host", "http://", "http://host/v1", "http://host?x=1", "http://host#frag",
		"http://user:hunter2@host", "http://user:hunter2@host:port", "host:8080", "vm.jdcloud-api.com", "http://host:port", "://x", "http:opaque",
		"https://host/hooks/hunter2", "https://host/?token=hunter2", "https://host/%zzhunter2"}
	for _, in := range bad {
		_, err := New(Options{Endpoint: in, Credentials: StaticCredentials(testCreds)})
		if err == nil {
			t.Errorf("%q was accepted", in)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows the password: %v", err)
		}
	}
	if _, err := New(Options{}); err == nil {
		t.Error("no credentials was accepted")
	}
	if _, err := New(Options{Credentials: StaticCredentials(testCreds), Limiter: rate.NewLimiter(1, 0)}); err == nil {
		t.Error("a limiter that can never grant was accepted")
	}
}

func TestDefaults(t *testing.T) {
	c, err := New(Options{Credentials: StaticCredentials(testCreds)})
	if err != nil {
		t.Fatal(err)
	}
	if c.retry != backoff.Default || c.userAgent != DefaultUserAgent || c.now == nil {
		t.Errorf("defaults not applied: %+v", c.retry)
	}
	c2, _ := New(Options{Credentials: StaticCredentials(testCreds)})
	if c.http != c2.http {
		t.Error("the default HTTP client is not shared")
	}
	tr, ok := c.http.Transport.(*http.Transport)
	if !ok || tr.MaxIdleConnsPerHost < 16 || tr.DisableKeepAlives || c.http.Timeout != 0 {
		t.Errorf("default transport %T: keep-alive pool of at least 16 per host and no timeout expected", c.http.Transport)
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	s := StaticCredentials(testCreds)
	o := Options{Credentials: s}
	for _, str := range []string{fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s), fmt.Sprintf("%+v", o), fmt.Sprintf("%#v", o)} {
		if strings.Contains(str, testCreds.SecretKey) {
			t.Errorf("secret printed: %s", str)
		}
	}
}

func TestStaticCredentials(t *testing.T) {
	s := StaticCredentials(testCreds)
	c, err := s.Credentials(context.Background())
	if err != nil || c != testCreds {
		t.Fatalf("Credentials = %v, %v", c, err)
	}
	c, changed, err := s.Refresh(context.Background())
	if err != nil || changed || c != testCreds {
		t.Fatalf("Refresh = %v, %v, %v", c, changed, err)
	}
}

// A credential source that fails maps to unavailable, or keeps its own code.
func TestCredentialSourceFailure(t *testing.T) {
	f := newFakeJD(t, always(200, jdOK("r", `{}`)))
	src := &failingSource{err: errors.New("secret unreadable")}
	_, err := f.client(t, func(o *Options) { o.Credentials = src }).StopInstance(context.Background(), region, instance)
	mustCode(t, err, resizer.CodeUnavailable)
	src = &failingSource{err: resizer.Errorf(resizer.CodeAuthFailed, "", "secret has no accessKey")}
	_, err = f.client(t, func(o *Options) { o.Credentials = src }).StopInstance(context.Background(), region, instance)
	mustCode(t, err, resizer.CodeAuthFailed)
	if n := len(f.requests()); n != 0 {
		t.Fatalf("%d requests, want 0", n)
	}
}

type failingSource struct{ err error }

func (s *failingSource) Credentials(context.Context) (Credentials, error) {
	return Credentials{}, s.err
}

func (s *failingSource) Refresh(context.Context) (Credentials, bool, error) {
	return Credentials{}, false, s.err
}

func TestDecodeResponse(t *testing.T) {
	type res struct {
		Instance struct {
			ID string `json:"instanceId"`
		} `json:"instance"`
	}
	cases := []struct {
		name      string
		status    int
		body      string
		wantRID   string
		wantErr   bool
		malformed bool
		jdStatus  string
	}{
		{"success", 200, `{"requestId":"a","result":{"instance":{"instanceId":"i-1"}}}`, "a", false, false, ""},
		{"empty error member", 200, `{"requestId":"a","result":{"instance":{}},"error":null}`, "a", false, false, ""},
		{"JD error", 400, `{"requestId":"b","error":{"code":400,"status":"INVALID_ARGUMENT","message":"bad"}}`, "b", true, false, "INVALID_ARGUMENT"},
		{"JD error under 200", 200, `{"requestId":"b","error":{"code":500,"status":"INTERNAL","message":"x"}}`, "b", true, false, "INTERNAL"},
		{"no result", 200, `{"requestId":"c"}`, "c", true, true, ""},
		{"null result", 200, `{"requestId":"c","result":null}`, "c", true, true, ""},
		{"wrong shape", 200, `{"requestId":"c","result":{"instance":{"instanceId":7}}}`, "c", true, true, ""},
		{"error status without error", 500, `{"requestId":"d","result":{}}`, "d", true, true, ""},
		{"html", 502, `<html>bad gateway</html>`, "", true, true, ""},
		{"empty", 200, ``, "", true, true, ""},
		{"json null", 200, `null`, "", true, true, ""},
		{"array", 200, `[]`, "", true, true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r res
			rid, err := DecodeResponse("describeInstance", tc.status, []byte(tc.body), &r)
			if rid != tc.wantRID || (err != nil) != tc.wantErr {
				t.Fatalf("got %q, %v", rid, err)
			}
			if err == nil {
				return
			}
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("%T is not *APIError", err)
			}
			if ae.Malformed() != tc.malformed || ae.Status != tc.jdStatus || ae.HTTPStatus != tc.status || ae.Op != "describeInstance" {
				t.Errorf("APIError %+v malformed %v", ae, ae.Malformed())
			}
		})
	}
	long := strings.Repeat("é", 3000)
	_, err := DecodeResponse[struct{}]("resizeInstance", 400, []byte(jdErr("r", 400, "INVALID_ARGUMENT", long)), nil)
	var ae *APIError
	if !errors.As(err, &ae) || len(ae.Message) > maxMessageLen+len("…") || !strings.HasPrefix(long, strings.TrimSuffix(ae.Message, "…")) {
		t.Errorf("a long JD message is not clipped on a rune boundary: %d bytes", len(ae.Message))
	}
	// Callers that want no result (stop, start, resize) accept any object.
	if rid, err := DecodeResponse[struct{}]("stopInstance", 200, []byte(`{"requestId":"e","result":{}}`), nil); err != nil || rid != "e" {
		t.Errorf("nil result: %q, %v", rid, err)
	}
}

func TestAPIErrorText(t *testing.T) {
	e := &APIError{Op: "resizeInstance", HTTPStatus: 400, Status: "INVALID_ARGUMENT", Message: "bad type", RequestID: "req-9"}
	if got, want := e.Error(), "jdcloud resizeInstance: 400 INVALID_ARGUMENT: bad type (requestId req-9)"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	e = &APIError{Op: "stopInstance", HTTPStatus: 502, Message: "x"}
	if got, want := e.Error(), "jdcloud stopInstance: 502: x"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

// At most 1 MiB of an answer is read: an endless body does not make the
// client read on (the server sees its writes fail long before the end).
func TestAnswerReadIsBounded(t *testing.T) {
	const total = 256 << 20
	written := make(chan int, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		chunk := []byte(strings.Repeat(" ", 64<<10))
		n := 0
		for n < total {
			m, err := w.Write(chunk)
			n += m
			if err != nil {
				break
			}
		}
		written <- n
	}))
	defer srv.Close()
	c, err := New(Options{Endpoint: srv.URL, Credentials: StaticCredentials(testCreds), Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.StopInstance(context.Background(), region, instance)
	mustCode(t, err, resizer.CodeAPIError)
	if !errors.Is(err, ErrMalformedAnswer) {
		t.Errorf("%v should wrap ErrMalformedAnswer", err)
	}
	if n := <-written; n >= total {
		t.Fatalf("the server wrote all %d bytes: the client read the whole body", n)
	}
}

func TestClientFormattingHidesSecret(t *testing.T) {
	c, err := New(Options{Endpoint: "http://127.0.0.1:1", Credentials: StaticCredentials{AccessKey: "AK", SecretKey: "formatting-secret-123"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%+v", *c)} {
		if strings.Contains(s, "formatting-secret-123") {
			t.Fatalf("formatting the client shows the secret: %s", s)
		}
	}
}

// TestAmbiguousFailures: a state-changing call whose sent attempt met a 5xx
// is marked Ambiguous (JD may have acted on it); a refusal is not, and a
// describe never is.
func TestAmbiguousFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status []int
		post   bool
		want   bool
	}{
		{"resize 503 then 400", []int{503, 400}, true, true},
		{"resize 400", []int{400}, true, false},
		{"resize 429 throughout", []int{429, 429, 429}, true, false},
		{"describe 503 throughout", []int{503, 503, 503}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n int
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				st := tc.status[min(n, len(tc.status)-1)]
				n++
				w.WriteHeader(st)
				fmt.Fprintf(w, `{"requestId":"r%d","error":{"code":%d,"status":"X","message":"m"}}`, n, st)
			}))
			defer srv.Close()
			c, err := New(Options{Endpoint: srv.URL, Credentials: StaticCredentials{AccessKey: "AK", SecretKey: "SK"},
				Retry: backoff.Policy{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			if tc.post {
				_, err = c.ResizeInstance(context.Background(), "cn-north-1", "i-abcdef01", "g.n2.large", false)
			} else {
				_, err = c.DescribeInstance(context.Background(), "cn-north-1", "i-abcdef01")
			}
			var e *resizer.Error
			if !errors.As(err, &e) || e.Ambiguous != tc.want {
				t.Fatalf("error %v: Ambiguous = %v, want %v", err, e != nil && e.Ambiguous, tc.want)
			}
		})
	}
}

// An attempt that gets no answer within AttemptTimeout is given up and
// retried, instead of spending the caller's whole deadline; a
// state-changing call whose hung attempt is retried to success succeeds.
func TestAHungAttemptIsRetried(t *testing.T) {
	f := newFakeJD(t, func(n int, r *http.Request) (int, http.Header, string) {
		if n == 1 {
			<-r.Context().Done() // the client gave up on this attempt
			return 503, nil, jdErr("req-1", 503, "UNAVAILABLE", "too late")
		}
		return 200, nil, jdOK("req-2", `{}`)
	})
	c := f.client(t, func(o *Options) { o.AttemptTimeout = 50 * time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	rid, err := c.StopInstance(ctx, region, instance)
	if err != nil || rid != "req-2" {
		t.Fatalf("got %q, %v; want req-2", rid, err)
	}
	if n := len(f.requests()); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the hung attempt held the call for %s", took)
	}
}

// When every attempt hangs the call fails as unavailable (not timeout:
// the caller's deadline is far off), says no answer came, and is marked
// ambiguous for a state-changing call: JD may have carried it out.
func TestEveryAttemptHung(t *testing.T) {
	f := newFakeJD(t, func(_ int, r *http.Request) (int, http.Header, string) {
		<-r.Context().Done()
		return 503, nil, ""
	})
	c := f.client(t, func(o *Options) { o.AttemptTimeout = 30 * time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.StopInstance(ctx, region, instance)
	e := mustCode(t, err, resizer.CodeUnavailable)
	if !strings.Contains(e.Message, "no answer within 30ms") || !e.Ambiguous || !e.Retryable() {
		t.Fatalf("error %+v", e)
	}
	if n := len(f.requests()); n != fastRetry.Attempts {
		t.Fatalf("%d requests, want %d", n, fastRetry.Attempts)
	}
	if _, err := c.DescribeInstance(ctx, region, instance); mustCode(t, err, resizer.CodeUnavailable).Ambiguous {
		t.Fatal("a describe is never ambiguous")
	}
}
