package jdcloudsim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// The default fixture holds exactly the seed the other packages' tests
// rely on (see the brief's list); this pins it.
func TestDefaultFixtureSeed(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := s.regions[testRegion]
	if len(s.regions) != 1 || r == nil {
		t.Fatalf("regions %v, want only cn-north-1", s.regions)
	}
	types := map[string][4]int{ // generation, nicLimit, cloudDiskCountLimit, in stock in 1a (1/0)
		"g.n1.medium": {1, 2, 4, 1}, "g.n2.medium": {2, 2, 8, 1}, "g.n2.large": {2, 3, 8, 1},
		"g.n2.xlarge": {2, 4, 8, 0}, "g.n3.large": {3, 3, 8, 1}, "c.n2.small": {2, 1, 2, 1}, "m.n2.large": {2, 3, 8, 1},
		"g.n4.small": {2, 8, 16, 1}, "g.n4.medium": {2, 8, 16, 1}, "g.n4.large": {2, 8, 16, 1}, "g.n4.xlarge": {2, 8, 16, 1},
		"g.n4.2xlarge": {2, 8, 16, 0}, "g.n4.4xlarge": {2, 8, 16, 1}, "g.n4.8xlarge": {2, 8, 16, 1},
	}
	if len(r.types) != len(types) {
		t.Errorf("%d instance types, want %d", len(r.types), len(types))
	}
	for name, w := range types {
		it := r.instanceType(name)
		if it == nil {
			t.Errorf("type %s missing", name)
			continue
		}
		if it.Generation != w[0] || it.NicLimit != w[1] || it.CloudDiskCountLimit != w[2] || inStock(*it, "cn-north-1a") != (w[3] == 1) || !inStock(*it, "cn-north-1b") {
			t.Errorf("type %s: %+v", name, *it)
		}
		if it.Family != name[:strings.LastIndex(name, ".")] {
			t.Errorf("type %s: family %s", name, it.Family)
		}
	}
	if len(r.images) != 3 || r.images["img-linux01"].Constraint != nil {
		t.Errorf("images %+v", r.images)
	}

	type facts struct {
		status, itype, az, image, sysCategory, created, ag, charge string
		nics, cloudDisks, localData                                int
	}
	def := facts{"stopped", "g.n2.medium", "cn-north-1a", "img-linux01", "cloud", "2020-03-01T00:00:00Z", "", "normal", 1, 2, 0}
	with := func(f func(*facts)) facts { d := def; f(&d); return d }
	// The ladder: cloud system disk from 2023, no data disks, one NIC.
	rung := func(itype, status, az string) facts {
		return with(func(f *facts) {
			f.itype, f.status, f.az, f.created, f.cloudDisks = itype, status, az, "2023-04-01T00:00:00Z", 1
		})
	}
	want := map[string]facts{
		"i-stopped01":   def,
		"i-stopped02":   def,
		"i-stopped03":   def,
		"i-running01":   with(func(f *facts) { f.status = "running" }),
		"i-disk2016":    with(func(f *facts) { f.itype, f.created = "g.n1.medium", "2016-06-01T00:00:00Z" }),
		"i-localsys01":  with(func(f *facts) { f.sysCategory, f.created, f.cloudDisks = "local", "", 1 }),
		"i-agmember01":  with(func(f *facts) { f.ag = "ag-abc123/prod-ag" }),
		"i-manynic01":   with(func(f *facts) { f.nics = 3 }),
		"i-manydisk01":  with(func(f *facts) { f.cloudDisks = 4 }),
		"i-exclimg01":   with(func(f *facts) { f.image = "img-excl01" }),
		"i-inclimg01":   with(func(f *facts) { f.image = "img-incl01" }),
		"i-arrears01":   with(func(f *facts) { f.charge = "arrear" }),
		"i-localdata01": with(func(f *facts) { f.cloudDisks, f.localData = 1, 1 }),
		"i-running02":   with(func(f *facts) { f.status = "running" }),
		"i-ladder01":    rung("g.n4.large", "stopped", "cn-north-1a"),
		"i-ladder02":    rung("g.n4.xlarge", "stopped", "cn-north-1a"),
		"i-ladder03":    rung("g.n4.xlarge", "stopped", "cn-north-1b"),
		"i-laddertop01": rung("g.n4.8xlarge", "stopped", "cn-north-1a"),
		"i-ladderbot01": rung("g.n4.small", "stopped", "cn-north-1a"),
		"i-ladderrun01": rung("g.n4.medium", "running", "cn-north-1a"),
		"i-ladderrun02": rung("g.n4.large", "running", "cn-north-1a"),
	}
	if len(r.instances) != len(want) {
		t.Errorf("%d instances, want %d", len(r.instances), len(want))
	}
	for id, w := range want {
		inst, ok := s.Instance(testRegion, id)
		if !ok {
			t.Errorf("instance %s missing", id)
			continue
		}
		got := facts{inst.Status, inst.InstanceType, inst.AZ, inst.ImageID, inst.SystemDisk.DiskCategory, "", "", inst.Charge.ChargeStatus,
			nicCount(inst), cloudDiskCount(inst), localDataDiskCount(inst)}
		if cd := inst.SystemDisk.CloudDisk; cd != nil {
			got.created = cd.CreateTime
		}
		if inst.Ag.ID != "" {
			got.ag = inst.Ag.ID + "/" + inst.Ag.Name
		}
		if got != w {
			t.Errorf("%s:\n got %+v\nwant %+v", id, got, w)
		}
		if cd := inst.SystemDisk.CloudDisk; cd != nil && cd.AZ != inst.AZ {
			t.Errorf("%s: system disk in %s, instance in %s", id, cd.AZ, inst.AZ)
		}
	}
}

// describeInstance speaks JD's field names and shapes.
func TestDescribeInstanceWireShape(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	a := c.do(http.MethodGet, instancePath("i-localsys01"), nil)
	wantOK(t, a)
	var raw struct {
		Instance map[string]json.RawMessage `json:"instance"`
	}
	if err := json.Unmarshal(a.Result, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"instanceId", "instanceType", "status", "az", "imageId", "systemDisk", "dataDisks", "primaryNetworkInterface", "secondaryNetworkInterfaces", "ag", "charge"} {
		if _, ok := raw.Instance[k]; !ok {
			t.Errorf("instance lacks %s", k)
		}
	}
	for k, want := range map[string]string{
		"systemDisk":                 `{"diskCategory":"local","autoDelete":true,"localDisk":{"diskType":"local-ssd","diskSizeGB":40},"deviceName":"vda","status":"attached"}`,
		"secondaryNetworkInterfaces": `[]`,
		"ag":                         `{}`,
	} {
		if got := string(raw.Instance[k]); got != want {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}
	var dd []map[string]json.RawMessage
	if err := json.Unmarshal(raw.Instance["dataDisks"], &dd); err != nil || len(dd) != 1 {
		t.Fatalf("dataDisks %s", raw.Instance["dataDisks"])
	}
	var cd map[string]json.RawMessage
	if err := json.Unmarshal(dd[0]["cloudDisk"], &cd); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"diskId", "createTime", "encrypted"} {
		if _, ok := cd[k]; !ok {
			t.Errorf("cloudDisk lacks %s", k)
		}
	}
	var pni struct {
		NetworkInterface map[string]json.RawMessage `json:"networkInterface"`
	}
	if err := json.Unmarshal(raw.Instance["primaryNetworkInterface"], &pni); err != nil || pni.NetworkInterface["networkInterfaceId"] == nil {
		t.Errorf("primaryNetworkInterface %s", raw.Instance["primaryNetworkInterface"])
	}

	// An instance put without lists still answers [] for them.
	s.PutInstance(testRegion, Instance{InstanceID: "i-bare0001", InstanceType: "g.n2.medium", Status: "stopped", AZ: "cn-north-1a"})
	a = c.do(http.MethodGet, instancePath("i-bare0001"), nil)
	wantOK(t, a)
	if !strings.Contains(string(a.Result), `"dataDisks":[]`) || !strings.Contains(string(a.Result), `"secondaryNetworkInterfaces":[]`) {
		t.Errorf("bare instance: %s", a.Result)
	}
}

func TestNewRejectsBadFixtures(t *testing.T) {
	for name, fx := range map[string]string{
		"not JSON":           `{`,
		"no regions":         `{"regions":{}}`,
		"unknown field":      `{"regions":{"r-1":{"azs":["a"],"instanceTypes":[],"images":[],"instances":[],"colour":1}}}`,
		"typo in instance":   `{"regions":{"r-1":{"azs":["a"],"instances":[{"instanceId":"i-1","az":"a","chargeStatus":"normal"}]}}}`,
		"duplicate instance": `{"regions":{"r-1":{"azs":["a"],"instances":[{"instanceId":"i-1","az":"a"},{"instanceId":"i-1","az":"a"}]}}}`,
		"instance off-az":    `{"regions":{"r-1":{"azs":["a"],"instances":[{"instanceId":"i-1","az":"b"}]}}}`,
		"duplicate type":     `{"regions":{"r-1":{"azs":["a"],"instanceTypes":[{"instanceType":"t.1"},{"instanceType":"t.1"}]}}}`,
		"bad constraint":     `{"regions":{"r-1":{"azs":["a"],"images":[{"imageId":"img-1","imageInstanceTypeConstraint":{"constraintsType":"only","instanceTypes":[]}}]}}}`,
	} {
		if _, err := New(Options{Fixture: []byte(fx)}); err == nil {
			t.Errorf("%s: New accepted %s", name, fx)
		}
	}
	if _, err := New(Options{Fixture: []byte(`{"regions":{"r-1":{"azs":["a"],"instances":[{"instanceId":"i-1","az":"a","status":"running"}]}}}`)}); err != nil {
		t.Errorf("minimal fixture refused: %v", err)
	}
}
