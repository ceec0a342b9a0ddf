package jdcloudsim

import (
	"bytes"
	"encoding/json"
	"slices"
	"time"
)

// resizeBody is resizeInstance's request body.
type resizeBody struct {
	InstanceType *string `json:"instanceType"`
	Force        bool    `json:"force"`
}

// resizeInstance enforces every rule of docs/jdcloud-api.md's "resizeInstance
// rules" and, when all pass, starts the resize. A refusal changes nothing.
func (s *Server) resizeInstance(regionID, instanceID string, body []byte) (any, *apiError) {
	var req resizeBody
	dec := json.NewDecoder(bytes.NewReader(body))
	if !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) || dec.Decode(&req) != nil || dec.More() {
		return nil, invalidArgument("request body must be a JSON object like {\"instanceType\":\"g.n2.large\"}")
	}
	if req.InstanceType == nil || *req.InstanceType == "" {
		return nil, invalidArgument("instanceType is required")
	}
	target := *req.InstanceType

	s.mu.Lock()
	defer s.mu.Unlock()
	r, st, err := s.lookupInstance(regionID, instanceID)
	if err != nil {
		return nil, err
	}
	if err := checkResize(r, st.inst, target, req.Force); err != nil {
		return nil, err
	}
	now := s.now()
	st.begin("resizing", "stopped", target, now, s.transition)
	if !st.out.activeAt(now) {
		s.beginOutage(st, now, now.Add(s.transition))
	}
	if req.Force {
		wipeLocalDataDisks(&st.inst)
	}
	return struct{}{}, nil
}

// checkResize applies the rules in the order a careful service would:
// what the request names, then the instance's state and billing, then
// whether the target can host it.
func checkResize(r *region, inst Instance, target string, force bool) *apiError {
	id := inst.InstanceID
	to := r.instanceType(target)
	if to == nil {
		return invalidArgument("instance type %s does not exist in this region", target)
	}
	if inst.InstanceType == target {
		return failedPrecondition("instance %s is already of instance type %s", id, target)
	}
	if inst.Status != "stopped" {
		return failedPrecondition("instance %s is %s; it must be stopped to be resized", id, inst.Status)
	}
	if inst.Charge.ChargeStatus != "normal" {
		return failedPrecondition("instance %s cannot be resized while its chargeStatus is %q (in arrears or expired)", id, inst.Charge.ChargeStatus)
	}
	if !inStock(*to, inst.AZ) {
		return failedPrecondition("instance type %s is not in stock in az %s", target, inst.AZ)
	}
	if im, ok := r.images[inst.ImageID]; ok && !imageAllows(im, target) {
		return failedPrecondition("image %s does not support instance type %s", inst.ImageID, target)
	}
	if err := checkGeneration(r, inst, *to); err != nil {
		return err
	}
	if nics := nicCount(inst); nics > to.NicLimit {
		return failedPrecondition("instance %s has %d network interfaces; instance type %s allows %d (nicLimit)", id, nics, target, to.NicLimit)
	}
	if disks := cloudDiskCount(inst); disks > to.CloudDiskCountLimit {
		return failedPrecondition("instance %s has %d cloud disks attached; instance type %s allows %d (cloudDiskCountLimit)", id, disks, target, to.CloudDiskCountLimit)
	}
	if local := localDataDiskCount(inst); local > 0 && !force {
		return failedPrecondition("instance %s has %d local data disk(s), which a resize erases; set force to true to resize anyway", id, local)
	}
	return nil
}

// checkGeneration applies the generation rules. A current type missing
// from the region has an unknown generation and is not held to them.
func checkGeneration(r *region, inst Instance, to InstanceType) *apiError {
	from := r.instanceType(inst.InstanceType)
	if from == nil || from.Generation == to.Generation {
		return nil
	}
	id, g1, g2 := inst.InstanceID, from.Generation, to.Generation
	switch {
	case inst.SystemDisk.DiskCategory == "local":
		return failedPrecondition("instance %s has a local system disk: it cannot change generation (%d to %d)", id, g1, g2)
	case inst.Ag.ID != "":
		return failedPrecondition("instance %s is in availability group %s: it cannot change generation (%d to %d)", id, inst.Ag.ID, g1, g2)
	case systemDiskFrom2016(inst) && min(g1, g2) == 1 && max(g1, g2) == 2:
		return failedPrecondition("instance %s has a system disk created in 2016: it cannot change between first and second generation (%d to %d)", id, g1, g2)
	}
	return nil
}

// systemDiskFrom2016 reads the year as JD wrote it in createTime, in the
// offset JD wrote it with.
func systemDiskFrom2016(inst Instance) bool {
	d := inst.SystemDisk
	if d.DiskCategory != "cloud" || d.CloudDisk == nil {
		return false
	}
	t, err := time.Parse(time.RFC3339, d.CloudDisk.CreateTime)
	return err == nil && t.Year() == 2016
}

func imageAllows(im Image, target string) bool {
	c := im.Constraint
	if c == nil {
		return true
	}
	listed := slices.Contains(c.InstanceTypes, target)
	if c.ConstraintsType == "includes" {
		return listed
	}
	return !listed
}

// nicCount is the primary plus the secondary network interfaces.
func nicCount(inst Instance) int {
	n := len(inst.SecondaryNetworkInterfaces)
	if inst.PrimaryNetworkInterface != nil {
		n++
	}
	return n
}

// cloudDiskCount is the system disk when it is a cloud disk plus the cloud
// data disks.
func cloudDiskCount(inst Instance) int {
	n := 0
	if inst.SystemDisk.DiskCategory == "cloud" {
		n++
	}
	for _, d := range inst.DataDisks {
		if d.DiskCategory == "cloud" {
			n++
		}
	}
	return n
}

func localDataDiskCount(inst Instance) int {
	n := 0
	for _, d := range inst.DataDisks {
		if d.DiskCategory == "local" {
			n++
		}
	}
	return n
}

// wipeLocalDataDisks records the erasure a forced resize performs.
func wipeLocalDataDisks(inst *Instance) {
	for i := range inst.DataDisks {
		if d := &inst.DataDisks[i]; d.DiskCategory == "local" && d.LocalDisk != nil {
			d.LocalDisk.Wiped = true
		}
	}
}
