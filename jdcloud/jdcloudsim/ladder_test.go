package jdcloudsim

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
)

// ladder is g.n4 smallest first, as "one size up/down" sizing walks it.
var ladder = []struct {
	name          string
	cpu, memoryMB int
	inStock1a     bool
}{
	{"g.n4.small", 1, 2048, true},
	{"g.n4.medium", 2, 4096, true},
	{"g.n4.large", 2, 8192, true},
	{"g.n4.xlarge", 4, 16384, true},
	{"g.n4.2xlarge", 8, 32768, false},
	{"g.n4.4xlarge", 16, 65536, true},
	{"g.n4.8xlarge", 32, 131072, true},
}

// JD has no family filter, so a client finds the ladder by listing the
// region's types and selecting by name; this reads it the same way.
func TestLadderOverTheWire(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	a := c.do(http.MethodGet, "/v1/regions/cn-north-1/instanceTypes", nil)
	wantOK(t, a)
	var res struct {
		InstanceTypes []InstanceType `json:"instanceTypes"`
	}
	if err := json.Unmarshal(a.Result, &res); err != nil {
		t.Fatal(err)
	}
	var got []InstanceType
	for _, it := range res.InstanceTypes {
		if it.Family == "g.n4" {
			got = append(got, it)
		}
	}
	if len(got) != len(ladder) {
		t.Fatalf("%d g.n4 types listed, want %d", len(got), len(ladder))
	}
	for i, w := range ladder {
		it := got[i]
		wantState := []InstanceTypeAZ{{"cn-north-1a", w.inStock1a}, {"cn-north-1b", true}}
		if it.InstanceType != w.name || it.CPU != w.cpu || it.MemoryMB != w.memoryMB || it.Generation != 2 ||
			it.NicLimit != 8 || it.CloudDiskCountLimit != 16 || !slices.Equal(it.State, wantState) {
			t.Errorf("rung %d: %+v, want %+v", i, it, w)
		}
	}
}

// Each rung's instances resize one size up and down as JD's rules allow;
// the ladder's own sold-out rung is the one refusal.
func TestLadderResizes(t *testing.T) {
	tests := []struct {
		name, instance, target string
		refusal                string // "" when JD accepts
	}{
		{"one up", "i-ladder01", "g.n4.xlarge", ""},
		{"one down", "i-ladder01", "g.n4.medium", ""},
		{"one up is sold out in 1a", "i-ladder02", "g.n4.2xlarge", "not in stock in az cn-north-1a"},
		{"one down from xlarge", "i-ladder02", "g.n4.large", ""},
		{"one up is in stock in 1b", "i-ladder03", "g.n4.2xlarge", ""},
		{"top steps down", "i-laddertop01", "g.n4.4xlarge", ""},
		{"bottom steps up", "i-ladderbot01", "g.n4.medium", ""},
		{"running rung must be stopped first", "i-ladderrun01", "g.n4.large", "must be stopped"},
		{"off the ladder is allowed too", "i-ladder01", "g.n2.large", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSim(t, Options{})
			c := newClient(t, s)
			a := c.resize(tt.instance, tt.target, false)
			if tt.refusal != "" {
				wantError(t, a, http.StatusBadRequest, "FAILED_PRECONDITION", tt.refusal)
				return
			}
			wantOK(t, a)
			c.describe(tt.instance)
			if got := c.describe(tt.instance); got.Status != "stopped" || got.InstanceType != tt.target {
				t.Errorf("after the resize: %s %s, want stopped %s", got.Status, got.InstanceType, tt.target)
			}
		})
	}
}

// img-linux01, the ladder's image, runs on every rung.
func TestLadderImageAllowsEveryRung(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	im := s.regions[testRegion].images["img-linux01"]
	for _, w := range ladder {
		if !imageAllows(im, w.name) {
			t.Errorf("img-linux01 does not allow %s", w.name)
		}
	}
}
