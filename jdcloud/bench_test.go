package jdcloud

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// seedBody reads the body of a checked-in FuzzDecodeResponse seed: real
// answers, so that the decode benchmarks measure what JD sends.
func seedBody(b *testing.B, name string) []byte {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzDecodeResponse", name))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "[]byte("); ok {
			s, err := strconv.Unquote(strings.TrimSuffix(rest, ")"))
			if err != nil {
				b.Fatal(err)
			}
			return []byte(s)
		}
	}
	b.Fatalf("%s: no body", name)
	return nil
}

// BenchmarkDecodeAnswer measures turning one JD answer body into the
// domain's types: what every JD call pays after the network.
func BenchmarkDecodeAnswer(b *testing.B) {
	b.Run("describeInstance", func(b *testing.B) {
		body := seedBody(b, "describe_instance_ok")
		b.ReportAllocs()
		for b.Loop() {
			var res describeInstanceResult
			if _, err := DecodeResponse("describeInstance", 200, body, &res); err != nil || res.Instance == nil {
				b.Fatal(err)
			}
			_ = res.Instance.toInstance()
		}
	})
	b.Run("describeInstanceTypes", func(b *testing.B) {
		body := seedBody(b, "describe_instance_types_ok")
		b.ReportAllocs()
		for b.Loop() {
			var res describeInstanceTypesResult
			if _, err := DecodeResponse("describeInstanceTypes", 200, body, &res); err != nil || len(res.InstanceTypes) != 1 {
				b.Fatal(err)
			}
			_ = res.InstanceTypes[0].toInstanceType()
		}
	})
	b.Run("action", func(b *testing.B) {
		body := []byte(`{"requestId":"c3ltr1abcdefghijk","result":{}}`)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeResponse[struct{}]("resizeInstance", 200, body, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
