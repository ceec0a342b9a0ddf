package jdcloudsim

import (
	"bytes"
	"encoding/json"
)

// lookupInstance finds an instance; the caller holds s.mu.
func (s *Server) lookupInstance(regionID, instanceID string) (*region, *instanceState, *apiError) {
	r := s.regions[regionID]
	if r == nil {
		return nil, nil, notFound("region %s not found", regionID)
	}
	st := r.instances[instanceID]
	if st == nil {
		return r, nil, notFound("instance %s not found in region %s", instanceID, regionID)
	}
	st.settle(s.now(), s.transition)
	return r, st, nil
}

func (s *Server) describeInstance(regionID, instanceID string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, st, err := s.lookupInstance(regionID, instanceID)
	if err != nil {
		return nil, err
	}
	inst := st.observe(s.now(), s.transition)
	return map[string]any{"instance": wireInstance(inst)}, nil
}

// wireInstance sends absent lists as [] the way JD does, so a client that
// mistakes null for an error is caught here rather than in production.
func wireInstance(inst Instance) Instance {
	if inst.DataDisks == nil {
		inst.DataDisks = []DiskAttachment{}
	}
	if inst.SecondaryNetworkInterfaces == nil {
		inst.SecondaryNetworkInterfaces = []NetworkInterfaceAttachment{}
	}
	return inst
}

func (s *Server) describeImageConstraints(regionID, imageID string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.regions[regionID]
	if r == nil {
		return nil, notFound("region %s not found", regionID)
	}
	im, ok := r.images[imageID]
	if !ok {
		return nil, notFound("image %s not found in region %s", imageID, regionID)
	}
	return map[string]any{"imageConstraints": im.clone()}, nil
}

// requireObject refuses a body that is not a JSON object: JD's actions
// take one, even when it is empty.
func requireObject(body []byte) *apiError {
	var m map[string]json.RawMessage
	if !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) || json.Unmarshal(body, &m) != nil {
		return invalidArgument("request body must be a JSON object")
	}
	return nil
}
