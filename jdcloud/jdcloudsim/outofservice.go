package jdcloudsim

import "time"

// outage is a stretch of time an instance is out of service because of
// the API: from an accepted stopInstance until a start has brought it back
// to running, or, for a resize of an instance that was already stopped,
// from the accepted resize until the resize settles.
//
// Its end is computed when it becomes known (start or resize time plus
// Transition) rather than taken from the lazily settled status, so the
// count at any instant, and so the peak, is the same whether or not
// anyone polled. With a zero Transition a transition therefore counts as
// ending when it is accepted, although describeInstance still shows it once.
type outage struct {
	until time.Time // zero while the end is not known
}

func (o *outage) activeAt(t time.Time) bool {
	return o != nil && (o.until.IsZero() || t.Before(o.until))
}

// beginOutage puts st out of service from now until until (zero: until a
// start ends it) and raises the peak. The caller holds s.mu. The count
// only rises here and only falls between calls, so the peak is always
// reached right after some beginOutage: checking here sees every maximum.
// st counts even when its outage lasts no time (a resize under a zero
// Transition), since it was out of service at that instant.
func (s *Server) beginOutage(st *instanceState, now, until time.Time) {
	st.out = &outage{until: until}
	n := 1
	for _, r := range s.regions {
		for _, other := range r.instances {
			if other != st && other.out.activeAt(now) {
				n++
			}
		}
	}
	s.peakOut = max(s.peakOut, n)
}

// endOutage schedules the end of st's outage, if it has one, at t.
func (st *instanceState) endOutage(now, t time.Time) {
	if st.out.activeAt(now) {
		st.out.until = t
	}
}

// outOfService counts the instances out of service at now; the caller
// holds s.mu.
func (s *Server) outOfService(now time.Time) int {
	n := 0
	for _, r := range s.regions {
		for _, st := range r.instances {
			if st.out.activeAt(now) {
				n++
			}
		}
	}
	return n
}

// OutOfService counts the instances out of service because of the API at
// this moment of the simulator's clock (see Options.Now): stopped through
// stopInstance and not running again yet, or being resized after having
// been stopped some other way. Instances stopped in the fixture or by
// SetStatus are not counted until the API touches them; SetStatus to
// running ends an outage, PutInstance forgets it.
func (s *Server) OutOfService() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outOfService(s.now())
}

// PeakOutOfService is the most instances OutOfService has counted at
// once since the Server started or ResetPeak was last called, whether or
// not anyone looked at the time.
func (s *Server) PeakOutOfService() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peakOut
}

// ResetPeak starts a new high-water mark at the current OutOfService.
func (s *Server) ResetPeak() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peakOut = s.outOfService(s.now())
}
