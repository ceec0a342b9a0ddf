package trigger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"testing"
)

// tokenWalkDuplicate is the duplicate-key walk the byte scanner replaced,
// kept as its oracle: json.Decoder.Token over the first value, stopping at
// the first repeated key. Two changes fix what the old walk missed:
// UseNumber (it decoded every number into a float64, so one beyond its
// range, 1e999, ended the walk as invalid JSON and hid any later duplicate,
// where encoding/json's syntax check and the scanner accept the number),
// and a repeated empty key counts (it took "" for "no duplicate").
func tokenWalkDuplicate(payload []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var key string
	found, err := tokenWalk(dec, 0, &key)
	return key, err == nil && found
}

var errWalkNotJSON = errors.New("invalid JSON")

func tokenWalk(dec *json.Decoder, depth int, dup *string) (bool, error) {
	if depth > maxDepth {
		return false, errWalkNotJSON
	}
	tok, err := dec.Token()
	if err != nil {
		return false, errWalkNotJSON
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return false, nil
	}
	switch d {
	case '{':
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return false, errWalkNotJSON
			}
			key, ok := tok.(string)
			if !ok {
				return false, errWalkNotJSON
			}
			if seen[key] {
				*dup = key
				return true, nil
			}
			seen[key] = true
			if found, err := tokenWalk(dec, depth+1, dup); found || err != nil {
				return found, err
			}
		}
	case '[':
		for dec.More() {
			if found, err := tokenWalk(dec, depth+1, dup); found || err != nil {
				return found, err
			}
		}
	default:
		return false, errWalkNotJSON
	}
	if _, err := dec.Token(); err != nil {
		return false, errWalkNotJSON
	}
	return false, nil
}

// tokenTopLevel is the Token-based topLevel the scanner replaced, kept as
// its oracle, with UseNumber for the reason tokenWalkDuplicate gives (a
// top-level 1e999 is "not an object", not "invalid JSON").
func tokenTopLevel(raw []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, errors.New("invalid JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("JSON value is not an object")
	}
	top := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("invalid JSON")
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errors.New("invalid JSON")
		}
		if _, dup := top[key]; dup {
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, errors.New("invalid JSON")
		}
		top[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, errors.New("invalid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON object")
	}
	return top, nil
}

// compareWithOracles checks the scanner's two uses against the walks.
func compareWithOracles(t *testing.T, payload []byte) {
	t.Helper()
	key, dup := duplicateKey(payload)
	wantKey, wantDup := tokenWalkDuplicate(payload)
	if key != wantKey || dup != wantDup {
		t.Fatalf("duplicateKey(%q) = %q, %v; the Token walk says %q, %v", payload, key, dup, wantKey, wantDup)
	}
	top, err := topLevel(payload)
	wantTop, wantErr := tokenTopLevel(payload)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) {
		t.Fatalf("topLevel(%q): error %v; the Token walk says %v", payload, err, wantErr)
	}
	if !maps.EqualFunc(top, wantTop, func(a, b json.RawMessage) bool { return bytes.Equal(a, b) }) {
		t.Fatalf("topLevel(%q) = %q; the Token walk says %q", payload, top, wantTop)
	}
}

// duplicateSeeds cover what the scanner must get right: escapes in keys,
// nesting, every kind of value, and JSON that turns invalid.
var duplicateSeeds = []string{
	`{"a":1,"b":2}`,
	`{"a":1,"a":2}`,
	`{"a":{"b":1,"b":2}}`,
	`[{"x":1},{"x":1}]`,
	`{"a":[1,{"c":true,"c":false}]}`,
	`{"\u0069d":"x","id":"y"}`,
	`{"\ud83d\ude00":1,"😀":2}`,
	`{"\ud83d":1,"\ufffd":2}`,
	`{"\ud83d\u0041":1,"\ufffdA":2}`,
	`{"\ud83d\ud83d":1,"\ufffd\ufffd":2}`,
	"{\"\xff\":1,\"\ufffd\":2}",
	"{\"\xef\xbf\xbd\":1,\"\xff\":2}",
	`{"a\/b":1,"a/b":2}`,
	`{"a\"b":1,"a\\b":2,"a\"b":3}`,
	`{"\b\f\n\r\t":1,"\u0008\u000c\u000a\u000d\u0009":2}`,
	`{"A":1,"a":2}`,
	`{"a":1,"a"`,
	`{"a":1,"a" x`,
	`{"a":1,}`,
	`{,"a":1}`,
	`{"a" 1}`,
	`{1:2}`,
	`{"a":01,"a":2}`,
	`{"a":-0.5e+10,"b":1E-2,"b":3}`,
	`{"a":1e999,"a":2}`,
	`{"a":1.,"a":2}`,
	`{"a":-,"a":2}`,
	`{"a":tru,"a":2}`,
	`{"a":truex,"a":2}`,
	`{"a":nul}`,
	"{\"a\":\"\x01\",\"a\":2}",
	`{"a":"\x","a":2}`,
	`{"a":"\u12","a":2}`,
	`{"a":"\'","a":2}`,
	`[1 2]`,
	`[,1]`,
	`[1,]`,
	`{"a":1} {"a":1,"a":2}`,
	`{"a":1,"a":2} trailing`,
	` 	{"a" : 1 , "a" : 2 } `,
	"\ufeff{\"a\":1,\"a\":2}",
	`"just a string"`,
	`123abc`,
	`12.`,
	`[`,
	``,
	`   `,
	`null`,
	`{}`,
	`[]`,
	`{"":1,"":2}`,
	`{"specversion":"1.0","id":"a","source":"s","type":"t","data":{"x":1,"x":2}}`,
}

func TestDuplicateKeyMatchesTokenWalk(t *testing.T) {
	for _, s := range duplicateSeeds {
		compareWithOracles(t, []byte(s))
	}
}

func TestDuplicateKeyFinds(t *testing.T) {
	cases := map[string]string{
		`{"\u0069d":"x","id":"y"}`:                    "id",
		`{"a":[{"b":{"c":1,"c":2}}]}`:                 "c",
		`{"\ud83d\ude00":1,"😀":2}`:                    "😀",
		`{"a":{"x":1},"b":{"x":1},"a":0}`:             "a",
		`{"a":1e999,"a":2}`:                           "a",
		"{\"\xff\":1,\"\ufffd\":2}":                   "\ufffd",
		`[{"k":1},{"k":2},{"k":{"k":3,"j":4,"k":5}}]`: "k",
		`{"":1,"":2}`:                                 "",
	}
	for in, want := range cases {
		if got, ok := duplicateKey([]byte(in)); !ok || got != want {
			t.Errorf("duplicateKey(%s) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// TestDuplicateKeyLargeObject crosses from pairwise comparison to a set.
func TestDuplicateKeyLargeObject(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range 3 * keysInline {
		fmt.Fprintf(&b, `"k%d":{"k%d":%d},`, i, i, i)
	}
	b.WriteString(`"k0":0}`)
	compareWithOracles(t, []byte(b.String()))
	if k, ok := duplicateKey([]byte(b.String())); !ok || k != "k0" {
		t.Fatalf("got %q, %v", k, ok)
	}
	// The set of one object must not leak into a sibling.
	sib := `[{` + strings.Repeat(`"a":1,`, 0) + keysObject(2*keysInline) + `},{` + keysObject(2*keysInline) + `}]`
	compareWithOracles(t, []byte(sib))
	if _, ok := duplicateKey([]byte(sib)); ok {
		t.Fatal("siblings' keys were mixed up")
	}
}

func keysObject(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"k%d":%d`, i, i)
	}
	return strings.Join(parts, ",")
}

// TestDuplicateKeyDepth: the walk's depth rule, for containers and for
// values nested deeper than maxDepth.
func TestDuplicateKeyDepth(t *testing.T) {
	deep := func(n int, inner string) []byte {
		return []byte(strings.Repeat("[", n) + inner + strings.Repeat("]", n))
	}
	for _, n := range []int{maxDepth, maxDepth + 1, maxDepth + 2} {
		for _, inner := range []string{``, `1`, `{"a":1,"a":2}`} {
			p := deep(n, inner)
			compareWithOracles(t, p)
			// After the deep part: still found, or not, as the walk says.
			q := []byte(`[` + string(p) + `,{"z":1,"z":2}]`)
			compareWithOracles(t, q)
		}
	}
	obj := []byte(`{"data":` + strings.Repeat("[", maxDepth) + `1` + strings.Repeat("]", maxDepth) + `}`)
	compareWithOracles(t, obj)
}

// FuzzDuplicateKey compares the byte scanner with the Token walks it
// replaced, on any input: the same first duplicate (or none), and the same
// top-level members or error.
func FuzzDuplicateKey(f *testing.F) {
	for _, s := range duplicateSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		compareWithOracles(t, payload)
	})
}

func BenchmarkDuplicateKey(b *testing.B) {
	payload := []byte(`{"Records":[{"messageId":"059f36b4-87a3-44ab-83d2-661975830a7d","receiptHandle":"AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",` +
		`"body":"{\"specversion\":\"1.0\",\"id\":\"r-1\",\"source\":\"s\",\"type\":\"com.jdcloud.vm.resize.requested\",\"data\":{\"regionId\":\"cn-north-1\",\"instanceId\":\"i-abc123xyz\",\"instanceType\":\"g.n2.large\"}}",` +
		`"attributes":{"ApproximateReceiveCount":"1","SentTimestamp":"1545082649183","SenderId":"AIDAIENQZJOLO23YVJ4VO","ApproximateFirstReceiveTimestamp":"1545082649185"},` +
		`"messageAttributes":{},"md5OfBody":"e4e68fb7bd0e697a0ae8f1bb342846b3","eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-2:123456789012:my-queue","awsRegion":"us-east-2"}]}`)
	for _, impl := range []struct {
		name string
		fn   func([]byte) (string, bool)
	}{{"scanner", duplicateKey}, {"token-walk", tokenWalkDuplicate}} {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, dup := impl.fn(payload); dup {
					b.Fatal("duplicate")
				}
			}
		})
	}
}

// jsonString must read a string exactly as encoding/json does.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{`"a"`, `"\u0069d"`, `"\ud83d"`, "\"\xff\"", `"a" `, `"a"x`, `null`, `"\x"`, `"`, `""`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, ok := jsonString(raw)
		var want string
		trimmed := bytes.TrimSpace(raw)
		wantOK := len(trimmed) > 0 && trimmed[0] == '"' && json.Unmarshal(trimmed, &want) == nil
		if ok != wantOK || got != want {
			t.Fatalf("jsonString(%q) = %q, %v; encoding/json: %q, %v", raw, got, ok, want, wantOK)
		}
	})
}
