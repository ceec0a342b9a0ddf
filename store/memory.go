package store

import (
	"container/list"
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/jdcloud-vm-resizer/resizer"
)

// DefaultMaxEntries is how many idempotency records a Memory created with a
// non-positive size keeps: enough for a day of requests on one process,
// small enough to never matter for memory (a record is a few hundred bytes
// plus its outcome). Only those records are bounded; cooldown marks, holds,
// window counters and held approvals are not counted against it and are
// never evicted, only dropped once expired.
const DefaultMaxEntries = 10000

// Memory is the store of one process, used when IDEMPOTENCY_TABLE is unset.
// Its idempotency records are bounded: when full it forgets expired records
// first, then the oldest completed ones, and refuses a new claim rather
// than forget a live in_progress one (forgetting one would let a
// redelivery run the same resize twice). Cooldown marks, holds, counters
// and held approvals are kept apart and never evicted (memory_fleet.go).
type Memory struct {
	// Now is the store's clock; time.Now when nil. Set it before first use.
	Now func() time.Time

	mu    sync.Mutex
	max   int
	items map[string]*list.Element // id → element whose Value is *memItem
	order *list.List               // by last write, oldest at the front
	// fleetState holds marks, holds, counters and held approvals, which
	// are never evicted (memory_fleet.go).
	fleetState fleetState
}

// memItem is a request record.
type memItem struct {
	id         string
	state      string
	dataHash   string
	outcome    []byte
	leaseUntil time.Time
	expires    time.Time
}

// NewMemory returns an empty store holding at most maxEntries idempotency
// records; maxEntries <= 0 means DefaultMaxEntries.
func NewMemory(maxEntries int) *Memory {
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	return &Memory{max: maxEntries, items: make(map[string]*list.Element), order: list.New()}
}

func (m *Memory) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// expired: an entry lives up to and including its expires instant, the
// same boundary DynamoDB's condition `expiration < :now` draws.
func (it *memItem) expired(now time.Time) bool { return now.After(it.expires) }

// live says whether the entry still counts: not expired, and not an
// in_progress claim whose lease has passed (that one may be taken over).
func (it *memItem) live(now time.Time) bool {
	if it.expired(now) {
		return false
	}
	return it.state != resizer.StateInProgress || !now.After(it.leaseUntil)
}

func (it *memItem) liveClaim(now time.Time) bool {
	return it.state == resizer.StateInProgress && it.live(now)
}

func (it *memItem) record(key string) *resizer.Record {
	return &resizer.Record{
		Key:        key,
		State:      it.state,
		DataHash:   it.dataHash,
		Outcome:    append([]byte(nil), it.outcome...), // callers must not reach our copy
		LeaseUntil: it.leaseUntil,
		Expires:    it.expires,
	}
}

// Claim implements resizer.Store.
func (m *Memory) Claim(ctx context.Context, key, dataHash string, leaseUntil, expires time.Time) (*resizer.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, resizer.ErrorFrom(ctx, "memory store: claim "+strconv.Quote(key), err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if it := m.get(requestPrefix + key); it != nil && it.live(now) {
		return it.record(key), nil
	}
	return nil, m.put(now, &memItem{
		id:         requestPrefix + key,
		state:      resizer.StateInProgress,
		dataHash:   dataHash,
		leaseUntil: leaseUntil,
		expires:    expires,
	})
}

// Complete implements resizer.Store. A live completed record is kept as it
// is: the first stored outcome is the one every redelivery republishes.
func (m *Memory) Complete(ctx context.Context, key, dataHash string, outcome []byte, expires time.Time) error {
	if err := ctx.Err(); err != nil {
		return resizer.ErrorFrom(ctx, "memory store: complete "+strconv.Quote(key), err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if it := m.get(requestPrefix + key); it != nil && it.state == resizer.StateCompleted && it.live(now) {
		return nil
	}
	return m.put(now, &memItem{
		id:       requestPrefix + key,
		state:    resizer.StateCompleted,
		dataHash: dataHash,
		outcome:  append([]byte(nil), outcome...),
		expires:  expires,
	})
}

// Release implements resizer.Store; a completed record stays.
func (m *Memory) Release(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return resizer.ErrorFrom(ctx, "memory store: release "+strconv.Quote(key), err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.items[requestPrefix+key]; ok && e.Value.(*memItem).state == resizer.StateInProgress {
		m.remove(e)
	}
	return nil
}

func (m *Memory) get(id string) *memItem {
	if e, ok := m.items[id]; ok {
		return e.Value.(*memItem)
	}
	return nil
}

func (m *Memory) remove(e *list.Element) {
	delete(m.items, e.Value.(*memItem).id)
	m.order.Remove(e)
}

// put stores it, replacing an entry of the same id, and makes room first
// when the store is full.
func (m *Memory) put(now time.Time, it *memItem) error {
	if e, ok := m.items[it.id]; ok {
		e.Value = it
		m.order.MoveToBack(e)
		return nil
	}
	if len(m.items) >= m.max && !m.evict(now) {
		return resizer.Errorf(resizer.CodeUnavailable, "",
			"memory store: all %d entries are live in_progress claims; try again later", m.max)
	}
	m.items[it.id] = m.order.PushBack(it)
	return nil
}

// evict makes room for one entry. It first drops every entry that no longer
// counts (expired, or a claim past its lease): a full sweep, but only when
// the store is full, and it usually frees many. Failing that it drops the
// oldest entry that is not a live claim. It reports whether anything went.
func (m *Memory) evict(now time.Time) bool {
	freed := false
	for e := m.order.Front(); e != nil; {
		next := e.Next()
		if !e.Value.(*memItem).live(now) {
			m.remove(e)
			freed = true
		}
		e = next
	}
	if freed {
		return true
	}
	for e := m.order.Front(); e != nil; e = e.Next() {
		if !e.Value.(*memItem).liveClaim(now) {
			m.remove(e)
			return true
		}
	}
	return false
}
