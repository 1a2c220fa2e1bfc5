package words

import (
	"strconv"
	"strings"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
)

// Amount writes a count as a person types it, exactly: "500", "500k",
// "2M", "1.5M", "3B", and with separators when no suffix is exact
// ("1,234,567"). control.ParseCount reads every form back.
func Amount(n int64) string {
	if n < 0 {
		return "-" + Amount(-n)
	}
	for _, u := range [...]struct {
		v      int64
		suffix string
	}{{1_000_000_000, "B"}, {1_000_000, "M"}, {1_000, "k"}} {
		if n >= u.v && n%(u.v/100) == 0 {
			whole, frac := n/u.v, n%u.v/(u.v/100)
			s := strconv.FormatInt(whole, 10)
			if frac != 0 {
				s += strings.TrimRight("."+strconv.FormatInt(100+frac, 10)[1:], "0")
			}
			return s + u.suffix
		}
	}
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// The kinds of a client token's limits, as Limits, TokenUse and
// BudgetSpent name them.
const (
	limitRequests   = "requests"
	limitTokens     = "tokens"
	limitCacheReads = "cache-read tokens"
)

// Limits writes a client token's limits: "500 requests, 2M tokens per 5h",
// "50M cache-read tokens per 7d"; "no limits" when it has none.
func Limits(l control.Limits) string {
	if !l.Limited() {
		return "no limits"
	}
	var parts []string
	for _, k := range kinds(l, nil) {
		parts = append(parts, Amount(k.limit)+" "+unit(k.name, k.limit))
	}
	return strings.Join(parts, ", ") + " per " + l.Per.String()
}

// unit is the plural name of a limit's kind, singular for one.
func unit(name string, n int64) string {
	if n == 1 {
		return strings.TrimSuffix(name, "s")
	}
	return name
}

// kind is one limit of a token and what its window used of it.
type kind struct {
	name        string
	limit, used int64
}

// kinds lists the limits l sets, with w's use of each (0 when w is nil).
func kinds(l control.Limits, w *control.TokenWindow) []kind {
	var used [3]int64
	if w != nil {
		used = [3]int64{w.Requests, w.Tokens, w.CacheReadTokens}
	}
	var out []kind
	for _, k := range [...]kind{{limitRequests, l.MaxRequests, used[0]}, {limitTokens, l.MaxTokens, used[1]}, {limitCacheReads, l.MaxCacheReads, used[2]}} {
		if k.limit > 0 {
			out = append(out, k)
		}
	}
	return out
}

// Spent reports whether a client token has spent its budget in its
// current window, and until when.
func Spent(t control.Token, now time.Time) (bool, time.Time) {
	w := t.Window
	if !t.Limited() || w == nil || !now.Before(w.ResetsAt) {
		return false, time.Time{}
	}
	for _, k := range kinds(t.Limits, w) {
		if k.used >= k.limit {
			return true, w.ResetsAt
		}
	}
	return false, time.Time{}
}

// TokenUse writes what a client token used of its limits in its current
// window: "120/500 requests, 1.2M/2M tokens · resets 17:05", or with
// nothing used yet "0/500 requests, 0/2M tokens"; "" for a token without
// limits. Times are in now's location.
func TokenUse(t control.Token, now time.Time) string {
	if !t.Limited() {
		return ""
	}
	w := t.Window
	if w != nil && !now.Before(w.ResetsAt) {
		w = nil // ended: the budget is whole again
	}
	var parts []string
	for _, k := range kinds(t.Limits, w) {
		parts = append(parts, Approx(k.used)+"/"+Amount(k.limit)+" "+k.name)
	}
	s := strings.Join(parts, ", ")
	if w != nil {
		s += " · resets " + Clock(w.ResetsAt, now)
	}
	return s
}

// TokenStatus writes a client token's state: "revoked", "expired", "spent
// until 17:05" (its budget), or "active".
func TokenStatus(t control.Token, now time.Time) string {
	switch {
	case t.RevokedAt != nil:
		return "revoked"
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		return "expired"
	}
	if spent, until := Spent(t, now); spent {
		return "spent until " + Clock(until, now)
	}
	return "active"
}

// BudgetLimit writes one limit of a client token: "500 requests per 5h".
func BudgetLimit(what string, limit int64, per control.Period) string {
	return Amount(limit) + " " + unit(what, limit) + " per " + per.String()
}

// BudgetSpent is the message of a request refused because its client
// token spent its budget: `client token "ci" has used its 500 requests
// per 5h: it can send again at 17:05 (in 2 h 13 min)`, the time in now's
// location.
func BudgetSpent(label, what string, limit int64, per control.Period, until, now time.Time) string {
	return "client token " + strconv.Quote(label) + " has used its " + BudgetLimit(what, limit, per) +
		": it can send again " + Back(until, now) + " (`maxrouter tokens limit` changes its limits)"
}

// TokenBudget writes a client token's limits with what its current window
// used of them, for the token's row in Settings: "312/500 requests,
// 1.2M/2M tokens per 5h · resets 17:05", "0/500 requests per 5h" while no
// window is open; "no limits" for a token without limits. Times are in
// now's location.
func TokenBudget(t control.Token, now time.Time) string {
	if !t.Limited() {
		return "no limits"
	}
	use, resets, _ := strings.Cut(TokenUse(t, now), " · ")
	s := use + " per " + t.Per.String()
	if resets != "" {
		s += " · " + resets
	}
	return s
}

// TokenName names a client token by its label; a token known only by its
// ID (the label "": no longer in the store) is "removed token 3f9a1c2b…".
func TokenName(label, id string) string {
	if label != "" {
		return label
	}
	if len(id) > 8 {
		id = id[:8] + "…"
	}
	return "removed token " + id
}

// SpentToken is a client token that spent its budget, for BudgetReached:
// its label, its limits as Limits writes them, and when its window ends
// (nil when not known).
type SpentToken struct {
	Label  string
	Limits string
	Until  *time.Time
}

// BudgetReached is the notification for client tokens that spent their
// budget: "Client token “ci” spent its budget", "Its requests are refused
// until 17:05 (in 2 h 13 min). Its limits: 500 requests per 5h; Settings →
// Proxy changes them." Several tokens are one notification with a line
// each. Times are in now's location.
func BudgetReached(spent []SpentToken, now time.Time) (title, body string) {
	until := func(s SpentToken) string {
		if s.Until == nil {
			return "until its window ends"
		}
		u := "until " + Clock(*s.Until, now)
		if d := s.Until.Sub(now); d > 0 && d < 24*time.Hour {
			u += " (" + In(*s.Until, now) + ")"
		}
		return u
	}
	if len(spent) == 1 {
		s := spent[0]
		body = "Its requests are refused " + until(s) + "."
		if s.Limits != "" {
			body += " Its limits: " + s.Limits + "; Settings → Proxy changes them."
		}
		return "Client token “" + s.Label + "” spent its budget", body
	}
	labels := make([]string, len(spent))
	lines := make([]string, len(spent)+1)
	for i, s := range spent {
		labels[i] = s.Label
		lines[i] = s.Label + ": refused " + until(s)
		if s.Limits != "" {
			lines[i] += "; " + s.Limits
		}
		lines[i] += "."
	}
	lines[len(spent)] = "Settings → Proxy changes their limits."
	return strconv.Itoa(len(spent)) + " client tokens spent their budgets: " + strings.Join(labels, ", "), strings.Join(lines, "\n")
}
