package store

import (
	"context"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/jdcloud-vm-resizer/resizer"
)

// The DynamoDB store's fleet state, in the same table as the requests and
// the cooldown marks. Every decision is one conditional write; nothing is
// scanned and nothing is read, changed and written back.
//
//	hold#<instance>         holder S, leaseUntil N (ms), slot N (with a fleet bound)
//	slot#<n>                holder S, leaseUntil N (ms), instance S — one of MAX_CONCURRENT_RESIZES
//	count#<name>#<window>   n N (window = its start, Unix seconds)
//	held#<approval id>      request B, expiresAt N (ms)
//
// A hold and its slot expire (TTL) at their lease, so a holder that died is
// taken over once its lease has passed; a held request expires heldGrace
// after its approval does.
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

// takeLease writes a lease item (a hold or a slot) if it is free, lapsed or
// already holder's; it reports whether it did.
func (d *DynamoDB) takeLease(ctx context.Context, id, holder string, leaseUntil time.Time, extra map[string]types.AttributeValue) (bool, error) {
	item := map[string]types.AttributeValue{
		attrID:         str(id),
		attrHolder:     str(holder),
		attrLeaseUntil: num(leaseUntil.UnixMilli()),
		attrExpiration: num(leaseUntil.Unix() + 1),
	}
	for k, v := range extra {
		item[k] = v
	}
	_, err := d.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(d.table),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#id) OR #lease < :nowMs OR #holder = :holder"),
		ExpressionAttributeNames: names("#id", "#lease", "#holder"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":nowMs":  num(d.now().UnixMilli()),
			":holder": str(holder),
		},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}

// dropLease deletes a lease item if holder still has it.
func (d *DynamoDB) dropLease(ctx context.Context, id, holder string) error {
	_, err := d.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(d.table),
		Key:                       map[string]types.AttributeValue{attrID: str(id)},
		ConditionExpression:       aws.String("#holder = :holder"),
		ExpressionAttributeNames:  names("#holder"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":holder": str(holder)},
	})
	if err != nil && !isConditionFailed(err) {
		return err
	}
	return nil
}

// Hold implements resizer.Holds: the instance's hold item first (so a busy
// instance is reported as such), then, with a fleet bound, one of max slot
// items, tried from a place the holder's hash picks so that concurrent
// holders spread over the slots.
func (d *DynamoDB) Hold(ctx context.Context, instanceKey, holder string, leaseUntil time.Time, max int) error {
	id := holdPrefix + instanceKey
	ok, err := d.takeLease(ctx, id, holder, leaseUntil, nil)
	if err != nil {
		return d.fail("hold", id, err)
	}
	if !ok {
		until := leaseUntil
		if item, err := d.get(ctx, id); err == nil && item != nil {
			if ms, err := d.number(item, attrLeaseUntil, id); err == nil {
				until = time.UnixMilli(ms)
			}
		}
		return busy(instanceKey, until)
	}
	if max <= 0 {
		return nil
	}
	h := fnv.New32a()
	h.Write([]byte(holder))
	first := int(h.Sum32() % uint32(max))
	for i := range max {
		n := (first + i) % max
		slot := slotPrefix + strconv.Itoa(n)
		got, err := d.takeLease(ctx, slot, holder, leaseUntil, map[string]types.AttributeValue{attrInstance: str(instanceKey)})
		if err != nil {
			_ = d.dropLease(ctx, id, holder)
			return d.fail("hold: take a fleet slot", slot, err)
		}
		if got {
			if _, err := d.takeLease(ctx, id, holder, leaseUntil, map[string]types.AttributeValue{attrSlot: num(int64(n))}); err != nil {
				_ = d.dropLease(ctx, slot, holder)
				_ = d.dropLease(ctx, id, holder)
				return d.fail("hold: record the fleet slot", id, err)
			}
			return nil
		}
	}
	if err := d.dropLease(ctx, id, holder); err != nil {
		return d.fail("hold: give back", id, err)
	}
	return fleetBusy(max)
}

// Unhold implements resizer.Holds.
func (d *DynamoDB) Unhold(ctx context.Context, instanceKey, holder string) error {
	id := holdPrefix + instanceKey
	item, err := d.get(ctx, id)
	if err != nil {
		return d.fail("unhold", id, err)
	}
	if item == nil || stringAttr(item, attrHolder) != holder {
		return nil
	}
	if _, ok := item[attrSlot]; ok {
		n, err := d.number(item, attrSlot, id)
		if err != nil {
			return err
		}
		slot := slotPrefix + strconv.FormatInt(n, 10)
		if err := d.dropLease(ctx, slot, holder); err != nil {
			return d.fail("unhold: free the fleet slot", slot, err)
		}
	}
	if err := d.dropLease(ctx, id, holder); err != nil {
		return d.fail("unhold", id, err)
	}
	return nil
}

func counterID(name string, window time.Time) string {
	return counterPrefix + name + "#" + strconv.FormatInt(window.Unix(), 10)
}

// Take implements resizer.Counters with one conditional ADD.
func (d *DynamoDB) Take(ctx context.Context, name string, window time.Time, max int, expires time.Time) (bool, int, error) {
	id := counterID(name, window)
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
	n, err := d.number(item, attrCount, id)
	return int(n), err
}

// PutHeld implements resizer.Approvals; an id already held stays as it is.
func (d *DynamoDB) PutHeld(ctx context.Context, h resizer.Held) error {
	id := heldPrefix + h.ID
	_, err := d.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(d.table),
		Item: map[string]types.AttributeValue{
			attrID:         str(id),
			attrRequest:    &types.AttributeValueMemberB{Value: h.Request},
			attrExpiresAt:  num(h.Expires.UnixMilli()),
			attrExpiration: num(h.Expires.Add(heldGrace).Unix()),
		},
		ConditionExpression:       aws.String("attribute_not_exists(#id) OR #exp < :nowSec"),
		ExpressionAttributeNames:  names("#id", "#exp"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":nowSec": num(d.now().Unix())},
	})
	if err != nil && !isConditionFailed(err) {
		return d.fail("hold for approval", id, err)
	}
	return nil
}

// GetHeld implements resizer.Approvals: a held request past its approval's
// expiry is still returned until heldGrace later.
func (d *DynamoDB) GetHeld(ctx context.Context, approvalID string) (*resizer.Held, error) {
	id := heldPrefix + approvalID
	item, err := d.get(ctx, id)
	if err != nil {
		return nil, d.fail("read held request", id, err)
	}
	if item == nil {
		return nil, nil
	}
	exp, err := d.number(item, attrExpiration, id)
	if err != nil {
		return nil, err
	}
	if exp < d.now().Unix() {
		return nil, nil
	}
	at, err := d.number(item, attrExpiresAt, id)
	if err != nil {
		return nil, err
	}
	req, ok := item[attrRequest].(*types.AttributeValueMemberB)
	if !ok {
		return nil, d.corrupt(id, "no binary "+attrRequest)
	}
	return &resizer.Held{ID: approvalID, Request: req.Value, Expires: time.UnixMilli(at).UTC()}, nil
}
