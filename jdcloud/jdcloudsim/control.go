package jdcloudsim

import (
	"fmt"
	"slices"
)

// Instance returns the current state of an instance. It does not count as
// a describeInstance: with a zero Transition a transitional status stays
// current until a describeInstance has seen it.
func (s *Server) Instance(regionID, instanceID string) (Instance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.regions[regionID]
	if r == nil {
		return Instance{}, false
	}
	st := r.instances[instanceID]
	if st == nil {
		return Instance{}, false
	}
	st.settle(s.now(), s.transition)
	return st.inst.clone(), true
}

// PutInstance adds or replaces an instance, ending any transition it was
// in. The replacement is a new machine: it was not stopped with
// stopCharging and is not out of service, though the peak it may have
// raised stays. Its RefuseStart and StartEndsIn stay too. An unknown
// region is created, with no azs, types or images.
func (s *Server) PutInstance(regionID string, inst Instance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.regions[regionID]
	if r == nil {
		r = newRegion(nil)
		s.regions[regionID] = r
	}
	r.instances[inst.InstanceID] = &instanceState{inst: inst.clone()}
}

// SetStatus forces an instance's status, ending any transition it was in.
// Forced to running, the instance holds its host again (StoppedCharging
// false) and its outage ends; any other status leaves both as the API
// left them. It panics when the instance does not exist, since that is a
// broken test.
func (s *Server) SetStatus(regionID, instanceID, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var st *instanceState
	if r := s.regions[regionID]; r != nil {
		st = r.instances[instanceID]
	}
	if st == nil {
		panic(fmt.Sprintf("jdcloudsim: SetStatus: no instance %s in region %s", instanceID, regionID))
	}
	st.inst.Status = status
	st.pending = nil
	if status == "running" {
		st.stoppedCharging = false // a running instance holds its CPU and memory again
		now := s.now()
		st.endOutage(now, now)
	}
}

// StoppedCharging tells whether an instance was stopped with stopCharging
// (and JD honoured it) and has not been running since: its CPU and memory
// are released, so its next start needs its type in stock in its az.
// A start clears it when it settles into running. False for an unknown
// instance.
func (s *Server) StoppedCharging(regionID, instanceID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.regions[regionID]
	if r == nil || r.instances[instanceID] == nil {
		return false
	}
	st := r.instances[instanceID]
	st.settle(s.now(), s.transition)
	return st.stoppedCharging
}

// InTransition names, as "region/instance" in order, the instances whose
// stop, start or resize has not settled yet.
func (s *Server) InTransition() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var busy []string
	now := s.now()
	for rid, r := range s.regions {
		for iid, st := range r.instances {
			st.settle(now, s.transition)
			if st.pending != nil {
				busy = append(busy, rid+"/"+iid)
			}
		}
	}
	slices.Sort(busy)
	return busy
}
