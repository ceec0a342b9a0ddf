package store

import (
	"context"
	"errors"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/jdcloud-vm-resizer/resizer"
)

// The DynamoDB store's fleet state, in the same table as the requests and
// the cooldown marks. Every decision is a conditional write; nothing is
// scanned and nothing is read, changed and written back.
//
//	hold#<instance>         holder S, leaseUntil N (ms), slot N (the fleet slot it took, with a bound)
//	slot#<n>                holder S, leaseUntil N (ms), instance S; n < MAX_CONCURRENT_RESIZES
//	count#<name>#<window>   n N (window = its start, Unix seconds)
//	held#<approval id>      request B (absent when empty), expiresAt N (ms)
//
// Each has the table's expiration N (seconds): a hold and a slot at their
// lease (rounded up to the second), so a holder that died is taken over
// once its lease has passed (conditions look at leaseUntil; the TTL only
// tidies up); a counter when its caller says; a held request heldGrace
// after its approval expires.
const (
	holdPrefix    = "hold#"
	slotPrefix    = "slot#"
	counterPrefix = "count#"
	heldPrefix    = "held#"

	attrHolder    = "holder"
	attrSlot      = "slot"
	attrInstance  = "instance"
	attrCount     = "n"
	attrRequest   = "request"
	attrExpiresAt = "expiresAt"
)

func init() {
	exprNames["#holder"] = attrHolder
	exprNames["#n"] = attrCount
	exprNames["#slot"] = attrSlot
	exprNames["#instance"] = attrInstance
}

// ForgetResize implements resizer.MarkForgetter: the mark goes only if it
// is still the one written at `at`.
func (d *DynamoDB) ForgetResize(ctx context.Context, instanceKey string, at time.Time) error {
	id := cooldownPrefix + instanceKey
	_, err := d.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(d.table),
		Key:                       map[string]types.AttributeValue{attrID: str(id)},
		ConditionExpression:       aws.String("#at = :at"),
		ExpressionAttributeNames:  names("#at"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": num(at.UnixMilli())},
	})
	if err != nil && !isConditionFailed(err) {
		return d.fail("forget resize", id, err)
	}
	return nil
}

// lease is what a hold or slot item says about its holder.
type lease struct {
	holder string
	until  time.Time
	slot   int // the fleet slot a hold item took; -1 for none
}

func (d *DynamoDB) decodeLease(item map[string]types.AttributeValue, id string) (lease, error) {
	l := lease{holder: stringAttr(item, attrHolder), slot: -1}
	ms, err := d.number(item, attrLeaseUntil, id)
	if err != nil {
		return l, err
	}
	l.until = time.UnixMilli(ms).UTC()
	if _, ok := item[attrSlot]; ok {
		n, err := d.number(item, attrSlot, id)
		if err != nil {
			return l, err
		}
		l.slot = int(n)
	}
	return l, nil
}

// takeLease writes a lease item (a hold or a slot) if it is absent, its
// lease has passed, or it is already holder's (for a slot: holder's for
// the same instance). It reports whether it did, and the item it replaced
// or, when refused, the item that refused it (nil when the server does not
// say; DynamoDB does, dynalite does not).
func (d *DynamoDB) takeLease(ctx context.Context, id, holder string, leaseUntil time.Time, extra map[string]types.AttributeValue) (bool, map[string]types.AttributeValue, error) {
	item := map[string]types.AttributeValue{
		attrID:         str(id),
		attrHolder:     str(holder),
		attrLeaseUntil: num(leaseUntil.UnixMilli()),
		// The TTL deletes a lapsed lease: its second, rounded up.
		attrExpiration: num(leaseUntil.Add(time.Second - time.Nanosecond).Unix()),
	}
	for k, v := range extra {
		item[k] = v
	}
	mine := "#holder = :holder"
	ph := []string{"#id", "#lease", "#holder"}
	values := map[string]types.AttributeValue{
		":nowMs":  num(d.now().UnixMilli()),
		":holder": str(holder),
	}
	if inst, ok := extra[attrInstance]; ok {
		mine = "(#holder = :holder AND #instance = :instance)"
		ph = append(ph, "#instance")
		values[":instance"] = inst
	}
	out, err := d.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(d.table),
		Item:                                item,
		ConditionExpression:                 aws.String("attribute_not_exists(#id) OR #lease < :nowMs OR " + mine),
		ExpressionAttributeNames:            names(ph...),
		ExpressionAttributeValues:           values,
		ReturnValues:                        types.ReturnValueAllOld,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return false, failed.Item, nil
	}
	if err != nil {
		return false, nil, err
	}
	return true, out.Attributes, nil
}

// dropLease deletes a lease item if holder still has it, and returns the
// item it deleted (nil when none was holder's).
func (d *DynamoDB) dropLease(ctx context.Context, id, holder string) (map[string]types.AttributeValue, error) {
	out, err := d.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(d.table),
		Key:                       map[string]types.AttributeValue{attrID: str(id)},
		ConditionExpression:       aws.String("#holder = :holder"),
		ExpressionAttributeNames:  names("#holder"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":holder": str(holder)},
		ReturnValues:              types.ReturnValueAllOld,
	})
	if isConditionFailed(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return out.Attributes, nil
}

// Hold implements resizer.Holds: the instance's hold item first (so a busy
// instance is reported as such), then, with a fleet bound, one of max slot
// items. A renewal tries the slot it already has first, so that a holder
// never has two; anyone else starts at a place the holder's hash picks, so
// that concurrent holders spread over the slots. The hold item records its
// slot, for Unhold. A holder that dies between the writes leaves items
// that lapse at their lease.
func (d *DynamoDB) Hold(ctx context.Context, instanceKey, holder string, leaseUntil time.Time, max int) error {
	id := holdPrefix + instanceKey
	old, err := d.takeHold(ctx, id, instanceKey, holder, leaseUntil)
	if err != nil {
		return err
	}
	if max <= 0 {
		return nil
	}
	prev := -1
	if old != nil {
		if l, err := d.decodeLease(old, id); err == nil && l.holder == holder && l.slot >= 0 && l.slot < max {
			prev = l.slot
		}
	}
	h := fnv.New32a()
	h.Write([]byte(holder))
	first := int(h.Sum32() % uint32(max))
	order := make([]int, 0, max+1)
	if prev >= 0 {
		order = append(order, prev)
	}
	for i := range max {
		if n := (first + i) % max; n != prev {
			order = append(order, n)
		}
	}
	for _, n := range order {
		slot := slotPrefix + strconv.Itoa(n)
		got, _, err := d.takeLease(ctx, slot, holder, leaseUntil, map[string]types.AttributeValue{attrInstance: str(instanceKey)})
		if err != nil {
			_, _ = d.dropLease(ctx, id, holder)
			return d.fail("hold: take a fleet slot", slot, err)
		}
		if got {
			if _, _, err := d.takeLease(ctx, id, holder, leaseUntil, map[string]types.AttributeValue{attrSlot: num(int64(n))}); err != nil {
				_, _ = d.dropLease(ctx, slot, holder)
				_, _ = d.dropLease(ctx, id, holder)
				return d.fail("hold: record the fleet slot", id, err)
			}
			return nil
		}
	}
	if _, err := d.dropLease(ctx, id, holder); err != nil {
		return d.fail("hold: give back", id, err)
	}
	return fleetBusy(max)
}

// takeHold takes the instance's hold item, or refuses instance_busy naming
// the holder that has it; it returns the item it replaced. Like Claim it
// tries again, a few times, when the hold that refused it is gone or has
// lapsed by the time it is read.
func (d *DynamoDB) takeHold(ctx context.Context, id, instanceKey, holder string, leaseUntil time.Time) (map[string]types.AttributeValue, error) {
	for range claimAttempts {
		ok, old, err := d.takeLease(ctx, id, holder, leaseUntil, nil)
		if err != nil {
			return nil, d.fail("hold", id, err)
		}
		if ok {
			return old, nil
		}
		if old == nil {
			if old, err = d.get(ctx, id); err != nil {
				return nil, d.fail("hold: read the existing hold", id, err)
			}
		}
		if old == nil {
			continue // released since the PutItem
		}
		l, err := d.decodeLease(old, id)
		if err != nil {
			return nil, err
		}
		if l.until.UnixMilli() >= d.now().UnixMilli() {
			return nil, busy(instanceKey, l.holder, l.until)
		}
	}
	return nil, resizer.Errorf(resizer.CodeUnavailable, resizer.ReasonInstanceBusy,
		"DynamoDB table %q: hold %q: the hold kept changing under %d attempts; retry later", d.table, id, claimAttempts)
}

// Unhold implements resizer.Holds: the hold item goes if it is holder's,
// and with it the slot it names, if that is still holder's. Should the
// second delete fail, the slot lapses at its lease.
func (d *DynamoDB) Unhold(ctx context.Context, instanceKey, holder string) error {
	id := holdPrefix + instanceKey
	old, err := d.dropLease(ctx, id, holder)
	if err != nil {
		return d.fail("unhold", id, err)
	}
	if old == nil {
		return nil
	}
	l, err := d.decodeLease(old, id)
	if err != nil || l.slot < 0 {
		return err
	}
	slot := slotPrefix + strconv.Itoa(l.slot)
	if _, err := d.dropLease(ctx, slot, holder); err != nil {
		return d.fail("unhold: free the fleet slot", slot, err)
	}
	return nil
}

func counterID(name string, window time.Time) string {
	return counterPrefix + name + "#" + strconv.FormatInt(window.Unix(), 10)
}

// Take implements resizer.Counters with one conditional ADD; a refusal
// reads the count back (consistently) for the caller's message.
func (d *DynamoDB) Take(ctx context.Context, name string, window time.Time, max int, expires time.Time) (bool, int, error) {
	id := counterID(name, window)
	if max <= 0 {
		c, err := d.Count(ctx, name, window)
		return false, c, err
	}
	n, err := d.add(ctx, id, expires, aws.String("attribute_not_exists(#n) OR #n < :max"), map[string]types.AttributeValue{":max": num(int64(max))})
	if isConditionFailed(err) {
		c, err := d.Count(ctx, name, window)
		return false, c, err
	}
	if err != nil {
		return false, 0, d.fail("take", id, err)
	}
	return true, n, nil
}

// Add implements resizer.Counters.
func (d *DynamoDB) Add(ctx context.Context, name string, window time.Time, expires time.Time) (int, error) {
	id := counterID(name, window)
	n, err := d.add(ctx, id, expires, nil, nil)
	if err != nil {
		return 0, d.fail("add", id, err)
	}
	return n, nil
}

func (d *DynamoDB) add(ctx context.Context, id string, expires time.Time, cond *string, vals map[string]types.AttributeValue) (int, error) {
	values := map[string]types.AttributeValue{":one": num(1), ":exp": num(expires.Unix())}
	for k, v := range vals {
		values[k] = v
	}
	out, err := d.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(d.table),
		Key:                       map[string]types.AttributeValue{attrID: str(id)},
		UpdateExpression:          aws.String("ADD #n :one SET #exp = :exp"),
		ConditionExpression:       cond,
		ExpressionAttributeNames:  names("#n", "#exp"),
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, err
	}
	n, err := d.number(out.Attributes, attrCount, id)
	return int(n), err
}

// Count implements resizer.Counters.
func (d *DynamoDB) Count(ctx context.Context, name string, window time.Time) (int, error) {
	id := counterID(name, window)
	item, err := d.get(ctx, id)
	if err != nil {
		return 0, d.fail("count", id, err)
	}
	if item == nil {
		return 0, nil
	}
	// Like every read here, an expired item is absent. (The window is in
	// the id and callers keep a counter past its window's end, so an
	// expired counter is never counted on again.)
	if exp, err := d.number(item, attrExpiration, id); err != nil || exp < d.now().Unix() {
		return 0, err
	}
	n, err := d.number(item, attrCount, id)
	return int(n), err
}

// PutHeld implements resizer.Approvals; an id already stored stays as it
// is. The request is a Binary attribute, so its bytes come back exactly
// (absent when empty: an empty Binary is not a value everywhere). The
// item's TTL is heldGrace past the approval's expiry, so that a late
// approval still finds it and hears approval_expired.
func (d *DynamoDB) PutHeld(ctx context.Context, h resizer.Held) error {
	id := heldPrefix + h.ID
	item := map[string]types.AttributeValue{
		attrID:         str(id),
		attrExpiresAt:  num(h.Expires.UnixMilli()),
		attrExpiration: num(h.Expires.Add(heldGrace).Unix()),
	}
	if len(h.Request) > 0 {
		item[attrRequest] = &types.AttributeValueMemberB{Value: h.Request}
	}
	_, err := d.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(d.table),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#id)"),
		ExpressionAttributeNames: names("#id"),
	})
	if err != nil && !isConditionFailed(err) {
		return d.fail("hold for approval", id, err)
	}
	return nil
}

// GetHeld implements resizer.Approvals. It does not look at expiration: a
// held request is returned, expired or not, until the TTL deletes it
// (heldGrace after its approval expired, or later), so that the approval
// is told it came too late.
func (d *DynamoDB) GetHeld(ctx context.Context, approvalID string) (*resizer.Held, error) {
	id := heldPrefix + approvalID
	item, err := d.get(ctx, id)
	if err != nil {
		return nil, d.fail("read held request", id, err)
	}
	if item == nil {
		return nil, nil
	}
	at, err := d.number(item, attrExpiresAt, id)
	if err != nil {
		return nil, err
	}
	h := &resizer.Held{ID: approvalID, Expires: time.UnixMilli(at).UTC()}
	switch req := item[attrRequest].(type) {
	case *types.AttributeValueMemberB:
		h.Request = req.Value
	case nil:
	default:
		return nil, d.corrupt(id, attrRequest+" is not Binary")
	}
	return h, nil
}
