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

// filter is one filters.N: a name and its values. Values are ORed,
// filters ANDed.
type filter struct {
	name   string
	values []string
}

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
		switch f.name {
		case "instanceTypes", "az", "family":
		case "":
			return nil, invalidArgument("filters.%d has values but no name", n)
		default:
			return nil, invalidArgument("filters.%d.name %q is not one of instanceTypes, az, family", n, f.name)
		}
		if len(f.values) == 0 {
			return nil, invalidArgument("filters.%d (%s) has no values", n, f.name)
		}
		ff := filter{name: f.name}
		for _, i := range slices.Sorted(maps.Keys(f.values)) {
			ff.values = append(ff.values, f.values[i])
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
		case "family":
			ok = slices.Contains(values, t.Family)
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
