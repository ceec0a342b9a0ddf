// Package store keeps the resizer's idempotency records and cooldown marks:
// Memory for one process, DynamoDB for every copy of the function at once.
// Both implement resizer.Store with the same semantics, checked by one
// behaviour suite (storetest.Run).
//
// Both stores hold requests and cooldown marks in one key space, told apart
// by a prefix, because the contract gives them one DynamoDB table.
package store

// Key prefixes of the table layout (docs/contract.md §2).
const (
	requestPrefix  = "req#"
	cooldownPrefix = "cooldown#"
)
