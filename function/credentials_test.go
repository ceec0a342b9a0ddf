package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud/jdcloudsim"
)

const (
	smSecretID  = "jdcloud/resizer"
	smSecretARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:jdcloud/resizer-AbCdEf"
	// The fake AWS access key the SDK must sign with, from the environment.
	smAWSAccessKey = "AKIDSMTESTFAKE00001"
)

// fakeSecretsManager answers GetSecretValue in the AWS JSON 1.1 protocol
// for one secret. It checks what the real service would check of the
// request shape, so that a client that works here speaks the protocol.
type fakeSecretsManager struct {
	t *testing.T

	mu       sync.Mutex
	secret   *string // SecretString; nil answers SecretBinary only
	errCode  string  // when set, answer this error
	errState int     // with this HTTP status
	reads    int     // GetSecretValue requests received
}

func (f *fakeSecretsManager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct{ SecretId string }
	target := r.Header.Get("X-Amz-Target")
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/":
		f.t.Errorf("Secrets Manager got %s %s", r.Method, r.URL.Path)
	case target != "secretsmanager.GetSecretValue":
		f.t.Errorf("X-Amz-Target %q, want secretsmanager.GetSecretValue", target)
	case r.Header.Get("Content-Type") != "application/x-amz-json-1.1":
		f.t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
	case !strings.Contains(r.Header.Get("Authorization"), "Credential="+smAWSAccessKey+"/"):
		f.t.Errorf("not signed with the environment's AWS key: %q", r.Header.Get("Authorization"))
	case json.NewDecoder(r.Body).Decode(&in) != nil:
		f.t.Errorf("request body is not JSON")
	}

	f.mu.Lock()
	f.reads++
	secret, code, status := f.secret, f.errCode, f.errState
	f.mu.Unlock()

	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if code == "" && in.SecretId != smSecretID && in.SecretId != smSecretARN {
		code, status = "ResourceNotFoundException", http.StatusBadRequest
	}
	if code != "" {
		w.Header().Set("X-Amzn-ErrorType", code)
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": "fake " + code})
		return
	}
	out := map[string]any{"ARN": smSecretARN, "Name": smSecretID, "VersionId": "v1", "CreatedDate": 1.7e9}
	if secret != nil {
		out["SecretString"] = *secret
	} else {
		out["SecretBinary"] = "AAEC"
	}
	_ = json.NewEncoder(w).Encode(out)
}

// set makes the secret hold s, and clears any injected error.
func (f *fakeSecretsManager) set(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.secret, f.errCode, f.errState = &s, "", 0
}

func (f *fakeSecretsManager) setKeys(ak, sk string) {
	b, err := json.Marshal(map[string]string{"accessKey": ak, "secretKey": sk})
	if err != nil {
		f.t.Fatal(err)
	}
	f.set(string(b))
}

func (f *fakeSecretsManager) fail(status int, code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errCode, f.errState = code, status
}

func (f *fakeSecretsManager) readCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

// newFakeSecretsManager serves a fake on loopback and returns the real SDK
// client, configured only through the environment as in production.
func newFakeSecretsManager(t *testing.T) (*fakeSecretsManager, secretsAPI) {
	t.Helper()
	f := &fakeSecretsManager{t: t}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	empty := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": srv.URL,
		"AWS_ACCESS_KEY_ID":                smAWSAccessKey,
		"AWS_SECRET_ACCESS_KEY":            "fake-aws-secret",
		"AWS_REGION":                       "us-east-1",
		"AWS_EC2_METADATA_DISABLED":        "true",
		"AWS_CONFIG_FILE":                  empty("config"),
		"AWS_SHARED_CREDENTIALS_FILE":      empty("credentials"),
		// Whatever the machine has must not redirect or re-credential us.
		"AWS_SESSION_TOKEN":                   "",
		"AWS_PROFILE":                         "",
		"AWS_ENDPOINT_URL":                    "",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE":         "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":  "",
		"AWS_MAX_ATTEMPTS":                    "",
		"AWS_RETRY_MODE":                      "",
	} {
		t.Setenv(k, v)
	}
	cfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatalf("LoadDefaultConfig: %v", err)
	}
	return f, secretsClient(cfg)
}

func TestSecretCredentialsReadOnceAndCached(t *testing.T) {
	f, api := newFakeSecretsManager(t)
	f.setKeys("AK1", "SK1")
	ctx := context.Background()
	s, err := newSecretCredentials(ctx, api, smSecretID)
	if err != nil {
		t.Fatalf("newSecretCredentials: %v", err)
	}
	if n := f.readCount(); n != 1 {
		t.Fatalf("start read the secret %d times, want 1", n)
	}
	// Concurrent callers, as a batch's records are: all served from cache.
	var wg sync.WaitGroup
	got := make([]jdcloud.Credentials, 16)
	errs := make([]error, len(got))
	for i := range got {
		wg.Go(func() { got[i], errs[i] = s.Credentials(ctx) })
	}
	wg.Wait()
	want := jdcloud.Credentials{AccessKey: "AK1", SecretKey: "SK1"}
	for i := range got {
		if errs[i] != nil || got[i] != want {
			t.Errorf("Credentials #%d = %v, %v; want %v", i, got[i], errs[i], want)
		}
	}
	if n := f.readCount(); n != 1 {
		t.Errorf("%d Credentials calls made %d reads in all, want 1", len(got), n)
	}
}

func TestSecretCredentialsRefresh(t *testing.T) {
	f, api := newFakeSecretsManager(t)
	f.setKeys("AK1", "SK1")
	ctx := context.Background()
	s, err := newSecretCredentials(ctx, api, smSecretARN)
	if err != nil {
		t.Fatalf("newSecretCredentials: %v", err)
	}

	steps := []struct {
		name        string
		setup       func()
		want        jdcloud.Credentials
		wantChanged bool
		wantCode    resizer.Code // "" for success
	}{
		{"unchanged secret", func() {}, jdcloud.Credentials{AccessKey: "AK1", SecretKey: "SK1"}, false, ""},
		{"rotated pair", func() { f.setKeys("AK2", "SK2") }, jdcloud.Credentials{AccessKey: "AK2", SecretKey: "SK2"}, true, ""},
		{"only the secret key rotated", func() { f.setKeys("AK2", "SK3") }, jdcloud.Credentials{AccessKey: "AK2", SecretKey: "SK3"}, true, ""},
		// A failed re-read keeps the cached pair, says nothing changed.
		{"outage", func() { f.fail(http.StatusServiceUnavailable, "InternalServiceError") }, jdcloud.Credentials{AccessKey: "AK2", SecretKey: "SK3"}, false, resizer.CodeUnavailable},
		{"secret emptied", func() { f.set(`{}`) }, jdcloud.Credentials{AccessKey: "AK2", SecretKey: "SK3"}, false, resizer.CodeAuthFailed},
		{"back to the same pair", func() { f.setKeys("AK2", "SK3") }, jdcloud.Credentials{AccessKey: "AK2", SecretKey: "SK3"}, false, ""},
	}
	for _, st := range steps {
		st.setup()
		before := f.readCount()
		got, changed, err := s.Refresh(ctx)
		if code := resizer.ErrorCode(err); code != st.wantCode {
			t.Errorf("%s: Refresh error %v (code %q), want code %q", st.name, err, code, st.wantCode)
		}
		if got != st.want || changed != st.wantChanged {
			t.Errorf("%s: Refresh = %v, changed=%t; want %v, changed=%t", st.name, got, changed, st.want, st.wantChanged)
		}
		if f.readCount() == before {
			t.Errorf("%s: Refresh did not re-read the secret", st.name)
		}
		// Credentials serves what Refresh left, without a read.
		before = f.readCount()
		if c, err := s.Credentials(ctx); err != nil || c != st.want {
			t.Errorf("%s: Credentials after Refresh = %v, %v; want %v", st.name, c, err, st.want)
		}
		if f.readCount() != before {
			t.Errorf("%s: Credentials re-read a cached secret", st.name)
		}
	}
}

func TestSecretCredentialsPermanentErrorsFailTheStart(t *testing.T) {
	tests := []struct {
		name   string
		id     string
		status int
		code   string
	}{
		{"no such secret", "jdcloud/other", 0, ""},
		{"access denied", smSecretID, http.StatusBadRequest, "AccessDeniedException"},
		{"KMS key not usable", smSecretID, http.StatusBadRequest, "DecryptionFailure"},
		{"secret scheduled for deletion", smSecretID, http.StatusBadRequest, "InvalidRequestException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, api := newFakeSecretsManager(t)
			f.setKeys("AK1", "SK1-must-not-leak")
			if tt.code != "" {
				f.fail(tt.status, tt.code)
			}
			s, err := newSecretCredentials(context.Background(), api, tt.id)
			if err == nil {
				t.Fatalf("newSecretCredentials succeeded (%v)", s)
			}
			if code := resizer.ErrorCode(err); code != resizer.CodeAuthFailed {
				t.Errorf("code %q, want auth_failed: %v", code, err)
			}
			if tt.code == "" {
				var nf *smtypes.ResourceNotFoundException
				if !errors.As(err, &nf) {
					t.Errorf("error does not wrap ResourceNotFoundException: %v", err)
				}
			}
			msg := err.Error()
			if !strings.Contains(msg, "JDCLOUD_CREDENTIALS_SECRET") || !strings.Contains(msg, tt.id) {
				t.Errorf("error %q does not name the variable and the secret", msg)
			}
			if strings.ContainsAny(msg, "\r\n") || strings.Contains(msg, "SK1-must-not-leak") {
				t.Errorf("error %q is not one clean line", msg)
			}
			// Permanent: the SDK does not retry it, hence one request.
			if n := f.readCount(); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

func TestSecretCredentialsOutageAtStartIsTolerated(t *testing.T) {
	f, api := newFakeSecretsManager(t)
	f.setKeys("AK1", "SK1")
	f.fail(http.StatusInternalServerError, "InternalServiceError")
	ctx := context.Background()
	s, err := newSecretCredentials(ctx, api, smSecretID)
	if err != nil {
		t.Fatalf("newSecretCredentials refused a transient failure: %v", err)
	}
	atStart := f.readCount()
	if atStart < 1 {
		t.Fatal("the start did not try to read the secret")
	}

	// Still down: the caller gets a retryable error, and nothing is cached.
	_, err = s.Credentials(ctx)
	if code := resizer.ErrorCode(err); code != resizer.CodeUnavailable {
		t.Fatalf("Credentials during the outage: %v (code %q), want unavailable", err, code)
	}
	during := f.readCount()
	if during == atStart {
		t.Fatal("Credentials did not retry the read")
	}

	f.setKeys("AK1", "SK1")
	want := jdcloud.Credentials{AccessKey: "AK1", SecretKey: "SK1"}
	for i := range 3 {
		c, err := s.Credentials(ctx)
		if err != nil || c != want {
			t.Fatalf("Credentials #%d after recovery = %v, %v; want %v", i, c, err, want)
		}
	}
	if n := f.readCount() - during; n != 1 {
		t.Errorf("recovery took %d reads, want 1 then the cache", n)
	}
}

func TestSecretCredentialsEndedContextIsTimeout(t *testing.T) {
	f, api := newFakeSecretsManager(t)
	f.setKeys("AK1", "SK1")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, err := newSecretCredentials(ctx, api, smSecretID)
	if err != nil {
		t.Fatalf("newSecretCredentials refused an ended context: %v", err)
	}
	if _, err := s.Credentials(ctx); resizer.ErrorCode(err) != resizer.CodeTimeout {
		t.Errorf("Credentials with an ended context: %v, want code timeout", err)
	}
	if _, _, err := s.Refresh(ctx); resizer.ErrorCode(err) != resizer.CodeTimeout {
		t.Errorf("Refresh with an ended context: %v, want code timeout", err)
	}
	if c, err := s.Credentials(context.Background()); err != nil || c.AccessKey != "AK1" {
		t.Errorf("Credentials afterwards = %v, %v", c, err)
	}
}

func TestSecretCredentialsMalformedSecret(t *testing.T) {
	const content = "sEcReTcOnTeNt"
	tests := []struct {
		name   string
		secret *string
	}{
		{"not JSON", smPtr("accessKey=AK1 secretKey=" + content)},
		{"truncated JSON", smPtr(`{"accessKey":"AK1","secretKey":"` + content)},
		{"missing secretKey", smPtr(`{"accessKey":"` + content + `"}`)},
		{"empty accessKey", smPtr(`{"accessKey":"","secretKey":"` + content + `"}`)},
		{"wrong field types", smPtr(`{"accessKey":1,"secretKey":"` + content + `"}`)},
		{"array", smPtr(`["` + content + `"]`)},
		{"other field names", smPtr(`{"AccessKeyId":"AK1","SecretAccessKey":"` + content + `"}`)},
		{"binary secret", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, api := newFakeSecretsManager(t)
			if tt.secret != nil {
				f.set(*tt.secret)
			}
			_, err := newSecretCredentials(context.Background(), api, smSecretID)
			checkMalformedSecretError(t, err, content)

			// The same after a good start: Refresh refuses, the cache stays.
			f.setKeys("AK1", "SK1")
			s, err := newSecretCredentials(context.Background(), api, smSecretID)
			if err != nil {
				t.Fatal(err)
			}
			if tt.secret != nil {
				f.set(*tt.secret)
			} else {
				f.mu.Lock()
				f.secret = nil
				f.mu.Unlock()
			}
			c, changed, err := s.Refresh(context.Background())
			checkMalformedSecretError(t, err, content)
			if changed || c != (jdcloud.Credentials{AccessKey: "AK1", SecretKey: "SK1"}) {
				t.Errorf("Refresh = %v, changed=%t; want the cached pair, unchanged", c, changed)
			}
		})
	}
}

func checkMalformedSecretError(t *testing.T, err error, content string) {
	t.Helper()
	if code := resizer.ErrorCode(err); code != resizer.CodeAuthFailed {
		t.Fatalf("error %v (code %q), want auth_failed", err, code)
	}
	if msg := err.Error(); strings.Contains(msg, content) || !strings.Contains(msg, "JDCLOUD_CREDENTIALS_SECRET") {
		t.Errorf("error %q quotes the secret or does not name the variable", msg)
	}
	// Nothing down the chain may quote it either.
	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), content) {
			t.Errorf("wrapped error %q quotes the secret", e)
		}
	}
}

func smPtr(s string) *string { return &s }

// TestSecretCredentialsRotationAgainstJDCloud: the secret is rotated after
// the start, JD Cloud refuses the cached key, and the client recovers with
// one re-read of the secret.
func TestSecretCredentialsRotationAgainstJDCloud(t *testing.T) {
	sim, err := jdcloudsim.Start(jdcloudsim.Options{Credentials: []jdcloud.Credentials{{AccessKey: "AK2", SecretKey: "SK2"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	f, api := newFakeSecretsManager(t)
	f.setKeys("AK1", "SK1")
	ctx := context.Background()
	s, err := newSecretCredentials(ctx, api, smSecretID)
	if err != nil {
		t.Fatalf("newSecretCredentials: %v", err)
	}
	f.setKeys("AK2", "SK2")

	client, err := jdcloud.New(jdcloud.Options{Endpoint: sim.URL(), Credentials: s})
	if err != nil {
		t.Fatal(err)
	}
	inst, err := client.DescribeInstance(ctx, "cn-north-1", "i-stopped01")
	if err != nil {
		t.Fatalf("DescribeInstance: %v", err)
	}
	if inst.InstanceID != "i-stopped01" {
		t.Errorf("described %q", inst.InstanceID)
	}
	if n := f.readCount(); n != 2 {
		t.Errorf("secret read %d times, want 2 (the start and one re-read)", n)
	}
	reqs := sim.Requests()
	if len(reqs) != 2 {
		t.Fatalf("JD Cloud got %d requests, want 2: %+v", len(reqs), reqs)
	}
	if r := reqs[0]; r.AccessKey != "AK1" || r.Status != http.StatusUnauthorized {
		t.Errorf("first request: key %s, status %d; want AK1 refused with 401", r.AccessKey, r.Status)
	}
	if r := reqs[1]; r.AccessKey != "AK2" || r.Status != http.StatusOK || !r.SignatureValid {
		t.Errorf("second request: key %s, status %d, signature valid %t; want AK2, 200, valid", r.AccessKey, r.Status, r.SignatureValid)
	}

	// The new pair is cached: the next call neither re-reads nor is refused.
	if _, err := client.DescribeInstance(ctx, "cn-north-1", "i-stopped01"); err != nil {
		t.Fatalf("second DescribeInstance: %v", err)
	}
	if n := f.readCount(); n != 2 {
		t.Errorf("secret read %d times after a second call, want still 2", n)
	}
	if n := sim.Calls(jdcloudsim.OpDescribeInstance); n != 3 {
		t.Errorf("describeInstance calls = %d, want 3", n)
	}
}
