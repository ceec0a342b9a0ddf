package samschema

import (
	"bytes"
	_ "embed"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dlclark/regexp2"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// matchTimeout bounds one pattern match: the schema's patterns are small,
// and a backtracking blow-up should fail the check, not hang the test run.
const matchTimeout = 5 * time.Second

// Schema is a compiled JSON Schema whose patterns are ECMAScript regular
// expressions, as JSON Schema specifies. The SAM schema needs that: it
// tells SAM resources from plain CloudFormation ones with a look-ahead
// (^(?!AWS::Serverless::).+$), which Go's regexp cannot compile.
type Schema struct {
	name string // for messages
	s    *jsonschema.Schema
	// byType maps a resource Type to the definition for it, so that an error
	// can name what is wrong with that resource instead of listing why it is
	// not each of the dozen resource kinds the schema's anyOf offers.
	byType map[string]*jsonschema.Schema
}

// Compile reads and compiles the schema at path. The draft comes from the
// schema's $schema (draft-04 for SAM).
func Compile(path string) (*Schema, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	s, err := compile(path, abs, raw)
	if err != nil {
		return nil, err
	}
	s.name = filepath.Base(path)
	return s, nil
}

// samSchema is the official SAM schema, vendored beside this file (see
// README.md here for its origin and licence), so that the template is held
// to it from the repository alone.
//
//go:embed sam.schema.json
var samSchema []byte

// SAM compiles the vendored SAM schema.
func SAM() (*Schema, error) {
	// A URL no loader serves: every $ref of the schema is to itself, and
	// nothing should be read from disk on its behalf.
	return compile("sam.schema.json", "mem:///samschema/sam.schema.json", samSchema)
}

// compile compiles raw, known to the compiler as url and to messages as
// name.
func compile(name, url string, raw []byte) (*Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := jsonschema.NewCompiler()
	c.UseRegexpEngine(ecmaScript)
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	byType, err := resourceSchemas(c, url, doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Schema{name: name, s: s, byType: byType}, nil
}

// resourceSchemas finds the definitions the SAM schema offers for
// Resources (properties.Resources.additionalProperties.anyOf) that pin a
// single Type, and compiles each. A schema without that layout yields none.
func resourceSchemas(c *jsonschema.Compiler, url string, doc any) (map[string]*jsonschema.Schema, error) {
	anyOf, _ := dig(doc, "properties", "Resources", "additionalProperties", "anyOf").([]any)
	out := map[string]*jsonschema.Schema{}
	for _, alt := range anyOf {
		ref, _ := dig(alt, "$ref").(string)
		name, ok := strings.CutPrefix(ref, "#/definitions/")
		if !ok {
			continue
		}
		enum, _ := dig(doc, "definitions", name, "properties", "Type", "enum").([]any)
		if len(enum) != 1 {
			continue
		}
		typ, ok := enum[0].(string)
		if !ok {
			continue
		}
		sch, err := c.Compile(url + ref)
		if err != nil {
			return nil, err
		}
		out[typ] = sch
	}
	return out, nil
}

func dig(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// Validate checks a JSON document (such as ToJSON's output) against the
// schema. The error lists every violation with its location in the
// document.
func (s *Schema) Validate(doc []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("document is not JSON: %w", err)
	}
	err = s.s.Validate(v)
	if err == nil {
		return nil
	}
	if focused := s.focus(v); focused != "" {
		return fmt.Errorf("does not match %s:\n%s", s.name, focused)
	}
	return fmt.Errorf("does not match %s: %w", s.name, err)
}

// focus validates each resource against the definition for its Type and
// reports those failures alone; empty when that explains nothing (an unknown
// Type, or a problem outside Resources), and the whole report is due.
func (s *Schema) focus(doc any) string {
	res, _ := dig(doc, "Resources").(map[string]any)
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(res)) {
		typ, _ := dig(res[name], "Type").(string)
		sch, ok := s.byType[typ]
		if !ok {
			continue
		}
		if err := sch.Validate(res[name]); err != nil {
			fmt.Fprintf(&b, "Resources.%s (%s): %v\n", name, typ, err)
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

type ecmaRegexp regexp2.Regexp

// MatchString reports a match; a match that errs (only a timeout can) counts
// as no match, so a pathological pattern fails validation rather than
// passing it.
func (re *ecmaRegexp) MatchString(s string) bool {
	ok, err := (*regexp2.Regexp)(re).MatchString(s)
	return err == nil && ok
}

func (re *ecmaRegexp) String() string { return (*regexp2.Regexp)(re).String() }

func ecmaScript(pattern string) (jsonschema.Regexp, error) {
	re, err := regexp2.Compile(pattern, regexp2.ECMAScript)
	if err != nil {
		return nil, err
	}
	re.MatchTimeout = matchTimeout
	return (*ecmaRegexp)(re), nil
}
