package resizer

import (
	"context"
	"time"
)

// Compute is what the resizer needs from JD Cloud's VM service. The jdcloud
// package implements it over the signed OpenAPI; tests use the same adapter
// against the simulator. Every error it returns is an *Error carrying the
// contract code (not_found, auth_failed, api_error, unavailable, …).
type Compute interface {
	DescribeInstance(ctx context.Context, regionID, instanceID string) (*Instance, error)
	// DescribeInstanceTypes returns the named types that exist in the region;
	// unknown names are simply absent from the answer.
	DescribeInstanceTypes(ctx context.Context, regionID string, types []string) ([]InstanceType, error)
	DescribeImageConstraints(ctx context.Context, regionID, imageID string) (*ImageConstraints, error)
	// ResizeInstance returns JD Cloud's request id of the accepted call.
	ResizeInstance(ctx context.Context, regionID, instanceID, instanceType string, force bool) (requestID string, err error)
	StopInstance(ctx context.Context, regionID, instanceID string) (requestID string, err error)
	StartInstance(ctx context.Context, regionID, instanceID string) (requestID string, err error)
}

// Instance status values (JD Cloud's).
const (
	StatusPending    = "pending"
	StatusStarting   = "starting"
	StatusRunning    = "running"
	StatusStopping   = "stopping"
	StatusStopped    = "stopped"
	StatusRebooting  = "rebooting"
	StatusRebuilding = "rebuilding"
	StatusResizing   = "resizing"
	StatusDeleting   = "deleting"
	StatusTerminated = "terminated"
	StatusError      = "error"
)

// Disk categories.
const (
	DiskLocal = "local"
	DiskCloud = "cloud"
)

// Instance is what describeInstance tells about a VM, reduced to the facts
// the resize rules look at.
type Instance struct {
	InstanceID   string
	InstanceType string
	Status       string
	AZ           string
	ImageID      string
	SystemDisk   Disk
	DataDisks    []Disk
	// NICs counts the primary plus the secondary network interfaces.
	NICs int
	// AGID is the availability group id, empty when not in one.
	AGID string
	// ChargeStatus is normal, overdue or arrear.
	ChargeStatus string
}

// Disk is one attached disk.
type Disk struct {
	Category   string    // local or cloud
	DiskID     string    // cloud disks only
	CreateTime time.Time // cloud disks only; zero when unknown
}

// InstanceType is one entry of describeInstanceTypes.
type InstanceType struct {
	Name                string
	Family              string
	Generation          int
	CPU                 int
	MemoryMB            int
	NICLimit            int
	CloudDiskCountLimit int
	// InStock maps an az to whether the type can be had there.
	InStock map[string]bool
}

// ImageConstraints is the answer of describeImageConstraints. An empty
// ConstraintsType means the image does not restrict instance types.
type ImageConstraints struct {
	ImageID         string
	ConstraintsType string // includes or excludes
	InstanceTypes   []string
}
