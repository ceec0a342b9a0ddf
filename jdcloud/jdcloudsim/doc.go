// Package jdcloudsim is a fake of JD Cloud's VM OpenAPI served over loopback
// HTTP. It speaks only JD's wire format (signed JDCLOUD2-HMAC-SHA256
// requests, the requestId/result/error envelope, JD's JSON field names) and
// enforces the resizeInstance rules of JDCLOUD-API.md, so a client tested
// against it is tested against the service's behaviour, not against a mock
// of our own client. Tests steer it with Fail, SetLatency, PutInstance and
// SetStatus, and inspect it with Requests, Calls and Instance.
//
// It deliberately imports neither the resizer domain nor the jdcloud client:
// a simulator that shared their types could not catch a wire mismatch.
package jdcloudsim
