package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/jdcloud-vm-resizer/resizer"
)

// fakeClock is a settable clock for the eviction cases, which depend on
// which entries have lapsed.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func newMemory(max int) (*Memory, *fakeClock) {
	clk := &fakeClock{now: t0}
	m := NewMemory(max)
	m.Now = clk.Now
	return m, clk
}

// present says whether key holds a request record, looking inside: a probe
// through Claim would itself take a slot and evict something.
func present(t *testing.T, m *Memory, key string) bool {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.items[requestPrefix+key]
	return ok
}

func complete(t *testing.T, m *Memory, key string, expires time.Time) {
	t.Helper()
	if err := m.Complete(t.Context(), key, "h", []byte("{}"), expires); err != nil {
		t.Fatalf("Complete(%q): %v", key, err)
	}
}

func TestMemoryEvictsExpiredBeforeOldest(t *testing.T) {
	m, clk := newMemory(3)
	complete(t, m, "oldest", t0.Add(24*time.Hour))
	complete(t, m, "short-lived", t0.Add(time.Minute))
	complete(t, m, "newest", t0.Add(24*time.Hour))
	clk.now = t0.Add(2 * time.Minute)
	complete(t, m, "extra", t0.Add(24*time.Hour))
	for key, want := range map[string]bool{"oldest": true, "short-lived": false, "newest": true, "extra": true} {
		if got := present(t, m, key); got != want {
			t.Errorf("%s present = %v, want %v", key, got, want)
		}
	}
}

func TestMemoryEvictsOldestWriteWhenNothingExpired(t *testing.T) {
	m, _ := newMemory(2)
	complete(t, m, "a", t0.Add(time.Hour))
	if err := m.RecordResize(t.Context(), "i", t0, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	complete(t, m, "b", t0.Add(time.Hour))
	complete(t, m, "a", t0.Add(time.Hour)) // kept as it was; not a fresh write
	complete(t, m, "c", t0.Add(time.Hour))
	if present(t, m, "a") {
		t.Error("the oldest write, a, survived")
	}
	// Marks, holds and held approvals are not records: they are never
	// evicted to make room (docs/contract.md §12).
	for i := range 50 {
		complete(t, m, fmt.Sprint("more", i), t0.Add(time.Hour))
	}
	if err := m.Hold(t.Context(), "held-instance", "me", t0.Add(time.Hour), 0); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		complete(t, m, fmt.Sprint("even-more", i), t0.Add(time.Hour))
	}
	if err := m.Hold(t.Context(), "held-instance", "someone-else", t0.Add(time.Hour), 0); resizer.ErrorCode(err) != resizer.CodeUnavailable {
		t.Errorf("the hold was evicted: a second holder got it (%v)", err)
	}
	if at, err := m.LastResize(t.Context(), "i"); err != nil || !at.Equal(t0) {
		t.Errorf("the cooldown mark was evicted before the oldest record: %v, %v", at, err)
	}
}

func TestMemoryNeverEvictsLiveClaims(t *testing.T) {
	m, clk := newMemory(3)
	for i := range 3 {
		if rec, err := m.Claim(t.Context(), fmt.Sprint(i), "h", t0.Add(time.Minute), t0.Add(time.Hour)); rec != nil || err != nil {
			t.Fatalf("claim %d: %v, %v", i, rec, err)
		}
	}
	_, err := m.Claim(t.Context(), "one-too-many", "h", t0.Add(time.Minute), t0.Add(time.Hour))
	if resizer.ErrorCode(err) != resizer.CodeUnavailable {
		t.Fatalf("claim in a store full of live claims: %v, want unavailable", err)
	}
	if err := m.RecordResize(t.Context(), "i", t0, t0.Add(time.Hour)); err != nil {
		t.Fatalf("cooldown mark in a store full of live claims: %v; marks are not bounded by the records", err)
	}
	for i := range 3 {
		if !present(t, m, fmt.Sprint(i)) {
			t.Errorf("live claim %d was evicted", i)
		}
	}

	// Once a lease lapses its claim may be taken over, so it may go.
	clk.now = t0.Add(2 * time.Minute)
	if rec, err := m.Claim(t.Context(), "one-too-many", "h", t0.Add(time.Hour), t0.Add(time.Hour)); rec != nil || err != nil {
		t.Fatalf("claim after leases lapsed: %v, %v", rec, err)
	}
}

func TestMemoryExpiryBoundary(t *testing.T) {
	m, clk := newMemory(10)
	complete(t, m, "k", t0)
	if rec, err := m.Claim(t.Context(), "k", "h", t0.Add(time.Hour), t0.Add(time.Hour)); rec == nil || err != nil {
		t.Errorf("claim at the expires instant: %v, %v; the record lives up to and including it", rec, err)
	}
	clk.now = t0.Add(time.Nanosecond)
	if rec, err := m.Claim(t.Context(), "k", "h", t0.Add(time.Hour), t0.Add(time.Hour)); rec != nil || err != nil {
		t.Errorf("claim after the expires instant: %v, %v; want it taken", rec, err)
	}
}

func TestMemoryDefaultsItsBound(t *testing.T) {
	m, _ := newMemory(0)
	for i := range DefaultMaxEntries {
		if rec, err := m.Claim(t.Context(), fmt.Sprint(i), "h", t0.Add(time.Hour), t0.Add(time.Hour)); rec != nil || err != nil {
			t.Fatalf("claim %d: %v, %v", i, rec, err)
		}
	}
	if _, err := m.Claim(t.Context(), "over", "h", t0.Add(time.Hour), t0.Add(time.Hour)); err == nil {
		t.Fatalf("claim %d of a default store was taken; want the bound to be %d", DefaultMaxEntries+1, DefaultMaxEntries)
	}
}

// TestMemoryKeepsFleetStatePastItsBound: a burst of requests that each leave
// a completed record (dry runs, say) well past DefaultMaxEntries evicts old
// records only, never a cooldown mark, a hold, a counter or a held request
// (docs/contract.md §12).
func TestMemoryKeepsFleetStatePastItsBound(t *testing.T) {
	m, _ := newMemory(0)
	ctx, later := t.Context(), t0.Add(time.Hour)
	if err := m.RecordResize(ctx, "cn-north-1/i-marked", t0, later); err != nil {
		t.Fatal(err)
	}
	if err := m.Hold(ctx, "cn-north-1/i-held", "delivery-1", later, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Add(ctx, "failures", t0, later); err != nil {
		t.Fatal(err)
	}
	if err := m.PutHeld(ctx, resizer.Held{ID: "ap-1", Request: []byte("{}"), Expires: later}); err != nil {
		t.Fatal(err)
	}
	const n = DefaultMaxEntries + 2500
	for i := range n {
		complete(t, m, fmt.Sprint("dry-run-", i), later)
	}
	m.mu.Lock()
	records := len(m.items)
	m.mu.Unlock()
	if records != DefaultMaxEntries {
		t.Errorf("%d records kept, want the bound %d", records, DefaultMaxEntries)
	}
	if present(t, m, "dry-run-0") || !present(t, m, fmt.Sprint("dry-run-", n-1)) {
		t.Error("eviction did not take the oldest records first")
	}
	if at, err := m.LastResize(ctx, "cn-north-1/i-marked"); err != nil || !at.Equal(t0) {
		t.Errorf("cooldown mark evicted: %v, %v", at, err)
	}
	if err := m.Hold(ctx, "cn-north-1/i-held", "delivery-2", later, 1); resizer.ErrorCode(err) != resizer.CodeUnavailable {
		t.Errorf("hold evicted: a second holder got it (%v)", err)
	}
	if err := m.Hold(ctx, "cn-north-1/i-other", "delivery-3", later, 1); err == nil {
		t.Error("the fleet bound forgot the live hold")
	}
	if c, err := m.Count(ctx, "failures", t0); c != 1 || err != nil {
		t.Errorf("counter evicted: %d, %v", c, err)
	}
	if h, err := m.GetHeld(ctx, "ap-1"); h == nil || err != nil {
		t.Errorf("held request evicted: %v, %v", h, err)
	}
}
