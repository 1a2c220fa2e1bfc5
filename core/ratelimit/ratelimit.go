// Package ratelimit reads Anthropic's rate-limit response headers and
// classifies an answer into what the router should do with the account that
// produced it: nothing, a long cooldown until a window resets, a short pause,
// or a token refresh. The rules follow docs/claude-oauth-facts.md; each of
// them was a real bug in an earlier proxy.
package ratelimit

import (
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// Unified statuses, as sent in the *-status headers.
const (
	Allowed        = "allowed"
	AllowedWarning = "allowed_warning"
	Rejected       = "rejected"
)

// Window names, as used in events and snapshots.
const (
	FiveHour   = "five_hour"
	SevenDay   = "seven_day"
	SevenDayOI = "seven_day_oi" // the per-model weekly bucket
)

// Short pauses, for answers that say nothing about the account itself.
const (
	// ThrottlePause rests an account after a 429 without limit headers
	// when no usable retry-after is given. MaxThrottlePause bounds it.
	ThrottlePause    = 5 * time.Second
	MaxThrottlePause = 10 * time.Second
	// OverloadPause rests an account after a 529 (Anthropic is busy).
	OverloadPause = 10 * time.Second
	// maxReset bounds a reset time read from headers, and a retry-after: a
	// weekly window plus slack. Anything later is treated as garbage.
	maxReset = 8 * 24 * time.Hour
)

// Bounds on what Parse accepts; values past them are garbage and read as
// absent, so that nothing built from them (snapshots, metrics, JSON) can
// break.
const (
	// maxUtilization is the largest utilization taken as real: 100 times
	// the limit. The headers give a fraction, which passes 1 only a little.
	maxUtilization = 100
	// maxUnix is the last second a reset time may name: 9999-12-31, the
	// end of what RFC 3339 and JSON can carry.
	maxUnix = 253402300799
)

// The header names, canonicalised once so lookups are plain map reads.
var (
	hStatus  = key("anthropic-ratelimit-unified-status")
	hReset   = key("anthropic-ratelimit-unified-reset")
	hClaim   = key("anthropic-ratelimit-unified-representative-claim")
	h5Status = key("anthropic-ratelimit-unified-5h-status")
	h5Reset  = key("anthropic-ratelimit-unified-5h-reset")
	h5Util   = key("anthropic-ratelimit-unified-5h-utilization")
	h7Status = key("anthropic-ratelimit-unified-7d-status")
	h7Reset  = key("anthropic-ratelimit-unified-7d-reset")
	h7Util   = key("anthropic-ratelimit-unified-7d-utilization")
	hOIStat  = key("anthropic-ratelimit-unified-7d_oi-status")
	hOIReset = key("anthropic-ratelimit-unified-7d_oi-reset")
	hOIUtil  = key("anthropic-ratelimit-unified-7d_oi-utilization")
	hOverUse = key("anthropic-ratelimit-unified-overage-in-use")
	hRetry   = key("retry-after")
)

func key(s string) string { return textproto.CanonicalMIMEHeaderKey(s) }

// Window is what the headers say about one rate-limit window.
type Window struct {
	Status string // Allowed, AllowedWarning, Rejected or "" when not sent
	// Utilization is the fraction used (may exceed 1); valid when HasUtilization.
	Utilization    float64
	HasUtilization bool
	Reset          time.Time // zero when not sent
}

// Info is everything the rate-limit headers of one response say.
type Info struct {
	// Present reports whether any unified rate-limit header was sent.
	Present                        bool
	Status                         string    // the binding (unified) status
	Reset                          time.Time // when the binding window resets
	Claim                          string    // which window binds: "five_hour" or "seven_day"
	FiveHour, SevenDay, SevenDayOI Window
	// OverageInUse reports that the request was billed to paid extra usage.
	OverageInUse bool
	// RetryAfter is the retry-after header in seconds; 0 when absent.
	RetryAfter time.Duration
}

// Parse reads the rate-limit headers of a response. Values that cannot be
// real are read as absent: a utilization that is not a finite number
// between 0 and 100, a reset time past the year 9999, a retry-after of
// more than the 8 days a reset time may be away (the weekly window plus
// slack).
func Parse(h http.Header) Info {
	var in Info
	if s := first(h, hRetry); s != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err == nil && n > 0 && n <= int64(maxReset/time.Second) {
			in.RetryAfter = time.Duration(n) * time.Second
		}
	}
	in.Status = first(h, hStatus)
	in.FiveHour = window(h, h5Status, h5Reset, h5Util)
	in.SevenDay = window(h, h7Status, h7Reset, h7Util)
	in.SevenDayOI = window(h, hOIStat, hOIReset, hOIUtil)
	in.Reset = unix(first(h, hReset))
	in.Claim = first(h, hClaim)
	in.OverageInUse = first(h, hOverUse) == "true"
	in.Present = in.Status != "" || in.FiveHour != (Window{}) || in.SevenDay != (Window{}) ||
		in.SevenDayOI != (Window{}) || !in.Reset.IsZero()
	return in
}

func first(h http.Header, k string) string {
	if v := h[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func window(h http.Header, status, reset, util string) Window {
	w := Window{Status: first(h, status), Reset: unix(first(h, reset))}
	if s := first(h, util); s != "" {
		// ParseFloat takes "Inf" and "NaN", which fail both comparisons.
		if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && f <= maxUtilization {
			w.Utilization, w.HasUtilization = f, true
		}
	}
	return w
}

func unix(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 || n > maxUnix {
		return time.Time{}
	}
	return time.Unix(n, 0)
}

// Kind is what an answer means for the account that produced it.
type Kind uint8

// The kinds of Verdict.
const (
	// OK: pass the answer to the client; nothing to do with the account.
	OK Kind = iota
	// Spent: the account is at a limit until Verdict.Until; try another.
	Spent
	// ModelSpent: only Verdict.Model's family is blocked until Until.
	ModelSpent
	// Throttled: a per-request throttle (429 without limit headers); pause
	// the account for seconds and try another.
	Throttled
	// Overloaded: Anthropic is busy (529); pause briefly, try another.
	Overloaded
	// Unauthorized: the access token is dead (401); refresh, then retry.
	Unauthorized
)

var kindNames = [...]string{"ok", "spent", "model_spent", "throttled", "overloaded", "unauthorized"}

// String names the kind for logs and metrics.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Verdict is the classification of one answer.
type Verdict struct {
	Kind  Kind
	Until time.Time // end of the cooldown or pause; zero for OK and Unauthorized
	// Window is the limit behind a cooldown (FiveHour, SevenDay,
	// SevenDayOI) or "" when the upstream named none.
	Window string
	// Reason says it for a person: "5-hour limit", "weekly limit",
	// "rate limited", "overloaded".
	Reason string
}

// Retry reports whether the request should go to another account.
func (v Verdict) Retry() bool { return v.Kind != OK }

// Classify decides what an answer with the given status and headers means.
// fallback is the configured cooldown, used when the upstream says an
// account is spent without saying until when.
func Classify(status int, in Info, now time.Time, fallback time.Duration) Verdict {
	switch status {
	case http.StatusUnauthorized:
		return Verdict{Kind: Unauthorized, Reason: "access token rejected"}
	case 529:
		return Verdict{Kind: Overloaded, Until: now.Add(pause(in.RetryAfter, OverloadPause, OverloadPause)), Reason: "overloaded"}
	case http.StatusTooManyRequests:
		return classify429(in, now, fallback)
	}
	return Verdict{}
}

func classify429(in Info, now time.Time, fallback time.Duration) Verdict {
	// The latest reset among the rejected account-wide windows binds.
	var until time.Time
	var win string
	for _, w := range []struct {
		name string
		w    Window
	}{{FiveHour, in.FiveHour}, {SevenDay, in.SevenDay}} {
		if w.w.Status == Rejected && valid(w.w.Reset, now) && w.w.Reset.After(until) {
			until, win = w.w.Reset, w.name
		}
	}
	accountRejected := in.Status == Rejected || in.FiveHour.Status == Rejected || in.SevenDay.Status == Rejected
	if !accountRejected && in.SevenDayOI.Status == Rejected {
		v := Verdict{Kind: ModelSpent, Window: SevenDayOI, Reason: "weekly limit for this model"}
		switch {
		case valid(in.SevenDayOI.Reset, now):
			v.Until = in.SevenDayOI.Reset
		case in.RetryAfter > 0:
			v.Until = now.Add(in.RetryAfter)
		default:
			v.Until = now.Add(fallback)
		}
		return v
	}
	if !accountRejected {
		// A bare 429 (or one whose headers say allowed / allowed_warning)
		// is a per-request throttle, never a reason for a long bench.
		return Verdict{Kind: Throttled, Until: now.Add(pause(in.RetryAfter, ThrottlePause, MaxThrottlePause)), Reason: "rate limited"}
	}
	if until.IsZero() && valid(in.Reset, now) {
		until = in.Reset
		win = claimWindow(in.Claim)
	}
	if win == "" {
		win = claimWindow(in.Claim)
	}
	if until.IsZero() {
		if in.RetryAfter > 0 {
			until = now.Add(in.RetryAfter)
		} else {
			until = now.Add(fallback)
		}
	}
	return Verdict{Kind: Spent, Until: until, Window: win, Reason: WindowReason(win)}
}

// valid reports whether a reset time read from headers is usable: in the
// future and not absurdly far away.
func valid(t, now time.Time) bool {
	return !t.IsZero() && t.After(now) && t.Sub(now) <= maxReset
}

func pause(retryAfter, def, max time.Duration) time.Duration {
	switch {
	case retryAfter <= 0:
		return def
	case retryAfter > max:
		return max
	}
	return retryAfter
}

func claimWindow(claim string) string {
	switch claim {
	case FiveHour, SevenDay:
		return claim
	}
	return ""
}

// WindowReason says a window's limit in words: "5-hour limit".
func WindowReason(window string) string {
	switch window {
	case FiveHour:
		return "5-hour limit"
	case SevenDay:
		return "weekly limit"
	case SevenDayOI:
		return "weekly limit for this model"
	}
	return "usage limit"
}

// StreamError classifies an `event: error` that ended a streamed 200, by
// the error type in its data ("rate_limit_error", "overloaded_error"). The
// client has already received bytes, so nothing is retried; the account is
// paused briefly so the next request goes elsewhere.
func StreamError(errType string, now time.Time) Verdict {
	switch errType {
	case "rate_limit_error":
		return Verdict{Kind: Throttled, Until: now.Add(MaxThrottlePause), Reason: "rate limited mid-stream"}
	case "overloaded_error":
		return Verdict{Kind: Overloaded, Until: now.Add(OverloadPause), Reason: "overloaded mid-stream"}
	}
	return Verdict{}
}

// Family reduces a model name to the family a per-model limit applies to:
// "claude-opus-4-5-20251101" → "opus". Unknown names are returned as they are.
func Family(model string) string {
	for _, f := range [...]string{"opus", "sonnet", "haiku"} {
		if strings.Contains(model, f) {
			return f
		}
	}
	return model
}

// Stalled is the verdict on an account whose upstream answer stopped
// coming (no headers in time, or a stream gone silent): Anthropic is slow,
// not the account spent, so it pauses briefly, as for an overload.
func Stalled(now time.Time) Verdict {
	return Verdict{Kind: Overloaded, Until: now.Add(OverloadPause), Reason: "no answer"}
}
