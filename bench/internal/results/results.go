// Package results is what the programs of `make bench` share: how they
// write their sections of bench/RESULTS.md, the machine line heading each,
// and the small helpers for starting a bootstrap on loopback.
package results

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// KeptMarker divides bench/RESULTS.md: sidebyside rewrites what is above
// it; the sections below it (each between its own begin and end markers)
// and notes written by hand are kept.
const KeptMarker = "<!-- sections below are kept: bench/storm and hand-written notes -->"

// Markers are the begin and end markers of the section called name.
func Markers(name string) (begin, end string) {
	return "<!-- " + name + ":begin -->", "<!-- " + name + ":end -->"
}

// WriteSection replaces the section of path between begin and end (which
// section itself starts and ends with), or adds it below KeptMarker
// (adding the marker too when the file has none).
func WriteSection(path, begin, end, section string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	s := string(old)
	if i, j := strings.Index(s, begin), strings.Index(s, end); i >= 0 && j > i {
		s = s[:i] + strings.TrimRight(section, "\n") + s[j+len(end):]
	} else {
		if !strings.Contains(s, KeptMarker) {
			s = strings.TrimRight(s, "\n") + "\n\n" + KeptMarker + "\n"
		}
		s = strings.TrimRight(s, "\n") + "\n\n" + section
	}
	return os.WriteFile(path, []byte(strings.TrimRight(s, "\n")+"\n"), 0o644)
}

// Machine is the line that says where and on what a section was measured.
func Machine() string {
	commit := "unknown commit"
	if out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output(); err == nil {
		commit = "commit " + strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
			commit += " with uncommitted changes"
		}
	}
	return fmt.Sprintf("Machine: nproc %d, %s/%s; %s; %s", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, commit, time.Now().UTC().Format("2006-01-02 15:04 MST"))
}

// Verdict is a target's cell.
func Verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

// AwaitListening waits up to 15 s for url to answer at all.
func AwaitListening(ctx context.Context, url string) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the bootstrap did not listen on %s", url)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// EnvFlag collects -env NAME=value flags.
type EnvFlag map[string]string

func (e *EnvFlag) String() string { return fmt.Sprint(map[string]string(*e)) }

func (e *EnvFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want NAME=value, got %q", s)
	}
	if *e == nil {
		*e = EnvFlag{}
	}
	(*e)[k] = v
	return nil
}

// ServerEnviron is this process's environment without anything that would
// make a bootstrap a Lambda function or give it other keys, plus env.
func ServerEnviron(env map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "JDCLOUD_") || strings.HasPrefix(k, "_LAMBDA") {
			continue
		}
		out = append(out, kv)
	}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// PostEvent POSTs a structured CloudEvent to a bootstrap in server mode and
// returns the type of the outcome it answered, and the answer.
func PostEvent(ctx context.Context, client *http.Client, url string, body []byte) (string, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return "", nil, err
	}
	req.Header.Set("Content-Type", "application/cloudevents+json")
	resp, err := client.Do(req)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", nil, err
	}
	var out struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", raw, fmt.Errorf("status %d, answer %.200s", resp.StatusCode, raw)
	}
	return out.Type, raw, nil
}
