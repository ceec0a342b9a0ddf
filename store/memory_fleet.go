package store

import (
	"context"
	"maps"
	"strconv"
	"time"

	"github.com/jdcloud-vm-resizer/resizer"
)

// The memory store's fleet state: cooldown marks, holds, counters and held
// approvals. It lives apart from the bounded idempotency records and is
// never evicted to make room (docs/contract.md §12): forgetting a mark or a
// hold would let a second request change a machine. Expired entries are
// swept as they are met and, in full, every sweepEvery writes; what stays
// is bounded by the fleet (one mark and at most one hold per instance, two
// counters per window) and by the approvals issued within APPROVAL_TTL.

type mark struct {
	at, expires time.Time
}

type hold struct {
	holder     string
	leaseUntil time.Time
}

type counter struct {
	n       int
	expires time.Time
}

type heldEntry struct {
	h       resizer.Held
	expires time.Time // kept past h.Expires so that a late approval hears approval_expired
}

// heldGrace is how long a held request is kept after its approval expired.
const heldGrace = 24 * time.Hour

// sweepEvery is how many fleet writes pass between full sweeps of expired
// fleet entries.
const sweepEvery = 1024

type fleetState struct {
	marks    map[string]mark
	holds    map[string]hold
	counters map[string]counter
	held     map[string]heldEntry
	writes   int
}

func (f *fleetState) init() {
	if f.marks == nil {
		f.marks, f.holds = map[string]mark{}, map[string]hold{}
		f.counters, f.held = map[string]counter{}, map[string]heldEntry{}
	}
}

// wrote counts a write and sweeps what has expired now and then.
func (f *fleetState) wrote(now time.Time) {
	f.writes++
	if f.writes%sweepEvery != 0 {
		return
	}
	maps.DeleteFunc(f.marks, func(_ string, v mark) bool { return now.After(v.expires) })
	maps.DeleteFunc(f.holds, func(_ string, v hold) bool { return now.After(v.leaseUntil) })
	maps.DeleteFunc(f.counters, func(_ string, v counter) bool { return now.After(v.expires) })
	maps.DeleteFunc(f.held, func(_ string, v heldEntry) bool { return now.After(v.expires) })
}

func (m *Memory) fleet() *fleetState {
	m.fleetState.init()
	return &m.fleetState
}

// LastResize implements resizer.Marks.
func (m *Memory) LastResize(ctx context.Context, instanceKey string) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, resizer.ErrorFrom(ctx, "memory store: last resize of "+strconv.Quote(instanceKey), err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if mk, ok := m.fleet().marks[instanceKey]; ok && !m.now().After(mk.expires) {
		return mk.at, nil
	}
	return time.Time{}, nil
}

// RecordResize implements resizer.Marks. A live mark of a later resize is
// kept, so a late writer cannot shorten the cooldown.
func (m *Memory) RecordResize(ctx context.Context, instanceKey string, at, expires time.Time) error {
	if err := ctx.Err(); err != nil {
		return resizer.ErrorFrom(ctx, "memory store: record resize of "+strconv.Quote(instanceKey), err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	f, now := m.fleet(), m.now()
	if mk, ok := f.marks[instanceKey]; ok && !now.After(mk.expires) && mk.at.After(at) {
		return nil
	}
	f.marks[instanceKey] = mark{at: at, expires: expires}
	f.wrote(now)
	return nil
}

// ForgetResize implements resizer.MarkForgetter.
func (m *Memory) ForgetResize(ctx context.Context, instanceKey string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return resizer.ErrorFrom(ctx, "memory store: forget resize of "+strconv.Quote(instanceKey), err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.fleet()
	if mk, ok := f.marks[instanceKey]; ok && mk.at.Equal(at) {
		delete(f.marks, instanceKey)
	}
	return nil
}

// Hold implements resizer.Holds.
func (m *Memory) Hold(ctx context.Context, instanceKey, holder string, leaseUntil time.Time, max int) error {
	if err := ctx.Err(); err != nil {
		return resizer.ErrorFrom(ctx, "memory store: hold "+strconv.Quote(instanceKey), err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	f, now := m.fleet(), m.now()
	if h, ok := f.holds[instanceKey]; ok && !now.After(h.leaseUntil) {
		if h.holder != holder {
			return busy(instanceKey, h.holder, h.leaseUntil)
		}
		f.holds[instanceKey] = hold{holder: holder, leaseUntil: leaseUntil}
		return nil
	}
	if max > 0 {
		live := 0
		for _, h := range f.holds {
			if !now.After(h.leaseUntil) {
				live++
			}
		}
		if live >= max {
			return fleetBusy(max)
		}
	}
	f.holds[instanceKey] = hold{holder: holder, leaseUntil: leaseUntil}
	f.wrote(now)
	return nil
}

// Unhold implements resizer.Holds.
func (m *Memory) Unhold(ctx context.Context, instanceKey, holder string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.fleet()
	if h, ok := f.holds[instanceKey]; ok && h.holder == holder {
		delete(f.holds, instanceKey)
	}
	return nil
}

func counterKey(name string, window time.Time) string {
	return name + "#" + strconv.FormatInt(window.Unix(), 10)
}

// Take implements resizer.Counters.
func (m *Memory) Take(ctx context.Context, name string, window time.Time, max int, expires time.Time) (bool, int, error) {
	if err := ctx.Err(); err != nil {
		return false, 0, resizer.ErrorFrom(ctx, "memory store: take "+name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	f, now := m.fleet(), m.now()
	k := counterKey(name, window)
	c := f.counters[k]
	if now.After(c.expires) {
		c = counter{}
	}
	if max <= 0 || c.n >= max {
		return false, c.n, nil
	}
	c.n++
	c.expires = expires
	f.counters[k] = c
	f.wrote(now)
	return true, c.n, nil
}

// Add implements resizer.Counters.
func (m *Memory) Add(ctx context.Context, name string, window time.Time, expires time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, resizer.ErrorFrom(ctx, "memory store: add "+name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	f, now := m.fleet(), m.now()
	k := counterKey(name, window)
	c := f.counters[k]
	if now.After(c.expires) {
		c = counter{}
	}
	c.n++
	c.expires = expires
	f.counters[k] = c
	f.wrote(now)
	return c.n, nil
}

// Count implements resizer.Counters.
func (m *Memory) Count(ctx context.Context, name string, window time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, resizer.ErrorFrom(ctx, "memory store: count "+name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.fleet().counters[counterKey(name, window)]
	if m.now().After(c.expires) {
		return 0, nil
	}
	return c.n, nil
}

// PutHeld implements resizer.Approvals: an id already stored stays as it
// is. The entry is kept heldGrace past h.Expires, as DynamoDB's TTL does.
func (m *Memory) PutHeld(ctx context.Context, h resizer.Held) error {
	if err := ctx.Err(); err != nil {
		return resizer.ErrorFrom(ctx, "memory store: hold approval "+strconv.Quote(h.ID), err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	f, now := m.fleet(), m.now()
	if _, ok := f.held[h.ID]; ok {
		return nil
	}
	h.Request = append([]byte(nil), h.Request...)
	f.held[h.ID] = heldEntry{h: h, expires: h.Expires.Add(heldGrace)}
	f.wrote(now)
	return nil
}

// GetHeld implements resizer.Approvals: an expired held request is still
// returned, so its approval is told so, until a sweep drops it (no sooner
// than heldGrace after its expiry).
func (m *Memory) GetHeld(ctx context.Context, id string) (*resizer.Held, error) {
	if err := ctx.Err(); err != nil {
		return nil, resizer.ErrorFrom(ctx, "memory store: approval "+strconv.Quote(id), err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.fleet().held[id]
	if !ok {
		return nil, nil
	}
	h := e.h
	h.Request = append([]byte(nil), h.Request...)
	return &h, nil
}

// busy and fleetBusy are the refusals of Hold, shared by both stores. The
// holder is a delivery id the function made up, quoted all the same.
func busy(instanceKey, holder string, until time.Time) error {
	return resizer.Errorf(resizer.CodeUnavailable, resizer.ReasonInstanceBusy,
		"instance %s is being changed by another request (holder %q) until %s at the latest; retry later",
		instanceKey, holder, until.UTC().Format(time.RFC3339))
}

func fleetBusy(max int) error {
	return resizer.Errorf(resizer.CodeUnavailable, resizer.ReasonFleetBusy,
		"%d resizes are already under way fleet-wide (MAX_CONCURRENT_RESIZES=%d); retry later, or raise MAX_CONCURRENT_RESIZES", max, max)
}
