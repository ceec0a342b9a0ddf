package jdcloudsim

// The structs below are JD Cloud's wire shapes with JD's JSON names, reduced
// to the fields the resize rules and a realistic client look at.

// Instance is result.instance of describeInstance.
type Instance struct {
	InstanceID                 string                       `json:"instanceId"`
	InstanceName               string                       `json:"instanceName,omitempty"`
	InstanceType               string                       `json:"instanceType"`
	VpcID                      string                       `json:"vpcId,omitempty"`
	SubnetID                   string                       `json:"subnetId,omitempty"`
	PrivateIPAddress           string                       `json:"privateIpAddress,omitempty"`
	Status                     string                       `json:"status"`
	Description                string                       `json:"description,omitempty"`
	ImageID                    string                       `json:"imageId"`
	SystemDisk                 DiskAttachment               `json:"systemDisk"`
	DataDisks                  []DiskAttachment             `json:"dataDisks"`
	PrimaryNetworkInterface    *NetworkInterfaceAttachment  `json:"primaryNetworkInterface,omitempty"`
	SecondaryNetworkInterfaces []NetworkInterfaceAttachment `json:"secondaryNetworkInterfaces"`
	LaunchTime                 string                       `json:"launchTime,omitempty"`
	AZ                         string                       `json:"az"`
	KeyNames                   []string                     `json:"keyNames,omitempty"`
	Charge                     Charge                       `json:"charge"`
	// Ag is the availability group; JD sends it empty ({}) when there is none.
	Ag Ag `json:"ag"`
}

// DiskAttachment is one entry of systemDisk/dataDisks. Exactly one of
// LocalDisk and CloudDisk is set, as DiskCategory says.
type DiskAttachment struct {
	DiskCategory string     `json:"diskCategory"` // local or cloud
	AutoDelete   bool       `json:"autoDelete"`
	LocalDisk    *LocalDisk `json:"localDisk,omitempty"`
	CloudDisk    *CloudDisk `json:"cloudDisk,omitempty"`
	DeviceName   string     `json:"deviceName,omitempty"`
	Status       string     `json:"status,omitempty"`
}

// LocalDisk is a disk on the host; a forced resize erases it.
type LocalDisk struct {
	DiskType   string `json:"diskType"`
	DiskSizeGB int    `json:"diskSizeGB"`
	// Wiped is simulator bookkeeping, never on the wire: a forced resize
	// erased this disk. Tests read it through Server.Instance to prove that
	// force really had its destructive effect.
	Wiped bool `json:"-"`
}

// CloudDisk is a network block device.
type CloudDisk struct {
	DiskID     string `json:"diskId"`
	AZ         string `json:"az,omitempty"`
	Name       string `json:"name,omitempty"`
	DiskType   string `json:"diskType,omitempty"`
	DiskSizeGB int    `json:"diskSizeGB,omitempty"`
	Status     string `json:"status,omitempty"`
	Encrypted  bool   `json:"encrypted"`
	// CreateTime is RFC 3339; a system disk created in 2016 limits
	// generation changes.
	CreateTime string `json:"createTime"`
}

// NetworkInterfaceAttachment is the primary or a secondary NIC.
type NetworkInterfaceAttachment struct {
	DeviceIndex      int              `json:"deviceIndex"`
	AutoDelete       bool             `json:"autoDelete"`
	NetworkInterface NetworkInterface `json:"networkInterface"`
}

// NetworkInterface is the NIC itself.
type NetworkInterface struct {
	NetworkInterfaceID string     `json:"networkInterfaceId"`
	MacAddress         string     `json:"macAddress,omitempty"`
	VpcID              string     `json:"vpcId,omitempty"`
	SubnetID           string     `json:"subnetId,omitempty"`
	PrimaryIP          *PrivateIP `json:"primaryIp,omitempty"`
}

// PrivateIP is an address of a NIC.
type PrivateIP struct {
	PrivateIPAddress string `json:"privateIpAddress"`
}

// Charge is the billing state; only chargeStatus "normal" may be resized.
type Charge struct {
	ChargeMode        string `json:"chargeMode"`
	ChargeStatus      string `json:"chargeStatus"` // normal, overdue or arrear
	ChargeStartTime   string `json:"chargeStartTime,omitempty"`
	ChargeExpiredTime string `json:"chargeExpiredTime,omitempty"`
}

// Ag is an availability group reference.
type Ag struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// InstanceType is one entry of describeInstanceTypes' result.instanceTypes.
type InstanceType struct {
	Family              string           `json:"family"`
	InstanceType        string           `json:"instanceType"`
	CPU                 int              `json:"cpu"`
	MemoryMB            int              `json:"memoryMB"`
	NicLimit            int              `json:"nicLimit"`
	CloudDiskCountLimit int              `json:"cloudDiskCountLimit"`
	Generation          int              `json:"generation"`
	Desc                string           `json:"desc,omitempty"`
	LocalDisks          []LocalDisk      `json:"localDisks"`
	State               []InstanceTypeAZ `json:"state"`
}

// InstanceTypeAZ says whether a type can be had in one az.
type InstanceTypeAZ struct {
	AZ      string `json:"az"`
	InStock bool   `json:"inStock"`
}

// Image is a fixture image: its id and the instance types it allows. In
// describeImageConstraints it is also result.imageConstraints.
type Image struct {
	ImageID string `json:"imageId"`
	// Constraint is nil when the image runs on any type.
	Constraint *ImageInstanceTypeConstraint `json:"imageInstanceTypeConstraint"`
}

// ImageInstanceTypeConstraint lists the types an image allows (includes)
// or forbids (excludes).
type ImageInstanceTypeConstraint struct {
	ConstraintsType string   `json:"constraintsType"`
	InstanceTypes   []string `json:"instanceTypes"`
}

// clone deep-copies inst so that callers never share slices or pointers
// with the simulator's state.
func (inst Instance) clone() Instance {
	c := inst
	c.SystemDisk = inst.SystemDisk.clone()
	if inst.DataDisks != nil {
		c.DataDisks = make([]DiskAttachment, len(inst.DataDisks))
		for i, d := range inst.DataDisks {
			c.DataDisks[i] = d.clone()
		}
	}
	if inst.PrimaryNetworkInterface != nil {
		p := inst.PrimaryNetworkInterface.clone()
		c.PrimaryNetworkInterface = &p
	}
	if inst.SecondaryNetworkInterfaces != nil {
		c.SecondaryNetworkInterfaces = make([]NetworkInterfaceAttachment, len(inst.SecondaryNetworkInterfaces))
		for i, n := range inst.SecondaryNetworkInterfaces {
			c.SecondaryNetworkInterfaces[i] = n.clone()
		}
	}
	c.KeyNames = append([]string(nil), inst.KeyNames...)
	return c
}

func (d DiskAttachment) clone() DiskAttachment {
	c := d
	if d.LocalDisk != nil {
		l := *d.LocalDisk
		c.LocalDisk = &l
	}
	if d.CloudDisk != nil {
		cd := *d.CloudDisk
		c.CloudDisk = &cd
	}
	return c
}

func (n NetworkInterfaceAttachment) clone() NetworkInterfaceAttachment {
	c := n
	if n.NetworkInterface.PrimaryIP != nil {
		ip := *n.NetworkInterface.PrimaryIP
		c.NetworkInterface.PrimaryIP = &ip
	}
	return c
}

func (t InstanceType) clone() InstanceType {
	c := t
	c.LocalDisks = append([]LocalDisk(nil), t.LocalDisks...)
	c.State = append([]InstanceTypeAZ(nil), t.State...)
	if c.LocalDisks == nil {
		c.LocalDisks = []LocalDisk{}
	}
	return c
}

func (im Image) clone() Image {
	c := im
	if im.Constraint != nil {
		k := *im.Constraint
		k.InstanceTypes = append([]string(nil), im.Constraint.InstanceTypes...)
		c.Constraint = &k
	}
	return c
}
