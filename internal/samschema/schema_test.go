package samschema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeSchema(t *testing.T, schema string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "schema.json")
	if err := os.WriteFile(p, []byte(schema), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSchemaValidates(t *testing.T) {
	// The three properties stand for what the SAM schema relies on: a
	// look-ahead (Go's regexp cannot compile it), ECMAScript's ASCII-only \d
	// (.NET's, regexp2's default, matches any Unicode digit), and draft-04's
	// boolean exclusiveMaximum (a schema error in later drafts).
	s, err := Compile(writeSchema(t, `{
		"$schema": "http://json-schema.org/draft-04/schema#",
		"type": "object",
		"properties": {
			"Type": {"type": "string", "pattern": "^(?!AWS::Serverless::).+$"},
			"Digits": {"type": "string", "pattern": "^\\d+$"},
			"Small": {"type": "integer", "maximum": 5, "exclusiveMaximum": true}
		},
		"additionalProperties": false
	}`))
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	tests := []struct {
		name, doc string
		valid     bool
	}{
		{"plain CloudFormation type", `{"Type": "AWS::SQS::Queue"}`, true},
		{"serverless type refused by the look-ahead", `{"Type": "AWS::Serverless::Function"}`, false},
		{"ASCII digits", `{"Digits": "0123"}`, true},
		{"Arabic-Indic digits are not \\d in ECMAScript", `{"Digits": "١٢٣"}`, false},
		{"below an exclusive maximum", `{"Small": 4}`, true},
		{"at an exclusive maximum", `{"Small": 5}`, false},
		{"unknown property", `{"Other": 1}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Validate([]byte(tt.doc))
			if tt.valid && err != nil {
				t.Errorf("Validate(%s) = %v, want valid", tt.doc, err)
			}
			if !tt.valid && err == nil {
				t.Errorf("Validate(%s) = nil, want a violation", tt.doc)
			}
		})
	}
}

func TestSchemaErrors(t *testing.T) {
	if _, err := Compile(filepath.Join(t.TempDir(), "absent.json")); err == nil {
		t.Error("Compile of a missing file succeeded")
	}
	if _, err := Compile(writeSchema(t, `{"type": `)); err == nil {
		t.Error("Compile of truncated JSON succeeded")
	}
	if _, err := Compile(writeSchema(t, `{"pattern": "("}`)); err == nil {
		t.Error("Compile of a schema with a broken pattern succeeded")
	}
	s, err := Compile(writeSchema(t, `{"type": "object"}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate([]byte(`{"a":`)); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Errorf("Validate of truncated JSON = %v, want a 'not JSON' error", err)
	}
	err = s.Validate([]byte(`[1]`))
	if err == nil || !strings.Contains(err.Error(), "schema.json") {
		t.Errorf("Validate of a violation = %v, want an error naming the schema", err)
	}
}

func TestSchemaNamesTheFailingResource(t *testing.T) {
	// The SAM schema's layout: Resources is an anyOf of one definition per
	// resource Type, plus a catch-all for non-SAM types.
	s, err := Compile(writeSchema(t, `{
		"$schema": "http://json-schema.org/draft-04/schema#",
		"definitions": {
			"Fn": {"type": "object", "additionalProperties": false, "required": ["Type"], "properties": {
				"Type": {"enum": ["My::Function"]},
				"Properties": {"type": "object", "additionalProperties": false, "properties": {"Runtime": {}}}}},
			"Table": {"type": "object", "additionalProperties": false, "required": ["Type"], "properties": {
				"Type": {"enum": ["My::Table"]},
				"Properties": {"type": "object"}}},
			"Other": {"type": "object", "required": ["Type"], "properties": {"Type": {"pattern": "^(?!My::)"}}}
		},
		"type": "object",
		"properties": {"Resources": {"type": "object", "additionalProperties": {"anyOf": [
			{"$ref": "#/definitions/Fn"}, {"$ref": "#/definitions/Table"}, {"$ref": "#/definitions/Other"}]}}}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	ok := `{"Resources": {"F": {"Type": "My::Function", "Properties": {"Runtime": "x"}}, "Q": {"Type": "AWS::SQS::Queue"}}}`
	if err := s.Validate([]byte(ok)); err != nil {
		t.Fatalf("valid document refused: %v", err)
	}

	err = s.Validate([]byte(`{"Resources": {
		"Good": {"Type": "My::Table"},
		"Bad": {"Type": "My::Function", "Properties": {"Runtimes": "x"}}}}`))
	if err == nil {
		t.Fatal("unknown property accepted")
	}
	msg := err.Error()
	if !strings.Contains(msg, "Resources.Bad (My::Function)") || !strings.Contains(msg, "'Runtimes' not allowed") {
		t.Errorf("error does not name the resource and its fault:\n%s", msg)
	}
	if strings.Contains(msg, "Good") || strings.Contains(msg, "My::Table") {
		t.Errorf("error lists the other resource kinds instead of the fault:\n%s", msg)
	}

	// A Type no definition pins: the whole report is the only explanation.
	err = s.Validate([]byte(`{"Resources": {"Bad": {"Type": "My::Functon"}}}`))
	if err == nil || !strings.Contains(err.Error(), "anyOf") {
		t.Errorf("misspelt type: error %v, want the full anyOf report", err)
	}
}

func TestSAMIsTheVendoredSchema(t *testing.T) {
	s, err := SAM()
	if err != nil {
		t.Fatalf("SAM: %v", err)
	}
	// The per-type definitions are what makes its errors readable; the
	// vendored file must still have the layout resourceSchemas expects.
	for _, typ := range []string{"AWS::Serverless::Function", "AWS::Serverless::Api", "AWS::Serverless::SimpleTable"} {
		if s.byType[typ] == nil {
			t.Errorf("no definition for %s in the vendored schema", typ)
		}
	}
	ok := `{"Transform": "AWS::Serverless-2016-10-31", "Resources": {"F": {"Type": "AWS::Serverless::Function",
		"Properties": {"Runtime": "provided.al2023", "Handler": "bootstrap", "CodeUri": "."}}}}`
	if err := s.Validate([]byte(ok)); err != nil {
		t.Errorf("a minimal function refused: %v", err)
	}
	bad := `{"Resources": {"F": {"Type": "AWS::Serverless::Function", "Properties": {"Runtimes": "x"}}}}`
	err = s.Validate([]byte(bad))
	if err == nil || !strings.Contains(err.Error(), "sam.schema.json") || !strings.Contains(err.Error(), "Resources.F") {
		t.Errorf("unknown property: %v, want an error naming sam.schema.json and Resources.F", err)
	}
}
