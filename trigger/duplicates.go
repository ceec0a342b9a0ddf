package trigger

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/jsonscan"
)

// maxDepth is the scanner's nesting limit, encoding/json's.
const maxDepth = jsonscan.MaxDepth

// keysInline is where the scanner moves from pairwise comparison to a set.
const keysInline = jsonscan.KeysInline

// duplicateKey finds the first object key, at any depth of a Lambda
// payload, that its object already has (jsonscan.DuplicateKey): such a
// payload is refused, not guessed at, since whoever filtered or logged the
// event upstream may have seen another request than the one we would run.
// AWS never repeats a key in the envelopes it builds, so only a crafted
// payload is refused. It answers what the json.Decoder.Token walk it
// replaced answered (duplicates_test.go keeps that walk as the fuzz
// oracle), except for two misses of the walk's: a repeated empty key is a
// duplicate too, and a number beyond float64's range (valid JSON) no
// longer ends the search.
func duplicateKey(payload []byte) (string, bool) { return jsonscan.DuplicateKey(payload) }

// duplicateKeyError names the repeated key, quoted and shortened: it is
// the sender's text.
func duplicateKeyError(key string) error {
	return fmt.Errorf("the key %s appears more than once in one object", resizer.Quote(key))
}

// topLevel parses raw as one JSON object and returns its members (each
// value's bytes, sharing raw's memory). Unlike encoding/json (last wins) and
// the sdk's parser, it refuses duplicate keys: two "id"s would let
// different readers see different requests. Duplicates inside data are
// ParseRequest's to name.
func topLevel(raw []byte) (map[string]json.RawMessage, error) {
	top, err := jsonscan.Object(raw)
	var dup *jsonscan.DuplicateError
	if errors.As(err, &dup) {
		return nil, fmt.Errorf("duplicate key %s", resizer.Quote(dup.Key))
	}
	return top, err
}

// jsonString decodes raw when it is a JSON string, as encoding/json would.
func jsonString(raw json.RawMessage) (string, bool) { return jsonscan.String(raw) }
