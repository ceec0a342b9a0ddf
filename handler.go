package resizer

import (
	"context"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"go.uber.org/zap"
)

// Handler runs resize requests through the pipeline below. It is safe for
// concurrent use; NewHandler fixes everything it holds.
type Handler struct {
	log            *zap.Logger
	maxRun, margin time.Duration
	now            func() time.Time
	newID          func() string
	requestGuards  []RequestGuard
	stateGuards    []StateGuard
	planGuards     []PlanGuard
	ledger         ledger
	planner        planner
	operator       operator
	gate           gate
	outcomes       outcomes
}

// NewHandler wires the pipeline from o, filling defaults once.
func NewHandler(o Options) *Handler {
	o = o.withDefaults()
	return &Handler{
		log: o.Log, maxRun: o.MaxRun, margin: o.PublishMargin, now: o.Now, newID: o.NewID,
		requestGuards: []RequestGuard{o.Policy},
		stateGuards:   o.stateGuards(),
		planGuards:    []PlanGuard{o.Policy},
		ledger:        ledger{store: o.Store, ttl: o.IdempotencyTTL, wait: o.InProgressWait, now: o.Now},
		planner:       planner{compute: o.Compute, allows: o.Policy.AllowsType},
		operator:      operator{compute: o.Compute, poll: newPoller(Poll{First: o.PollInterval, Max: o.PollMax}), margin: o.PublishMargin, now: o.Now},
		gate: gate{required: o.ApprovalRequired, approvers: o.Approvers, ttl: o.ApprovalTTL,
			store: o.Store, now: o.Now, newID: o.NewID},
		outcomes: outcomes{source: o.Source, now: o.Now, newID: o.NewID, publisher: o.Publisher, observer: o.Observer},
	}
}

// Handle runs one delivery of a request event: parse → request guards →
// ledger claim → state guards → plan → plan guards → JD's rules → operator
// → outcome (stored, then state guards told, then published, logged and
// observed). It always returns the outcome it announced.
func (h *Handler) Handle(ctx context.Context, e event.Event) Outcome {
	d := newDelivery(ctx, &e, h.log, h.maxRun, h.now())
	defer d.cancel()
	if e.Type() == TypeApproved || e.Type() == TypeRejected {
		return h.decide(d, e)
	}
	req, err := ParseRequest(e)
	if err != nil {
		return h.outcomes.announce(d, h.outcomes.build(d, report{err: err}))
	}
	d.identify(req)
	if err := h.admit(req); err != nil {
		return h.outcomes.announce(d, h.outcomes.build(d, report{req: &req, err: err}))
	}
	c, replay, err := h.ledger.claim(d.ctx, d.log, req, d.deadline)
	if replay != nil {
		return h.outcomes.announce(d, *replay)
	}
	if err != nil {
		return h.outcomes.announce(d, h.outcomes.build(d, report{req: &req, err: err}))
	}
	a := &Attempt{Request: req, Holder: h.newID(), Deadline: d.deadline, Log: d.log, event: &e}
	return h.outcomes.announce(d, h.attempt(d, a, c, nil))
}

// attempt runs a claimed request past the state guards, builds its outcome
// (naming the approval that let it run, if any), stores it, then tells the
// guards.
func (h *Handler) attempt(d *delivery, a *Attempt, c *claim, approval *ApprovalData) Outcome {
	guards := &stateGuards{guards: h.stateGuards}
	ran := h.run(d, a, guards)
	if ran.approval == nil {
		ran.approval = approval
	}
	out := h.outcomes.build(d, ran)
	h.ledger.settle(d.ctx, d.log, c, &out)
	guards.end(d.ctx, a, &out)
	return out
}

// decide runs an approved or rejected event: the held request it names runs
// in full, or ends rejected or expired; a second decision of one approval
// id replays the first one's outcome.
func (h *Handler) decide(d *delivery, e event.Event) Outcome {
	dec, err := h.gate.parseDecision(e)
	if err != nil {
		return h.outcomes.announce(d, h.outcomes.build(d, report{err: err}))
	}
	d.log = d.log.With(zap.String("approvalId", dec.id))
	req, held, expires, err := h.gate.held(d.ctx, dec)
	if err != nil {
		return h.outcomes.announce(d, h.outcomes.build(d, report{err: err}))
	}
	d.identify(req)
	key, hash := approvalKey(dec.id)
	c, replay, err := h.ledger.claimKey(d.ctx, d.log, key, hash, "approval id "+Quote(dec.id), d.deadline)
	if replay != nil {
		return h.outcomes.announce(d, *replay)
	}
	approval, verdict := h.gate.verdict(dec, expires)
	if err == nil && verdict != nil {
		err = verdict
	}
	if err != nil {
		out := h.outcomes.build(d, report{req: &req, err: err, approval: approval})
		if c != nil {
			h.ledger.settle(d.ctx, d.log, c, &out)
		}
		return h.outcomes.announce(d, out)
	}
	d.log.Info("approved request runs", zap.String("approvedBy", dec.by))
	a := &Attempt{Request: req, Holder: h.newID(), Deadline: d.deadline, Log: d.log, event: held, approved: true}
	return h.outcomes.announce(d, h.attempt(d, a, c, approval))
}

// run takes a claimed request from the state guards to the operator.
func (h *Handler) run(d *delivery, a *Attempt, guards *stateGuards) report {
	r := report{req: &a.Request}
	if r.err = guards.permit(d.ctx, a); r.err != nil {
		return r
	}
	work, cancel := d.work(h.margin)
	defer cancel()
	if r.plan, r.err = h.planner.plan(work, d.log, a.Request); r.err != nil || r.plan.NoOp() {
		return r
	}
	if r.err = h.approve(r.plan); r.err != nil {
		return r
	}
	if r.err = CheckResize(r.plan); r.err != nil {
		return r
	}
	if h.gate.needs(a) {
		r.approval, r.err = h.gate.hold(d.ctx, a, r.plan)
		return r
	}
	begin := func() *Error { return guards.begin(d.ctx, a) }
	if a.Request.DryRun {
		// The outcome line says the dry run passed; this one only adds
		// the status, at debug: each stdout line is one more write that
		// Lambda's log capture wakes up to read, on every warm invocation.
		if r.err = begin(); r.err == nil {
			d.log.Debug("dry run: every pre-flight check passed", zap.String("status", r.plan.Instance.Status))
		}
		return r
	}
	r.applied, r.err = h.operator.apply(work, d.ctx, d.log, r.plan, begin)
	return r
}

// admit runs the request guards.
func (h *Handler) admit(req Request) *Error {
	for _, g := range h.requestGuards {
		if err := g.CheckRequest(req); err != nil {
			return err
		}
	}
	return nil
}

// approve runs the plan guards.
func (h *Handler) approve(p *Plan) *Error {
	for _, g := range h.planGuards {
		if err := g.CheckPlan(p); err != nil {
			return err
		}
	}
	return nil
}

// Reject answers a delivery that is not a usable CloudEvent at all (bad JSON,
// wrong shape): a failed invalid_request outcome, logged and published.
// partial carries whatever attributes could be read, or is nil.
func (h *Handler) Reject(ctx context.Context, partial *event.Event, err error) Outcome {
	d := newDelivery(ctx, partial, h.log, h.maxRun, h.now())
	defer d.cancel()
	e := ErrorFrom(ctx, "", err)
	if e == nil || e.Code != CodeInvalidRequest {
		msg := "the delivery is not a valid CloudEvent"
		if err != nil {
			msg = err.Error()
		}
		e = &Error{Code: CodeInvalidRequest, Message: msg, Err: err}
	}
	return h.outcomes.announce(d, h.outcomes.build(d, report{err: e}))
}
