package jdcloudsim

import (
	"bytes"
	"encoding/json"
	"time"
)

// Values of stopInstance's chargeOnStopped.
const (
	keepCharging = "keepCharging"
	stopCharging = "stopCharging"
)

func (s *Server) stopInstance(regionID, instanceID string, body []byte) (any, *apiError) {
	release, apiErr := parseStopBody(body)
	if apiErr != nil {
		return nil, apiErr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, st, err := s.lookupInstance(regionID, instanceID)
	if err != nil {
		return nil, err
	}
	if st.inst.Status != "running" {
		return nil, failedPrecondition("instance %s is %s; only a running instance can be stopped", instanceID, st.inst.Status)
	}
	now := s.now()
	st.begin("stopping", "stopped", "", now, s.transition)
	s.beginOutage(st, now, time.Time{})
	st.stoppedCharging = release && canStopCharging(st.inst)
	if st.stoppedCharging {
		// The host's local disks go back with its CPU and memory.
		wipeLocalDataDisks(&st.inst)
	}
	return struct{}{}, nil
}

func (s *Server) startInstance(regionID, instanceID string, body []byte) (any, *apiError) {
	if err := requireObject(body); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, st, err := s.lookupInstance(regionID, instanceID)
	if err != nil {
		return nil, err
	}
	inst := st.inst
	if inst.Status != "stopped" {
		return nil, failedPrecondition("instance %s is %s; only a stopped instance can be started", instanceID, inst.Status)
	}
	final, refusal := s.startOutcome(regionID, inst)
	if refusal != nil {
		return nil, refusal
	}
	if st.stoppedCharging && !typeInStock(r, inst.InstanceType, inst.AZ) {
		return nil, failedPrecondition("insufficient stock of %s in %s to start instance %s, which was stopped with stopCharging", inst.InstanceType, inst.AZ, instanceID)
	}
	now := s.now()
	st.begin("starting", final, "", now, s.transition)
	if final == "running" {
		st.endOutage(now, now.Add(s.transition))
	}
	return struct{}{}, nil
}

// parseStopBody reads stopInstance's body and tells whether it asks to
// stop charging; an absent or null chargeOnStopped is keepCharging.
func parseStopBody(body []byte) (release bool, err *apiError) {
	if err := requireObject(body); err != nil {
		return false, err
	}
	var m map[string]json.RawMessage
	_ = json.Unmarshal(body, &m) // requireObject has checked it
	raw, ok := m["chargeOnStopped"]
	if !ok || bytes.Equal(raw, []byte("null")) {
		return false, nil
	}
	var v string
	if json.Unmarshal(raw, &v) != nil || v != keepCharging && v != stopCharging {
		return false, invalidArgument("chargeOnStopped must be %q or %q, got %s", keepCharging, stopCharging, raw)
	}
	return v == stopCharging, nil
}

// canStopCharging tells whether JD honours stopCharging for inst: a
// prepaid instance is paid for anyway, and one on a local system disk
// would lose its system disk with the host, so both keep charging.
func canStopCharging(inst Instance) bool {
	return inst.Charge.ChargeMode != "prepaid_by_duration" && inst.SystemDisk.DiskCategory != "local"
}
