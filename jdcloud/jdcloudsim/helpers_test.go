package jdcloudsim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud"
)

const testRegion = "cn-north-1"

var demoCreds = jdcloud.Credentials{AccessKey: DemoAccessKey, SecretKey: DemoSecretKey}

// startSim starts a simulator that the test closes.
func startSim(t *testing.T, o Options) *Server {
	t.Helper()
	s, err := Start(o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// client is the tests' own tiny JD client: it signs with jdcloud.Stamp and
// jdcloud.Sign exactly as docs/jdcloud-api.md says, independent of the real
// client package.
type client struct {
	t     *testing.T
	base  string
	creds jdcloud.Credentials
	// scope, when set, is the region signed into the credential scope
	// instead of the path's.
	scope string
	// contentType overrides Content-Type; "-" sends none.
	contentType string
	// tamper, when set, changes the request after it was signed.
	tamper func(*http.Request)
	ctx    context.Context
	// hc sends the requests; nil is http.DefaultClient.
	hc *http.Client
}

func newClient(t *testing.T, s *Server) *client {
	return &client{t: t, base: s.URL(), creds: demoCreds}
}

// answer is a decoded JD envelope plus the HTTP facts around it.
type answer struct {
	Status    int
	Header    http.Header
	RequestID string          `json:"requestId"`
	Result    json.RawMessage `json:"result"`
	Error     *wireError      `json:"error"`
	Raw       []byte
}

var pathRegion = regexp.MustCompile(`^/v1/regions/([^/]+)`)

// do sends one signed request; path may carry a query after '?'.
func (c *client) do(method, path string, body []byte) answer {
	c.t.Helper()
	a, err := c.try(method, path, body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return a
}

func (c *client) try(method, path string, body []byte) (answer, error) {
	ctx := c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return answer{}, err
	}
	switch c.contentType {
	case "":
		req.Header.Set("Content-Type", "application/json")
	case "-":
	default:
		req.Header.Set("Content-Type", c.contentType)
	}
	jdcloud.Stamp(req.Header, time.Now(), uuid.NewString())
	scope := c.scope
	if scope == "" {
		if m := pathRegion.FindStringSubmatch(req.URL.Path); m != nil {
			scope = m[1]
		}
	}
	jdcloud.Sign(req, body, c.creds, scope, "vm")
	if c.tamper != nil {
		c.tamper(req)
	}
	hc := c.hc
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if err := json.Unmarshal(raw, &a); err != nil {
		c.t.Fatalf("%s %s: answer is not JSON: %v: %s", method, path, err, raw)
	}
	return a, nil
}

var requestIDPattern = regexp.MustCompile(`^c[0-9a-z]{20}$`)

// checkEnvelope asserts JD's envelope rules common to every answer.
func checkEnvelope(t *testing.T, a answer) {
	t.Helper()
	if !requestIDPattern.MatchString(a.RequestID) {
		t.Errorf("requestId %q does not look like JD's", a.RequestID)
	}
	if h := a.Header.Get(HeaderRequestID); h != a.RequestID {
		t.Errorf("header %s = %q, body requestId %q", HeaderRequestID, h, a.RequestID)
	}
	if a.Status == http.StatusOK {
		if a.Error != nil || a.Result == nil {
			t.Errorf("200 answer must carry result and no error: %s", a.Raw)
		}
		return
	}
	if a.Error == nil || a.Result != nil {
		t.Fatalf("error answer must carry error and no result: %s", a.Raw)
	}
	if a.Error.Code != a.Status {
		t.Errorf("error.code %d, HTTP status %d", a.Error.Code, a.Status)
	}
}

// wantError asserts an error answer with JD status name and message part.
func wantError(t *testing.T, a answer, code int, status, msgPart string) {
	t.Helper()
	if a.Status != code {
		t.Fatalf("status %d, want %d: %s", a.Status, code, a.Raw)
	}
	checkEnvelope(t, a)
	if a.Error.Status != status {
		t.Errorf("error.status %q, want %q", a.Error.Status, status)
	}
	if !strings.Contains(a.Error.Message, msgPart) {
		t.Errorf("error.message %q does not mention %q", a.Error.Message, msgPart)
	}
}

func wantOK(t *testing.T, a answer) {
	t.Helper()
	if a.Status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", a.Status, a.Raw)
	}
	checkEnvelope(t, a)
}

func instancePath(id string) string { return "/v1/regions/" + testRegion + "/instances/" + id }

func (c *client) describe(id string) Instance {
	c.t.Helper()
	a := c.do(http.MethodGet, instancePath(id), nil)
	wantOK(c.t, a)
	var res struct {
		Instance Instance `json:"instance"`
	}
	if err := json.Unmarshal(a.Result, &res); err != nil {
		c.t.Fatalf("describeInstance result: %v", err)
	}
	return res.Instance
}

func (c *client) resize(id, instanceType string, force bool) answer {
	c.t.Helper()
	body := map[string]any{"instanceType": instanceType}
	if force {
		body["force"] = true
	}
	b, _ := json.Marshal(body)
	return c.do(http.MethodPost, instancePath(id)+":resizeInstance", b)
}

func (c *client) action(id, action string) answer {
	c.t.Helper()
	return c.do(http.MethodPost, instancePath(id)+":"+action, []byte(`{}`))
}

// mustInstance reads the simulator's state directly.
func mustInstance(t *testing.T, s *Server, id string) Instance {
	t.Helper()
	inst, ok := s.Instance(testRegion, id)
	if !ok {
		t.Fatalf("instance %s missing", id)
	}
	return inst
}

// fakeClock is a settable clock for transition timing.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
