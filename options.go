package resizer

import (
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"
)

// Defaults of Options, exported where function/ needs the same value.
const (
	DefaultIdempotencyTTL = 24 * time.Hour
	// DefaultPublishMargin is kept free before the delivery's deadline to
	// store and publish the outcome (and to restart an instance we stopped).
	DefaultPublishMargin = 5 * time.Second
	// DefaultMaxRun bounds a delivery whose context has no deadline (HTTP
	// server mode).
	DefaultMaxRun = 10 * time.Minute
	// DefaultInProgressWait is how long a concurrent delivery of a request
	// running elsewhere waits for its outcome before answering retryable.
	DefaultInProgressWait = 2 * time.Second
	// DefaultPollInterval and DefaultPollMax shape polling before any
	// transition time has been learned (poll.go).
	DefaultPollInterval = 500 * time.Millisecond
	DefaultPollMax      = 3 * time.Second
	// DefaultFleetWindow is FLEET_WINDOW's default.
	DefaultFleetWindow = time.Hour
)

// Options configure a Handler. Only Compute is required; NewHandler fills
// every other zero value with its default or a null object.
type Options struct {
	Compute   Compute
	Store     Store     // nil: NopStore (no idempotency, no cooldown)
	Publisher Publisher // nil: the outcome goes to the log only
	Observer  Observer  // nil: NopObserver
	Policy    Policy
	Cooldown  time.Duration // 0 = off

	// Fleet safety (docs/contract.md §9); zero values are off.
	MaxConcurrent int           // MAX_CONCURRENT_RESIZES
	MaxPerWindow  int           // MAX_RESIZES_PER_WINDOW
	MaxFailures   int           // MAX_FAILURES_PER_WINDOW
	FleetWindow   time.Duration // FLEET_WINDOW; default DefaultFleetWindow
	Windows       *Schedule     // RESIZE_WINDOWS; nil = any time

	// Approvals (docs/contract.md §8).
	ApprovalRequired []string      // APPROVAL_REQUIRED_SOURCES: source prefixes; empty = none
	Approvers        []string      // APPROVER_SOURCES; nil = DefaultApprovers
	ApprovalTTL      time.Duration // APPROVAL_TTL; default DefaultApprovalTTL
	Log              *zap.Logger   // nil: a no-op logger (a delivery's own logger comes from its context)
	Source           string        // RESULT_SOURCE; empty = DefaultSource

	IdempotencyTTL time.Duration
	PublishMargin  time.Duration
	MaxRun         time.Duration
	InProgressWait time.Duration
	// PollInterval is the first wait between describe calls while an
	// instance stops, resizes or starts; it doubles up to PollMax.
	PollInterval, PollMax time.Duration

	Now   func() time.Time // default time.Now
	NewID func() string    // default UUID v4
}

// withDefaults fills every zero value once.
func (o Options) withDefaults() Options {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.IdempotencyTTL, DefaultIdempotencyTTL)
	def(&o.PublishMargin, DefaultPublishMargin)
	def(&o.MaxRun, DefaultMaxRun)
	def(&o.InProgressWait, DefaultInProgressWait)
	def(&o.PollInterval, DefaultPollInterval)
	def(&o.PollMax, DefaultPollMax)
	def(&o.FleetWindow, DefaultFleetWindow)
	def(&o.ApprovalTTL, DefaultApprovalTTL)
	if o.Approvers == nil {
		o.Approvers = DefaultApprovers
	}
	if o.Store == nil {
		o.Store = NopStore{}
	}
	if o.Publisher == nil {
		o.Publisher = NopPublisher{}
	}
	if o.Observer == nil {
		o.Observer = NopObserver{}
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Source == "" {
		o.Source = DefaultSource
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewID == nil {
		o.NewID = uuid.NewString
	}
	return o
}

// stateGuards lists the state guards the options ask for, in the order they
// run: the pure and fleet-wide refusals first, then the instance's hold
// (always), then what is taken for this instance and the fleet.
func (o Options) stateGuards() []StateGuard {
	var g []StateGuard
	if o.Windows != nil {
		g = append(g, Window{Schedule: o.Windows, Now: o.Now})
	}
	if o.MaxFailures > 0 {
		g = append(g, Circuit{WindowLimit{Counters: o.Store, Max: o.MaxFailures, Window: o.FleetWindow, Now: o.Now}})
	}
	g = append(g, Hold{Holds: o.Store, Max: o.MaxConcurrent})
	if o.MaxPerWindow > 0 {
		g = append(g, Budget{WindowLimit{Counters: o.Store, Max: o.MaxPerWindow, Window: o.FleetWindow, Now: o.Now}})
	}
	if o.Cooldown > 0 {
		g = append(g, Cooldown{Marks: o.Store, Forget: o.Store, Period: o.Cooldown, Now: o.Now})
	}
	return g
}
