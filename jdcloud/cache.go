package jdcloud

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/jdcloud-vm-resizer/resizer"
)

// How long the Cache trusts JD's look-ups. JD's answers to them change
// seldom (stock, a new type, an image's constraints) and every resize reads
// them, so a storm of one region's alerts would otherwise spend half its
// calls asking the same two questions.
const (
	// InstanceTypesTTL: describeInstanceTypes, per region and type list,
	// when every listed type is in stock in every az JD lists it in.
	InstanceTypesTTL = 60 * time.Second
	// InstanceTypesShortTTL: the same, when some listed type is out of stock
	// somewhere: a type that comes back is refused by the pre-flight for
	// no longer than this.
	InstanceTypesShortTTL = 10 * time.Second
	// ImageConstraintsTTL: describeImageConstraints, per region and image.
	ImageConstraintsTTL = 5 * time.Minute
)

// maxCacheEntries bounds the memory of each of the Cache's two maps;
// beyond it the expired entries go, then all of them.
const maxCacheEntries = 1024

// CacheOptions configure a Cache; the zero value takes the documented TTLs
// and time.Now.
type CacheOptions struct {
	Now func() time.Time
	// TypesTTL, TypesShortTTL, ImagesTTL override InstanceTypesTTL,
	// InstanceTypesShortTTL and ImageConstraintsTTL (tests).
	TypesTTL, TypesShortTTL, ImagesTTL time.Duration
}

// Cache is a resizer.Compute that remembers JD's look-ups for every
// delivery of the process: describeInstanceTypes per region and type list
// (a list of the region's every type answers smaller lists too) and
// describeImageConstraints per region and image, for the TTLs above.
// Concurrent callers of one look-up share one call; errors are not kept.
// DescribeInstance and the state-changing calls always go to JD.
//
// The staleness it accepts, and what bounds it:
//   - A type that went out of stock (or an image that stopped allowing it)
//     can pass the pre-flight for up to InstanceTypesTTL
//     (ImageConstraintsTTL). JD is the final judge: it refuses the resize,
//     the outcome reports that refusal as it would without the cache, and
//     the refusal drops everything kept for the region, so the next
//     delivery reads JD's answers afresh. One refused resize per change.
//   - A type that came back in stock is refused by the pre-flight
//     (instance_type_unavailable) for at most InstanceTypesShortTTL:
//     answers that list a type out of stock are kept only that long.
//   - An image that started allowing a type is refused by the pre-flight
//     for at most ImageConstraintsTTL; images' constraints hardly change.
type Cache struct {
	inner  resizer.Compute
	now    func() time.Time
	ttl    [2]time.Duration // types: all in stock, some out
	imgTTL time.Duration
	flight singleflight.Group

	mu     sync.Mutex
	types  map[string]typesEntry
	images map[string]imageEntry
	// gen counts a region's invalidations: a look-up that began before one
	// keeps its answer to itself.
	gen map[string]uint64
}

type typesEntry struct {
	types   []resizer.InstanceType
	expires time.Time
}

type imageEntry struct {
	image   resizer.ImageConstraints
	expires time.Time
}

var _ resizer.Compute = (*Cache)(nil)

// NewCache wraps inner (the Client) in a Cache.
func NewCache(inner resizer.Compute, o CacheOptions) *Cache {
	c := &Cache{
		inner:  inner,
		now:    o.Now,
		ttl:    [2]time.Duration{o.TypesTTL, o.TypesShortTTL},
		imgTTL: o.ImagesTTL,
		types:  map[string]typesEntry{},
		images: map[string]imageEntry{},
		gen:    map[string]uint64{},
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.ttl[0] <= 0 {
		c.ttl[0] = InstanceTypesTTL
	}
	if c.ttl[1] <= 0 {
		c.ttl[1] = InstanceTypesShortTTL
	}
	if c.imgTTL <= 0 {
		c.imgTTL = ImageConstraintsTTL
	}
	return c
}

// DescribeInstance always asks JD: its status and type are what the flow
// acts and waits on.
func (c *Cache) DescribeInstance(ctx context.Context, regionID, instanceID string) (*resizer.Instance, error) {
	return c.inner.DescribeInstance(ctx, regionID, instanceID)
}

// DescribeInstanceTypes answers from a fresh entry for the same list, or
// for the region's whole list, else asks JD once for every concurrent
// caller of the same list.
func (c *Cache) DescribeInstanceTypes(ctx context.Context, regionID string, types []string) ([]resizer.InstanceType, error) {
	key := typesKey(regionID, types)
	all := typesKey(regionID, nil)
	c.mu.Lock()
	now := c.now()
	if e, ok := c.types[key]; ok && now.Before(e.expires) {
		c.mu.Unlock()
		return cloneTypes(e.types, nil), nil
	}
	if e, ok := c.types[all]; ok && now.Before(e.expires) {
		c.mu.Unlock()
		return cloneTypes(e.types, types), nil
	}
	gen := c.gen[regionID]
	c.mu.Unlock()
	v, err := c.shared(ctx, "describeInstanceTypes", "t"+strconv.FormatUint(gen, 10)+"\x00"+key, func(ctx context.Context) (any, error) {
		got, err := c.inner.DescribeInstanceTypes(ctx, regionID, types)
		if err != nil {
			return nil, err
		}
		got = cloneTypes(got, nil) // the entry is ours alone
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.gen[regionID] == gen {
			ttl := c.ttl[0]
			if !allInStock(got) {
				ttl = c.ttl[1]
			}
			pruneLocked(c.types, c.now(), func(e typesEntry) time.Time { return e.expires })
			c.types[key] = typesEntry{types: got, expires: c.now().Add(ttl)}
		}
		return got, nil
	})
	if err != nil {
		return nil, err
	}
	return cloneTypes(v.([]resizer.InstanceType), nil), nil
}

// DescribeImageConstraints answers from a fresh entry, else asks JD once
// for every concurrent caller of the same image.
func (c *Cache) DescribeImageConstraints(ctx context.Context, regionID, imageID string) (*resizer.ImageConstraints, error) {
	key := regionID + "\x00" + imageID
	c.mu.Lock()
	if e, ok := c.images[key]; ok && c.now().Before(e.expires) {
		c.mu.Unlock()
		return cloneImage(e.image), nil
	}
	gen := c.gen[regionID]
	c.mu.Unlock()
	v, err := c.shared(ctx, "describeImageConstraints", "i"+strconv.FormatUint(gen, 10)+"\x00"+key, func(ctx context.Context) (any, error) {
		got, err := c.inner.DescribeImageConstraints(ctx, regionID, imageID)
		if err != nil {
			return nil, err
		}
		img := *cloneImage(*got)
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.gen[regionID] == gen {
			pruneLocked(c.images, c.now(), func(e imageEntry) time.Time { return e.expires })
			c.images[key] = imageEntry{image: img, expires: c.now().Add(c.imgTTL)}
		}
		return img, nil
	})
	if err != nil {
		return nil, err
	}
	return cloneImage(v.(resizer.ImageConstraints)), nil
}

// ResizeInstance goes to JD; when JD refuses it, what the Cache believed
// about the region may be what let the pre-flight pass, so it is dropped.
func (c *Cache) ResizeInstance(ctx context.Context, regionID, instanceID, instanceType string, force bool) (string, error) {
	rid, err := c.inner.ResizeInstance(ctx, regionID, instanceID, instanceType, force)
	if err != nil && refusedByJD(err) {
		c.Invalidate(regionID)
	}
	return rid, err
}

func (c *Cache) StopInstance(ctx context.Context, regionID, instanceID string) (string, error) {
	return c.inner.StopInstance(ctx, regionID, instanceID)
}

func (c *Cache) StartInstance(ctx context.Context, regionID, instanceID string) (string, error) {
	return c.inner.StartInstance(ctx, regionID, instanceID)
}

// Invalidate forgets everything kept for regionID; look-ups in flight
// keep their answers to their callers.
func (c *Cache) Invalidate(regionID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen[regionID]++
	prefix := regionID + "\x00"
	for k := range c.types {
		if strings.HasPrefix(k, prefix) {
			delete(c.types, k)
		}
	}
	for k := range c.images {
		if strings.HasPrefix(k, prefix) {
			delete(c.images, k)
		}
	}
}

// refusedByJD reports whether err is JD's refusal of the call (an answer in
// 4xx that is neither throttling nor about the keys or a missing
// instance): for a resize, the stock, the type or the image said no, or
// the pre-flight's reason instance_type_unavailable came back from JD.
func refusedByJD(err error) bool {
	e := resizer.ErrorFrom(context.Background(), "", err)
	if e.Reason == resizer.ReasonInstanceTypeUnavailable || e.Reason == resizer.ReasonImageNotSupported {
		return true
	}
	switch {
	case e.Status < 400 || e.Status >= 500, e.Ambiguous:
		return false
	case e.Status == http.StatusUnauthorized, e.Status == http.StatusForbidden,
		e.Status == http.StatusNotFound, e.Status == http.StatusTooManyRequests:
		return false
	}
	return true
}

// shared runs fetch once for every concurrent caller of key. The call is
// not cut short when the caller that started it gives up (the others still
// wait for it), but it keeps that caller's deadline and values; each caller
// stops waiting at its own ctx's end. A caller whose wait outlived the
// shared call's deadline asks JD itself.
func (c *Cache) shared(ctx context.Context, op, key string, fetch func(context.Context) (any, error)) (any, error) {
	ch := c.flight.DoChan(key, func() (any, error) {
		fctx := context.WithoutCancel(ctx)
		if dl, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			fctx, cancel = context.WithDeadline(fctx, dl)
			defer cancel()
		}
		return fetch(fctx)
	})
	select {
	case <-ctx.Done():
		return nil, resizer.ErrorFrom(ctx, "jdcloud "+op, context.Cause(ctx))
	case r := <-ch:
		if r.Err != nil && r.Shared && ctx.Err() == nil && resizer.ErrorCode(r.Err) == resizer.CodeTimeout {
			// Another caller's deadline ended the shared call; ours has
			// not ended, so try on our own time.
			return fetch(ctx)
		}
		return r.Val, r.Err
	}
}

// typesKey names a look-up: the region and the sorted, distinct types ("":
// the region's every type).
func typesKey(regionID string, types []string) string {
	t := slices.Clone(types)
	slices.Sort(t)
	return regionID + "\x00" + strings.Join(slices.Compact(t), ",")
}

func allInStock(types []resizer.InstanceType) bool {
	for _, t := range types {
		for _, in := range t.InStock {
			if !in {
				return false
			}
		}
	}
	return true
}

// cloneTypes copies types deeply, keeping only those named in want (none:
// all), so that no caller can change another's answer.
func cloneTypes(types []resizer.InstanceType, want []string) []resizer.InstanceType {
	out := make([]resizer.InstanceType, 0, len(types))
	for _, t := range types {
		if len(want) > 0 && !slices.Contains(want, t.Name) {
			continue
		}
		t.InStock = maps.Clone(t.InStock)
		out = append(out, t)
	}
	return out
}

func cloneImage(img resizer.ImageConstraints) *resizer.ImageConstraints {
	img.InstanceTypes = slices.Clone(img.InstanceTypes)
	return &img
}

// pruneLocked makes room in m: the expired entries go, and if that is not
// enough, all of them.
func pruneLocked[E any](m map[string]E, now time.Time, expires func(E) time.Time) {
	if len(m) < maxCacheEntries {
		return
	}
	for k, e := range m {
		if !now.Before(expires(e)) {
			delete(m, k)
		}
	}
	if len(m) >= maxCacheEntries {
		clear(m)
	}
}
