package testkit

import (
	"context"
	"sync"

	"github.com/cloudevents/sdk-go/v2/event"

	resizer "github.com/jdcloud-vm-resizer/resizer"
)

// Publisher is a resizer.Publisher that keeps what it was given; Fail, when
// set, decides each publish's error.
type Publisher struct {
	Fail func(resizer.OutcomeEvent) error

	mu     sync.Mutex
	events []resizer.OutcomeEvent
}

var _ resizer.Publisher = (*Publisher)(nil)

// Publish records e.
func (p *Publisher) Publish(_ context.Context, e resizer.OutcomeEvent) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, e)
	if p.Fail != nil {
		return p.Fail(e)
	}
	return nil
}

// Encoded returns the events as they were published.
func (p *Publisher) Encoded() []resizer.OutcomeEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]resizer.OutcomeEvent(nil), p.events...)
}

// All returns the published events decoded by the sdk, as a sink would read
// them; an event that does not decode is a zero event.
func (p *Publisher) All() []event.Event {
	enc := p.Encoded()
	out := make([]event.Event, len(enc))
	for i := range enc {
		out[i], _ = enc[i].Decode()
	}
	return out
}
