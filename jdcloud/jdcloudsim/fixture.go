package jdcloudsim

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
)

// defaultFixture is the seed every test and `make demo` share. Its first
// instances each break exactly one resize rule; the g.n4 ones break none and
// sit on a ladder of sizes with one sold-out rung, for one-size-up/down
// sizing (see fixture.json). Other packages' tests depend on every entry,
// so entries are only ever added.
//
//go:embed fixture.json
var defaultFixture []byte

// fixture is the file format of Options.Fixture.
type fixture struct {
	Regions map[string]fixtureRegion `json:"regions"`
}

type fixtureRegion struct {
	AZs           []string       `json:"azs"`
	InstanceTypes []InstanceType `json:"instanceTypes"`
	Images        []Image        `json:"images"`
	Instances     []Instance     `json:"instances"`
}

// loadFixture parses and checks a fixture. Unknown fields are refused so
// that a typo in a hand-written fixture fails loudly instead of silently
// dropping a rule's input.
func loadFixture(data []byte) (map[string]*region, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f fixture
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("jdcloudsim: fixture: %w", err)
	}
	if len(f.Regions) == 0 {
		return nil, fmt.Errorf("jdcloudsim: fixture: no regions")
	}
	regions := make(map[string]*region, len(f.Regions))
	for name, fr := range f.Regions {
		if name == "" {
			return nil, fmt.Errorf("jdcloudsim: fixture: empty region name")
		}
		r := newRegion(fr.AZs)
		for _, t := range fr.InstanceTypes {
			if t.InstanceType == "" {
				return nil, fmt.Errorf("jdcloudsim: fixture: region %s: instance type without a name", name)
			}
			if r.instanceType(t.InstanceType) != nil {
				return nil, fmt.Errorf("jdcloudsim: fixture: region %s: instance type %s twice", name, t.InstanceType)
			}
			r.types = append(r.types, t.clone())
		}
		for _, im := range fr.Images {
			if im.ImageID == "" {
				return nil, fmt.Errorf("jdcloudsim: fixture: region %s: image without an id", name)
			}
			if _, dup := r.images[im.ImageID]; dup {
				return nil, fmt.Errorf("jdcloudsim: fixture: region %s: image %s twice", name, im.ImageID)
			}
			if c := im.Constraint; c != nil && c.ConstraintsType != "includes" && c.ConstraintsType != "excludes" {
				return nil, fmt.Errorf("jdcloudsim: fixture: image %s: constraintsType %q is neither includes nor excludes", im.ImageID, c.ConstraintsType)
			}
			r.images[im.ImageID] = im.clone()
		}
		for _, inst := range fr.Instances {
			if inst.InstanceID == "" {
				return nil, fmt.Errorf("jdcloudsim: fixture: region %s: instance without an id", name)
			}
			if _, dup := r.instances[inst.InstanceID]; dup {
				return nil, fmt.Errorf("jdcloudsim: fixture: region %s: instance %s twice", name, inst.InstanceID)
			}
			if !slices.Contains(r.azs, inst.AZ) {
				return nil, fmt.Errorf("jdcloudsim: fixture: instance %s: az %q is not one of region %s's", inst.InstanceID, inst.AZ, name)
			}
			r.instances[inst.InstanceID] = &instanceState{inst: inst.clone()}
		}
		regions[name] = r
	}
	return regions, nil
}
