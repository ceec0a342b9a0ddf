package testkit

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// Obj is a decoded JSON (or converted YAML) mapping.
type Obj = map[string]any

// At walks mapping keys and fails the test naming the first missing one.
func At(t testing.TB, v any, path ...string) any {
	t.Helper()
	for i, k := range path {
		m, ok := v.(Obj)
		if !ok {
			t.Fatalf("%s is %T, not a mapping", strings.Join(path[:i], "."), v)
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("%s is missing", strings.Join(path[:i+1], "."))
		}
	}
	return v
}

// SameJSON compares a decoded value with the JSON it should be.
func SameJSON(t testing.TB, what string, got any, wantJSON string) {
	t.Helper()
	var want any
	if err := json.Unmarshal([]byte(wantJSON), &want); err != nil {
		t.Fatalf("bad expectation %s: %v", wantJSON, err)
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		t.Errorf("%s = %s, want %s", what, g, wantJSON)
	}
}
