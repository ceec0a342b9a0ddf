package jdcloud

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzDecodeResponse feeds any status and body to DecodeResponse for every
// result shape the client asks for, then through the mapping to the
// domain's types: nothing may panic, and the answer must be either a
// success for a 2xx or an *APIError that tells the status it was given.
// The single-pass decode must also agree with the two-pass one it replaced
// (decodeTwoPass, the oracle). Seeds (real answers and broken ones) live in
// testdata/fuzz/FuzzDecodeResponse; run longer with
// `go test -fuzz FuzzDecodeResponse ./jdcloud/`.
func FuzzDecodeResponse(f *testing.F) {
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		var (
			inst  describeInstanceResult
			types describeInstanceTypesResult
			image describeImageConstraintsResult
		)
		checkDecode[struct{}](t, "stopInstance", status, body, nil)
		checkDecode(t, "describeInstance", status, body, &inst)
		checkDecode(t, "describeInstanceTypes", status, body, &types)
		checkDecode(t, "describeImageConstraints", status, body, &image)
		// Whatever decoded must map without panicking.
		if inst.Instance != nil {
			if in := inst.Instance.toInstance(); in.NICs < 0 || len(in.DataDisks) != len(inst.Instance.DataDisks) {
				t.Fatalf("bad mapping %+v", in)
			}
		}
		for i := range types.InstanceTypes {
			if it := types.InstanceTypes[i].toInstanceType(); it.InStock == nil {
				t.Fatal("InStock map is nil")
			}
		}
		if ic := image.toImageConstraints("img-seed0001"); ic.ImageID == "" {
			t.Fatal("image constraints lost the image id")
		}
	})
}

// checkDecode decodes body into res and compares with the oracle.
func checkDecode[T any](t *testing.T, op string, status int, body []byte, res *T) {
	t.Helper()
	rid, err := DecodeResponse(op, status, body, res)
	var want *T
	if res != nil {
		want = new(T)
	}
	wantRID, wantErr := decodeTwoPass(op, status, body, want)
	if rid != wantRID || (err == nil) != (wantErr == nil) {
		t.Fatalf("%s %d: single pass %q, %v; two passes %q, %v", op, status, rid, err, wantRID, wantErr)
	}
	if err == nil {
		if status < 200 || status > 299 {
			t.Fatalf("%s: status %d decoded as a success", op, status)
		}
		// Repeated result keys (any case, or escaped) merge in one pass
		// where two passes keep the last: not JD's answers, not compared.
		if res != nil && !reflect.DeepEqual(*res, *want) && !repeatsResult(body) {
			t.Fatalf("%s: single pass decoded %+v, two passes %+v", op, *res, *want)
		}
		return
	}
	var ae, we *APIError
	if !errors.As(err, &ae) || !errors.As(wantErr, &we) {
		t.Fatalf("%s: error %T is not an *APIError", op, err)
	}
	if ae.HTTPStatus != status || ae.Op != op || ae.Error() == "" {
		t.Fatalf("%s: APIError %+v does not tell the op and status %d", op, ae, status)
	}
	if ae.Malformed() && ae.Status != "" {
		t.Fatalf("%s: a malformed answer claims JD status %q", op, ae.Status)
	}
	if ae.Malformed() != we.Malformed() || ae.Status != we.Status || ae.RequestID != we.RequestID ||
		(!ae.Malformed() && ae.Message != we.Message) {
		t.Fatalf("%s: single pass %+v, two passes %+v", op, ae, we)
	}
}

func repeatsResult(body []byte) bool {
	l := bytes.ToLower(body)
	return bytes.Count(l, []byte(`"result"`)) > 1 || bytes.Contains(l, []byte(`\u`))
}

// decodeTwoPass is the decode DecodeResponse replaced: the envelope with a
// raw result, then the result again. It is the fuzz oracle.
func decodeTwoPass(op string, status int, body []byte, result any) (string, error) {
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return "", malformed(op, status, "", body, errors.New("not a JSON object"))
	}
	var env struct {
		RequestID string          `json:"requestId"`
		Result    json.RawMessage `json:"result"`
		Error     *wireError      `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return "", malformed(op, status, "", body, err)
	}
	if env.Error != nil && *env.Error != (wireError{}) {
		msg := clip(env.Error.Message, maxMessageLen)
		if msg == "" {
			msg = "(no message)"
		}
		return env.RequestID, &APIError{Op: op, HTTPStatus: status, Status: env.Error.Status, Message: msg, RequestID: env.RequestID}
	}
	if status < 200 || status > 299 {
		return env.RequestID, malformed(op, status, env.RequestID, body, errors.New("error status without an error member"))
	}
	if result == nil || reflect.ValueOf(result).IsNil() {
		return env.RequestID, nil
	}
	if len(env.Result) == 0 || bytes.Equal(env.Result, []byte("null")) {
		return env.RequestID, malformed(op, status, env.RequestID, body, errors.New("no result member"))
	}
	if err := json.Unmarshal(env.Result, result); err != nil {
		return env.RequestID, malformed(op, status, env.RequestID, body, err)
	}
	return env.RequestID, nil
}
