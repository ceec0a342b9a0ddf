package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/jdcloud-vm-resizer/resizer"
)

// DynamoAPI is the part of *dynamodb.Client the DynamoDB store uses.
type DynamoAPI interface {
	GetItem(ctx context.Context, params *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, params *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, params *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	UpdateItem(ctx context.Context, params *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

var _ DynamoAPI = (*dynamodb.Client)(nil)

// DynamoDB is the store shared by every copy of the function, in the table
// IDEMPOTENCY_TABLE names. Layout (docs/contract.md §2, as Powertools uses
// it; the fleet state's items are in dynamodb_fleet.go):
//
//	id          S  "req#" + request key, or "cooldown#" + instance key
//	expiration  N  epoch seconds; the table's TTL attribute
//	status      S  in_progress | completed        (requests)
//	dataHash    S  hash of the request data         (requests)
//	leaseUntil  N  epoch milliseconds               (in_progress)
//	outcome     S  the outcome event's JSON         (completed)
//	resizedAt   N  epoch milliseconds               (cooldown marks)
//
// DynamoDB deletes expired items hours late, so every read and every
// condition treats an item whose expiration has passed as absent. Times are
// kept at the precision above: expires to the second, the rest to the
// millisecond.
type DynamoDB struct {
	// Now is the store's clock; time.Now when nil. Set it before first use.
	Now func() time.Time

	api   DynamoAPI
	table string
}

// NewDynamoDB returns the store over table through api.
func NewDynamoDB(api DynamoAPI, table string) *DynamoDB {
	return &DynamoDB{api: api, table: table}
}

// Attribute names, and the placeholders every expression uses for them
// (status is a DynamoDB reserved word; the rest follow for uniformity).
const (
	attrID         = "id"
	attrExpiration = "expiration"
	attrStatus     = "status"
	attrDataHash   = "dataHash"
	attrLeaseUntil = "leaseUntil"
	attrOutcome    = "outcome"
	attrResizedAt  = "resizedAt"
)

var exprNames = map[string]string{
	"#id": attrID, "#exp": attrExpiration, "#status": attrStatus,
	"#lease": attrLeaseUntil, "#at": attrResizedAt,
}

// names returns the placeholders an expression uses: DynamoDB rejects a
// request that defines a name its expressions do not use.
func names(ph ...string) map[string]string {
	m := make(map[string]string, len(ph))
	for _, p := range ph {
		m[p] = exprNames[p]
	}
	return m
}

// claimAttempts bounds Claim's loop; it repeats only when the live record
// it was refused for vanished or lapsed before it could be read.
const claimAttempts = 3

func (d *DynamoDB) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Claim implements resizer.Store with one conditional PutItem.
func (d *DynamoDB) Claim(ctx context.Context, key, dataHash string, leaseUntil, expires time.Time) (*resizer.Record, error) {
	id := requestPrefix + key
	item := map[string]types.AttributeValue{
		attrID:         str(id),
		attrStatus:     str(resizer.StateInProgress),
		attrLeaseUntil: num(leaseUntil.UnixMilli()),
		attrExpiration: num(expires.Unix()),
	}
	setStr(item, attrDataHash, dataHash)
	for range claimAttempts {
		now := d.now()
		_, err := d.api.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                aws.String(d.table),
			Item:                     item,
			ConditionExpression:      aws.String("attribute_not_exists(#id) OR #exp < :nowSec OR (#status = :inProgress AND #lease < :nowMs)"),
			ExpressionAttributeNames: names("#id", "#exp", "#status", "#lease"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":nowSec":     num(now.Unix()),
				":nowMs":      num(now.UnixMilli()),
				":inProgress": str(resizer.StateInProgress),
			},
			// Saves the read below on DynamoDB; servers that ignore it
			// (dynalite) answer without the item and we read it instead.
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if err == nil {
			return nil, nil
		}
		var failed *types.ConditionalCheckFailedException
		if !errors.As(err, &failed) {
			return nil, d.fail("claim", id, err)
		}
		old := failed.Item
		if old == nil {
			if old, err = d.get(ctx, id); err != nil {
				return nil, d.fail("claim: read the existing record", id, err)
			}
		}
		if old == nil {
			continue // released or deleted since the PutItem: claim again
		}
		rec, err := d.decodeRecord(key, old)
		if err != nil {
			return nil, err
		}
		if live(rec, d.now()) {
			return rec, nil
		}
		// The record lapsed after the condition was checked: claim again.
	}
	return nil, resizer.Errorf(resizer.CodeUnavailable, "",
		"DynamoDB table %q: claim %q: the record kept changing under %d attempts", d.table, id, claimAttempts)
}

// live mirrors Claim's condition for a record read back.
func live(rec *resizer.Record, now time.Time) bool {
	if rec.Expires.Unix() < now.Unix() {
		return false
	}
	return rec.State != resizer.StateInProgress || rec.LeaseUntil.UnixMilli() >= now.UnixMilli()
}

// Complete implements resizer.Store. A live completed record is kept as it
// is: the first stored outcome is the one every redelivery republishes.
func (d *DynamoDB) Complete(ctx context.Context, key, dataHash string, outcome []byte, expires time.Time) error {
	id := requestPrefix + key
	// A String attribute must be UTF-8; the SDK would silently replace bad
	// bytes, and a replay must republish exactly what was published.
	if !utf8.Valid(outcome) {
		return resizer.Errorf(resizer.CodeInvalidRequest, "",
			"DynamoDB table %q: complete %q: the outcome is not valid UTF-8", d.table, id)
	}
	item := map[string]types.AttributeValue{
		attrID:         str(id),
		attrStatus:     str(resizer.StateCompleted),
		attrExpiration: num(expires.Unix()),
	}
	setStr(item, attrDataHash, dataHash)
	setStr(item, attrOutcome, string(outcome))
	_, err := d.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(d.table),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#id) OR #exp < :nowSec OR #status <> :completed"),
		ExpressionAttributeNames: names("#id", "#exp", "#status"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":nowSec":    num(d.now().Unix()),
			":completed": str(resizer.StateCompleted),
		},
	})
	if isConditionFailed(err) {
		return nil
	}
	if err != nil {
		return d.fail("complete", id, err)
	}
	return nil
}

// Release implements resizer.Store; a completed record stays.
func (d *DynamoDB) Release(ctx context.Context, key string) error {
	id := requestPrefix + key
	_, err := d.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(d.table),
		Key:                       map[string]types.AttributeValue{attrID: str(id)},
		ConditionExpression:       aws.String("#status = :inProgress"),
		ExpressionAttributeNames:  names("#status"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":inProgress": str(resizer.StateInProgress)},
	})
	if isConditionFailed(err) {
		return nil
	}
	if err != nil {
		return d.fail("release", id, err)
	}
	return nil
}

// LastResize implements resizer.Store.
func (d *DynamoDB) LastResize(ctx context.Context, instanceKey string) (time.Time, error) {
	id := cooldownPrefix + instanceKey
	item, err := d.get(ctx, id)
	if err != nil {
		return time.Time{}, d.fail("last resize", id, err)
	}
	if item == nil {
		return time.Time{}, nil
	}
	exp, err := d.number(item, attrExpiration, id)
	if err != nil {
		return time.Time{}, err
	}
	if exp < d.now().Unix() {
		return time.Time{}, nil
	}
	at, err := d.number(item, attrResizedAt, id)
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(at).UTC(), nil
}

// RecordResize implements resizer.Store. A live mark of a later resize is
// kept, so a late writer cannot shorten the cooldown.
func (d *DynamoDB) RecordResize(ctx context.Context, instanceKey string, at, expires time.Time) error {
	id := cooldownPrefix + instanceKey
	_, err := d.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(d.table),
		Item: map[string]types.AttributeValue{
			attrID:         str(id),
			attrResizedAt:  num(at.UnixMilli()),
			attrExpiration: num(expires.Unix()),
		},
		ConditionExpression:      aws.String("attribute_not_exists(#id) OR #exp < :nowSec OR #at <= :at"),
		ExpressionAttributeNames: names("#id", "#exp", "#at"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":nowSec": num(d.now().Unix()),
			":at":     num(at.UnixMilli()),
		},
	})
	if isConditionFailed(err) {
		return nil
	}
	if err != nil {
		return d.fail("record resize", id, err)
	}
	return nil
}

// get reads an item with a consistent read: a claim just refused must see
// the record that refused it. It returns nil for no item.
func (d *DynamoDB) get(ctx context.Context, id string) (map[string]types.AttributeValue, error) {
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(d.table),
		Key:            map[string]types.AttributeValue{attrID: str(id)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, err
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	return out.Item, nil
}

func (d *DynamoDB) decodeRecord(key string, item map[string]types.AttributeValue) (*resizer.Record, error) {
	id := requestPrefix + key
	rec := &resizer.Record{Key: key}
	rec.State = stringAttr(item, attrStatus)
	if rec.State != resizer.StateInProgress && rec.State != resizer.StateCompleted {
		return nil, d.corrupt(id, fmt.Sprintf("status %q", rec.State))
	}
	rec.DataHash = stringAttr(item, attrDataHash)
	if o := stringAttr(item, attrOutcome); o != "" {
		rec.Outcome = []byte(o)
	}
	exp, err := d.number(item, attrExpiration, id)
	if err != nil {
		return nil, err
	}
	rec.Expires = time.Unix(exp, 0).UTC()
	if rec.State == resizer.StateInProgress {
		lease, err := d.number(item, attrLeaseUntil, id)
		if err != nil {
			return nil, err
		}
		rec.LeaseUntil = time.UnixMilli(lease).UTC()
	}
	return rec, nil
}

// number reads a required Number attribute as an integer.
func (d *DynamoDB) number(item map[string]types.AttributeValue, name, id string) (int64, error) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, d.corrupt(id, "no number "+name)
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0, d.corrupt(id, fmt.Sprintf("%s %q is not an integer", name, v.Value))
	}
	return n, nil
}

// corrupt reports an item this code did not write. It is retryable like any
// store failure: nothing ran, and an operator can delete the item.
func (d *DynamoDB) corrupt(id, what string) *resizer.Error {
	return resizer.Errorf(resizer.CodeUnavailable, "",
		"DynamoDB table %q: item %q is not a resizer record: %s", d.table, id, what)
}

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// setStr sets a String attribute unless s is empty: an absent attribute
// reads back as "" and needs no server that accepts empty strings.
func setStr(item map[string]types.AttributeValue, name, s string) {
	if s != "" {
		item[name] = str(s)
	}
}
