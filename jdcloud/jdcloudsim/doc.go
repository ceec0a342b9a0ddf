// Package jdcloudsim is a fake of JD Cloud's VM OpenAPI served over loopback
// HTTP. It speaks only JD's wire format (signed JDCLOUD2-HMAC-SHA256
// requests, the requestId/result/error envelope, JD's JSON field names) and
// enforces the resizeInstance rules of docs/jdcloud-api.md, so a client tested
// against it is tested against the service's behaviour, not against a mock
// of our own client.
//
// Tests steer it with these controls, all safe for concurrent use:
//
//   - the world: PutInstance, SetStatus, SetStock (a type sold out or back
//     in stock in an az);
//   - answers: Fail (an error answer, nothing done), FailAfterApply (done,
//     then an error answer), DropBeforeApply (connection closed unanswered,
//     nothing done), DropAfterApply (done, then closed unanswered); they
//     share one queue per op and are used only by authenticated calls;
//   - starts: RefuseStart (400 while the instance has a given type),
//     StartEndsIn (accepted, but ends stopped or in error), ClearStartFaults;
//   - the gateway: SetLatency, SetRateLimit (429 RATE_LIMIT_EXCEEDED with
//     Retry-After; also Options.RateLimit).
//
// They inspect it with Requests (dropped calls are marked Dropped), Calls,
// Instance, StoppedCharging (stopped with stopCharging, so the next start
// needs stock), Throttled, OutOfService and PeakOutOfService (instances
// stopped or resizing because of the API, exact whatever the polling) and
// ResetPeak.
//
// A request meets, in order: the configured latency, authentication (401),
// the rate limit (429), the op's fault queue, then JD's rules.
//
// It deliberately imports neither the resizer domain nor the jdcloud client:
// a simulator that shared their types could not catch a wire mismatch.
package jdcloudsim
