package jdcloud

import (
	"encoding/json"
	"time"

	"github.com/jdcloud-vm-resizer/resizer"
)

// The structs below mirror JD Cloud's JSON (docs/jdcloud-api.md "Answers") with
// JD's names, holding only what the resizer reads plus what documents the
// shape. Members the resizer never reads and whose shape it does not depend
// on stay json.RawMessage, so that JD changing them cannot fail a call.

// answer is every answer: {"requestId", "result"} or {"requestId", "error"},
// with result decoded straight into the operation's type.
type answer[T any] struct {
	RequestID string     `json:"requestId"`
	Result    *T         `json:"result"`
	Error     *wireError `json:"error"`
}

// answerHead is an answer whose result nobody reads (resize, stop, start):
// json skips the member instead of building it.
type answerHead struct {
	RequestID string     `json:"requestId"`
	Error     *wireError `json:"error"`
}

type wireError struct {
	Code    int    `json:"code"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

// describeInstanceResult is result of describeInstance.
type describeInstanceResult struct {
	Instance *wireInstance `json:"instance"`
}

type wireInstance struct {
	InstanceID                 string               `json:"instanceId"`
	InstanceName               string               `json:"instanceName"`
	InstanceType               string               `json:"instanceType"`
	Status                     string               `json:"status"`
	Az                         string               `json:"az"`
	ImageID                    string               `json:"imageId"`
	SystemDisk                 wireDiskAttachment   `json:"systemDisk"`
	DataDisks                  []wireDiskAttachment `json:"dataDisks"`
	PrimaryNetworkInterface    *wireNICAttachment   `json:"primaryNetworkInterface"`
	SecondaryNetworkInterfaces []json.RawMessage    `json:"secondaryNetworkInterfaces"`
	Ag                         *wireAg              `json:"ag"`
	Charge                     *wireCharge          `json:"charge"`
}

// wireDiskAttachment is JD's InstanceDiskAttachment: a cloud disk or a
// local one, told apart by diskCategory.
type wireDiskAttachment struct {
	DiskCategory string          `json:"diskCategory"`
	AutoDelete   bool            `json:"autoDelete"`
	DeviceName   string          `json:"deviceName"`
	Status       string          `json:"status"`
	CloudDisk    *wireCloudDisk  `json:"cloudDisk"`
	LocalDisk    json.RawMessage `json:"localDisk"`
}

type wireCloudDisk struct {
	DiskID     string `json:"diskId"`
	Az         string `json:"az"`
	DiskType   string `json:"diskType"`
	CreateTime string `json:"createTime"`
	Encrypted  bool   `json:"encrypted"`
}

// wireNICAttachment is JD's InstanceNetworkInterfaceAttachment; only its
// presence matters (it counts as one NIC).
type wireNICAttachment struct {
	DeviceIndex      int             `json:"deviceIndex"`
	NetworkInterface json.RawMessage `json:"networkInterface"`
}

type wireAg struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type wireCharge struct {
	ChargeMode   string `json:"chargeMode"`
	ChargeStatus string `json:"chargeStatus"`
}

// describeInstanceTypesResult is result of describeInstanceTypes.
type describeInstanceTypesResult struct {
	InstanceTypes []wireInstanceType `json:"instanceTypes"`
	TotalCount    int                `json:"totalCount"`
}

type wireInstanceType struct {
	Family              string               `json:"family"`
	InstanceType        string               `json:"instanceType"`
	CPU                 int                  `json:"cpu"`
	MemoryMB            int                  `json:"memoryMB"`
	NICLimit            int                  `json:"nicLimit"`
	CloudDiskCountLimit int                  `json:"cloudDiskCountLimit"`
	Generation          int                  `json:"generation"`
	LocalDisks          json.RawMessage      `json:"localDisks"`
	State               []wireInstanceTypeAZ `json:"state"`
}

type wireInstanceTypeAZ struct {
	Az      string `json:"az"`
	InStock bool   `json:"inStock"`
}

// describeImageConstraintsResult is result of describeImageConstraints.
type describeImageConstraintsResult struct {
	ImageConstraints *wireImageConstraint `json:"imageConstraints"`
}

type wireImageConstraint struct {
	ImageID                     string                  `json:"imageId"`
	ImageInstanceTypeConstraint *wireInstanceTypeConstr `json:"imageInstanceTypeConstraint"`
}

type wireInstanceTypeConstr struct {
	ConstraintsType string   `json:"constraintsType"`
	InstanceTypes   []string `json:"instanceTypes"`
}

// resizeBody is the body of resizeInstance. force is sent only when true:
// it wipes local data disks, so it never travels by default.
type resizeBody struct {
	InstanceType string `json:"instanceType"`
	Force        bool   `json:"force,omitempty"`
}

// toInstance reduces JD's instance to the facts the resize rules read.
func (w *wireInstance) toInstance() *resizer.Instance {
	in := &resizer.Instance{
		InstanceID:   w.InstanceID,
		InstanceType: w.InstanceType,
		Status:       w.Status,
		AZ:           w.Az,
		ImageID:      w.ImageID,
		SystemDisk:   w.SystemDisk.toDisk(),
		NICs:         len(w.SecondaryNetworkInterfaces),
	}
	if w.PrimaryNetworkInterface != nil {
		in.NICs++
	}
	if len(w.DataDisks) > 0 {
		in.DataDisks = make([]resizer.Disk, len(w.DataDisks))
		for i := range w.DataDisks {
			in.DataDisks[i] = w.DataDisks[i].toDisk()
		}
	}
	if w.Ag != nil {
		in.AGID = w.Ag.ID
	}
	if w.Charge != nil {
		in.ChargeStatus = w.Charge.ChargeStatus
	}
	return in
}

func (a *wireDiskAttachment) toDisk() resizer.Disk {
	d := resizer.Disk{Category: a.DiskCategory}
	if a.CloudDisk != nil {
		d.DiskID = a.CloudDisk.DiskID
		d.CreateTime = parseCreateTime(a.CloudDisk.CreateTime)
	}
	return d
}

// createTimeLayouts are the forms JD prints a disk's createTime in: RFC 3339
// in the OpenAPI, the console's zoneless form in some older answers (read as
// UTC: only the year matters to the rules, and the form carries no zone).
var createTimeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05"}

// parseCreateTime returns the zero time for anything unparseable: the rule
// that reads it (2016 system disks) then does not apply, and JD itself still
// refuses a resize it does not allow.
func parseCreateTime(s string) time.Time {
	for _, layout := range createTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

func (w *wireInstanceType) toInstanceType() resizer.InstanceType {
	t := resizer.InstanceType{
		Name:                w.InstanceType,
		Family:              w.Family,
		Generation:          w.Generation,
		CPU:                 w.CPU,
		MemoryMB:            w.MemoryMB,
		NICLimit:            w.NICLimit,
		CloudDiskCountLimit: w.CloudDiskCountLimit,
		InStock:             make(map[string]bool, len(w.State)),
	}
	for _, s := range w.State {
		t.InStock[s.Az] = s.InStock
	}
	return t
}

// toImageConstraints maps JD's answer; a missing constraint means the image
// does not restrict instance types (empty ConstraintsType).
func (r *describeImageConstraintsResult) toImageConstraints(imageID string) *resizer.ImageConstraints {
	ic := &resizer.ImageConstraints{ImageID: imageID}
	if r.ImageConstraints == nil {
		return ic
	}
	if r.ImageConstraints.ImageID != "" {
		ic.ImageID = r.ImageConstraints.ImageID
	}
	if c := r.ImageConstraints.ImageInstanceTypeConstraint; c != nil {
		ic.ConstraintsType = c.ConstraintsType
		ic.InstanceTypes = c.InstanceTypes
	}
	return ic
}
