package jdcloudsim

import (
	"net/http"
	"strings"
)

// Operation names, as Calls, Fail, SetLatency and Request.Op use them.
const (
	OpDescribeInstance         = "describeInstance"
	OpDescribeInstanceTypes    = "describeInstanceTypes"
	OpDescribeImageConstraints = "describeImageConstraints"
	OpResizeInstance           = "resizeInstance"
	OpStopInstance             = "stopInstance"
	OpStartInstance            = "startInstance"
	// OpUnknown is every request that matches no route.
	OpUnknown = "unknown"
)

var knownOps = map[string]bool{
	OpDescribeInstance: true, OpDescribeInstanceTypes: true, OpDescribeImageConstraints: true,
	OpResizeInstance: true, OpStopInstance: true, OpStartInstance: true, OpUnknown: true,
}

// route is what a request's method and path name.
type route struct {
	op     string
	region string // the path's regionId, also for unknown routes under /v1/regions/{regionId}/
	id     string // instanceId or imageId
	path   string
}

// matchRoute maps a request to one of docs/jdcloud-api.md's routes. A method
// that does not fit the path is an unknown route, as on JD's gateway.
func matchRoute(method, path string) route {
	rt := route{op: OpUnknown, path: path}
	rest, ok := strings.CutPrefix(path, "/v1/regions/")
	if !ok {
		return rt
	}
	seg := strings.Split(rest, "/")
	if seg[0] == "" {
		return rt
	}
	rt.region = seg[0]
	switch {
	case len(seg) == 2 && seg[1] == "instanceTypes" && method == http.MethodGet:
		rt.op = OpDescribeInstanceTypes
	case len(seg) == 4 && seg[1] == "images" && seg[2] != "" && seg[3] == "constraints" && method == http.MethodGet:
		rt.op, rt.id = OpDescribeImageConstraints, seg[2]
	case len(seg) == 3 && seg[1] == "instances" && seg[2] != "":
		id, action, hasAction := strings.Cut(seg[2], ":")
		if id == "" {
			return rt
		}
		switch {
		case !hasAction && method == http.MethodGet:
			rt.op = OpDescribeInstance
		case action == "resizeInstance" && method == http.MethodPost:
			rt.op = OpResizeInstance
		case action == "stopInstance" && method == http.MethodPost:
			rt.op = OpStopInstance
		case action == "startInstance" && method == http.MethodPost:
			rt.op = OpStartInstance
		default:
			return rt
		}
		rt.id = id
	}
	return rt
}
