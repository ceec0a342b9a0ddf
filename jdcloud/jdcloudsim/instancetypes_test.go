package jdcloudsim

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
)

func typeNames(t *testing.T, a answer) []string {
	t.Helper()
	wantOK(t, a)
	var res struct {
		InstanceTypes []InstanceType `json:"instanceTypes"`
		TotalCount    *int           `json:"totalCount"`
	}
	if err := json.Unmarshal(a.Result, &res); err != nil {
		t.Fatal(err)
	}
	if res.InstanceTypes == nil || res.TotalCount == nil || *res.TotalCount != len(res.InstanceTypes) {
		t.Fatalf("result needs instanceTypes and a matching totalCount: %s", a.Result)
	}
	names := []string{}
	for _, it := range res.InstanceTypes {
		names = append(names, it.InstanceType)
	}
	return names
}

func TestDescribeInstanceTypesFilters(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	all := []string{"g.n1.medium", "g.n2.medium", "g.n2.large", "g.n2.xlarge", "g.n3.large", "c.n2.small", "m.n2.large",
		"g.n4.small", "g.n4.medium", "g.n4.large", "g.n4.xlarge", "g.n4.2xlarge", "g.n4.4xlarge", "g.n4.8xlarge"}
	tests := []struct {
		name, query string
		want        []string
	}{
		{"no filter", "", all},
		{"by name, unknown ones absent", "filters.1.name=instanceTypes&filters.1.values.1=g.n2.xlarge&filters.1.values.2=g.n9.huge&filters.1.values.3=c.n2.small", []string{"g.n2.xlarge", "c.n2.small"}},
		{"by architecture", "filters.1.name=architecture&filters.1.values.1=x86_64", all},
		{"by an architecture nothing has", "filters.1.name=architecture&filters.1.values.1=arm64", []string{}},
		{"by either architecture", "filters.1.name=architecture&filters.1.values.1=arm64&filters.1.values.2=x86_64", all},
		{"by az lists sold-out types too", "filters.1.name=az&filters.1.values.1=cn-north-1a", all},
		{"by the other az", "filters.1.name=az&filters.1.values.1=cn-north-1b", all},
		{"by either of two azs", "filters.1.name=az&filters.1.values.1=cn-north-1z&filters.1.values.2=cn-north-1b", all},
		{"by unknown az", "filters.1.name=az&filters.1.values.1=cn-north-1z", []string{}},
		{"filters are ANDed", "filters.1.name=az&filters.1.values.1=cn-north-1a&filters.2.name=instanceTypes&filters.2.values.1=g.n2.large&filters.2.values.2=c.n2.small", []string{"g.n2.large", "c.n2.small"}},
		{"an empty AND", "filters.1.name=az&filters.1.values.1=cn-north-1z&filters.2.name=instanceTypes&filters.2.values.1=g.n2.large", []string{}},
		{"numbering order does not matter", "filters.2.name=instanceTypes&filters.2.values.2=g.n3.large&filters.2.values.1=g.n1.medium", []string{"g.n1.medium", "g.n3.large"}},
		{"other parameters ignored", "pageNumber=1&filters.1.name=instanceTypes&filters.1.values.1=g.n2.large", []string{"g.n2.large"}},
		{"nothing matches", "filters.1.name=instanceTypes&filters.1.values.1=g.n9.huge", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/v1/regions/cn-north-1/instanceTypes"
			if tt.query != "" {
				path += "?" + tt.query
			}
			if got := typeNames(t, c.do(http.MethodGet, path, nil)); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDescribeInstanceTypesBadFilters(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	for _, tt := range []struct{ query, msg string }{
		{"filters.1.name=colour&filters.1.values.1=red", `"colour" is not one of instanceTypes, az, architecture`},
		// JD has no family filter (docs/jdcloud-api.md): a ladder lists the
		// region's types and selects by name.
		{"filters.1.name=family&filters.1.values.1=g.n2", `"family" is not one of`},
		{"filters.1.values.1=g.n2.large", "no name"},
		{"filters.1.name=az", "no values"},
		{"filters.1.name=az&filters.1.name=instanceTypes&filters.1.values.1=x", "given 2 times"},
		{"filters.1.name=architecture&filters.1.values.1=amd64", "neither x86_64 nor arm64"},
		{"filters.1.name=%zz", "malformed query"},
	} {
		wantError(t, c.do(http.MethodGet, "/v1/regions/cn-north-1/instanceTypes?"+tt.query, nil), http.StatusBadRequest, "INVALID_ARGUMENT", tt.msg)
	}
}

// The az filter keeps a type that has a state entry for the az whatever its
// stock, drops one without an entry, and sends the whole state list; no
// filter lists every type of the path's region and none of another's.
func TestDescribeInstanceTypesAZFilterReportsStock(t *testing.T) {
	const fx = `{"regions":{
	  "r-1":{"azs":["r-1a","r-1b"],"instanceTypes":[
	    {"family":"t.x","instanceType":"t.x.both","state":[{"az":"r-1a","inStock":false},{"az":"r-1b","inStock":true}]},
	    {"family":"t.x","instanceType":"t.x.onlyb","state":[{"az":"r-1b","inStock":true}]},
	    {"family":"t.x","instanceType":"t.x.nowhere","state":[]}]},
	  "r-2":{"azs":["r-2a"],"instanceTypes":[{"family":"t.y","instanceType":"t.y.other","state":[{"az":"r-2a","inStock":true}]}]}}}`
	s := startSim(t, Options{Fixture: []byte(fx)})
	c := newClient(t, s)
	both := `{"family":"t.x","instanceType":"t.x.both","cpu":0,"memoryMB":0,"nicLimit":0,"cloudDiskCountLimit":0,"generation":0,"localDisks":[],"state":[{"az":"r-1a","inStock":false},{"az":"r-1b","inStock":true}]}`
	tests := []struct {
		name, path string
		want       []string
	}{
		{"no filter", "/v1/regions/r-1/instanceTypes", []string{"t.x.both", "t.x.onlyb", "t.x.nowhere"}},
		{"no filter, other region", "/v1/regions/r-2/instanceTypes", []string{"t.y.other"}},
		{"az with a sold-out entry", "/v1/regions/r-1/instanceTypes?filters.1.name=az&filters.1.values.1=r-1a", []string{"t.x.both"}},
		{"az with entries in stock", "/v1/regions/r-1/instanceTypes?filters.1.name=az&filters.1.values.1=r-1b", []string{"t.x.both", "t.x.onlyb"}},
		{"another region's az", "/v1/regions/r-1/instanceTypes?filters.1.name=az&filters.1.values.1=r-2a", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := c.do(http.MethodGet, tt.path, nil)
			if got := typeNames(t, a); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			var res struct {
				InstanceTypes []json.RawMessage `json:"instanceTypes"`
			}
			if err := json.Unmarshal(a.Result, &res); err != nil {
				t.Fatal(err)
			}
			if len(tt.want) > 0 && tt.want[0] == "t.x.both" && string(res.InstanceTypes[0]) != both {
				t.Errorf("t.x.both sent as %s\nwant %s", res.InstanceTypes[0], both)
			}
		})
	}
}

func TestInstanceTypeShape(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	a := c.do(http.MethodGet, "/v1/regions/cn-north-1/instanceTypes?filters.1.name=instanceTypes&filters.1.values.1=g.n2.xlarge", nil)
	wantOK(t, a)
	var raw struct {
		InstanceTypes []map[string]json.RawMessage `json:"instanceTypes"`
	}
	if err := json.Unmarshal(a.Result, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"family", "instanceType", "cpu", "memoryMB", "nicLimit", "cloudDiskCountLimit", "generation", "localDisks", "state"} {
		if _, ok := raw.InstanceTypes[0][k]; !ok {
			t.Errorf("instance type lacks %s: %s", k, a.Result)
		}
	}
	if got := string(raw.InstanceTypes[0]["state"]); got != `[{"az":"cn-north-1a","inStock":false},{"az":"cn-north-1b","inStock":true}]` {
		t.Errorf("g.n2.xlarge state %s", got)
	}
}

func TestDescribeImageConstraints(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	for image, want := range map[string]string{
		"img-linux01": `{"imageConstraints":{"imageId":"img-linux01","imageInstanceTypeConstraint":null}}`,
		"img-excl01":  `{"imageConstraints":{"imageId":"img-excl01","imageInstanceTypeConstraint":{"constraintsType":"excludes","instanceTypes":["m.n2.large"]}}}`,
		"img-incl01":  `{"imageConstraints":{"imageId":"img-incl01","imageInstanceTypeConstraint":{"constraintsType":"includes","instanceTypes":["g.n2.medium","g.n2.large"]}}}`,
	} {
		a := c.do(http.MethodGet, "/v1/regions/cn-north-1/images/"+image+"/constraints", nil)
		wantOK(t, a)
		if string(a.Result) != want {
			t.Errorf("%s: %s\nwant %s", image, a.Result, want)
		}
	}
}
