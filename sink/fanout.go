package sink

import (
	"context"
	"errors"
	"sync"

	resizer "github.com/jdcloud-vm-resizer/resizer"
)

// Fanout returns a Publisher that publishes to every sink at once and
// returns when all are done, with errors.Join of the failures (each sink's
// error names that sink). Nil entries are skipped, so callers can pass the
// sinks they configured without filtering; no sinks at all gives a
// Publisher that does nothing.
func Fanout(sinks ...resizer.Publisher) resizer.Publisher {
	var fs fanout
	for _, s := range sinks {
		if s != nil {
			fs = append(fs, s)
		}
	}
	switch len(fs) {
	case 0:
		return resizer.NopPublisher{}
	case 1:
		return fs[0]
	}
	return fs
}

type fanout []resizer.Publisher

// Publish runs the sinks concurrently so a slow one does not spend the
// others' share of the deadline. They share e's encoding, which no sink
// writes to.
func (f fanout) Publish(ctx context.Context, e resizer.OutcomeEvent) error {
	errs := make([]error, len(f))
	var wg sync.WaitGroup
	for i, s := range f {
		wg.Go(func() { errs[i] = s.Publish(ctx, e) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
