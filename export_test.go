package resizer

import "time"

// SetInFlightGrace shortens inFlightGrace for a test; the returned func
// restores it. Tests that use it must not run in parallel.
func SetInFlightGrace(d time.Duration) (restore func()) {
	old := inFlightGrace
	inFlightGrace = d
	return func() { inFlightGrace = old }
}
