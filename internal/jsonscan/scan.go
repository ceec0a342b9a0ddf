// Package jsonscan is a strict (RFC 8259), allocation-light JSON reader
// that finds repeated object keys in one pass over the bytes, comparing keys
// as encoding/json decodes them (escapes resolved, invalid UTF-8 and lone
// surrogates as U+FFFD), so that "\u0069d" and "id" are one key. Readers
// disagree on which of two equal keys counts (encoding/json keeps the last,
// others the first, some refuse), so a payload that repeats one may mean
// different requests to different readers: the trigger and the request
// parser refuse such payloads with what this package finds.
package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth matches encoding/json's nesting limit, which every payload that
// reaches the scan must pass anyway; it also bounds the recursion.
const MaxDepth = 10000

// DuplicateKey finds the first object key, at any depth, that its object
// already has. It reads the payload's first JSON value; JSON that turns
// invalid before a duplicate is found has none (the payload's own decoder
// reports it). A string, number or literal nested deeper than MaxDepth is
// invalid too.
func DuplicateKey(payload []byte) (string, bool) {
	s := scanner{b: payload, nested: true, primitiveDepth: true}
	s.skipSpace()
	if !s.value(0) && s.dup != nil {
		return string(s.dup), true
	}
	return "", false
}

// Errors of Object.
var (
	ErrInvalid   = errors.New("invalid JSON")
	ErrNotObject = errors.New("JSON value is not an object")
	ErrTrailing  = errors.New("trailing data after the JSON object")
)

// DuplicateError is Object's refusal of a repeated key.
type DuplicateError struct{ Key string }

func (e *DuplicateError) Error() string { return "duplicate key " + e.Key }

// Object parses raw as exactly one JSON object and returns its members,
// each value's bytes sharing raw's memory. A key repeated at the top level
// is a *DuplicateError; repeats inside the values are not looked for.
func Object(raw []byte) (map[string]json.RawMessage, error) {
	s := scanner{b: raw}
	s.skipSpace()
	if s.i >= len(s.b) {
		return nil, ErrInvalid
	}
	if c := s.b[s.i]; c != '{' {
		if c == '[' || s.value(0) {
			return nil, ErrNotObject
		}
		return nil, ErrInvalid
	}
	top := make(map[string]json.RawMessage, 12)
	ok := s.members(0, true, func(k, v []byte) { top[string(k)] = v })
	switch {
	case s.dup != nil:
		return nil, &DuplicateError{Key: string(s.dup)}
	case !ok:
		return nil, ErrInvalid
	}
	s.skipSpace()
	if s.i != len(s.b) {
		return nil, ErrTrailing
	}
	return top, nil
}

// String decodes raw when it is exactly one JSON string, as encoding/json
// would; null, which encoding/json would quietly accept for a string, is
// not one.
func String(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	sc := scanner{b: raw}
	contents, plain, ok := sc.str()
	if !ok || sc.i != len(raw) {
		return "", false
	}
	if plain {
		return string(contents), true
	}
	return string(unquote(contents)), true
}

// scanner is a strict, allocation-light JSON reader that records each
// object's keys to find repeats. A value method returns false when the
// input is not JSON (dup nil) or a duplicate key was found (dup set).
type scanner struct {
	b []byte
	i int
	// nested: look for duplicates in every object, not only the one the
	// caller walks itself.
	nested bool
	// primitiveDepth: a string, number or literal nested deeper than
	// MaxDepth is an error too, not only a container (the Token walk's rule;
	// encoding/json's scanner counts containers only).
	primitiveDepth bool
	dup            []byte
	// keys holds the keys seen so far per open object, by depth, reused
	// from one object to the next; sets takes over for large objects.
	keys [][][]byte
	sets []map[string]struct{}
}

// KeysInline is how many keys an object compares pairwise before a set
// takes over: payloads' objects are small, and a set costs an allocation.
const KeysInline = 16

func (s *scanner) skipSpace() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value reads one value at s.i (no leading space) nested in depth
// containers.
func (s *scanner) value(depth int) bool {
	if s.i >= len(s.b) {
		return false
	}
	c := s.b[s.i]
	if depth > MaxDepth && (s.primitiveDepth || c == '{' || c == '[') {
		return false
	}
	switch c {
	case '{':
		return s.object(depth)
	case '[':
		return s.array(depth)
	case '"':
		_, _, ok := s.str()
		return ok
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		return s.number()
	}
}

func (s *scanner) literal(lit string) bool {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		return false
	}
	s.i += len(lit)
	return true
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *scanner) number() bool {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return false
		}
		for ; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return false
		}
		for ; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	s.i = i
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// str reads a string at s.i (on its opening quote) and returns its
// contents between the quotes; plain says they are its decoded form as
// they stand (no escape, valid UTF-8).
func (s *scanner) str() (raw []byte, plain, ok bool) {
	b := s.b
	start := s.i + 1
	plain = true
	for i := start; i < len(b); {
		c := b[i]
		switch {
		case c == '"':
			s.i = i + 1
			return b[start:i], plain, true
		case c == '\\':
			plain = false
			if i+1 >= len(b) {
				return nil, false, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex4(b[i+2:i+6]) {
					return nil, false, false
				}
				i += 6
			default:
				return nil, false, false
			}
		case c < 0x20:
			return nil, false, false
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				plain = false // decodes to U+FFFD
			}
			i += size
		}
	}
	return nil, false, false
}

func isHex4(h []byte) bool {
	for _, c := range h {
		if !isHex(c) {
			return false
		}
	}
	return true
}

// hex4 reads four hex digits (isHex and unhex are binary.go's).
func hex4(h []byte) rune {
	var r rune
	for _, c := range h {
		r = r<<4 | rune(unhex(c))
	}
	return r
}

// unquote decodes the contents of a valid JSON string as encoding/json
// does: escapes resolved, a surrogate pair joined, a lone surrogate and
// each byte of invalid UTF-8 replaced by U+FFFD.
func unquote(raw []byte) []byte {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\':
			switch raw[i+1] {
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r := hex4(raw[i+2 : i+6])
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := utf8.RuneError
					if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
						r2 = hex4(raw[i+2 : i+6])
					}
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				out = utf8.AppendRune(out, r)
				continue
			default: // '"', '\\', '/'
				out = append(out, raw[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, raw[i:i+size]...)
			}
			i += size
		}
	}
	return out
}

// key reads an object key and returns it decoded.
func (s *scanner) key() ([]byte, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	raw, plain, ok := s.str()
	if !ok {
		return nil, false
	}
	if plain {
		return raw, true
	}
	return unquote(raw), true
}

// seen records k among the keys of the object open at depth and reports
// whether it was already there.
func (s *scanner) seen(depth int, k []byte) bool {
	for len(s.keys) <= depth {
		s.keys = append(s.keys, nil)
		s.sets = append(s.sets, nil)
	}
	if set := s.sets[depth]; set != nil {
		if _, ok := set[string(k)]; ok {
			return true
		}
		set[string(k)] = struct{}{}
		return false
	}
	for _, o := range s.keys[depth] {
		if bytes.Equal(o, k) {
			return true
		}
	}
	if len(s.keys[depth]) < KeysInline {
		s.keys[depth] = append(s.keys[depth], k)
		return false
	}
	set := make(map[string]struct{}, 2*KeysInline)
	for _, o := range s.keys[depth] {
		set[string(o)] = struct{}{}
	}
	set[string(k)] = struct{}{}
	s.sets[depth] = set
	return false
}

// forget clears the keys of the object that closed at depth.
func (s *scanner) forget(depth int) {
	if depth < len(s.keys) {
		s.keys[depth] = s.keys[depth][:0]
		s.sets[depth] = nil
	}
}

// object reads an object, looking for duplicates when nested says so.
func (s *scanner) object(depth int) bool {
	return s.members(depth, s.nested, nil)
}

// members reads the object at s.i. With check, a repeated key stops it
// (dup set). each, when not nil, is called with every decoded key and the
// value's bytes.
func (s *scanner) members(depth int, check bool, each func(key, value []byte)) bool {
	s.i++ // '{'
	if check {
		defer s.forget(depth)
	}
	s.skipSpace()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return true
	}
	for {
		k, ok := s.key()
		if !ok {
			return false
		}
		if check && s.seen(depth, k) {
			s.dup = k
			return false
		}
		s.skipSpace()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		s.skipSpace()
		start := s.i
		if !s.value(depth + 1) {
			return false
		}
		if each != nil {
			each(k, s.b[start:s.i])
		}
		if more, ok := s.next('}'); !more {
			return ok
		}
	}
}

func (s *scanner) array(depth int) bool {
	s.i++ // '['
	s.skipSpace()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return true
	}
	for {
		if !s.value(depth + 1) {
			return false
		}
		if more, ok := s.next(']'); !more {
			return ok
		}
	}
}

// next reads what follows a member or an element: a comma, after which
// more comes, or close, which ends the object or array. ok is false for
// anything else.
func (s *scanner) next(close byte) (more, ok bool) {
	s.skipSpace()
	if s.i >= len(s.b) {
		return false, false
	}
	switch s.b[s.i] {
	case ',':
		s.i++
		s.skipSpace()
		return true, true
	case close:
		s.i++
		return false, true
	}
	return false, false
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
