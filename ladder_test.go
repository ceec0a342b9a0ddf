package resizer

import (
	"testing"
)

func TestLadderOf(t *testing.T) {
	types := []InstanceType{
		{Name: "g.n2.xlarge", CPU: 8, MemoryMB: 32768},
		{Name: "g.n2a.large", CPU: 4, MemoryMB: 16384}, // another ladder
		{Name: "g.n2.large", CPU: 4, MemoryMB: 16384},
		{Name: "g.n2.large-hm", CPU: 4, MemoryMB: 32768},
		{Name: "g.n2.big", CPU: 4, MemoryMB: 16384}, // ties on size: by name
		{Name: "g.n2", CPU: 1, MemoryMB: 1024},      // prefix g, not g.n2
		{Name: "c.n2.large", CPU: 4, MemoryMB: 8192},
	}
	all := func(string) bool { return true }
	got := rungNames(ladderOf(types, "g.n2.large", all))
	if want := "g.n2.big < g.n2.large < g.n2.large-hm < g.n2.xlarge"; got != want {
		t.Fatalf("ladder = %s, want %s", got, want)
	}
	noHM := func(s string) bool { return s != "g.n2.large-hm" }
	if got, want := rungNames(ladderOf(types, "g.n2.large", noHM)), "g.n2.big < g.n2.large < g.n2.xlarge"; got != want {
		t.Fatalf("allowed ladder = %s, want %s", got, want)
	}
	if l := ladderOf(types, "nodots", all); len(l) != 0 {
		t.Fatalf("a name without '.' has a ladder: %s", rungNames(l))
	}
}

func TestClimbCrossLadderBound(t *testing.T) {
	types := []InstanceType{
		{Name: "g.n2.large", CPU: 4, MemoryMB: 16384},
		{Name: "g.n2.xlarge", CPU: 8, MemoryMB: 32768},
		{Name: "g.n2.2xlarge", CPU: 16, MemoryMB: 65536},
		{Name: "m.n2.2xlarge", CPU: 8, MemoryMB: 65536}, // a bound from another family
	}
	l := ladderOf(types, "g.n2.large", func(string) bool { return true })
	req := Request{InstanceID: "i-x", RegionID: "cn-north-1", Direction: DirectionUp, Steps: 3, MaxInstanceType: "m.n2.2xlarge"}
	got, err := climb(req, "g.n2.large", l, types)
	if err != nil || got.Name != "g.n2.xlarge" {
		t.Fatalf("climb = %v, %v; want g.n2.xlarge (8 vCPU/32G is below 8/64G, 16 vCPU is above)", got, err)
	}
}
