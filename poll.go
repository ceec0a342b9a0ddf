package resizer

import (
	"sync"
	"time"
)

// Poll is how the operator follows an instance through a transition. With
// nothing learned yet it waits First after the call, then doubles the pause
// up to Max. Once a phase (stop, resize, start) has been seen to take some
// time, the first poll comes at nine tenths of it and the next ones close
// together, so a transition is noticed within a fraction of a second of its
// end without spending JD Cloud's quota on early polls.
type Poll struct {
	First, Max time.Duration
}

// poller keeps what every delivery of the process learned of JD's
// transition times, per phase.
type poller struct {
	Poll
	mu      sync.Mutex
	learned map[string]time.Duration
}

func newPoller(p Poll) *poller { return &poller{Poll: p, learned: map[string]time.Duration{}} }

// expected returns what phase is known to take, else what any phase took
// (JD's transitions are of a size), else 0.
func (p *poller) expected(phase string) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d, ok := p.learned[phase]; ok {
		return d
	}
	for _, d := range p.learned {
		return d
	}
	return 0
}

// learn folds one observed transition into the estimate (an average that
// leans on the latest, so the schedule follows JD as it speeds up or slows).
func (p *poller) learn(phase string, took time.Duration) {
	if took <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, ok := p.learned[phase]; ok {
		took = (old + 3*took) / 4
	}
	p.learned[phase] = took
}

// schedule returns the pauses to take while waiting for phase, one per call.
func (p *poller) schedule(phase string) func() time.Duration {
	next := p.First
	grow := func(d time.Duration) time.Duration { return min(d*2, p.Max) }
	if e := p.expected(phase); e > 0 {
		first := max(p.First/2, e*9/10)
		fine := max(p.First/4, e/20)
		calls := 0
		return func() time.Duration {
			calls++
			switch calls {
			case 1:
				return first
			case 2:
				return fine
			}
			fine = min(fine*3/2, p.Max)
			return fine
		}
	}
	return func() time.Duration {
		d := next
		next = grow(next)
		return d
	}
}
