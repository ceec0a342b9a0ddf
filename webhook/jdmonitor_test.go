package webhook

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jdcloud-vm-resizer/resizer"
)

func TestJDCloudMonitorSample(t *testing.T) {
	body := readSample(t, "jdcloud-monitor.json")
	res, err := JDCloudMonitor(body, "")
	checkResult(t, body, res, err)
	it := only(t, res, err)
	if it.Err != nil {
		t.Fatal(it.Err)
	}
	e := it.Event
	if e.Source() != "jdcloud-monitor/cn-north-1" || e.ID() != "a3f0c9d2-6b1e-4c7a-9e55-0d8b7f2e4c11" || e.Type() != resizer.TypeRequested ||
		!e.Time().Equal(time.Date(2026, 3, 8, 23, 41, 0, 0, time.UTC)) {
		t.Fatalf("attributes:\n%s", e.String())
	}
	want := `{"regionId":"cn-north-1","instanceId":"i-y7xnhq39ah","direction":"up","steps":1,"maxInstanceType":"g.n2.4xlarge","reason":"vm.cpu.util 93.5 over 90 at 2026-03-09T07:41:00+08:00","requestedBy":"jdcloud-monitor"}`
	if string(e.Data()) != want {
		t.Fatalf("data\n got %s\nwant %s", e.Data(), want)
	}
}

func TestJDCloudMonitor(t *testing.T) {
	const head = `{"requestId":"req-1","resourceId":"i-y7xnhq39ah","region":"cn-north-1","metric":"cpu","currentValue":"95","threshold":"90","alertTime":"2026-03-09 07:41:00",`
	const who = `JD Cloud Monitor alarm "req-1"`
	for _, tc := range []struct {
		name, body    string
		defaultRegion string
		source        string
		data          string // valid item
		err           string // invalid item
		shape         string // error
	}{
		{name: "instanceType", body: head + `"resize":{"instanceType":"g.n2.xlarge","fromInstanceType":"g.n2.large","dryRun":true}}`,
			data: `{"regionId":"cn-north-1","instanceId":"i-y7xnhq39ah","instanceType":"g.n2.xlarge","fromInstanceType":"g.n2.large","dryRun":true,"reason":"cpu 95 over 90 at 2026-03-09 07:41:00","requestedBy":"jdcloud-monitor"}`},
		{name: "down with bounds and flags", body: head + `"resize":{"direction":"down","steps":3,"minInstanceType":"g.n2.medium","stopIfRunning":true,"force":false}}`,
			data: `{"regionId":"cn-north-1","instanceId":"i-y7xnhq39ah","direction":"down","steps":3,"minInstanceType":"g.n2.medium","stopIfRunning":true,"reason":"cpu 95 over 90 at 2026-03-09 07:41:00","requestedBy":"jdcloud-monitor"}`},
		{name: "unquoted numbers", body: `{"requestId":"r","resourceId":"i-y7xnhq39ah","region":"cn-north-1","metric":"cpu","currentValue":95.5,"threshold":90,"resize":{"direction":"up"}}`,
			data: `{"regionId":"cn-north-1","instanceId":"i-y7xnhq39ah","direction":"up","reason":"cpu 95.5 over 90","requestedBy":"jdcloud-monitor"}`},
		{name: "default region", defaultRegion: "cn-east-2", source: "jdcloud-monitor/cn-east-2",
			body: `{"requestId":"r","resourceId":"i-y7xnhq39ah","region":"","resize":{"direction":"up"}}`,
			data: `{"regionId":"cn-east-2","instanceId":"i-y7xnhq39ah","direction":"up","requestedBy":"jdcloud-monitor"}`},
		{name: "null members are absent", body: head + `"resize":{"direction":"up","steps":null,"instanceType":null}}`,
			data: `{"regionId":"cn-north-1","instanceId":"i-y7xnhq39ah","direction":"up","reason":"cpu 95 over 90 at 2026-03-09 07:41:00","requestedBy":"jdcloud-monitor"}`},

		{name: "no resize", body: strings.TrimSuffix(head, ",") + `}`, err: who + " has no resize object"},
		{name: "resize null", body: head + `"resize":null}`, err: "has no resize object"},
		{name: "empty resize", body: head + `"resize":{}}`, err: "neither resize.instanceType nor resize.direction is set"},
		{name: "both targets", body: head + `"resize":{"instanceType":"g.n2.xlarge","direction":"up"}}`, err: "both resize.instanceType and resize.direction are set"},
		{name: "steps 9", body: head + `"resize":{"direction":"up","steps":9}}`, err: `resize.steps "9" must be an integer from 1 to 8`},
		{name: "steps 0", body: head + `"resize":{"direction":"up","steps":0}}`, err: `resize.steps "0" must be`},
		{name: "steps -1", body: head + `"resize":{"direction":"up","steps":-1}}`, err: `resize.steps "-1" must be`},
		{name: "steps 2.5", body: head + `"resize":{"direction":"up","steps":2.5}}`, err: `resize.steps "2.5" must be`},
		{name: "steps 1e9", body: head + `"resize":{"direction":"up","steps":1e9}}`, err: `resize.steps "1e9" must be`},
		{name: "steps as a string", body: head + `"resize":{"direction":"up","steps":"2"}}`, err: "resize.steps must be a JSON number, not a string"},
		{name: "steps without direction", body: head + `"resize":{"instanceType":"g.n2.xlarge","steps":2}}`, err: "resize.steps is set without resize.direction"},
		{name: "dryRun as a string", body: head + `"resize":{"direction":"up","dryRun":"true"}}`, err: "resize.dryRun must be a JSON boolean, not a string"},
		{name: "direction a number", body: head + `"resize":{"direction":1}}`, err: "resize.direction must be a JSON string, not a number"},
		{name: "bad bound", body: head + `"resize":{"direction":"up","maxInstanceType":"4xlarge"}}`, err: `resize.maxInstanceType "4xlarge" is not an instance type`},
		{name: "misspelled member", body: head + `"resize":{"direction":"up","maxInstanceTyp":"g.n2.4xlarge"}}`, err: `resize has the member "maxInstanceTyp", which the resizer does not know`},
		{name: "bad resourceId", body: `{"requestId":"r","resourceId":"disk-123","region":"cn-north-1","resize":{"direction":"up"}}`, err: `resourceId "disk-123" is not an instance id`},
		{name: "bad region", body: `{"requestId":"r","resourceId":"i-y7xnhq39ah","region":"North China","resize":{"direction":"up"}}`,
			source: "jdcloud-monitor/North%20China", err: `region "North China" is not a region id`},
		{name: "no region, no default", body: `{"requestId":"r","resourceId":"i-y7xnhq39ah","resize":{"direction":"up"}}`,
			source: "jdcloud-monitor/", err: "region is missing and DEFAULT_REGION is not set"},

		{name: "no requestId", body: `{"resourceId":"i-y7xnhq39ah","resize":{"direction":"up"}}`, shape: "has no requestId"},
		{name: "empty requestId", body: `{"requestId":"","resourceId":"i-y7xnhq39ah"}`, shape: "has no requestId"},
		{name: "unsubstituted is still an id", body: `{"requestId":"${requestId}","resourceId":"i-y7xnhq39ah","region":"cn-north-1","resize":{"direction":"up"}}`,
			data: `{"regionId":"cn-north-1","instanceId":"i-y7xnhq39ah","direction":"up","requestedBy":"jdcloud-monitor"}`},
		{name: "no resourceId", body: `{"requestId":"r","resize":{"direction":"up"}}`, shape: "has no resourceId"},
		{name: "requestId a number", body: `{"requestId":7,"resourceId":"i-y7xnhq39ah"}`, shape: "requestId must be a string, not a number"},
		{name: "requestId with a newline", body: `{"requestId":"r\n1","resourceId":"i-y7xnhq39ah"}`, shape: "requestId contains control characters"},
		{name: "requestId huge", body: `{"requestId":"` + strings.Repeat("r", 513) + `","resourceId":"i-y7xnhq39ah"}`, shape: "requestId is longer than 512 bytes"},
		{name: "resize an array", body: head + `"resize":[{"direction":"up"}]}`, shape: "resize must be a JSON object, not an array"},
		{name: "metric an object", body: `{"requestId":"r","resourceId":"i-y7xnhq39ah","metric":{}}`, shape: "metric must be a string or a number"},
		{name: "region a number", body: `{"requestId":"r","resourceId":"i-y7xnhq39ah","region":1}`, shape: "region must be a string"},
		{name: "repeated resourceId", body: `{"requestId":"r","resourceId":"i-y7xnhq39ah","resourceId":"i-other0001"}`, shape: `"resourceId" more than once`},
		{name: "not an object", body: `"alarm"`, shape: "must be a JSON object, not a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := JDCloudMonitor([]byte(tc.body), tc.defaultRegion)
			checkResult(t, []byte(tc.body), res, err)
			if tc.shape != "" {
				if err == nil || errors.Is(err, ErrTooMany) || !strings.Contains(err.Error(), tc.shape) {
					t.Fatalf("error %v, want %q", err, tc.shape)
				}
				return
			}
			it := only(t, res, err)
			source := tc.source
			if source == "" {
				source = "jdcloud-monitor/cn-north-1"
			}
			if it.Event.Source() != source || it.Event.ID() == "" || it.Event.Type() != resizer.TypeRequested {
				t.Fatalf("attributes:\n%s", it.Event.String())
			}
			if tc.err != "" {
				wantErrContains(t, it, tc.err)
				return
			}
			if it.Err != nil {
				t.Fatalf("invalid: %v", it.Err)
			}
			if got, want := string(it.Event.Data()), compactJSON(t, tc.data); got != want {
				t.Fatalf("data\n got %s\nwant %s", got, want)
			}
		})
	}
}
