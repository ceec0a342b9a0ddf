package resizer_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/testkit"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud/jdcloudsim"
	"github.com/jdcloud-vm-resizer/resizer/store"
)

var fixtureTypes = []string{"g.n1.medium", "g.n2.medium", "g.n2.large", "g.n2.xlarge", "g.n3.large", "c.n2.small", "m.n2.large", "g.n9.huge"}

func genDisk(t *rapid.T, label string, created string) jdcloudsim.DiskAttachment {
	if rapid.Bool().Draw(t, label+"Local") {
		return jdcloudsim.DiskAttachment{DiskCategory: "local", LocalDisk: &jdcloudsim.LocalDisk{DiskType: "ssd", DiskSizeGB: 40}}
	}
	return jdcloudsim.DiskAttachment{DiskCategory: "cloud", CloudDisk: &jdcloudsim.CloudDisk{DiskID: "vol-" + label, CreateTime: created}}
}

// genInstance draws an instance over every dimension the resize rules
// look at.
func genInstance(t *rapid.T, id string) jdcloudsim.Instance {
	created := rapid.SampledFrom([]string{"2016-06-01T00:00:00Z", "2020-03-01T00:00:00Z"}).Draw(t, "systemDiskCreated")
	inst := jdcloudsim.Instance{
		InstanceID:   id,
		InstanceType: rapid.SampledFrom(fixtureTypes[:7]).Draw(t, "currentType"),
		Status:       rapid.SampledFrom([]string{"stopped", "stopped", "running", "stopping"}).Draw(t, "status"),
		ImageID:      rapid.SampledFrom([]string{"img-linux01", "img-excl01", "img-incl01"}).Draw(t, "image"),
		AZ:           rapid.SampledFrom([]string{"cn-north-1a", "cn-north-1b"}).Draw(t, "az"),
		SystemDisk:   genDisk(t, "system", created),
		Charge:       jdcloudsim.Charge{ChargeMode: "postpaid_by_duration", ChargeStatus: rapid.SampledFrom([]string{"normal", "normal", "normal", "arrear", "overdue"}).Draw(t, "charge")},
		PrimaryNetworkInterface: &jdcloudsim.NetworkInterfaceAttachment{
			NetworkInterface: jdcloudsim.NetworkInterface{NetworkInterfaceID: "port-" + id}},
	}
	for i := range rapid.IntRange(0, 4).Draw(t, "dataDisks") {
		inst.DataDisks = append(inst.DataDisks, genDisk(t, fmt.Sprintf("data%d", i), "2021-01-01T00:00:00Z"))
	}
	for i := range rapid.IntRange(0, 3).Draw(t, "secondaryNICs") {
		inst.SecondaryNetworkInterfaces = append(inst.SecondaryNetworkInterfaces, jdcloudsim.NetworkInterfaceAttachment{
			DeviceIndex: i + 1, NetworkInterface: jdcloudsim.NetworkInterface{NetworkInterfaceID: fmt.Sprintf("port-%s-%d", id, i)}})
	}
	if rapid.Bool().Draw(t, "inAG") {
		inst.Ag = jdcloudsim.Ag{ID: "ag-prop01", Name: "prop"}
	}
	return inst
}

// TestPreflightAgreesWithJDCloud is a property: for any instance and target,
// the handler's dry run passes exactly when the simulator, which enforces
// JD Cloud's rules on its own, accepts the resize. A dry run that passes
// where JD refuses would send doomed calls; one that refuses where JD
// accepts would block legitimate resizes.
func TestPreflightAgreesWithJDCloud(t *testing.T) {
	sim, err := jdcloudsim.Start(jdcloudsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	client, err := jdcloud.New(jdcloud.Options{Endpoint: sim.URL(), Credentials: jdcloud.StaticCredentials{AccessKey: jdcloudsim.DemoAccessKey, SecretKey: jdcloudsim.DemoSecretKey}, Retry: testkit.FastRetry()})
	if err != nil {
		t.Fatal(err)
	}
	h := resizer.NewHandler(resizer.Options{Compute: client, Store: store.NewMemory(0), Policy: resizer.Policy{AllowForce: true}})
	n := 0
	rapid.Check(t, func(rt *rapid.T) {
		n++
		id := fmt.Sprintf("i-prop%06d", n)
		inst := genInstance(rt, id)
		sim.PutInstance("cn-north-1", inst)
		target := rapid.SampledFrom(fixtureTypes).Draw(rt, "target")
		force := rapid.Bool().Draw(rt, "force")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()

		out := h.Handle(ctx, request(resize(id, target, "force", force, "dryRun", true)))
		if inst.InstanceType == target {
			if out.Err() != nil || out.Data.Changed {
				rt.Fatalf("already at the target type: want succeeded, unchanged; got %+v", out.Err())
			}
			return
		}
		if out.Err() != nil && out.Err().Code != resizer.CodePreconditionFailed {
			rt.Fatalf("dry run failed with %s: %s", out.Err().Code, out.Err().Message)
		}
		_, jdErr := client.ResizeInstance(ctx, "cn-north-1", id, target, force)
		if jdErr != nil && resizer.ErrorCode(jdErr) != resizer.CodeAPIError {
			rt.Fatalf("resize failed with %v", jdErr)
		}
		switch {
		case out.Err() == nil && jdErr != nil:
			rt.Fatalf("pre-flight passed but JD Cloud refused: %v", jdErr)
		case out.Err() != nil && jdErr == nil:
			rt.Fatalf("pre-flight refused (%s: %s) but JD Cloud accepted", out.Err().Reason, out.Err().Message)
		}
	})
}
