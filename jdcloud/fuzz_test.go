package jdcloud

import (
	"errors"
	"testing"
)

// FuzzDecodeResponse feeds any status and body to DecodeResponse for every
// result shape the client asks for, then through the mapping to the
// domain's types: nothing may panic, and the answer must be either a
// success for a 2xx or an *APIError that tells the status it was given.
// Seeds (real answers and broken ones) live in
// testdata/fuzz/FuzzDecodeResponse; run longer with
// `go test -fuzz FuzzDecodeResponse ./jdcloud/`.
func FuzzDecodeResponse(f *testing.F) {
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		var (
			inst  describeInstanceResult
			types describeInstanceTypesResult
			image describeImageConstraintsResult
		)
		results := []struct {
			op  string
			res any
		}{
			{"stopInstance", nil},
			{"describeInstance", &inst},
			{"describeInstanceTypes", &types},
			{"describeImageConstraints", &image},
		}
		for _, r := range results {
			_, err := DecodeResponse(r.op, status, body, r.res)
			if err == nil {
				if status < 200 || status > 299 {
					t.Fatalf("%s: status %d decoded as a success", r.op, status)
				}
				continue
			}
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("%s: error %T is not an *APIError", r.op, err)
			}
			if ae.HTTPStatus != status || ae.Op != r.op || ae.Error() == "" {
				t.Fatalf("%s: APIError %+v does not tell the op and status %d", r.op, ae, status)
			}
			if ae.Malformed() && ae.Status != "" {
				t.Fatalf("%s: a malformed answer claims JD status %q", r.op, ae.Status)
			}
		}
		// Whatever decoded, even partly, must map without panicking.
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
