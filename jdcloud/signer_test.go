package jdcloud

import (
	"bytes"
	"net/http"
	"testing"
)

// The known-answer vector of docs/jdcloud-api.md, from the official SDK's signer.
func TestSignKnownAnswer(t *testing.T) {
	body := []byte(`{"instanceType":"g.n2.large"}`)
	req, err := http.NewRequest(http.MethodPost, "https://vm.jdcloud-api.com/v1/regions/cn-north-1/instances/i-abc123xyz:resizeInstance", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "whatever/1.0")
	req.Header.Set("X-Jdcloud-Date", "20261128T010203Z")
	req.Header.Set("X-Jdcloud-Nonce", "fd8a17d3-af14-42fd-833c-4f42a2fbd075")
	creds := Credentials{AccessKey: "AKIDEXAMPLE0123456789", SecretKey: "SECRETEXAMPLEabcdefghijklmnop"}

	Sign(req, body, creds, "cn-north-1", "vm")

	want := "JDCLOUD2-HMAC-SHA256 Credential=AKIDEXAMPLE0123456789/20261128/cn-north-1/vm/jdcloud2_request, SignedHeaders=content-type;host;x-jdcloud-date;x-jdcloud-nonce, Signature=9781274bb78351c3be69a0cba1df8cd8dd7b2df36aa77b3dae26676c6694ff1b"
	if got := req.Header.Get("Authorization"); got != want {
		t.Fatalf("Authorization\n got %s\nwant %s", got, want)
	}

	lookup := func(ak string) (Credentials, bool) { return creds, ak == creds.AccessKey }
	if _, ok := Verify(req, body, lookup, "vm"); !ok {
		t.Fatal("Verify rejected the known-answer request")
	}
	if _, ok := Verify(req, []byte(`{"instanceType":"g.n2.xlarge"}`), lookup, "vm"); ok {
		t.Fatal("Verify accepted a tampered body")
	}
	wrong := func(ak string) (Credentials, bool) { return Credentials{AccessKey: ak, SecretKey: "other"}, true }
	if _, ok := Verify(req, body, wrong, "vm"); ok {
		t.Fatal("Verify accepted a signature made with another secret")
	}
}

func TestCredentialsNeverPrintSecret(t *testing.T) {
	c := Credentials{AccessKey: "AK", SecretKey: "topsecretvalue"}
	for _, s := range []string{c.String(), c.GoString()} {
		if bytes.Contains([]byte(s), []byte("topsecretvalue")) {
			t.Fatalf("secret leaked: %s", s)
		}
	}
}
