package resizer

import "time"

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
