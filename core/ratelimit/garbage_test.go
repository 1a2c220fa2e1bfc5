package ratelimit

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"
)

// TestParseIgnoresGarbage feeds values no real answer carries: each must
// read as absent, so that snapshots built from them still encode.
func TestParseIgnoresGarbage(t *testing.T) {
	tests := []struct {
		name, key, value string
	}{
		{"utilization Inf", "anthropic-ratelimit-unified-5h-utilization", "Inf"},
		{"utilization +Inf", "anthropic-ratelimit-unified-5h-utilization", "+Inf"},
		{"utilization -Inf", "anthropic-ratelimit-unified-5h-utilization", "-Inf"},
		{"utilization infinity", "anthropic-ratelimit-unified-5h-utilization", "infinity"},
		{"utilization NaN", "anthropic-ratelimit-unified-5h-utilization", "NaN"},
		{"utilization overflowing", "anthropic-ratelimit-unified-5h-utilization", "1e999"},
		{"utilization absurd", "anthropic-ratelimit-unified-5h-utilization", "1e300"},
		{"utilization negative", "anthropic-ratelimit-unified-5h-utilization", "-0.5"},
		{"reset past year 9999", "anthropic-ratelimit-unified-5h-reset", "99999999999999"},
		{"reset overflowing", "anthropic-ratelimit-unified-5h-reset", "9223372036854775808"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Parse(hdr(tt.key, tt.value))
			if in.FiveHour.HasUtilization || !in.FiveHour.Reset.IsZero() {
				t.Errorf("%s: %q read as %+v, want absent", tt.key, tt.value, in.FiveHour)
			}
		})
	}
	// What is still real is kept: over the limit, and a reset in a year.
	in := Parse(hdr("anthropic-ratelimit-unified-5h-utilization", "1.37", "anthropic-ratelimit-unified-5h-reset", at(365*24*time.Hour)))
	if !in.FiveHour.HasUtilization || in.FiveHour.Utilization != 1.37 || in.FiveHour.Reset.IsZero() {
		t.Errorf("FiveHour = %+v, want 1.37 and a reset", in.FiveHour)
	}
}

// TestRetryAfterIsCapped: a retry-after longer than a reset time may be
// away is garbage, as such a reset is: it must not bench an account for a
// year.
func TestRetryAfterIsCapped(t *testing.T) {
	const fallback = 60 * time.Second
	year := strconv.Itoa(365 * 24 * 3600)
	tests := []struct {
		name string
		h    []string
		want time.Duration
	}{
		{"spent, a year's retry-after", []string{"anthropic-ratelimit-unified-status", "rejected", "retry-after", year}, fallback},
		{"spent, retry-after overflowing a Duration", []string{"anthropic-ratelimit-unified-status", "rejected", "retry-after", "9300000000"}, fallback},
		{"spent, retry-after beyond int64", []string{"anthropic-ratelimit-unified-status", "rejected", "retry-after", "99999999999999999999"}, fallback},
		{"spent, retry-after of the cap", []string{"anthropic-ratelimit-unified-status", "rejected", "retry-after", strconv.Itoa(int(maxReset / time.Second))}, maxReset},
		{"model spent, a year's retry-after", []string{"anthropic-ratelimit-unified-7d_oi-status", "rejected", "retry-after", year}, fallback},
		{"throttled, a year's retry-after", []string{"retry-after", year}, ThrottlePause},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Classify(429, Parse(hdr(tt.h...)), now, fallback)
			if got := v.Until.Sub(now); got != tt.want {
				t.Errorf("rest = %v, want %v", got, tt.want)
			}
		})
	}
}

// checkInfo fails when Parse let through a value no real answer carries.
func checkInfo(t *testing.T, in Info) {
	t.Helper()
	for _, w := range [...]Window{in.FiveHour, in.SevenDay, in.SevenDayOI} {
		if w.HasUtilization && !(w.Utilization >= 0 && w.Utilization <= maxUtilization) {
			t.Errorf("utilization %v let through", w.Utilization)
		}
		if !w.Reset.IsZero() && (w.Reset.Unix() <= 0 || w.Reset.Unix() > maxUnix) {
			t.Errorf("reset %v let through", w.Reset.Unix())
		}
		// What a snapshot of the window carries must encode.
		if _, err := json.Marshal(struct {
			U float64
			R time.Time
		}{w.Utilization, w.Reset}); err != nil {
			t.Errorf("a window parsed from headers does not encode: %v", err)
		}
	}
	if in.RetryAfter < 0 || in.RetryAfter > maxReset {
		t.Errorf("retry-after %v let through", in.RetryAfter)
	}
}
