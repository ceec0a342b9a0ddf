package main

import (
	"context"
	"net/http"

	"github.com/cloudevents/sdk-go/v2/event"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/metrics"
	"github.com/jdcloud-vm-resizer/resizer/trigger"
)

// withMetrics answers GET (and HEAD) /metrics with m, without
// authentication (docs/contract.md §10), and hands every other request to
// next, the trigger's routes. m nil: next alone.
func withMetrics(next, m http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == metrics.MetricsPath && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			m.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// inflight counts the deliveries running through the Processor for
// resizer_inflight. The embedded Processor keeps whatever else it offers.
type inflight struct {
	trigger.Processor
	m *metrics.Prometheus
}

func (p inflight) Handle(ctx context.Context, e event.Event) resizer.Outcome {
	p.m.Begin()
	defer p.m.End()
	return p.Processor.Handle(ctx, e)
}

func (p inflight) Reject(ctx context.Context, partial *event.Event, err error) resizer.Outcome {
	p.m.Begin()
	defer p.m.End()
	return p.Processor.Reject(ctx, partial, err)
}
