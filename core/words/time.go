// Package words is the one place where MaxRouter turns daemon state into
// words for a person: times and durations, plan names, account states,
// login commands. The tray, the settings window, the notifications, the
// command line and the daemon's own error messages all say things the same
// way because they all ask this package.
//
// Every function is pure: the clock (and its location, the zone times are
// written in) and the home directory are arguments. Times are local to
// whoever reads them: pass now in the reader's zone (time.Now() is).
package words

import (
	"fmt"
	"math"
	"time"
)

// day is t's calendar day as a date in UTC, for counting days between two
// local times without daylight-saving surprises.
func day(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// days counts calendar days from now to t (negative in the past), in now's
// location.
func days(t, now time.Time) int {
	return int(math.Round(day(t.In(now.Location())).Sub(day(now)).Hours() / 24))
}

// Clock writes t for someone who knows what time it is (now), in now's
// location: "14:32" today, "tomorrow 09:00", "yesterday 22:10", "Mon 09:00"
// within a week, "2 Jan 09:00" further away.
func Clock(t, now time.Time) string {
	t = t.In(now.Location())
	hm := t.Format("15:04")
	switch n := days(t, now); {
	case n == 0:
		return hm
	case n == 1:
		return "tomorrow " + hm
	case n == -1:
		return "yesterday " + hm
	case n > 1 && n < 7, n < -1 && n > -7:
		return t.Format("Mon") + " " + hm
	}
	return t.Format("2 Jan") + " " + hm
}

// At writes t as the end of a sentence ("back …"): "at 14:32", "tomorrow
// at 09:00", "on Monday at 09:00", "on 2 Jan at 09:00", in now's location.
func At(t, now time.Time) string {
	t = t.In(now.Location())
	hm := t.Format("15:04")
	switch n := days(t, now); {
	case n == 0:
		return "at " + hm
	case n == 1:
		return "tomorrow at " + hm
	case n == -1:
		return "yesterday at " + hm
	case n > 1 && n < 7:
		return "on " + t.Format("Monday") + " at " + hm
	}
	return "on " + t.Format("2 Jan") + " at " + hm
}

// Duration writes a span of time coarsely, as a person says it: "under a
// minute", "4 min", "2 h 13 min", "3 h", "1 day 6 h", "3 days". A negative
// span is written as its length.
func Duration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	case d < 48*time.Hour:
		h := int((d - 24*time.Hour) / time.Hour)
		if h == 0 {
			return "1 day"
		}
		return fmt.Sprintf("1 day %d h", h)
	}
	return fmt.Sprintf("%d days", int(math.Round(d.Hours()/24)))
}

// In says how long until t: "in 42 min", "in under a minute"; "now" once t
// has come.
func In(t, now time.Time) string {
	d := t.Sub(now)
	if d <= 0 {
		return "now"
	}
	return "in " + Duration(d)
}

// Ago says how long since t: "5 min ago", "under a minute ago"; "just now"
// for a t that has not come yet.
func Ago(t, now time.Time) string {
	d := now.Sub(t)
	if d <= 0 {
		return "just now"
	}
	return Duration(d) + " ago"
}

// Back says when something resting comes back: "at 14:05 (in 42 min)",
// "tomorrow at 09:00 (in 11 h 3 min)". Further than a day away the
// countdown is left out: the day says enough.
func Back(t, now time.Time) string {
	at := At(t, now)
	if d := t.Sub(now); d > 0 && d < 24*time.Hour {
		return at + " (" + In(t, now) + ")"
	}
	return at
}
