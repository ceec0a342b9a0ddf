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
	Log       *zap.Logger   // nil: a no-op logger (a delivery's own logger comes from its context)
	Source    string        // RESULT_SOURCE; empty = DefaultSource

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
// run.
func (o Options) stateGuards() []StateGuard {
	var g []StateGuard
	if o.Cooldown > 0 {
		g = append(g, Cooldown{Marks: o.Store, Period: o.Cooldown, Now: o.Now})
	}
	return g
}
