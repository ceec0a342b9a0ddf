package samschema

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestToJSONIntrinsics(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"Ref", `a: !Ref Bucket`, `{"a":{"Ref":"Bucket"}}`},
		{"Ref argument stays text", `a: !Ref 42`, `{"a":{"Ref":"42"}}`},
		{"Condition", `a: !Condition IsProd`, `{"a":{"Condition":"IsProd"}}`},
		{"GetAtt dotted", `a: !GetAtt Fn.Arn`, `{"a":{"Fn::GetAtt":["Fn","Arn"]}}`},
		{"GetAtt splits at the first dot only", `a: !GetAtt Stack.Outputs.Url`, `{"a":{"Fn::GetAtt":["Stack","Outputs.Url"]}}`},
		{"GetAtt list", `a: !GetAtt [Fn, Arn]`, `{"a":{"Fn::GetAtt":["Fn","Arn"]}}`},
		{"GetAtt list with a Ref", `a: !GetAtt [Fn, !Ref Attr]`, `{"a":{"Fn::GetAtt":["Fn",{"Ref":"Attr"}]}}`},
		{"Sub string", `a: !Sub "arn:${AWS::Partition}:s3:::${B}"`, `{"a":{"Fn::Sub":"arn:${AWS::Partition}:s3:::${B}"}}`},
		{"Sub list", "a: !Sub\n  - ${X}-${Y}\n  - X: !Ref P\n    Y: z", `{"a":{"Fn::Sub":["${X}-${Y}",{"X":{"Ref":"P"},"Y":"z"}]}}`},
		{"If with NoValue", `a: !If [C, !Ref A, !Ref AWS::NoValue]`, `{"a":{"Fn::If":["C",{"Ref":"A"},{"Ref":"AWS::NoValue"}]}}`},
		{"condition functions nest", `c: !And [!Not [!Equals [!Ref P, ""]], !Or [!Condition A, !Condition B]]`,
			`{"c":{"Fn::And":[{"Fn::Not":[{"Fn::Equals":[{"Ref":"P"},""]}]},{"Fn::Or":[{"Condition":"A"},{"Condition":"B"}]}]}}`},
		{"Join Select Split", `a: !Join ["-", [!Select [0, !Split [",", !Ref L]], x]]`,
			`{"a":{"Fn::Join":["-",[{"Fn::Select":[0,{"Fn::Split":[",",{"Ref":"L"}]}]},"x"]]}}`},
		{"FindInMap", `a: !FindInMap [M, !Ref AWS::Region, Ami]`, `{"a":{"Fn::FindInMap":["M",{"Ref":"AWS::Region"},"Ami"]}}`},
		{"FindInMap with default", `a: !FindInMap [M, K, V, {DefaultValue: d}]`, `{"a":{"Fn::FindInMap":["M","K","V",{"DefaultValue":"d"}]}}`},
		{"ImportValue scalar", `a: !ImportValue net-VpcId`, `{"a":{"Fn::ImportValue":"net-VpcId"}}`},
		{"ImportValue mapping", `a: !ImportValue {"Fn::Sub": "${Net}-VpcId"}`, `{"a":{"Fn::ImportValue":{"Fn::Sub":"${Net}-VpcId"}}}`},
		{"Base64", `a: !Base64 "#!/bin/sh"`, `{"a":{"Fn::Base64":"#!/bin/sh"}}`},
		{"GetAZs empty", `a: !GetAZs ''`, `{"a":{"Fn::GetAZs":""}}`},
		{"GetAZs mapping", `a: !GetAZs {Ref: AWS::Region}`, `{"a":{"Fn::GetAZs":{"Ref":"AWS::Region"}}}`},
		{"Cidr", `a: !Cidr [!Ref Block, 6, 8]`, `{"a":{"Fn::Cidr":[{"Ref":"Block"},6,8]}}`},
		{"long forms pass through", "a:\n  Fn::GetAtt: [Fn, Arn]", `{"a":{"Fn::GetAtt":["Fn","Arn"]}}`},
		{"intrinsic in a sequence", "a:\n  - !Ref X\n  - y", `{"a":[{"Ref":"X"},"y"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ToJSON([]byte(tt.yaml))
			if err != nil {
				t.Fatalf("ToJSON: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("ToJSON(%q)\n got %s\nwant %s", tt.yaml, got, tt.want)
			}
		})
	}
}

func TestToJSONScalars(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"integer", `a: 120`, `{"a":120}`},
		{"negative and hex", `a: [-3, 0x10]`, `{"a":[-3,16]}`},
		{"float", `a: 1.5`, `{"a":1.5}`},
		{"bool", `a: true`, `{"a":true}`},
		{"null", `a:`, `{"a":null}`},
		{"quoted number stays text", `a: "10"`, `{"a":"10"}`},
		{"unquoted date stays text", `AWSTemplateFormatVersion: 2010-09-09`, `{"AWSTemplateFormatVersion":"2010-09-09"}`},
		// YAML 1.2, which yaml.v3 implements: yes/no/on/off are strings.
		{"yes is a string", `a: yes`, `{"a":"yes"}`},
		{"explicit str tag", `a: !!str 42`, `{"a":"42"}`},
		{"folded block", "a: >-\n  one\n  two\n", `{"a":"one two"}`},
		{"HTML characters kept", `a: "<b> & </b>"`, `{"a":"<b> & </b>"}`},
		{"numeric key is text", `200: ok`, `{"200":"ok"}`},
		{"aliases expand", "x: &v {k: !Ref R}\ny: *v", `{"x":{"k":{"Ref":"R"}},"y":{"k":{"Ref":"R"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ToJSON([]byte(tt.yaml))
			if err != nil {
				t.Fatalf("ToJSON: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("ToJSON(%q)\n got %s\nwant %s", tt.yaml, got, tt.want)
			}
		})
	}
}

func TestToJSONRefuses(t *testing.T) {
	// Nested aliases standing for 10^7 nodes: must be refused quickly.
	var bomb strings.Builder
	bomb.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 7; i++ {
		prev := fmt.Sprintf("*a%d", i-1)
		fmt.Fprintf(&bomb, "a%d: &a%d [%s%s]\n", i, i, strings.Repeat(prev+", ", 9), prev)
	}
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"unknown tag on a scalar", "a: 1\nb: !GetAttr Fn.Arn", "line 2: unknown tag !GetAttr"},
		{"unknown tag on a mapping", "a: !Thing {k: v}", "line 1: unknown tag !Thing"},
		{"unknown tag on a sequence", "a: !Thing [k]", "line 1: unknown tag !Thing"},
		{"Ref of a sequence", "a: !Ref [X]", "line 1: !Ref takes a scalar, found a sequence"},
		{"If with two arguments", "a: !If [C, x]", "line 1: !If takes 3 arguments, found 2"},
		{"And with one condition", "a: !And [!Condition C]", "!And takes 2 to 10 arguments, found 1"},
		{"Not with two", "a: !Not [!Condition C, !Condition D]", "!Not takes 1 arguments, found 2"},
		{"Sub list of three", "a: !Sub [x, {}, y]", "!Sub takes 2 arguments, found 3"},
		{"Select of a mapping", "a: !Select {k: v}", "!Select takes a sequence, found a mapping"},
		{"GetAtt without attribute", "a: !GetAtt Fn", `!GetAtt "Fn" is not Resource.Attribute`},
		{"GetAtt with empty attribute", "a: !GetAtt Fn.", `!GetAtt "Fn." is not Resource.Attribute`},
		{"GetAtt with empty resource", "a: !GetAtt .Arn", `!GetAtt ".Arn" is not Resource.Attribute`},
		{"duplicate key", "Resources:\n  A: 1\n  A: 2", `line 3: duplicate key "A" (first on line 2)`},
		{"merge key", "x: &x {a: 1}\ny:\n  <<: *x", "line 3: merge keys (<<) are not supported"},
		{"sequence as key", "? [a]\n: 1", "a mapping key must be a scalar"},
		{"intrinsic as key", "!Ref a: 1", "!Ref cannot be a mapping key"},
		{"two documents", "a: 1\n---\nb: 2", "line 2: a template is one YAML document"},
		{"empty", "", "template is empty"},
		{"not a mapping", "- a", "a template is a mapping, found a sequence"},
		{"infinity", "a: .inf", `".inf" has no JSON form`},
		{"not a number", "a: .nan", `".nan" has no JSON form`},
		{"alias bomb", bomb.String(), "alias bomb"},
		{"YAML syntax", "a: [1, 2", "did not find expected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ToJSON([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("ToJSON(%q) = %s, want an error containing %q", tt.yaml, got, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ToJSON(%q) error = %q, want it to contain %q", tt.yaml, err, tt.wantErr)
			}
		})
	}
}

func TestDecodeNumbersAreJSONNumbers(t *testing.T) {
	doc, err := Decode([]byte("big: 18446744073709551615\nsmall: 7\nf: 0.25"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := doc["big"].(uint64); !ok {
		t.Errorf("big = %T, want uint64 (beyond int64, still exact)", doc["big"])
	}
	if v, ok := doc["small"].(int64); !ok || v != 7 {
		t.Errorf("small = %T %v, want int64 7", doc["small"], doc["small"])
	}
	if v, ok := doc["f"].(float64); !ok || v != 0.25 {
		t.Errorf("f = %T %v, want float64 0.25", doc["f"], doc["f"])
	}
}

func FuzzToJSON(f *testing.F) {
	for _, s := range []string{
		"a: !Ref X",
		"a: !GetAtt A.B.C",
		"a: !If [C, !Sub '${X}', !Ref AWS::NoValue]",
		"x: &x [1, 2]\ny: [*x, *x]",
		"Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {VisibilityTimeout: 720}",
		"a: !Cidr [!GetAtt V.CidrBlock, 6, 8]",
		"? !Ref k\n: v",
		"a: !Unknown [1]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		out, err := ToJSON(src)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("ToJSON(%q) produced invalid JSON %q", src, out)
		}
	})
}
