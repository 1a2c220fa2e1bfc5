package words

import (
	"fmt"
	"math"
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
