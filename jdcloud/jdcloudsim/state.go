package jdcloudsim

import "time"

// region is one region's world: its azs, the types on offer, the images
// and the instances.
type region struct {
	azs       []string
	types     []InstanceType // fixture order, which describeInstanceTypes keeps
	images    map[string]Image
	instances map[string]*instanceState
}

func newRegion(azs []string) *region {
	return &region{
		azs:       append([]string(nil), azs...),
		images:    map[string]Image{},
		instances: map[string]*instanceState{},
	}
}

func (r *region) instanceType(name string) *InstanceType {
	for i := range r.types {
		if r.types[i].InstanceType == name {
			return &r.types[i]
		}
	}
	return nil
}

// instanceState is an instance plus the operation it is going through.
type instanceState struct {
	inst    Instance
	pending *transition
	// stoppedCharging: the instance was stopped with stopCharging, so its
	// CPU and memory went back to the pool and a start must find stock
	// again. It holds until a start brings the instance up.
	stoppedCharging bool
	// out is the instance's latest outage (see outage); nil when the API
	// never took it out of service.
	out *outage
}

// transition is a stop, start or resize in progress: inst.Status shows the
// transitional status until it settles into final.
type transition struct {
	final        string
	instanceType string    // the new type of a resize; "" for stop/start
	until        time.Time // settles at this time when Options.Transition > 0
	seen         bool      // with Transition 0: settles once a describeInstance has shown it
}

// begin puts st into a transitional status.
func (st *instanceState) begin(status, final, instanceType string, now time.Time, d time.Duration) {
	st.inst.Status = status
	st.pending = &transition{final: final, instanceType: instanceType, until: now.Add(d)}
}

// settle finishes the pending transition if it is due. With a zero
// Transition it is due once one describeInstance has seen the transitional
// status, which lets a polling client observe it exactly once; otherwise
// it is due when its time has come.
func (st *instanceState) settle(now time.Time, d time.Duration) {
	p := st.pending
	if p == nil {
		return
	}
	if d > 0 && now.Before(p.until) || d <= 0 && !p.seen {
		return
	}
	st.inst.Status = p.final
	if p.instanceType != "" {
		st.inst.InstanceType = p.instanceType
	}
	if p.final == "running" {
		st.stoppedCharging = false
	}
	st.pending = nil
}

// observe is what describeInstance does: settle what is due, then mark a
// still-pending transition as seen.
func (st *instanceState) observe(now time.Time, d time.Duration) Instance {
	st.settle(now, d)
	if st.pending != nil {
		st.pending.seen = true
	}
	return st.inst.clone()
}
