package resizer

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"go.uber.org/zap"
)

// Approvals (docs/contract.md §8): a state-changing request from a source
// that needs approval is checked now and then held, its outcome pending; an
// approved event runs it in full later, a rejected one ends it.

// ApprovalData is the outcome's approval member: the id and expiry of a
// pending request, or who decided a held one.
type ApprovalData struct {
	ID         string `json:"id"`
	ExpiresAt  string `json:"expiresAt,omitempty"`
	ApprovedBy string `json:"approvedBy,omitempty"`
	RejectedBy string `json:"rejectedBy,omitempty"`
}

// DefaultApprovalTTL is APPROVAL_TTL's default; DefaultApprovers is
// APPROVER_SOURCES's.
const DefaultApprovalTTL = 24 * time.Hour

var DefaultApprovers = []string{"jira/"}

// gate holds requests for approval and decides held ones.
type gate struct {
	required  []string // APPROVAL_REQUIRED_SOURCES: source prefixes
	approvers []string // APPROVER_SOURCES
	ttl       time.Duration
	store     Approvals
	now       func() time.Time
	newID     func() string
}

// needs says whether req must wait for a person: a state-changing request
// from a source that needs approval, not itself an approved one.
func (g gate) needs(a *Attempt) bool {
	return !a.approved && !a.Request.DryRun && hasAnyPrefix(a.Request.Source, g.required)
}

// hold keeps the request until a decision or its expiry. The kept copy
// expects the instance at the type it has now (fromInstanceType), so that
// an approval of "g.n2.large → g.n2.xlarge" can never resize a machine
// that someone changed meanwhile: the approved run then fails
// unexpected_current_type.
func (g gate) hold(ctx context.Context, a *Attempt, p *Plan) (*ApprovalData, *Error) {
	raw, err := pinned(a.event, p.Instance.InstanceType)
	if err != nil {
		return nil, Errorf(CodeInvalidRequest, "", "the request could not be kept for approval: %v", err)
	}
	id, expires := g.newID(), g.now().Add(g.ttl).UTC().Truncate(time.Second)
	if err := g.store.PutHeld(ctx, Held{ID: id, Request: raw, Expires: expires}); err != nil {
		return nil, ErrorFrom(ctx, "approval store", err)
	}
	a.Log.Info("request held for approval", zap.String("approvalId", id), zap.Time("expiresAt", expires))
	return &ApprovalData{ID: id, ExpiresAt: expires.Format(time.RFC3339)}, nil
}

// pinned is e, structured, with data.fromInstanceType set to current
// unless the request already names one.
func pinned(e *event.Event, current string) ([]byte, error) {
	var data map[string]json.RawMessage
	if err := json.Unmarshal(e.Data(), &data); err != nil {
		return nil, err
	}
	if _, ok := data["fromInstanceType"]; !ok {
		data["fromInstanceType"], _ = json.Marshal(current)
	}
	c := e.Clone()
	if err := c.SetData(event.ApplicationJSON, data); err != nil {
		return nil, err
	}
	return json.Marshal(c)
}

// decision is an approved or rejected event, validated.
type decision struct {
	approve bool
	id, by  string
}

// parseDecision validates an approval event: its identity as any request's,
// a source among the approvers, and data {"approvalId", "approvedBy" or
// "rejectedBy"}.
func (g gate) parseDecision(e event.Event) (decision, *Error) {
	dec := decision{approve: e.Type() == TypeApproved}
	if err := checkIdentity(e); err != nil {
		return dec, err
	}
	fields, err := objectFields(bytes.TrimSpace(e.Data()))
	if err != nil {
		return dec, err
	}
	byField := "rejectedBy"
	if dec.approve {
		byField = "approvedBy"
	}
	for _, f := range []struct {
		name     string
		dst      *string
		required bool
		max      int
	}{{"approvalId", &dec.id, true, maxAttributeLen}, {byField, &dec.by, false, maxFreeTextRunes}} {
		v, ok := fields[f.name]
		if !ok || string(v) == "null" {
			if f.required {
				return dec, invalid("data.%s is required", f.name)
			}
			continue
		}
		if json.Unmarshal(v, f.dst) != nil || (f.required && *f.dst == "") {
			return dec, invalid("data.%s must be a non-empty string", f.name)
		}
		if len(*f.dst) > f.max || hasControl(*f.dst) {
			return dec, invalid("data.%s must be printable and at most %d characters", f.name, f.max)
		}
	}
	if !hasAnyPrefix(e.Source(), g.approvers) {
		return dec, Errorf(CodePolicyDenied, ReasonApproverNotAllowed,
			"source %s may not decide approvals; APPROVER_SOURCES allows %s", Quote(e.Source()), quoteAll(g.approvers))
	}
	return dec, nil
}

// held finds the request an approval names.
func (g gate) held(ctx context.Context, dec decision) (Request, *event.Event, time.Time, *Error) {
	h, err := g.store.GetHeld(ctx, dec.id)
	switch {
	case err != nil:
		return Request{}, nil, time.Time{}, ErrorFrom(ctx, "approval store", err)
	case h == nil:
		return Request{}, nil, time.Time{}, Errorf(CodeNotFound, ReasonApprovalNotFound,
			"no request is waiting for approval id %s (never issued, or forgotten a day after its expiry)", Quote(dec.id))
	}
	var e event.Event
	if err := json.Unmarshal(h.Request, &e); err != nil {
		return Request{}, nil, time.Time{}, Errorf(CodeInvalidRequest, "", "the request held under approval id %s is unreadable: %v", Quote(dec.id), err)
	}
	req, perr := ParseRequest(e)
	if perr != nil {
		return Request{}, nil, time.Time{}, perr
	}
	return req, &e, h.Expires, nil
}

// verdict is what a decision does to its held request short of running
// it: nil for an approval in time; approval_expired, or approval_rejected.
func (g gate) verdict(dec decision, expires time.Time) (*ApprovalData, *Error) {
	switch {
	case g.now().After(expires):
		return &ApprovalData{ID: dec.id}, Errorf(CodePolicyDenied, ReasonApprovalExpired,
			"approval id %s expired at %s; the alert or ticket must ask again", Quote(dec.id), expires.UTC().Format(time.RFC3339))
	case !dec.approve:
		return &ApprovalData{ID: dec.id, RejectedBy: dec.by}, Errorf(CodePolicyDenied, ReasonApprovalRejected,
			"the request held under approval id %s was rejected%s", Quote(dec.id), by(dec.by))
	}
	return &ApprovalData{ID: dec.id, ApprovedBy: dec.by}, nil
}

func by(who string) string {
	if who == "" {
		return ""
	}
	return " by " + Quote(who)
}

// approvalKey is the ledger key of a decision: the approval id, so that a
// second approval (or a rejection after an approval) republishes the first
// decision's outcome.
func approvalKey(id string) (key, hash string) { return "approval\x00" + id, "decision" }

func quoteAll(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = Quote(s)
	}
	return strings.Join(q, ",")
}
