package metrics_test

import (
	"time"

	resizer "github.com/jdcloud-vm-resizer/resizer"
)

// The ids and free text every test outcome carries, which must never reach
// a dimension or a label.
const (
	hostileInstance  = "i-zzsecretinstance99"
	hostileRequestID = "req-7f3a-hostile-request-id"
	hostileJDRequest = "jdreq-c0ffee-hostile"
	hostileFreeText  = "Disk full on db-primary; page @oncall\n\"quoted\" \u00e9\u00e8"
)

// outcome builds an Outcome as the handler would announce it.
func outcome(typ string, mutate func(*resizer.OutcomeData)) *resizer.Outcome {
	d := resizer.OutcomeData{
		Request:          resizer.RequestRef{ID: hostileRequestID, Source: "alertmanager/" + hostileFreeText, Type: resizer.TypeRequested},
		RegionID:         "cn-north-1",
		InstanceID:       hostileInstance,
		InstanceType:     "g.n2.large",
		JDCloudRequestID: hostileJDRequest,
		Reason:           hostileFreeText,
		RequestedBy:      hostileFreeText,
	}
	if mutate != nil {
		mutate(&d)
	}
	return &resizer.Outcome{Data: d, Event: resizer.OutcomeEvent{ID: hostileRequestID, Type: typ, Subject: hostileInstance}}
}

func failedWith(code resizer.Code, reason string) *resizer.Outcome {
	return outcome(resizer.TypeFailed, func(d *resizer.OutcomeData) {
		d.Error = &resizer.ErrorData{Code: code, Reason: reason, Message: hostileFreeText + " " + hostileInstance, Retryable: code.Retryable()}
	})
}

// The deliveries of every kind §10 names.
var (
	succeededResized = outcome(resizer.TypeSucceeded, func(d *resizer.OutcomeData) { d.Changed = true })
	succeededNoop    = outcome(resizer.TypeSucceeded, nil)
	dryRun           = outcome(resizer.TypeSucceeded, func(d *resizer.OutcomeData) { d.DryRun = true })
	failedPolicy     = failedWith(resizer.CodePolicyDenied, resizer.ReasonCircuitOpen)
	failedAPI        = failedWith(resizer.CodeAPIError, "")
	failedChanged    = func() *resizer.Outcome {
		o := failedWith(resizer.CodeTimeout, "")
		o.Data.Changed = true // the type changed, the instance did not come back in time
		return o
	}()
	pending = outcome(resizer.TypePending, func(d *resizer.OutcomeData) {
		d.Approval = &resizer.ApprovalData{ID: "appr-" + hostileRequestID, ExpiresAt: "2030-01-01T00:00:00Z"}
	})
	replay = func() *resizer.Outcome {
		o := outcome(resizer.TypeSucceeded, func(d *resizer.OutcomeData) { d.Changed = true })
		o.Replay = true
		return o
	}()
)

func observation(o *resizer.Outcome, d time.Duration, calls, throttled int) resizer.Observation {
	return resizer.Observation{Outcome: o, Duration: d, JDCalls: calls, JDThrottled: throttled}
}
