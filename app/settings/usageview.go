package settings

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/words"
)

// The Usage tab's view decisions, as pure functions (see view.go).

// usageDayCount is how many days the Usage tab shows, today included.
const usageDayCount = 7

// accountUsage is one account's row of the Usage tab, or one client
// token's: its totals over the days shown, its requests per day and its
// peaks.
type accountUsage struct {
	// Name is the account's name or the token's label (see
	// words.TokenName).
	Name string
	// Token is the client token's ID in a token's row ("" in an
	// account's): its RateLimited counts requests refused for its budget,
	// and it has no peaks.
	Token                                                string
	Requests, RateLimited, Errors, Input, Output, Cached int64
	// Extra counts answers billed to paid extra usage.
	Extra int64
	// PerDay counts requests per day, in the order of the days asked for.
	PerDay []int64
	// FiveHourPeak and SevenDayPeak are the highest utilizations reported
	// in the period; nil when none was.
	FiveHourPeak, SevenDayPeak *float64
}

// usageDays returns the local midnights of the n days ending with now's,
// oldest first.
func usageDays(now time.Time, n int) []time.Time {
	loc := now.Location()
	days := make([]time.Time, n)
	for i := range days {
		days[i] = time.Date(now.Year(), now.Month(), now.Day()-(n-1-i), 0, 0, 0, 0, loc)
	}
	return days
}

// summarizeUsage sums u's buckets per account over days (local midnights,
// as usageDays gives). The rows follow order (the configured accounts, in
// priority order; each has a row, with or without history), then accounts
// only the history knows (removed or renamed ones), by name.
func summarizeUsage(u control.Usage, order []string, days []time.Time) []accountUsage {
	return summarize(u, order, days, func(b control.UsageBucket) string { return b.Account })
}

// summarizeTokenUsage sums u's buckets per client token over days: the
// tokens that sent the most requests first. A token is named by its label
// in the history, else in tokens (the Proxy tab's list), else by its ID
// (words.TokenName).
func summarizeTokenUsage(u control.Usage, tokens []control.Token, days []time.Time) []accountUsage {
	labels := map[string]string{}
	for _, t := range tokens {
		labels[t.ID] = t.Label
	}
	for _, b := range u.Buckets {
		if b.Label != "" {
			labels[b.Token] = b.Label
		}
	}
	rows := summarize(u, nil, days, func(b control.UsageBucket) string { return b.Token })
	for i := range rows {
		rows[i].Token = rows[i].Name
		rows[i].Name = words.TokenName(labels[rows[i].Token], rows[i].Token)
	}
	slices.SortStableFunc(rows, func(a, b accountUsage) int { return cmp.Compare(b.Requests+b.RateLimited, a.Requests+a.RateLimited) })
	return rows
}

// summarize sums u's buckets per key(bucket): rows for order first, then
// for the other keys, sorted.
func summarize(u control.Usage, order []string, days []time.Time, key func(control.UsageBucket) string) []accountUsage {
	idx := map[string]int{}
	var rows []accountUsage
	add := func(name string) int {
		if i, ok := idx[name]; ok {
			return i
		}
		idx[name] = len(rows)
		rows = append(rows, accountUsage{Name: name, PerDay: make([]int64, len(days))})
		return len(rows) - 1
	}
	for _, name := range order {
		add(name)
	}
	var extra []string
	for _, b := range u.Buckets {
		if k := key(b); !slices.Contains(extra, k) {
			if _, ok := idx[k]; !ok {
				extra = append(extra, k)
			}
		}
	}
	slices.Sort(extra)
	for _, name := range extra {
		add(name)
	}
	for _, b := range u.Buckets {
		r := &rows[idx[key(b)]]
		r.Requests += b.Requests
		r.RateLimited += b.RateLimited
		r.Errors += b.Errors
		r.Extra += b.ExtraUsageRequests
		r.Input += b.InputTokens
		r.Output += b.OutputTokens
		r.Cached += b.CacheReadTokens
		r.FiveHourPeak = maxPeak(r.FiveHourPeak, b.FiveHourPeak)
		r.SevenDayPeak = maxPeak(r.SevenDayPeak, b.SevenDayPeak)
		if d := dayIndex(b.Start, days); d >= 0 {
			r.PerDay[d] += b.Requests
		}
	}
	return rows
}

// dayIndex returns the index of the day in days (local midnights) that t
// falls on, or -1.
func dayIndex(t time.Time, days []time.Time) int {
	for i := len(days) - 1; i >= 0; i-- {
		if !t.Before(days[i]) {
			if i == len(days)-1 && !t.Before(days[i].AddDate(0, 0, 1)) {
				return -1
			}
			return i
		}
	}
	return -1
}

func maxPeak(a, b *float64) *float64 {
	switch {
	case b == nil || math.IsNaN(*b):
		return a
	case a == nil || *b > *a:
		v := *b
		return &v
	}
	return a
}

// usageMax is the largest daily request count among rows: the scale all
// the charts share, so that their bars compare.
func usageMax(rows []accountUsage) int64 {
	var m int64
	for _, r := range rows {
		for _, v := range r.PerDay {
			m = max(m, v)
		}
	}
	return m
}

// usageTotalsText sums up a row: "1234 requests · 3.4M input, 456k output
// tokens · 2 rate limited (429) · 1 error · 3 billed to extra usage"; "No
// requests" without any. A client token's row says "12 refused (budget
// spent)" for its RateLimited.
func usageTotalsText(r accountUsage) string {
	if r.Requests == 0 && r.RateLimited == 0 && r.Errors == 0 {
		return "No requests"
	}
	parts := []string{words.Count(r.Requests, "request")}
	if r.Input > 0 || r.Output > 0 {
		parts = append(parts, words.Approx(r.Input)+" input, "+words.Approx(r.Output)+" output tokens")
	}
	switch {
	case r.RateLimited > 0 && r.Token != "":
		parts = append(parts, strconv.FormatInt(r.RateLimited, 10)+" refused (budget spent)")
	case r.RateLimited > 0:
		parts = append(parts, strconv.FormatInt(r.RateLimited, 10)+" rate limited (429)")
	}
	if r.Errors > 0 {
		parts = append(parts, words.Count(r.Errors, "error"))
	}
	if r.Extra > 0 {
		parts = append(parts, strconv.FormatInt(r.Extra, 10)+" billed to extra usage")
	}
	return strings.Join(parts, "   ·   ")
}

// usagePeaksText says how close a row's account came to its limits:
// "Peak use: 5-hour 42%, 7-day 18%", with "–" for a window never reported.
func usagePeaksText(r accountUsage) string {
	return "Peak use: 5-hour " + words.Peak(r.FiveHourPeak) + ", 7-day " + words.Peak(r.SevenDayPeak)
}

// dayLabels names days under the bars: "Mon", "Tue", …
func dayLabels(days []time.Time) []string {
	out := make([]string, len(days))
	for i, d := range days {
		out[i] = d.Format("Mon")
	}
	return out
}

// usageSinceText is the line over the rows: "Since Wed 4 Mar · updated
// 12:19".
func usageSinceText(since, updated time.Time) string {
	return "Requests per day since " + since.Format("Mon 2 Jan") + "   ·   updated " + updated.Format("15:04")
}

// usageAbout explains the numbers of the Usage tab's view.
func usageAbout(byToken bool) string {
	if byToken {
		return "What each client token sent through MaxRouter, whichever account served it. Tokens are those Anthropic reports in its answers; “refused (budget spent)” counts requests refused at once because the token had spent its limits (Settings → Proxy sets them). The history keeps 90 days: see maxrouter usage --by token."
	}
	return "Tokens are those Anthropic reports in its answers (answers sent compressed carry no count). Peaks are the highest 5-hour and 7-day use Anthropic reported; “billed to extra usage” counts answers Anthropic billed to paid extra usage. The history keeps 90 days: see maxrouter usage."
}

// usageEmpty is what the Usage tab's view says when the days shown hold
// nothing.
func usageEmpty(byToken bool) string {
	if byToken {
		return "No client token sent requests in the last 7 days. MaxRouter counts every request per client token as well as per account: send some through it and they show here."
	}
	return "No usage recorded in the last 7 days. MaxRouter counts every request it forwards to Anthropic, per account: send some through it and they show here."
}
