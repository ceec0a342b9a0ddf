// Package resizer is the domain of the JD Cloud VM resizer: a CloudEvent
// asks for an instance to be resized, and the Handler runs it through one
// pipeline of named stages (handler.go shows them in order): the request
// guards, the ledger that makes it happen once, the state guards, the
// planner that describes the instance and resolves the target, the plan
// guards, JD Cloud's rules, the operator that changes the machine, and the
// outcome that is stored, published, logged and observed. The stages talk to
// the world only through the ports of ports.go; adapters (jdcloud, sink,
// store, trigger) live in subpackages and function/ wires them.
package resizer

// CloudEvent types of the contract (docs/contract.md §3).
const (
	TypeRequested = "com.jdcloud.vm.resize.requested"
	TypeSucceeded = "com.jdcloud.vm.resize.succeeded"
	TypeFailed    = "com.jdcloud.vm.resize.failed"
	// Approvals (docs/contract.md §8): a held request's outcome is pending
	// until an approved or rejected event decides it.
	TypePending  = "com.jdcloud.vm.resize.pending"
	TypeApproved = "com.jdcloud.vm.resize.approved"
	TypeRejected = "com.jdcloud.vm.resize.rejected"
)

// DefaultSource is the source of outcome events unless RESULT_SOURCE says otherwise.
const DefaultSource = "jdcloud-vm-resizer"
