package jdcloudsim

import (
	"fmt"
	"slices"
)

// SetStock sets whether instanceType is in stock in az, as
// describeInstanceTypes reports it and resizeInstance and the start of an
// instance stopped with stopCharging require it. A type without a state
// entry for az gets one, which also makes the az filter list it. It panics
// on an unknown region, type or az, since that is a broken test.
func (s *Server) SetStock(regionID, instanceType, az string, inStock bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.regions[regionID]
	if r == nil {
		panic(fmt.Sprintf("jdcloudsim: SetStock: no region %s", regionID))
	}
	t := r.instanceType(instanceType)
	if t == nil {
		panic(fmt.Sprintf("jdcloudsim: SetStock: no instance type %s in region %s", instanceType, regionID))
	}
	if !slices.Contains(r.azs, az) {
		panic(fmt.Sprintf("jdcloudsim: SetStock: az %q is not one of region %s's %v", az, regionID, r.azs))
	}
	for i := range t.State {
		if t.State[i].AZ == az {
			t.State[i].InStock = inStock
			return
		}
	}
	t.State = append(t.State, InstanceTypeAZ{AZ: az, InStock: inStock})
}

// typeInStock is false for a type the region does not offer: there is no
// stock to allocate it from.
func typeInStock(r *region, instanceType, az string) bool {
	t := r.instanceType(instanceType)
	return t != nil && inStock(*t, az)
}

func inStock(t InstanceType, az string) bool {
	return slices.ContainsFunc(t.State, func(st InstanceTypeAZ) bool { return st.AZ == az && st.InStock })
}
