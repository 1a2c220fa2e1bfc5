package words

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
)

// BillingExtra says that an account's answers are billed to paid extra
// usage.
const BillingExtra = "billing extra usage"

// loginWarning is how long before a login ends it is mentioned.
const loginWarning = 7 * 24 * time.Hour

// Window writes a usage window's use and when it resets: "24% · resets in
// 2 h 10 min", "0%" for a window that has not started; "" when nothing is
// known of it.
func Window(w control.Window, now time.Time) string {
	p := Percent(w)
	if p == "" {
		return ""
	}
	if r := Resets(w.ResetsAt, now); r != "" {
		return p + " · " + r
	}
	return p
}

// LoginExpiry says when an account's login ends, in its last week: "login
// expires in 3 days", "login expires in 5 h", "login expired"; "" before
// its last week or when the end is not known.
func LoginExpiry(at *time.Time, now time.Time) string {
	if at == nil || at.IsZero() {
		return ""
	}
	d := at.Sub(now)
	switch {
	case d <= 0:
		return "login expired"
	case d > loginWarning:
		return ""
	case d < 24*time.Hour:
		return "login expires in " + Duration(d)
	}
	n := int(math.Floor(d.Hours() / 24))
	if n == 1 {
		return "login expires in 1 day"
	}
	return fmt.Sprintf("login expires in %d days", n)
}

// Notes lists what a person should know about an account beside its
// state: that it bills extra usage, that its login ends soon.
func Notes(a control.Account, now time.Time) []string {
	var out []string
	if a.BillingExtra {
		out = append(out, BillingExtra)
	}
	if e := LoginExpiry(a.LoginExpiresAt, now); e != "" {
		out = append(out, e)
	}
	return out
}

// Checked says how fresh an account's 5-hour and 7-day use are, from the
// newest reading (an answer's headers or the usage endpoint): "usage
// checked 2 min ago". After a failed read of the usage endpoint it says
// so, with when the daemon tries again: "usage not read (429 Too Many
// Requests) — trying again at 14:05; checked 1 h ago". For a login whose
// usage cannot be read it says where the use comes from instead: "usage
// known from answers only: its token cannot read the usage (…)". "" when
// nothing is known.
func Checked(a control.Account, now time.Time) string {
	var asOf time.Time
	for _, t := range []*time.Time{a.FiveHour.AsOf, a.SevenDay.AsOf} {
		if t != nil && t.After(asOf) {
			asOf = *t
		}
	}
	q := a.Quota
	if q != nil && q.CheckedAt != nil && q.CheckedAt.After(asOf) {
		asOf = *q.CheckedAt
	}
	var s string
	switch {
	case q != nil && q.Skipped != "":
		s = "usage known from answers only: " + strings.TrimSuffix(OneLine(q.Skipped), ".")
	case q != nil && q.Error != "":
		s = "usage not read (" + Shorten(OneLine(q.Error), briefDetail) + ")"
		if q.NextAt != nil {
			if q.NextAt.After(now) {
				s += " — trying again " + At(*q.NextAt, now)
			} else {
				s += " — trying again now"
			}
		}
	case !asOf.IsZero():
		return "usage checked " + Ago(asOf, now)
	}
	if s != "" && !asOf.IsZero() {
		s += "; checked " + Ago(asOf, now)
	}
	return s
}
