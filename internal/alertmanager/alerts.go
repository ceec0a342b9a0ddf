package alertmanager

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/jdcloud-vm-resizer/resizer/internal/childproc"
)

// fired is what Resolve re-sends of an alert: Prometheus resolves an alert
// with the startsAt and annotations it fired it with.
type fired struct {
	startsAt    time.Time
	annotations map[string]string
}

// Fire posts a firing alert with the real amtool (amtool alert add, which
// posts to Alertmanager's API v2, POST /api/v2/alerts, as Prometheus does), its
// startsAt now, as a Prometheus sets it, and no endsAt (Alertmanager then
// resolves it by itself after resolve_timeout, 5m, unless it is fired
// again). It returns that startsAt, in UTC and to the millisecond amtool
// sends: the startsAt of the alert in the notification.
//
// A label or annotation value may hold any text: each is quoted for amtool.
func (s *Server) Fire(labels, annotations map[string]string) (time.Time, error) {
	startsAt := time.Now().UTC().Truncate(time.Millisecond)
	return startsAt, s.FireAt(startsAt, labels, annotations)
}

// FireAt is Fire with the startsAt given, the way to hand both Servers of
// an HA pair the same alert: Prometheus sends each alert, startsAt
// included, to every Alertmanager it knows.
func (s *Server) FireAt(startsAt time.Time, labels, annotations map[string]string) error {
	startsAt = startsAt.UTC().Truncate(time.Millisecond)
	if err := s.add(labels, annotations, startsAt, time.Time{}); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.starts[labelKey(labels)] = fired{startsAt: startsAt, annotations: maps.Clone(annotations)}
	return nil
}

// Resolve posts the alert with exactly these labels as ended now (amtool
// alert add --end), with the startsAt and annotations it was last fired with
// on this Server, so that the resolved notification (Options.SendResolved)
// carries the firing one's fingerprint and startsAt. Labels never fired here
// are resolved with no startsAt, which Alertmanager then sets to the end.
func (s *Server) Resolve(labels map[string]string) error {
	s.mu.Lock()
	f := s.starts[labelKey(labels)]
	s.mu.Unlock()
	// The end is taken after the start and to the millisecond, so it falls
	// inside the firing alert's span, and Alertmanager merges the two.
	end := time.Now().UTC().Truncate(time.Millisecond)
	if !end.After(f.startsAt) {
		end = f.startsAt.Add(time.Millisecond)
	}
	return s.add(labels, f.annotations, f.startsAt, end)
}

func (s *Server) add(labels, annotations map[string]string, startsAt, endsAt time.Time) error {
	if len(labels) == 0 {
		return fmt.Errorf("alertmanager: an alert needs at least one label")
	}
	args := []string{"alert", "add",
		"--alertmanager.url=" + s.url,
		fmt.Sprintf("--timeout=%v", commandTimeout),
		// The version check is one more request and tells the tests nothing.
		"--no-version-check",
	}
	if !startsAt.IsZero() {
		args = append(args, "--start="+startsAt.Format(time.RFC3339Nano))
	}
	if !endsAt.IsZero() {
		args = append(args, "--end="+endsAt.Format(time.RFC3339Nano))
	}
	for _, k := range slices.Sorted(maps.Keys(annotations)) {
		args = append(args, "--annotation="+pair(k, annotations[k]))
	}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		args = append(args, pair(k, labels[k]))
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout+5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.amtool, args...)
	childproc.DieWithParent(cmd)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("amtool %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// pair is name="value" as amtool parses a label or an annotation (a
// matcher, hence the quotes: without them a value's spaces are trimmed and
// a leading "~" makes it a regexp), with the escapes both its old and its
// new matcher parser take.
func pair(name, value string) string {
	return name + `="` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(value) + `"`
}

// labelKey identifies a label set whatever the map's order.
func labelKey(labels map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		fmt.Fprintf(&b, "%q=%q,", k, labels[k])
	}
	return b.String()
}

// Alert is one alert as Alertmanager's API v2 lists it.
type Alert struct {
	Fingerprint string            `json:"fingerprint"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	UpdatedAt   time.Time         `json:"updatedAt"`
	Status      struct {
		// State is active, suppressed or unprocessed.
		State string `json:"state"`
	} `json:"status"`
	Receivers []struct {
		Name string `json:"name"`
	} `json:"receivers"`
}

// Alerts lists the alerts the server holds that have not ended
// (GET /api/v2/alerts), for a test to look at or print when no notification
// came.
func (s *Server) Alerts() ([]Alert, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/api/v2/alerts", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s/api/v2/alerts: %s: %s", s.url, resp.Status, body)
	}
	var alerts []Alert
	if err := json.Unmarshal(body, &alerts); err != nil {
		return nil, fmt.Errorf("GET %s/api/v2/alerts: %v", s.url, err)
	}
	return alerts, nil
}
