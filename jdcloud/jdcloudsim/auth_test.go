package jdcloudsim

import (
	"net/http"
	"strings"
	"testing"

	"github.com/jdcloud-vm-resizer/resizer/jdcloud"
)

func TestAuthentication(t *testing.T) {
	s := startSim(t, Options{})
	tests := []struct {
		name   string
		adjust func(*client)
		msg    string
	}{
		{"no Authorization", func(c *client) { c.tamper = func(r *http.Request) { r.Header.Del("Authorization") } }, "missing Authorization"},
		{"malformed Authorization", func(c *client) { c.tamper = func(r *http.Request) { r.Header.Set("Authorization", "Bearer x") } }, "malformed"},
		{"unknown access key", func(c *client) {
			c.creds = jdcloud.Credentials{AccessKey: "AKUNKNOWN", SecretKey: DemoSecretKey}
		}, "unknown access key AKUNKNOWN"},
		{"wrong secret", func(c *client) {
			c.creds = jdcloud.Credentials{AccessKey: DemoAccessKey, SecretKey: "not-the-secret"}
		}, "signature does not match"},
		{"body changed after signing", func(c *client) {
			c.tamper = func(r *http.Request) { r.URL.Path = strings.Replace(r.URL.Path, "i-stopped01", "i-stopped02", 1) }
		}, "signature does not match"},
		{"scope names another region", func(c *client) { c.scope = "cn-east-2" }, `credential scope region "cn-east-2"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, s)
			tt.adjust(c)
			before := mustInstance(t, s, "i-stopped01")
			a := c.do(http.MethodPost, instancePath("i-stopped01")+":resizeInstance", []byte(`{"instanceType":"g.n2.large"}`))
			wantError(t, a, http.StatusUnauthorized, "UNAUTHENTICATED", tt.msg)
			if strings.Contains(string(a.Raw), DemoSecretKey) {
				t.Errorf("answer leaks the secret key: %s", a.Raw)
			}
			if after := mustInstance(t, s, "i-stopped01"); after.Status != before.Status || after.InstanceType != before.InstanceType {
				t.Error("an unauthenticated resize changed the instance")
			}
			reqs := s.Requests()
			if last := reqs[len(reqs)-1]; last.SignatureValid || last.Status != http.StatusUnauthorized {
				t.Errorf("record: SignatureValid %v, Status %d", last.SignatureValid, last.Status)
			}
		})
	}
}

// An unauthenticated caller learns nothing: a missing region or instance
// still answers 401, not 404.
func TestAuthenticationBeforeLookup(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	c.creds.SecretKey = "wrong"
	wantError(t, c.do(http.MethodGet, "/v1/regions/xx-nowhere-9/instances/i-nothere01", nil), http.StatusUnauthorized, "UNAUTHENTICATED", "")
	wantError(t, c.do(http.MethodGet, "/v2/nothing", nil), http.StatusUnauthorized, "UNAUTHENTICATED", "")
}

func TestCustomCredentialsReplaceDemoPair(t *testing.T) {
	mine := jdcloud.Credentials{AccessKey: "AKMINE0001", SecretKey: "my-own-secret"}
	s := startSim(t, Options{Credentials: []jdcloud.Credentials{mine}})
	c := newClient(t, s)
	c.creds = mine
	wantOK(t, c.do(http.MethodGet, instancePath("i-stopped01"), nil))
	if got := s.Requests()[0]; !got.SignatureValid || got.AccessKey != "AKMINE0001" {
		t.Errorf("record %+v", got)
	}
	c.creds = demoCreds
	wantError(t, c.do(http.MethodGet, instancePath("i-stopped01"), nil), http.StatusUnauthorized, "UNAUTHENTICATED", "unknown access key")
}

func TestNewRefusesEmptyCredentials(t *testing.T) {
	if _, err := New(Options{Credentials: []jdcloud.Credentials{{AccessKey: "AK"}}}); err == nil {
		t.Fatal("New accepted a pair without a secret key")
	}
}
