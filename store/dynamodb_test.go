package store_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/dynalite"
	"github.com/jdcloud-vm-resizer/resizer/store"
	"github.com/jdcloud-vm-resizer/resizer/store/storetest"
)

func TestDynamoDB(t *testing.T) {
	storetest.Run(t, func(t *testing.T) resizer.Store {
		client, table := newTable(t)
		return store.NewDynamoDB(client, table)
	})
}

// getRaw reads an item as DynamoDB (and its TTL) sees it.
func getRaw(t *testing.T, client *dynamodb.Client, table, id string) map[string]types.AttributeValue {
	t.Helper()
	out, err := client.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("GetItem %s: %v", id, err)
	}
	if out.Item == nil {
		t.Fatalf("no item %s", id)
	}
	return out.Item
}

// wantAttr checks one attribute's type and value; attribute types are
// strings "S"/"N" so a Number written as a String is caught.
func wantAttr(t *testing.T, item map[string]types.AttributeValue, name, typ, value string) {
	t.Helper()
	var gotTyp, got string
	switch v := item[name].(type) {
	case *types.AttributeValueMemberS:
		gotTyp, got = "S", v.Value
	case *types.AttributeValueMemberN:
		gotTyp, got = "N", v.Value
	case nil:
		gotTyp = "absent"
	default:
		gotTyp = "other"
	}
	if gotTyp != typ || got != value {
		t.Errorf("%s = %s %q, want %s %q", name, gotTyp, got, typ, value)
	}
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// TestDynamoDBLayout checks the table layout the contract fixes: the TTL
// reads `expiration` as a Number of epoch seconds, the expires passed in.
func TestDynamoDBLayout(t *testing.T) {
	client, table := newTable(t)
	s := store.NewDynamoDB(client, table)
	ctx := t.Context()
	expires := time.Now().Add(24 * time.Hour).Truncate(time.Second)
	lease := time.Now().Add(time.Hour).Truncate(time.Millisecond)

	if rec, err := s.Claim(ctx, "src/id-1", "hash-1", lease, expires); rec != nil || err != nil {
		t.Fatalf("Claim: %v, %v", rec, err)
	}
	item := getRaw(t, client, table, "req#src/id-1")
	wantAttr(t, item, "id", "S", "req#src/id-1")
	wantAttr(t, item, "expiration", "N", itoa(expires.Unix()))
	wantAttr(t, item, "status", "S", "in_progress")
	wantAttr(t, item, "dataHash", "S", "hash-1")
	wantAttr(t, item, "leaseUntil", "N", itoa(lease.UnixMilli()))

	later := expires.Add(time.Hour)
	if err := s.Complete(ctx, "src/id-1", "hash-1", []byte(`{"id":"x"}`), later); err != nil {
		t.Fatal(err)
	}
	item = getRaw(t, client, table, "req#src/id-1")
	wantAttr(t, item, "expiration", "N", itoa(later.Unix()))
	wantAttr(t, item, "status", "S", "completed")
	wantAttr(t, item, "outcome", "S", `{"id":"x"}`)
	wantAttr(t, item, "leaseUntil", "absent", "")

	at := time.Now().Truncate(time.Millisecond)
	if err := s.RecordResize(ctx, "cn-north-1/i-abc123", at, expires); err != nil {
		t.Fatal(err)
	}
	item = getRaw(t, client, table, "cooldown#cn-north-1/i-abc123")
	wantAttr(t, item, "expiration", "N", itoa(expires.Unix()))
	wantAttr(t, item, "resizedAt", "N", itoa(at.UnixMilli()))
}

// TestDynamoDBFleetLayout checks the fleet state's items as the table
// holds them (dynamodb_fleet.go).
func TestDynamoDBFleetLayout(t *testing.T) {
	client, table := newTable(t)
	s := store.NewDynamoDB(client, table)
	ctx := t.Context()
	lease := time.Now().Add(time.Hour).Truncate(time.Second).Add(250 * time.Millisecond)

	if err := s.Hold(ctx, "cn-north-1/i-1", "d1", lease, 1); err != nil {
		t.Fatal(err)
	}
	item := getRaw(t, client, table, "hold#cn-north-1/i-1")
	wantAttr(t, item, "holder", "S", "d1")
	wantAttr(t, item, "leaseUntil", "N", itoa(lease.UnixMilli()))
	wantAttr(t, item, "expiration", "N", itoa(lease.Unix()+1))
	wantAttr(t, item, "slot", "N", "0")
	item = getRaw(t, client, table, "slot#0")
	wantAttr(t, item, "holder", "S", "d1")
	wantAttr(t, item, "instance", "S", "cn-north-1/i-1")
	wantAttr(t, item, "leaseUntil", "N", itoa(lease.UnixMilli()))
	wantAttr(t, item, "expiration", "N", itoa(lease.Unix()+1))
	if err := s.Unhold(ctx, "cn-north-1/i-1", "d1"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"hold#cn-north-1/i-1", "slot#0"} {
		out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
			Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}}, ConsistentRead: aws.Bool(true)})
		if err != nil || out.Item != nil {
			t.Errorf("%s after Unhold: %v %v", id, out.Item, err)
		}
	}

	window, expires := t0, time.Now().Add(2*time.Hour).Truncate(time.Second)
	if _, _, err := s.Take(ctx, "resizes", window, 3, expires); err != nil {
		t.Fatal(err)
	}
	item = getRaw(t, client, table, "count#resizes#"+itoa(window.Unix()))
	wantAttr(t, item, "n", "N", "1")
	wantAttr(t, item, "expiration", "N", itoa(expires.Unix()))

	approvalExpires := time.Now().Add(24 * time.Hour).Truncate(time.Millisecond)
	if err := s.PutHeld(ctx, resizer.Held{ID: "ap-1", Request: []byte{0, 0xff, '{'}, Expires: approvalExpires}); err != nil {
		t.Fatal(err)
	}
	item = getRaw(t, client, table, "held#ap-1")
	wantAttr(t, item, "expiresAt", "N", itoa(approvalExpires.UnixMilli()))
	wantAttr(t, item, "expiration", "N", itoa(approvalExpires.Add(24*time.Hour).Unix()))
	if b, ok := item["request"].(*types.AttributeValueMemberB); !ok || string(b.Value) != "\x00\xff{" {
		t.Errorf("request = %#v, want Binary of the exact bytes", item["request"])
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestDynamoDBClockBoundaries drives the store's clock against the real
// server's conditions: an item is live through its expiration second (TTL
// deletion lags, so the condition decides), a lease through its millisecond.
func TestDynamoDBClockBoundaries(t *testing.T) {
	client, table := newTable(t)
	s := store.NewDynamoDB(client, table)
	var now atomic.Pointer[time.Time]
	s.Now = func() time.Time { return *now.Load() }
	set := func(t time.Time) { now.Store(&t) }
	ctx := t.Context()
	claim := func(key string) *resizer.Record {
		t.Helper()
		rec, err := s.Claim(ctx, key, "h", t0.Add(time.Hour), t0.Add(2*time.Hour))
		if err != nil {
			t.Fatalf("Claim(%q) at %v: %v", key, *now.Load(), err)
		}
		return rec
	}

	set(t0)
	if err := s.Complete(ctx, "expiring", "h", []byte("{}"), t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	set(t0.Add(time.Minute + 999*time.Millisecond))
	if claim("expiring") == nil {
		t.Error("record gone within its expiration second")
	}
	set(t0.Add(time.Minute + time.Second))
	if claim("expiring") != nil {
		t.Error("record past its expiration still refuses a claim")
	}

	set(t0)
	if rec, err := s.Claim(ctx, "leased", "h", t0.Add(time.Second), t0.Add(time.Hour)); rec != nil || err != nil {
		t.Fatalf("Claim: %v, %v", rec, err)
	}
	set(t0.Add(time.Second))
	if claim("leased") == nil {
		t.Error("claim taken over at the last millisecond of its lease")
	}
	set(t0.Add(time.Second + time.Millisecond))
	if claim("leased") != nil {
		t.Error("claim past its lease not taken over")
	}

	set(t0)
	if err := s.RecordResize(ctx, "i", t0, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	set(t0.Add(time.Minute))
	if at, err := s.LastResize(ctx, "i"); err != nil || !at.Equal(t0) {
		t.Errorf("LastResize in its expiration second = %v, %v; want %v", at, err, t0)
	}
	set(t0.Add(time.Minute + time.Second))
	if at, err := s.LastResize(ctx, "i"); err != nil || !at.IsZero() {
		t.Errorf("LastResize past expiration = %v, %v; want zero", at, err)
	}
}

// TestDynamoDBHoldClockBoundary: a hold, and its fleet slot, is live
// through the last millisecond of its lease and taken over after it.
func TestDynamoDBHoldClockBoundary(t *testing.T) {
	client, table := newTable(t)
	s := store.NewDynamoDB(client, table)
	var now atomic.Pointer[time.Time]
	s.Now = func() time.Time { return *now.Load() }
	set := func(t time.Time) { now.Store(&t) }
	ctx := t.Context()

	set(t0)
	if err := s.Hold(ctx, "i", "first", t0.Add(time.Second), 1); err != nil {
		t.Fatal(err)
	}
	set(t0.Add(time.Second))
	if err := s.Hold(ctx, "i", "second", t0.Add(time.Hour), 1); resizer.ErrorCode(err) != resizer.CodeUnavailable {
		t.Errorf("hold taken over at the last millisecond of its lease: %v", err)
	}
	if err := s.Hold(ctx, "j", "second", t0.Add(time.Hour), 1); resizer.ErrorCode(err) != resizer.CodeUnavailable {
		t.Errorf("slot taken over at the last millisecond of its lease: %v", err)
	}
	set(t0.Add(time.Second + time.Millisecond))
	if err := s.Hold(ctx, "i", "second", t0.Add(time.Hour), 1); err != nil {
		t.Errorf("hold past its lease not taken over: %v", err)
	}
}

// scripted wraps the real client to act out what dynalite cannot: a server
// that returns the item on a failed condition, throttling, and races.
type scripted struct {
	store.DynamoAPI
	put  func(ctx context.Context, in *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error)
	gets atomic.Int64
	// staleGets counts reads that could miss the write that refused a claim.
	staleGets atomic.Int64
}

func (s *scripted) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if s.put != nil {
		return s.put(ctx, in)
	}
	return s.DynamoAPI.PutItem(ctx, in, opts...)
}

func (s *scripted) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	s.gets.Add(1)
	if in.ConsistentRead == nil || !*in.ConsistentRead {
		s.staleGets.Add(1)
	}
	return s.DynamoAPI.GetItem(ctx, in, opts...)
}

func TestDynamoDBClaimUsesTheItemOfAFailedCondition(t *testing.T) {
	client, table := newTable(t)
	seed := store.NewDynamoDB(client, table)
	lease, expires := time.Now().Add(time.Hour).Truncate(time.Millisecond), time.Now().Add(24*time.Hour).Truncate(time.Second)
	if rec, err := seed.Claim(t.Context(), "k", "first", lease, expires); rec != nil || err != nil {
		t.Fatalf("Claim: %v, %v", rec, err)
	}

	// What DynamoDB does with ReturnValuesOnConditionCheckFailure=ALL_OLD.
	api := &scripted{DynamoAPI: client}
	api.put = func(ctx context.Context, in *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
		if in.ReturnValuesOnConditionCheckFailure != types.ReturnValuesOnConditionCheckFailureAllOld {
			t.Errorf("claim did not ask for the existing item: %q", in.ReturnValuesOnConditionCheckFailure)
		}
		out, err := client.PutItem(ctx, in)
		var failed *types.ConditionalCheckFailedException
		if errors.As(err, &failed) {
			failed.Item = getRaw(t, client, table, in.Item["id"].(*types.AttributeValueMemberS).Value)
		}
		return out, err
	}
	rec, err := store.NewDynamoDB(api, table).Claim(t.Context(), "k", "second", lease, expires)
	if err != nil || rec == nil || rec.DataHash != "first" || !rec.LeaseUntil.Equal(lease) || !rec.Expires.Equal(expires) {
		t.Fatalf("Claim = %+v, %v; want the first claim's record", rec, err)
	}
	if n := api.gets.Load(); n != 0 {
		t.Errorf("claim read the item %d times although the failed condition carried it", n)
	}
}

// A claim refused by a record that lapses or goes before the store can read
// it (DynamoDB without ALL_OLD, or dynalite) must claim again, not report
// the dead record.
func TestDynamoDBClaimWhenTheRecordLapsesBeforeItIsRead(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name string
		seed func(s *store.DynamoDB) error // what the refused PutItem then reads
	}{
		{"record vanished", func(*store.DynamoDB) error { return nil }},
		{"record expired", func(s *store.DynamoDB) error {
			_, err := s.Claim(context.Background(), "k", "old", now.Add(time.Hour), now.Add(-time.Hour))
			return err
		}},
		{"lease lapsed", func(s *store.DynamoDB) error {
			_, err := s.Claim(context.Background(), "k", "old", now.Add(-time.Hour), now.Add(time.Hour))
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, table := newTable(t)
			if err := tt.seed(store.NewDynamoDB(client, table)); err != nil {
				t.Fatal(err)
			}
			api := &scripted{DynamoAPI: client}
			refusals := 1
			api.put = func(ctx context.Context, in *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
				if refusals > 0 {
					refusals--
					return nil, &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
				}
				return client.PutItem(ctx, in)
			}
			s := store.NewDynamoDB(api, table)
			if rec, err := s.Claim(t.Context(), "k", "new", now.Add(time.Hour), now.Add(24*time.Hour)); rec != nil || err != nil {
				t.Fatalf("Claim = %+v, %v; want it taken", rec, err)
			}
			wantAttr(t, getRaw(t, client, table, "req#k"), "dataHash", "S", "new")
			if api.gets.Load() != 1 {
				t.Errorf("claim read the record %d times, want once", api.gets.Load())
			}
			if n := api.staleGets.Load(); n != 0 {
				t.Errorf("claim read the record without ConsistentRead %d times", n)
			}
		})
	}

	t.Run("record never holds still", func(t *testing.T) {
		_, table := newTable(t)
		api := &scripted{DynamoAPI: server(t).Client(), put: func(context.Context, *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
			return nil, &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
		}}
		_, err := store.NewDynamoDB(api, table).Claim(t.Context(), "k", "h", now.Add(time.Hour), now.Add(time.Hour))
		if e := resizer.ErrorFrom(context.Background(), "", err); err == nil || e.Code != resizer.CodeUnavailable || !strings.Contains(e.Message, table) {
			t.Errorf("Claim = %v; want unavailable naming the table", err)
		}
	})
}

func TestDynamoDBErrors(t *testing.T) {
	_, table := newTable(t)
	srv := server(t)
	// A listener of our own that hangs up on every connection: a fixed
	// "closed" port can be taken by anything on a shared machine.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	closed := func(o *dynamodb.Options) { o.BaseEndpoint = aws.String("http://" + ln.Addr().String()) }
	oneTry := func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 }
	throttled := &scripted{DynamoAPI: srv.Client(), put: func(context.Context, *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
		return nil, &types.ProvisionedThroughputExceededException{Message: aws.String("Rate of requests exceeds the allowed throughput")}
	}}
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()

	tests := []struct {
		name     string
		api      store.DynamoAPI
		table    string
		ctx      context.Context
		wantCode resizer.Code
		wantText string
	}{
		{"missing table", srv.Client(oneTry), "no-such-table", t.Context(), resizer.CodeUnavailable, "ResourceNotFoundException"},
		{"connection dropped", srv.Client(closed, oneTry), table, t.Context(), resizer.CodeUnavailable, ""},
		{"throttled", throttled, table, t.Context(), resizer.CodeUnavailable, "ProvisionedThroughputExceededException"},
		{"deadline passed", srv.Client(), table, expired, resizer.CodeTimeout, "deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := store.NewDynamoDB(tt.api, tt.table).Claim(tt.ctx, "k", "h", time.Now().Add(time.Hour), time.Now().Add(time.Hour))
			var e *resizer.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want a *resizer.Error", err, err)
			}
			if e.Code != tt.wantCode || !e.Retryable() {
				t.Errorf("code %s, want retryable %s", e.Code, tt.wantCode)
			}
			for _, want := range []string{`"` + tt.table + `"`, "claim", tt.wantText} {
				if want != "" && !strings.Contains(e.Error(), want) {
					t.Errorf("error %q does not mention %q", e.Error(), want)
				}
			}
			if strings.Contains(e.Error(), dynalite.SecretAccessKey) {
				t.Errorf("error carries the secret key: %q", e.Error())
			}
		})
	}
}

func TestDynamoDBRejectsAForeignItem(t *testing.T) {
	client, table := newTable(t)
	_, err := client.PutItem(t.Context(), &dynamodb.PutItemInput{
		TableName: aws.String(table),
		Item: map[string]types.AttributeValue{
			"id":         &types.AttributeValueMemberS{Value: "req#k"},
			"status":     &types.AttributeValueMemberS{Value: "INPROGRESS"},
			"expiration": &types.AttributeValueMemberN{Value: "99999999999"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.NewDynamoDB(client, table).Claim(t.Context(), "k", "h", time.Now().Add(time.Hour), time.Now().Add(time.Hour))
	if e := resizer.ErrorFrom(context.Background(), "", err); err == nil || e.Code != resizer.CodeUnavailable || !strings.Contains(e.Message, `"INPROGRESS"`) {
		t.Errorf("Claim over a foreign item: %v; want unavailable naming what is wrong", err)
	}
}

func TestDynamoDBRejectsAnOutcomeThatIsNotUTF8(t *testing.T) {
	client, table := newTable(t)
	err := store.NewDynamoDB(client, table).Complete(t.Context(), "k", "h", []byte{'{', 0xff, '}'}, time.Now().Add(time.Hour))
	if resizer.ErrorCode(err) != resizer.CodeInvalidRequest {
		t.Errorf("Complete with invalid UTF-8: %v; want invalid_request rather than silently altered bytes", err)
	}
}
