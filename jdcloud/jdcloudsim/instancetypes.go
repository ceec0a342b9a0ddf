package jdcloudsim

import (
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
)

// filterKey matches JD's filters.N.name and filters.N.values.M parameters.
var filterKey = regexp.MustCompile(`^filters\.([0-9]+)\.(name|values\.([0-9]+))$`)

// archX86 is every simulated type's architecture: the fixture format has
// no architecture field because none of its families is an Arm one.
const archX86 = "x86_64"

// filter is one filters.N: a name and its values. Values are ORed,
// filters ANDed.
type filter struct {
	name   string
	values []string
}

// describeInstanceTypes lists the region's types that pass every filter;
// without filters that is every type of the region. The az filter selects
// the types that have a state entry for one of its azs, sold out or not:
// stock is what each entry's inStock reports, never a reason to leave a
// type out, and the whole state list is sent, not only the filtered azs',
// so a client that wants stock must read inStock.
func (s *Server) describeInstanceTypes(regionID, rawQuery string) (any, *apiError) {
	filters, err := parseFilters(rawQuery)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.regions[regionID]
	if r == nil {
		return nil, notFound("region %s not found", regionID)
	}
	out := []InstanceType{}
	for _, t := range r.types {
		if matchesAll(t, filters) {
			out = append(out, t.clone())
		}
	}
	return map[string]any{"instanceTypes": out, "totalCount": len(out)}, nil
}

// parseFilters reads filters.N.* from the query; other parameters are
// ignored, as JD ignores parameters an API does not take.
func parseFilters(rawQuery string) ([]filter, *apiError) {
	q, perr := url.ParseQuery(rawQuery)
	if perr != nil {
		return nil, invalidArgument("malformed query: %v", perr)
	}
	// Gather filters.N.* by N first: query parameters come unordered.
	type partial struct {
		name   string
		values map[int]string
	}
	byN := map[int]*partial{}
	for key, vals := range q {
		m := filterKey.FindStringSubmatch(key)
		if m == nil {
			continue
		}
		if len(vals) != 1 {
			return nil, invalidArgument("%s given %d times", key, len(vals))
		}
		n, _ := strconv.Atoi(m[1])
		f := byN[n]
		if f == nil {
			f = &partial{values: map[int]string{}}
			byN[n] = f
		}
		if m[2] == "name" {
			f.name = vals[0]
			continue
		}
		idx, _ := strconv.Atoi(m[3])
		f.values[idx] = vals[0]
	}
	out := make([]filter, 0, len(byN))
	for _, n := range slices.Sorted(maps.Keys(byN)) {
		f := byN[n]
		// JD has no family filter: a client that sent one would pass here
		// and fail against the service, so it is refused like any other
		// unknown name.
		switch f.name {
		case "instanceTypes", "az", "architecture":
		case "":
			return nil, invalidArgument("filters.%d has values but no name", n)
		default:
			return nil, invalidArgument("filters.%d.name %q is not one of instanceTypes, az, architecture", n, f.name)
		}
		if len(f.values) == 0 {
			return nil, invalidArgument("filters.%d (%s) has no values", n, f.name)
		}
		ff := filter{name: f.name}
		for _, i := range slices.Sorted(maps.Keys(f.values)) {
			v := f.values[i]
			if f.name == "architecture" && v != archX86 && v != "arm64" {
				return nil, invalidArgument("filters.%d (architecture) value %q is neither x86_64 nor arm64", n, v)
			}
			ff.values = append(ff.values, v)
		}
		out = append(out, ff)
	}
	return out, nil
}

// matchesAll tells whether t passes every filter.
func matchesAll(t InstanceType, filters []filter) bool {
	for _, f := range filters {
		values := f.values
		ok := false
		switch f.name {
		case "instanceTypes":
			ok = slices.Contains(values, t.InstanceType)
		case "architecture":
			ok = slices.Contains(values, archX86)
		case "az":
			// A type is offered in an az when it has a state entry there,
			// in stock or not: stock is what state.inStock reports.
			ok = slices.ContainsFunc(t.State, func(st InstanceTypeAZ) bool { return slices.Contains(values, st.AZ) })
		}
		if !ok {
			return false
		}
	}
	return true
}
