package resizer

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is RESIZE_WINDOWS in its zone: when state-changing requests may
// run (docs/contract.md §9). A window belongs to the day it opens on and may
// cross midnight ("Fri 22:00-02:00" ends on Saturday). Times are wall-clock
// times of the zone, so a window keeps its local hours across a DST change;
// an opening that falls into a skipped DST hour is placed as time.Date
// places it (within that hour).
type Schedule struct {
	spec    string
	loc     *time.Location
	windows []window
}

type window struct {
	days       [7]bool // by time.Weekday
	start, end int     // minutes after local midnight; end <= start crosses midnight
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseSchedule reads a RESIZE_WINDOWS value such as
// "Mon-Fri 01:00-05:00,Sat 00:00-06:00" in the IANA zone tz (empty: UTC).
// Days are optional (every day), given as names, ranges (Fri-Mon wraps)
// and lists ("Mon,Wed 01:00-03:00"). An empty spec is nil: any time.
func ParseSchedule(spec, tz string) (*Schedule, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, nil
	}
	if tz == "" {
		tz = "UTC"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("RESIZE_WINDOWS_TZ: %q is not an IANA time zone name (e.g. Europe/Berlin): %v", tz, err)
	}
	s := &Schedule{spec: strings.TrimSpace(spec), loc: loc}
	var pendingDays []string // a day list whose times come with a later item
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		fields := strings.Fields(item)
		switch {
		case len(fields) == 1 && !strings.Contains(item, ":"):
			pendingDays = append(pendingDays, fields[0])
			continue
		case len(fields) == 1:
			fields = []string{"", fields[0]}
		case len(fields) != 2:
			return nil, fmt.Errorf("RESIZE_WINDOWS: %q is not [days] HH:MM-HH:MM (e.g. Mon-Fri 01:00-05:00)", item)
		}
		w := window{}
		days := append(pendingDays, fields[0])
		pendingDays = nil
		if err := w.parseDays(days); err != nil {
			return nil, fmt.Errorf("RESIZE_WINDOWS: %q: %v", item, err)
		}
		if err := w.parseTimes(fields[1]); err != nil {
			return nil, fmt.Errorf("RESIZE_WINDOWS: %q: %v", item, err)
		}
		s.windows = append(s.windows, w)
	}
	if len(pendingDays) > 0 {
		return nil, fmt.Errorf("RESIZE_WINDOWS: days %q have no HH:MM-HH:MM", strings.Join(pendingDays, ","))
	}
	return s, nil
}

func (w *window) parseDays(items []string) error {
	any := false
	for _, it := range items {
		if it == "" {
			continue
		}
		any = true
		from, to, isRange := strings.Cut(it, "-")
		a, ok := weekdays[strings.ToLower(from)]
		if !ok {
			return fmt.Errorf("%q is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)", from)
		}
		b := a
		if isRange {
			if b, ok = weekdays[strings.ToLower(to)]; !ok {
				return fmt.Errorf("%q is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)", to)
			}
		}
		for d := a; ; d = (d + 1) % 7 {
			w.days[d] = true
			if d == b {
				break
			}
		}
	}
	if !any {
		for d := range w.days {
			w.days[d] = true
		}
	}
	return nil
}

func (w *window) parseTimes(s string) error {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return fmt.Errorf("%q is not HH:MM-HH:MM", s)
	}
	var err error
	if w.start, err = clockMinutes(from, false); err != nil {
		return err
	}
	if w.end, err = clockMinutes(to, true); err != nil {
		return err
	}
	if w.start == w.end {
		return fmt.Errorf("%q opens and closes at the same time; for a whole day write 00:00-24:00", s)
	}
	return nil
}

// clockMinutes reads HH:MM; 24:00 only as an end.
func clockMinutes(s string, end bool) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	switch {
	case !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || mm < 0 || mm > 59 || hh < 0:
		return 0, fmt.Errorf("%q is not a time HH:MM", s)
	case hh == 24 && mm == 0 && end:
		return 24 * 60, nil
	case hh > 23:
		return 0, fmt.Errorf("%q is not a time HH:MM (00:00 to 23:59, or 24:00 as an end)", s)
	}
	return hh*60 + mm, nil
}

// String is the spec and its zone, for messages and the start-up log.
func (s *Schedule) String() string { return s.spec + " " + s.loc.String() }

// Open returns whether t lies in a window, and when that window closes.
func (s *Schedule) Open(t time.Time) (bool, time.Time) {
	lt := t.In(s.loc)
	for back := 0; back <= 1; back++ { // a window of yesterday may still be open
		day := lt.AddDate(0, 0, -back)
		for _, w := range s.windows {
			if !w.days[day.Weekday()] {
				continue
			}
			open, close := w.span(day, s.loc)
			if !t.Before(open) && t.Before(close) {
				return true, close
			}
		}
	}
	return false, time.Time{}
}

// Next returns when the next window opens after t (zero if never, which
// ParseSchedule does not allow).
func (s *Schedule) Next(t time.Time) time.Time {
	lt := t.In(s.loc)
	var next time.Time
	for ahead := 0; ahead <= 7; ahead++ {
		day := lt.AddDate(0, 0, ahead)
		for _, w := range s.windows {
			if !w.days[day.Weekday()] {
				continue
			}
			if open, _ := w.span(day, s.loc); open.After(t) && (next.IsZero() || open.Before(next)) {
				next = open
			}
		}
	}
	return next
}

// span is the window's opening and closing on the local date of day.
func (w window) span(day time.Time, loc *time.Location) (time.Time, time.Time) {
	y, m, d := day.Date()
	open := time.Date(y, m, d, 0, w.start, 0, 0, loc)
	endDay := d
	if w.end <= w.start {
		endDay++
	}
	return open, time.Date(y, m, endDay, 0, w.end, 0, 0, loc)
}
