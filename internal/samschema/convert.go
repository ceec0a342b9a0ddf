// Package samschema holds a CloudFormation/SAM template to the official SAM
// JSON Schema in tests: it turns template YAML, short-form intrinsic tags
// included, into the JSON that CloudFormation itself would see, and validates
// that JSON with ECMAScript regular expressions, which the schema needs.
//
// It exists because the ready-made parsers are lossy (goformation drops event
// properties it does not know, such as FunctionResponseTypes) and a schema
// check is only worth having if it sees the template as written.
package samschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"

	"gopkg.in/yaml.v3"
)

// maxNodes bounds the work of expanding YAML aliases: a few nested aliases
// can otherwise stand for billions of nodes ("billion laughs"). Real
// templates are far below it.
const maxNodes = 1 << 20

// maxDepth bounds nesting, which also stops an alias that contains itself.
const maxDepth = 512

// ToJSON converts a CloudFormation template written in YAML to JSON: short
// form intrinsic tags (!Ref, !GetAtt, !Sub, …) become their long forms
// ({"Ref": …}, {"Fn::GetAtt": […]}, {"Fn::Sub": …}), aliases are expanded,
// and YAML timestamps stay text, as CloudFormation keeps them (an unquoted
// AWSTemplateFormatVersion: 2010-09-09 is a string). Anything JSON cannot
// say, or CloudFormation would refuse, is an error naming the line:
// duplicate keys, merge keys (<<), unknown tags, an intrinsic of the wrong
// shape or arity, NaN or infinite numbers, more than one document.
func ToJSON(src []byte) ([]byte, error) {
	v, err := Decode(src)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Keep <, > and & as written: templates carry them in patterns and
	// descriptions, and escaping them would only make the JSON harder to read.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Decode is ToJSON without the encoding: the template as the values
// encoding/json would produce (map[string]any, []any, string, bool, nil,
// and int64, uint64 or float64 for numbers).
func Decode(src []byte) (map[string]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("template is empty")
		}
		return nil, err
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, fmt.Errorf("line %d: a template is one YAML document, found another", next.Line)
	case !errors.Is(err, io.EOF):
		return nil, err
	}
	c := &converter{}
	v, err := c.value(&doc, 0)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("line %d: a template is a mapping, found %s", doc.Line, kindName(doc.Content[0]))
	}
	return m, nil
}

type converter struct {
	nodes int
}

// value converts one node, dispatching on its tag first: a short-form
// intrinsic may tag a scalar, a sequence or a mapping.
func (c *converter) value(n *yaml.Node, depth int) (any, error) {
	c.nodes++
	if c.nodes > maxNodes {
		return nil, fmt.Errorf("line %d: template expands to more than %d nodes (alias bomb?)", n.Line, maxNodes)
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("line %d: nesting deeper than %d (recursive alias?)", n.Line, maxDepth)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return nil, errors.New("template is empty")
		}
		return c.value(n.Content[0], depth+1)
	case yaml.AliasNode:
		return c.value(n.Alias, depth+1)
	}
	if fn, ok := intrinsics[n.Tag]; ok {
		return c.intrinsic(n, fn, depth)
	}
	// A custom tag on a collection would otherwise pass as plain data and
	// hide a typo such as !GetAttr.
	if (n.Kind == yaml.MappingNode && n.Tag != "!!map") || (n.Kind == yaml.SequenceNode && n.Tag != "!!seq") {
		return nil, fmt.Errorf("line %d: unknown tag %s (short-form intrinsics: %s)", n.Line, n.Tag, tagList())
	}
	return c.plain(n, depth)
}

// plain converts a node ignoring any intrinsic tag on it (its children are
// converted with theirs). A tagged scalar is the tag's argument, so it is
// the text as written: !Ref 42 refers to "42".
func (c *converter) plain(n *yaml.Node, depth int) (any, error) {
	switch n.Kind {
	case yaml.MappingNode:
		return c.mapping(n, depth)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			v, err := c.value(item, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.ScalarNode:
		if _, ok := intrinsics[n.Tag]; ok {
			return n.Value, nil
		}
		return scalar(n)
	case yaml.AliasNode:
		return c.plain(n.Alias, depth+1)
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node kind %d", n.Line, n.Kind)
}

func (c *converter) mapping(n *yaml.Node, depth int) (map[string]any, error) {
	out := make(map[string]any, len(n.Content)/2)
	lines := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode {
			k = k.Alias
		}
		if k.Tag == "!!merge" {
			// CloudFormation does not implement YAML merge keys; accepting
			// them here would validate a template that cannot deploy.
			return nil, fmt.Errorf("line %d: merge keys (<<) are not supported by CloudFormation", k.Line)
		}
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: a mapping key must be a scalar, found %s", k.Line, kindName(k))
		}
		if _, ok := intrinsics[k.Tag]; ok {
			return nil, fmt.Errorf("line %d: %s cannot be a mapping key", k.Line, k.Tag)
		}
		if first, dup := lines[k.Value]; dup {
			return nil, fmt.Errorf("line %d: duplicate key %q (first on line %d)", k.Line, k.Value, first)
		}
		lines[k.Value] = k.Line
		val, err := c.value(v, depth+1)
		if err != nil {
			return nil, err
		}
		out[k.Value] = val
	}
	return out, nil
}

// scalar resolves an untagged (or standard-tagged) scalar the way YAML 1.2's
// core schema does, which is what yaml.v3 implements.
func scalar(n *yaml.Node) (any, error) {
	switch n.Tag {
	case "!!str", "!!timestamp", "!!binary":
		return n.Value, nil
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return b, nil
	case "!!int":
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		switch x := v.(type) {
		case int:
			return int64(x), nil
		case int64, uint64, float64:
			return x, nil
		}
		return nil, fmt.Errorf("line %d: integer %q out of range", n.Line, n.Value)
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("line %d: %q has no JSON form", n.Line, n.Value)
		}
		return f, nil
	}
	return nil, fmt.Errorf("line %d: unknown tag %s (short-form intrinsics: %s)", n.Line, n.Tag, tagList())
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return "a scalar"
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}
