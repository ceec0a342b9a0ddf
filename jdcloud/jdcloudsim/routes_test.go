package jdcloudsim

import (
	"net/http"
	"testing"
)

func TestRoutesAndLookups(t *testing.T) {
	s := startSim(t, Options{})
	c := newClient(t, s)
	tests := []struct {
		name, method, path string
		body               string
		code               int
		status, msg        string
	}{
		{"unknown region", http.MethodGet, "/v1/regions/cn-east-9/instances/i-stopped01", "", 404, "NOT_FOUND", "region cn-east-9"},
		{"unknown region, types", http.MethodGet, "/v1/regions/cn-east-9/instanceTypes", "", 404, "NOT_FOUND", "region cn-east-9"},
		{"unknown instance", http.MethodGet, instancePath("i-nothere01"), "", 404, "NOT_FOUND", "instance i-nothere01"},
		{"unknown instance, resize", http.MethodPost, instancePath("i-nothere01") + ":resizeInstance", `{"instanceType":"g.n2.large"}`, 404, "NOT_FOUND", "i-nothere01"},
		{"unknown instance, stop", http.MethodPost, instancePath("i-nothere01") + ":stopInstance", `{}`, 404, "NOT_FOUND", "i-nothere01"},
		{"unknown image", http.MethodGet, "/v1/regions/cn-north-1/images/img-nothere/constraints", "", 404, "NOT_FOUND", "image img-nothere"},
		{"unknown action", http.MethodPost, instancePath("i-stopped01") + ":rebootInstance", `{}`, 404, "NOT_FOUND", "no such API"},
		{"wrong method", http.MethodGet, instancePath("i-stopped01") + ":resizeInstance", "", 404, "NOT_FOUND", "no such API"},
		{"POST to describe", http.MethodPost, instancePath("i-stopped01"), `{}`, 404, "NOT_FOUND", "no such API"},
		{"doc version in path", http.MethodGet, "/1.0.3/regions/cn-north-1/instances/i-stopped01", "", 404, "NOT_FOUND", "no such API"},
		{"empty instance id", http.MethodGet, "/v1/regions/cn-north-1/instances/", "", 404, "NOT_FOUND", "no such API"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body []byte
			if tt.body != "" {
				body = []byte(tt.body)
			}
			wantError(t, c.do(tt.method, tt.path, body), tt.code, tt.status, tt.msg)
		})
	}
	if got := s.Calls(OpUnknown); got != 5 {
		t.Errorf("Calls(unknown) = %d, want 5", got)
	}
}

func TestPostRequiresJSONContentType(t *testing.T) {
	s := startSim(t, Options{})
	for _, ct := range []string{"-", "text/plain", "application/x-www-form-urlencoded"} {
		c := newClient(t, s)
		c.contentType = ct
		wantError(t, c.do(http.MethodPost, instancePath("i-running01")+":stopInstance", []byte(`{}`)), http.StatusBadRequest, "INVALID_ARGUMENT", "Content-Type")
	}
	if got := mustInstance(t, s, "i-running01").Status; got != "running" {
		t.Fatalf("refused stop changed status to %s", got)
	}
	c := newClient(t, s)
	c.contentType = "application/json; charset=utf-8"
	wantOK(t, c.do(http.MethodPost, instancePath("i-running01")+":stopInstance", []byte(`{}`)))
}
