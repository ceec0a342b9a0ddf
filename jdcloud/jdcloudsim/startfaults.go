package jdcloudsim

import "fmt"

// instanceKey names an instance across regions.
type instanceKey struct{ region, id string }

// startFault is how starts of one instance go wrong while it has a given
// type. Keying by type lets a rollback test fail the start on the new type
// and let it succeed once the instance is resized back.
type startFault struct {
	refuseType string // startInstance is refused while the instance has this type
	endsType   string // while the instance has this type, a start ends in endsStatus
	endsStatus string
}

// RefuseStart makes startInstance of the instance answer 400
// FAILED_PRECONDITION, changing nothing, for as long as the instance has
// instanceType: a host that will not take the new size. The refusal comes
// after JD's status rule (only a stopped instance starts) and before the
// stock check. An empty instanceType clears it, as does ClearStartFaults.
// It panics on an unknown instance, since that is a broken test.
func (s *Server) RefuseStart(regionID, instanceID, instanceType string) {
	s.editStartFault("RefuseStart", regionID, instanceID, instanceType, func(f *startFault) {
		f.refuseType = instanceType
	})
}

// StartEndsIn makes a start of the instance while it has instanceType be
// accepted (200, starting) and its transition end in status, "stopped" or
// "error", instead of "running": a guest that does not come up on the new
// size. An empty instanceType clears it, as does ClearStartFaults. It
// panics on an unknown instance or another status.
func (s *Server) StartEndsIn(regionID, instanceID, instanceType, status string) {
	if instanceType != "" && status != "stopped" && status != "error" {
		panic(fmt.Sprintf("jdcloudsim: StartEndsIn(%s, %s, %s, %q): status must be stopped or error", regionID, instanceID, instanceType, status))
	}
	s.editStartFault("StartEndsIn", regionID, instanceID, instanceType, func(f *startFault) {
		f.endsType, f.endsStatus = instanceType, status
		if instanceType == "" {
			f.endsStatus = ""
		}
	})
}

// ClearStartFaults ends every RefuseStart and StartEndsIn.
func (s *Server) ClearStartFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.startFaults)
}

func (s *Server) editStartFault(fn, regionID, instanceID, instanceType string, edit func(*startFault)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := instanceKey{regionID, instanceID}
	if instanceType != "" {
		if r := s.regions[regionID]; r == nil || r.instances[instanceID] == nil {
			panic(fmt.Sprintf("jdcloudsim: %s: no instance %s in region %s", fn, instanceID, regionID))
		}
	}
	f := s.startFaults[k]
	edit(&f)
	if f == (startFault{}) {
		delete(s.startFaults, k)
		return
	}
	s.startFaults[k] = f
}

// startOutcome applies the start faults to a start of inst: a refusal, or
// the status the start will end in. The caller holds s.mu.
func (s *Server) startOutcome(regionID string, inst Instance) (final string, refusal *apiError) {
	f := s.startFaults[instanceKey{regionID, inst.InstanceID}]
	if f.refuseType != "" && f.refuseType == inst.InstanceType {
		return "", failedPrecondition("instance %s could not be started as instance type %s (injected by RefuseStart)", inst.InstanceID, inst.InstanceType)
	}
	if f.endsType != "" && f.endsType == inst.InstanceType {
		return f.endsStatus, nil
	}
	return "running", nil
}
