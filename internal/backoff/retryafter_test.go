package backoff

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	const limit = 4 * time.Second
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"2", 2 * time.Second},
		{" 3 ", 3 * time.Second},
		{"0", 0},
		{"-5", 0},
		{"5", limit},
		{"3600", limit},
		{"99999999999999999999", limit},
		{"-99999999999999999999", 0},
		{now.Add(3 * time.Second).Format(http.TimeFormat), 3 * time.Second},
		{now.Add(time.Hour).Format(http.TimeFormat), limit},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"soon", 0},
		{"1.5", 0},
	} {
		if got := RetryAfter(tc.header, now, limit); got != tc.want {
			t.Errorf("Retry-After %q = %v, want %v", tc.header, got, tc.want)
		}
	}
	if got := RetryAfter("2", now, 0); got != 0 {
		t.Errorf("with no limit (Policy.Max 0) Retry-After gave %v, want 0", got)
	}
}

func TestRetryAfterWithADayLimit(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		" 7 ":                           7 * time.Second,
		"-5":                            0,
		"99999999999999999":             24 * time.Hour,
		"soon":                          0,
		"Thu, 01 Jan 2026 00:00:30 GMT": 30 * time.Second,
		"Wed, 31 Dec 2025 23:00:00 GMT": 0,
	}
	for in, want := range cases {
		if got := RetryAfter(in, now, 24*time.Hour); got != want {
			t.Errorf("RetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}
