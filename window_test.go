package resizer

import (
	"strings"
	"testing"
	"time"
)

func TestScheduleOpen(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	rows := []struct {
		spec, tz, at string
		open         bool
		closes, next string // RFC 3339, checked when set
	}{
		// 2026-12-02 is a Wednesday.
		{spec: "Mon-Fri 01:00-05:00", at: "2026-12-02T03:00:00Z", open: true, closes: "2026-12-02T05:00:00Z"},
		{spec: "Mon-Fri 01:00-05:00", at: "2026-12-02T05:00:00Z", open: false, next: "2026-12-03T01:00:00Z"},
		{spec: "Mon-Fri 01:00-05:00", at: "2026-12-02T00:59:59Z", open: false, next: "2026-12-02T01:00:00Z"},
		{spec: "Mon-Fri 01:00-05:00", at: "2026-12-05T03:00:00Z", open: false, next: "2026-12-07T01:00:00Z"}, // Saturday
		{spec: "Mon-Fri 01:00-05:00,Sat 00:00-06:00", at: "2026-12-05T03:00:00Z", open: true},
		{spec: "Mon,Wed 01:00-03:00", at: "2026-12-02T02:00:00Z", open: true},
		{spec: "Mon,Wed 01:00-03:00", at: "2026-12-01T02:00:00Z", open: false, next: "2026-12-02T01:00:00Z"}, // Tuesday
		{spec: "Fri-Mon 10:00-11:00", at: "2026-11-30T10:30:00Z", open: true},                                // Monday, range wraps
		{spec: "Fri-Mon 10:00-11:00", at: "2026-12-01T10:30:00Z", open: false},
		// Across midnight: the window belongs to the day it opens on.
		{spec: "Fri 22:00-02:00", at: "2026-12-05T01:30:00Z", open: true, closes: "2026-12-05T02:00:00Z"}, // Saturday early
		{spec: "Fri 22:00-02:00", at: "2026-12-04T23:00:00Z", open: true},
		{spec: "Fri 22:00-02:00", at: "2026-12-04T01:30:00Z", open: false}, // Friday early: Thursday's would-be window
		{spec: "22:00-02:00", at: "2026-12-02T01:00:00Z", open: true},
		{spec: "00:00-24:00", at: "2026-12-02T23:59:59Z", open: true},
		// Zones: Berlin is UTC+1 in winter, +2 in summer.
		{spec: "Mon-Fri 01:00-05:00", tz: "Europe/Berlin", at: "2026-12-02T00:30:00Z", open: true, closes: "2026-12-02T04:00:00Z"},
		{spec: "Mon-Fri 01:00-05:00", tz: "Europe/Berlin", at: "2026-06-30T22:30:00Z", open: false, next: "2026-06-30T23:00:00Z"},
		// DST: 2026-03-29 02:00 Berlin jumps to 03:00; a 01:00-05:00 window is 3 hours long that night.
		{spec: "01:00-05:00", tz: "Europe/Berlin", at: "2026-03-29T03:00:00Z", open: false, next: "2026-03-29T23:00:00Z"},
		{spec: "01:00-05:00", tz: "Europe/Berlin", at: "2026-03-29T02:30:00Z", open: true, closes: "2026-03-29T03:00:00Z"},
		// 2026-10-25 03:00 Berlin falls back to 02:00: that night's window is 5 hours long.
		{spec: "01:00-05:00", tz: "Europe/Berlin", at: "2026-10-25T03:30:00Z", open: true, closes: "2026-10-25T04:00:00Z"},
	}
	for _, r := range rows {
		s, err := ParseSchedule(r.spec, r.tz)
		if err != nil {
			t.Fatalf("%q: %v", r.spec, err)
		}
		open, closes := s.Open(at(r.at))
		if open != r.open {
			t.Errorf("%q %s at %s: open = %t, want %t", r.spec, r.tz, r.at, open, r.open)
			continue
		}
		if r.closes != "" && !closes.Equal(at(r.closes)) {
			t.Errorf("%q %s at %s: closes %s, want %s", r.spec, r.tz, r.at, closes.UTC().Format(time.RFC3339), r.closes)
		}
		if r.next != "" {
			if n := s.Next(at(r.at)); !n.Equal(at(r.next)) {
				t.Errorf("%q %s at %s: next opens %s, want %s", r.spec, r.tz, r.at, n.UTC().Format(time.RFC3339), r.next)
			}
		}
	}
}

func TestScheduleMalformed(t *testing.T) {
	for spec, want := range map[string]string{
		"Mon-Fri":               "no HH:MM-HH:MM",
		"Funday 01:00-05:00":    "not a day",
		"Mon 1:00-05:00":        "not a time",
		"Mon 01:00-25:00":       "not a time",
		"Mon 01:00":             "not HH:MM-HH:MM",
		"Mon 01:00-01:00":       "same time",
		"Mon Tue 01:00-02:00":   "not [days]",
		"Mon-Fri 24:00-05:00":   "not a time",
		"Mon-Fri 01:00-05:00,,": "not [days]",
	} {
		_, err := ParseSchedule(spec, "")
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "RESIZE_WINDOWS") {
			t.Errorf("%q: error %v, want one naming RESIZE_WINDOWS and saying %q", spec, err, want)
		}
	}
	if _, err := ParseSchedule("Mon 01:00-02:00", "Mars/Olympus"); err == nil || !strings.Contains(err.Error(), "RESIZE_WINDOWS_TZ") {
		t.Errorf("bad zone: %v", err)
	}
	if s, err := ParseSchedule("  ", "Mars/Olympus"); s != nil || err != nil {
		t.Errorf("empty spec: %v %v", s, err)
	}
}
