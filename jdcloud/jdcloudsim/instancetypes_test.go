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
		{"by family", "filters.1.name=family&filters.1.values.1=g.n2", []string{"g.n2.medium", "g.n2.large", "g.n2.xlarge"}},
		{"by two families", "filters.1.name=family&filters.1.values.1=c.n2&filters.1.values.2=m.n2", []string{"c.n2.small", "m.n2.large"}},
		{"by az lists sold-out types too", "filters.1.name=az&filters.1.values.1=cn-north-1a", all},
		{"by the other az", "filters.1.name=az&filters.1.values.1=cn-north-1b", all},
		{"by either of two azs", "filters.1.name=az&filters.1.values.1=cn-north-1z&filters.1.values.2=cn-north-1b", all},
		{"by unknown az", "filters.1.name=az&filters.1.values.1=cn-north-1z", []string{}},
		{"filters are ANDed", "filters.1.name=family&filters.1.values.1=g.n2&filters.2.name=instanceTypes&filters.2.values.1=g.n2.large&filters.2.values.2=c.n2.small", []string{"g.n2.large"}},
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
	for _, q := range []string{
		"filters.1.name=colour&filters.1.values.1=red",
		"filters.1.values.1=g.n2.large",
		"filters.1.name=family",
		"filters.1.name=family&filters.1.name=az&filters.1.values.1=x",
		"filters.1.name=%zz",
	} {
		wantError(t, c.do(http.MethodGet, "/v1/regions/cn-north-1/instanceTypes?"+q, nil), http.StatusBadRequest, "INVALID_ARGUMENT", "")
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
