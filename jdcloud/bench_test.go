package jdcloud

import (
	"bytes"
	"net/http"
	"testing"
	"time"
)

// BenchmarkSign measures signing one resizeInstance request, the work every
// JD Cloud call repeats (run with -benchmem: allocations are the cost that
// grows with concurrency).
func BenchmarkSign(b *testing.B) {
	body := []byte(`{"instanceType":"g.n2.large"}`)
	req, err := http.NewRequest(http.MethodPost, "https://vm.jdcloud-api.com/v1/regions/cn-north-1/instances/i-abc123xyz:resizeInstance", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "jdcloud-vm-resizer")
	Stamp(req.Header, time.Date(2026, 11, 28, 1, 2, 3, 0, time.UTC), "fd8a17d3-af14-42fd-833c-4f42a2fbd075")
	creds := Credentials{AccessKey: "AKIDEXAMPLE0123456789", SecretKey: "SECRETEXAMPLEabcdefghijklmnop"}
	b.ReportAllocs()
	for b.Loop() {
		Sign(req, body, creds, "cn-north-1", "vm")
	}
}

// BenchmarkNewRequest measures what the client does per attempt before the
// network: build the request, a fresh nonce, stamp and sign.
func BenchmarkNewRequest(b *testing.B) {
	c, err := New(Options{Endpoint: "https://vm.jdcloud-api.com", Credentials: StaticCredentials{AccessKey: "AK", SecretKey: "SK"}})
	if err != nil {
		b.Fatal(err)
	}
	k := c.newCall("resizeInstance", http.MethodPost, "cn-north-1", []byte(`{"instanceType":"g.n2.large"}`), "",
		"regions", "cn-north-1", "instances", "i-abc123xyz:resizeInstance")
	creds := Credentials{AccessKey: "AK", SecretKey: "SK"}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.newRequest(ctx, k, creds); err != nil {
			b.Fatal(err)
		}
	}
}
