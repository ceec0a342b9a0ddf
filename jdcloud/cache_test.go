package jdcloud

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jdcloud-vm-resizer/resizer"
)

// fakeCompute counts calls and answers from its fields; gate, when set,
// holds every look-up until closed.
type fakeCompute struct {
	mu      sync.Mutex
	calls   map[string]int
	types   []resizer.InstanceType
	image   resizer.ImageConstraints
	lookErr error
	resize  error
	gate    chan struct{}
	started chan struct{}
	inLook  atomic.Int32
}

func newFakeCompute() *fakeCompute {
	return &fakeCompute{
		calls: map[string]int{},
		types: []resizer.InstanceType{
			{Name: "g.n2.medium", Generation: 2, InStock: map[string]bool{"cn-north-1a": true}},
			{Name: "g.n2.large", Generation: 2, InStock: map[string]bool{"cn-north-1a": true}},
			{Name: "g.n2.xlarge", Generation: 2, InStock: map[string]bool{"cn-north-1a": true}},
		},
		image: resizer.ImageConstraints{ImageID: "img-abcd1234", ConstraintsType: "excludes", InstanceTypes: []string{"g.n1.small"}},
	}
}

func (f *fakeCompute) count(op string) {
	f.mu.Lock()
	f.calls[op]++
	f.mu.Unlock()
}

func (f *fakeCompute) n(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func (f *fakeCompute) look(ctx context.Context) error {
	f.inLook.Add(1)
	if f.started != nil {
		f.started <- struct{}{}
	}
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return resizer.ErrorFrom(ctx, "fake", context.Cause(ctx))
		}
	}
	return f.lookErr
}

func (f *fakeCompute) DescribeInstance(context.Context, string, string) (*resizer.Instance, error) {
	f.count("describeInstance")
	return &resizer.Instance{InstanceID: "i-abc123xyz"}, nil
}

func (f *fakeCompute) DescribeInstanceTypes(ctx context.Context, _ string, types []string) ([]resizer.InstanceType, error) {
	f.count("describeInstanceTypes")
	if err := f.look(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []resizer.InstanceType
	for _, t := range f.types {
		for _, w := range types {
			if w == t.Name {
				out = append(out, t)
			}
		}
		if len(types) == 0 {
			out = append(out, t)
		}
	}
	return cloneTypes(out, nil), nil
}

func (f *fakeCompute) DescribeImageConstraints(ctx context.Context, _, _ string) (*resizer.ImageConstraints, error) {
	f.count("describeImageConstraints")
	if err := f.look(ctx); err != nil {
		return nil, err
	}
	return cloneImage(f.image), nil
}

func (f *fakeCompute) ResizeInstance(context.Context, string, string, string, bool) (string, error) {
	f.count("resizeInstance")
	return "req", f.resize
}

func (f *fakeCompute) StopInstance(context.Context, string, string) (string, error) {
	f.count("stopInstance")
	return "req", nil
}

func (f *fakeCompute) StartInstance(context.Context, string, string) (string, error) {
	f.count("startInstance")
	return "req", nil
}

func newTestCache(f *fakeCompute) (*Cache, *testClock) {
	clock := &testClock{t: time.Date(2026, 7, 8, 9, 0, 0, 0, time.UTC)}
	return NewCache(f, CacheOptions{Now: clock.Now}), clock
}

const (
	cRegion = "cn-north-1"
	cImage  = "img-abcd1234"
)

var pair = []string{"g.n2.medium", "g.n2.large"}

func TestCacheKeepsTypesForTheirTTL(t *testing.T) {
	f := newFakeCompute()
	c, clock := newTestCache(f)
	ctx := context.Background()
	for range 3 {
		got, err := c.DescribeInstanceTypes(ctx, cRegion, pair)
		if err != nil || len(got) != 2 {
			t.Fatalf("%v, %v", got, err)
		}
	}
	// The same list in another order, or repeated, is the same question.
	if _, err := c.DescribeInstanceTypes(ctx, cRegion, []string{"g.n2.large", "g.n2.medium", "g.n2.large"}); err != nil {
		t.Fatal(err)
	}
	if n := f.n("describeInstanceTypes"); n != 1 {
		t.Fatalf("%d calls, want 1", n)
	}
	clock.Advance(InstanceTypesTTL - time.Millisecond)
	c.DescribeInstanceTypes(ctx, cRegion, pair)
	if n := f.n("describeInstanceTypes"); n != 1 {
		t.Fatalf("%d calls before the TTL, want 1", n)
	}
	clock.Advance(time.Millisecond)
	c.DescribeInstanceTypes(ctx, cRegion, pair)
	if n := f.n("describeInstanceTypes"); n != 2 {
		t.Fatalf("%d calls after the TTL, want 2", n)
	}
	// Another region is another question.
	c.DescribeInstanceTypes(ctx, "cn-east-2", pair)
	if n := f.n("describeInstanceTypes"); n != 3 {
		t.Fatalf("%d calls, want 3", n)
	}
}

func TestCacheKeepsOutOfStockAnswersBriefly(t *testing.T) {
	f := newFakeCompute()
	f.types[1].InStock["cn-north-1b"] = false
	c, clock := newTestCache(f)
	ctx := context.Background()
	c.DescribeInstanceTypes(ctx, cRegion, pair)
	clock.Advance(InstanceTypesShortTTL - time.Millisecond)
	c.DescribeInstanceTypes(ctx, cRegion, pair)
	if n := f.n("describeInstanceTypes"); n != 1 {
		t.Fatalf("%d calls, want 1", n)
	}
	clock.Advance(time.Millisecond)
	c.DescribeInstanceTypes(ctx, cRegion, pair)
	if n := f.n("describeInstanceTypes"); n != 2 {
		t.Fatalf("%d calls: an answer with a type out of stock was kept past %v", n, InstanceTypesShortTTL)
	}
}

// The region's whole list answers a smaller one, and only with what it
// asks for.
func TestCacheAnswersAListFromTheWholeRegion(t *testing.T) {
	f := newFakeCompute()
	c, _ := newTestCache(f)
	ctx := context.Background()
	all, err := c.DescribeInstanceTypes(ctx, cRegion, nil)
	if err != nil || len(all) != 3 {
		t.Fatalf("%v, %v", all, err)
	}
	got, err := c.DescribeInstanceTypes(ctx, cRegion, []string{"g.n2.xlarge", "g.n9.none"})
	if err != nil || len(got) != 1 || got[0].Name != "g.n2.xlarge" {
		t.Fatalf("%v, %v", got, err)
	}
	if n := f.n("describeInstanceTypes"); n != 1 {
		t.Fatalf("%d calls, want 1", n)
	}
}

func TestCacheKeepsImagesForTheirTTL(t *testing.T) {
	f := newFakeCompute()
	c, clock := newTestCache(f)
	ctx := context.Background()
	for range 3 {
		img, err := c.DescribeImageConstraints(ctx, cRegion, cImage)
		if err != nil || img.ConstraintsType != "excludes" {
			t.Fatalf("%v, %v", img, err)
		}
	}
	clock.Advance(ImageConstraintsTTL)
	c.DescribeImageConstraints(ctx, cRegion, cImage)
	c.DescribeImageConstraints(ctx, cRegion, "img-other123")
	if n := f.n("describeImageConstraints"); n != 3 {
		t.Fatalf("%d calls, want 3", n)
	}
}

func TestCacheKeepsNoErrors(t *testing.T) {
	f := newFakeCompute()
	f.lookErr = resizer.Errorf(resizer.CodeUnavailable, "", "down")
	c, _ := newTestCache(f)
	ctx := context.Background()
	for range 2 {
		if _, err := c.DescribeInstanceTypes(ctx, cRegion, pair); resizer.ErrorCode(err) != resizer.CodeUnavailable {
			t.Fatalf("got %v", err)
		}
		if _, err := c.DescribeImageConstraints(ctx, cRegion, cImage); resizer.ErrorCode(err) != resizer.CodeUnavailable {
			t.Fatalf("got %v", err)
		}
	}
	if f.n("describeInstanceTypes") != 2 || f.n("describeImageConstraints") != 2 {
		t.Fatalf("calls %v: an error was kept", f.calls)
	}
	f.lookErr = nil
	if _, err := c.DescribeInstanceTypes(ctx, cRegion, pair); err != nil {
		t.Fatal(err)
	}
}

// Answers are copies: a caller changing its answer changes nobody else's.
func TestCacheAnswersAreCopies(t *testing.T) {
	f := newFakeCompute()
	c, _ := newTestCache(f)
	ctx := context.Background()
	a, _ := c.DescribeInstanceTypes(ctx, cRegion, pair)
	a[0].InStock["cn-north-1a"] = false
	a[1].Name = "changed"
	b, _ := c.DescribeInstanceTypes(ctx, cRegion, pair)
	if !b[0].InStock["cn-north-1a"] || b[1].Name == "changed" {
		t.Fatalf("a caller's change reached the cache: %+v", b)
	}
	img, _ := c.DescribeImageConstraints(ctx, cRegion, cImage)
	img.InstanceTypes[0] = "changed"
	img2, _ := c.DescribeImageConstraints(ctx, cRegion, cImage)
	if img2.InstanceTypes[0] == "changed" {
		t.Fatal("a caller's change reached the cached image")
	}
}

// Concurrent callers of one look-up share one call to JD.
func TestCacheSharesOneCallInFlight(t *testing.T) {
	f := newFakeCompute()
	f.gate = make(chan struct{})
	f.started = make(chan struct{}, 100)
	c, _ := newTestCache(f)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for range 20 {
		wg.Go(func() {
			_, err := c.DescribeInstanceTypes(ctx, cRegion, pair)
			errs <- err
		})
		wg.Go(func() {
			_, err := c.DescribeImageConstraints(ctx, cRegion, cImage)
			errs <- err
		})
	}
	<-f.started
	<-f.started
	time.Sleep(50 * time.Millisecond) // let every caller join
	close(f.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if f.n("describeInstanceTypes") != 1 || f.n("describeImageConstraints") != 1 {
		t.Fatalf("calls %v, want one of each", f.calls)
	}
}

// A caller that gives up does not fail the others sharing its call; a
// caller whose wait outlived the shared call's deadline asks on its own.
func TestCacheSharedCallOutlivesItsStarter(t *testing.T) {
	f := newFakeCompute()
	f.gate = make(chan struct{})
	f.started = make(chan struct{}, 100)
	c, _ := newTestCache(f)
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	first := make(chan error, 1)
	go func() {
		_, err := c.DescribeInstanceTypes(short, cRegion, pair)
		first <- err
	}()
	<-f.started
	second := make(chan error, 1)
	go func() {
		_, err := c.DescribeInstanceTypes(context.Background(), cRegion, pair)
		second <- err
	}()
	if err := <-first; resizer.ErrorCode(err) != resizer.CodeTimeout {
		t.Fatalf("the short caller: %v, want timeout", err)
	}
	<-f.started // the shared call met its deadline; the second asks anew
	close(f.gate)
	if err := <-second; err != nil {
		t.Fatalf("the patient caller failed with the impatient one: %v", err)
	}
}

func TestCacheForgetsTheRegionWhenJDRefusesAResize(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		forget bool
	}{
		{"out of stock", &resizer.Error{Code: resizer.CodeAPIError, Status: 400, Message: "instance type g.n2.large is not in stock"}, true},
		{"the pre-flight's reason from JD", &resizer.Error{Code: resizer.CodeAPIError, Reason: resizer.ReasonInstanceTypeUnavailable}, true},
		{"throttled", &resizer.Error{Code: resizer.CodeTimeout, Status: 429}, false},
		{"JD down", &resizer.Error{Code: resizer.CodeUnavailable, Status: 503}, false},
		{"ambiguous", &resizer.Error{Code: resizer.CodeAPIError, Status: 400, Ambiguous: true}, false},
		{"keys", &resizer.Error{Code: resizer.CodeAuthFailed, Status: 401}, false},
		{"network", errors.New("connection reset"), false},
		{"accepted", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCompute()
			f.resize = tc.err
			c, _ := newTestCache(f)
			ctx := context.Background()
			c.DescribeInstanceTypes(ctx, cRegion, pair)
			c.DescribeImageConstraints(ctx, cRegion, cImage)
			c.DescribeInstanceTypes(ctx, "cn-east-2", pair)
			if _, err := c.ResizeInstance(ctx, cRegion, "i-abc123xyz", "g.n2.large", false); !errors.Is(err, tc.err) {
				t.Fatalf("the resize's error changed: %v", err)
			}
			c.DescribeInstanceTypes(ctx, cRegion, pair)
			c.DescribeImageConstraints(ctx, cRegion, cImage)
			c.DescribeInstanceTypes(ctx, "cn-east-2", pair)
			want := 1
			if tc.forget {
				want = 2
			}
			if f.n("describeInstanceTypes") != want+1 || f.n("describeImageConstraints") != want {
				t.Fatalf("calls %v, want %d per look-up of the region and none more elsewhere", f.calls, want)
			}
		})
	}
}

// An answer that was in flight when JD refused a resize is not kept: it
// may be the stale one.
func TestCacheDropsAnAnswerInFlightAcrossAnInvalidation(t *testing.T) {
	f := newFakeCompute()
	f.gate = make(chan struct{})
	f.started = make(chan struct{}, 10)
	c, _ := newTestCache(f)
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		_, err := c.DescribeInstanceTypes(ctx, cRegion, pair)
		done <- err
	}()
	<-f.started
	c.Invalidate(cRegion)
	close(f.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c.DescribeInstanceTypes(ctx, cRegion, pair)
	if n := f.n("describeInstanceTypes"); n != 2 {
		t.Fatalf("%d calls: the answer from before the invalidation was kept", n)
	}
}

func TestCachePassesTheRestThrough(t *testing.T) {
	f := newFakeCompute()
	c, _ := newTestCache(f)
	ctx := context.Background()
	for range 2 {
		c.DescribeInstance(ctx, cRegion, "i-abc123xyz")
		c.StopInstance(ctx, cRegion, "i-abc123xyz")
		c.StartInstance(ctx, cRegion, "i-abc123xyz")
		c.ResizeInstance(ctx, cRegion, "i-abc123xyz", "g.n2.large", false)
	}
	for _, op := range []string{"describeInstance", "stopInstance", "startInstance", "resizeInstance"} {
		if f.n(op) != 2 {
			t.Errorf("%s: %d calls, want 2", op, f.n(op))
		}
	}
}

func TestCacheStaysBounded(t *testing.T) {
	f := newFakeCompute()
	c, _ := newTestCache(f)
	ctx := context.Background()
	for i := range maxCacheEntries + 10 {
		c.DescribeImageConstraints(ctx, cRegion, "img-"+string(rune('a'+i%26))+string(rune('a'+i/26%26))+string(rune('a'+i/676)))
	}
	if len(c.images) > maxCacheEntries {
		t.Fatalf("%d entries kept", len(c.images))
	}
}
