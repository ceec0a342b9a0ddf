package dynalite

import "sync"

// shared is the process's one server; a mutex rather than a sync.Once so
// that a Shared after CloseShared starts a fresh server instead of handing
// out a dead one.
var shared struct {
	mu      sync.Mutex
	started bool
	server  *Server
	err     error
}

// Shared returns one server per test process, started on first use, so a
// run that needs no DynamoDB never pays for Node.js. A failed start is
// remembered: every caller gets its error rather than another slow attempt.
// The package's TestMain should call CloseShared after m.Run.
func Shared() (*Server, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.started {
		shared.server, shared.err = Start()
		shared.started = true
	}
	return shared.server, shared.err
}

// CloseShared stops the shared server, if one was started.
func CloseShared() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.server != nil {
		_ = shared.server.Close() // tests are over; nobody is left to tell
	}
	shared.started, shared.server, shared.err = false, nil, nil
}
