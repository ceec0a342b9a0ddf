package trigger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jdcloud-vm-resizer/resizer"
)

// errNotJSON stops the walk; the shape's own decoder reports bad JSON.
var errNotJSON = errors.New("invalid JSON")

// maxDepth matches encoding/json's nesting limit, which every payload that
// reaches the walk has already passed; it bounds the recursion regardless.
const maxDepth = 10000

// duplicateKey finds the first object key, at any depth of a Lambda
// payload, that its object already has. Readers disagree on which of two
// equal keys counts (encoding/json keeps the last, others the first or
// refuse), so whoever filtered or logged the event upstream may have seen
// another request than the one we would run: such a payload is refused,
// not guessed at. AWS never repeats a key in the envelopes it builds, so
// only a crafted payload is refused.
func duplicateKey(payload []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	key, err := walkValue(dec, 0)
	return key, err == nil && key != ""
}

// walkValue consumes one JSON value and returns the first duplicate key
// inside it, "" when there is none.
func walkValue(dec *json.Decoder, depth int) (string, error) {
	if depth > maxDepth {
		return "", errNotJSON
	}
	tok, err := dec.Token()
	if err != nil {
		return "", errNotJSON
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return "", nil
	}
	switch d {
	case '{':
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return "", errNotJSON
			}
			key, ok := tok.(string)
			if !ok {
				return "", errNotJSON
			}
			if seen[key] {
				return key, nil
			}
			seen[key] = true
			if dup, err := walkValue(dec, depth+1); dup != "" || err != nil {
				return dup, err
			}
		}
	case '[':
		for dec.More() {
			if dup, err := walkValue(dec, depth+1); dup != "" || err != nil {
				return dup, err
			}
		}
	default:
		return "", errNotJSON
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return "", errNotJSON
	}
	return "", nil
}

// duplicateKeyError names the repeated key, quoted and shortened: it is
// the sender's text.
func duplicateKeyError(key string) error {
	return fmt.Errorf("the key %s appears more than once in one object", resizer.Quote(key))
}
