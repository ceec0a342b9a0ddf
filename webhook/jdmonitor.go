package webhook

import (
	"bytes"
	"sort"
	"strings"
	"time"

	"github.com/jdcloud-vm-resizer/resizer"
)

// JDCloudMonitor decodes a JD Cloud Cloud Monitor alarm callback in the
// template of docs/contract.md §7.4:
//
//	{"requestId":"${requestId}","resourceId":"${resourceId}","region":"${region}",
//	 "metric":"${metric}","currentValue":"${currentValue}","threshold":"${threshold}",
//	 "alertTime":"${alertTime}","resize":{"direction":"up","steps":1}}
//
// It builds one item: source jdcloud-monitor/<region>, id = requestId,
// instanceId = resourceId, regionId = region (else defaultRegion), reason
// "<metric> <currentValue> over <threshold> at <alertTime>", requestedBy
// jdcloud-monitor. A body without requestId or resourceId, or whose members
// have the wrong JSON types, is a shape error (HTTP 400); sizing values that
// break docs/contract.md §3/§6 make the item invalid, naming resize.<field>.
func JDCloudMonitor(body []byte, defaultRegion string) (Result, error) {
	var res Result
	const what = "JD Cloud Monitor callback"
	top, err := parseBody(body, what)
	if err != nil {
		return res, err
	}
	where := "the " + what + " body"
	var requestID, resourceID string
	for _, r := range []struct {
		key string
		dst *string
	}{{"requestId", &requestID}, {"resourceId", &resourceID}} {
		v, ok, err := top.str(r.key, where)
		switch {
		case err != nil:
			return res, err
		case !ok || v == "":
			return res, shape("%s has no %s; the alarm rule's callback template must send it (see the README)", where, r.key)
		}
		*r.dst = v
	}
	if p := idProblem(requestID, maxAttributeLen); p != "" {
		return res, shape("%s: requestId %s; it becomes the request id", where, p)
	}
	region, _, err := top.str("region", where)
	if err != nil {
		return res, err
	}
	text := map[string]string{}
	for _, key := range []string{"metric", "currentValue", "threshold", "alertTime"} {
		v, err := scalarText(top[key], where+"."+key)
		if err != nil {
			return res, err
		}
		text[key] = v
	}
	var resize object
	if raw, ok := top["resize"]; ok && !isNull(raw) {
		if resize, err = parseObject(raw, where+".resize"); err != nil {
			return res, err
		}
	}

	regionID := strings.TrimSpace(region)
	sourceRegion := regionID
	if sourceRegion == "" {
		sourceRegion = defaultRegion
	}
	id := ident{id: requestID, source: "jdcloud-monitor/" + escapeSegment(sourceRegion), typ: resizer.TypeRequested}
	if len(id.source) > maxAttributeLen {
		return res, shape("%s: region is %d bytes; the source jdcloud-monitor/<region> must fit in %d bytes", where, len(region), maxAttributeLen)
	}
	if t, err := time.Parse(time.RFC3339, text["alertTime"]); err == nil {
		id.time = t
	}
	who := "JD Cloud Monitor alarm " + resizer.Quote(requestID)
	if resize == nil {
		res.Items = []Item{failedItem(id, invalid("%s has no resize object; the callback template must say how to resize (instanceType or direction)", who))}
		return res, nil
	}
	sp, ierr := monitorSpec(who, resize)
	if ierr != nil {
		res.Items = []Item{failedItem(id, ierr)}
		return res, nil
	}
	sp.instanceID = value{v: strings.TrimSpace(resourceID), name: "resourceId"}
	sp.regionID = value{v: regionID, name: "region"}
	sp.defaultRegion = defaultRegion
	sp.reason = monitorReason(text)
	sp.requestedBy = "jdcloud-monitor"
	data, ierr := sp.build()
	if ierr != nil {
		res.Items = []Item{failedItem(id, ierr)}
		return res, nil
	}
	res.Items = []Item{newItem(id, data)}
	return res, nil
}

// monitorResize lists the members resize may hold and whether each is a
// string (else a boolean, or steps, a number).
var monitorResize = map[string]string{
	"instanceType": "string", "direction": "string", "maxInstanceType": "string",
	"minInstanceType": "string", "fromInstanceType": "string",
	"steps": "number", "dryRun": "boolean", "stopIfRunning": "boolean", "force": "boolean",
}

// monitorSpec reads the resize object. Its members have their JSON types
// (a boolean is true or false, steps a number), since the operator writes
// the template once; a member the resizer does not know is refused rather
// than ignored, because a misspelled bound would silently lift the bound.
func monitorSpec(who string, resize object) (spec, *resizer.Error) {
	keys := make([]string, 0, len(resize))
	for k := range resize {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	vals := map[string]value{}
	for _, k := range keys {
		raw := bytes.TrimSpace(resize[k])
		want, known := monitorResize[k]
		name := "resize." + k
		switch {
		case !known:
			return spec{}, invalid("%s: resize has the member %s, which the resizer does not know (instanceType, direction, steps, maxInstanceType, minInstanceType, fromInstanceType, dryRun, stopIfRunning, force)", who, resizer.Quote(k))
		case isNull(raw):
			continue
		case kind(raw) != "a "+want:
			return spec{}, invalid("%s: %s must be a JSON %s, not %s", who, name, want, kind(raw))
		}
		var v string
		if want == "string" {
			_ = asString(raw, &v)
			v = strings.TrimSpace(v)
		} else {
			v = string(raw) // true, false, or the number as written
		}
		vals[k] = value{v: v, name: name}
	}
	get := func(k string) value {
		if v, ok := vals[k]; ok {
			return v
		}
		return value{name: "resize." + k}
	}
	return spec{
		who:           who,
		instanceType:  get("instanceType"),
		direction:     get("direction"),
		steps:         get("steps"),
		maxType:       get("maxInstanceType"),
		minType:       get("minInstanceType"),
		fromType:      get("fromInstanceType"),
		dryRun:        get("dryRun"),
		stopIfRunning: get("stopIfRunning"),
		force:         get("force"),
	}, nil
}

// scalarText reads a template value that JD substitutes: a string, or a
// number when the template leaves it unquoted; absent is "".
func scalarText(raw []byte, where string) (string, *resizer.Error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || isNull(raw):
		return "", nil
	case kind(raw) == "a number":
		return string(raw), nil
	}
	var s string
	if !asString(raw, &s) {
		return "", shape("%s must be a string or a number, not %s", where, kind(raw))
	}
	return strings.TrimSpace(s), nil
}

// monitorReason is "<metric> <currentValue> over <threshold> at
// <alertTime>"; a part the template does not send is left out with its
// word rather than leaving "over  at".
func monitorReason(text map[string]string) string {
	parts := []string{text["metric"], text["currentValue"]}
	if text["threshold"] != "" {
		parts = append(parts, "over", text["threshold"])
	}
	if text["alertTime"] != "" {
		parts = append(parts, "at", text["alertTime"])
	}
	return strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
}
