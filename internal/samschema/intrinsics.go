package samschema

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// shape is the set of YAML node kinds an intrinsic accepts as its argument.
type shape uint8

const (
	scalarArg shape = 1 << iota
	sequenceArg
	mappingArg
)

// intrinsic describes one short-form tag: its long form and the argument
// CloudFormation accepts. Checking shape and arity here catches mistakes the
// SAM schema cannot, since it passes most property values through untyped.
type intrinsic struct {
	name     string
	shapes   shape
	min, max int // list arity when the argument is a sequence
}

var intrinsics = map[string]intrinsic{
	"!Ref":       {"Ref", scalarArg, 0, 0},
	"!Condition": {"Condition", scalarArg, 0, 0},
	"!GetAtt":    {"Fn::GetAtt", scalarArg | sequenceArg, 2, 2},
	"!Sub":       {"Fn::Sub", scalarArg | sequenceArg, 2, 2},
	"!If":        {"Fn::If", sequenceArg, 3, 3},
	"!Equals":    {"Fn::Equals", sequenceArg, 2, 2},
	"!Not":       {"Fn::Not", sequenceArg, 1, 1},
	"!And":       {"Fn::And", sequenceArg, 2, 10},
	"!Or":        {"Fn::Or", sequenceArg, 2, 10},
	"!Join":      {"Fn::Join", sequenceArg, 2, 2},
	"!Select":    {"Fn::Select", sequenceArg, 2, 2},
	"!Split":     {"Fn::Split", sequenceArg, 2, 2},
	// The fourth argument is the DefaultValue of AWS::LanguageExtensions.
	"!FindInMap":   {"Fn::FindInMap", sequenceArg, 3, 4},
	"!Cidr":        {"Fn::Cidr", sequenceArg, 3, 3},
	"!ImportValue": {"Fn::ImportValue", scalarArg | mappingArg, 0, 0},
	"!Base64":      {"Fn::Base64", scalarArg | mappingArg, 0, 0},
	"!GetAZs":      {"Fn::GetAZs", scalarArg | mappingArg, 0, 0},
}

func (fn intrinsic) accepts(k yaml.Kind) bool {
	switch k {
	case yaml.ScalarNode:
		return fn.shapes&scalarArg != 0
	case yaml.SequenceNode:
		return fn.shapes&sequenceArg != 0
	case yaml.MappingNode:
		return fn.shapes&mappingArg != 0
	}
	return false
}

func (fn intrinsic) want() string {
	var s []string
	if fn.shapes&scalarArg != 0 {
		s = append(s, "a scalar")
	}
	if fn.shapes&sequenceArg != 0 {
		s = append(s, "a sequence")
	}
	if fn.shapes&mappingArg != 0 {
		s = append(s, "a mapping")
	}
	return strings.Join(s, " or ")
}

// intrinsic converts a node tagged with a short-form intrinsic into its long
// form, a one-key mapping.
func (c *converter) intrinsic(n *yaml.Node, fn intrinsic, depth int) (any, error) {
	if !fn.accepts(n.Kind) {
		return nil, fmt.Errorf("line %d: %s takes %s, found %s", n.Line, n.Tag, fn.want(), kindName(n))
	}
	if n.Kind == yaml.SequenceNode && (len(n.Content) < fn.min || len(n.Content) > fn.max) {
		arity := fmt.Sprint(fn.min)
		if fn.max != fn.min {
			arity = fmt.Sprintf("%d to %d", fn.min, fn.max)
		}
		return nil, fmt.Errorf("line %d: %s takes %s arguments, found %d", n.Line, n.Tag, arity, len(n.Content))
	}
	if n.Tag == "!GetAtt" && n.Kind == yaml.ScalarNode {
		// Resource.Attribute, where the attribute may itself contain dots
		// (Outputs.Name of a nested stack): only the first dot separates.
		res, attr, ok := strings.Cut(n.Value, ".")
		if !ok || res == "" || attr == "" {
			return nil, fmt.Errorf("line %d: !GetAtt %q is not Resource.Attribute", n.Line, n.Value)
		}
		return map[string]any{fn.name: []any{res, attr}}, nil
	}
	arg, err := c.plain(n, depth)
	if err != nil {
		return nil, err
	}
	return map[string]any{fn.name: arg}, nil
}

func tagList() string {
	tags := make([]string, 0, len(intrinsics))
	for t := range intrinsics {
		tags = append(tags, t)
	}
	slices.Sort(tags)
	return strings.Join(tags, " ")
}
