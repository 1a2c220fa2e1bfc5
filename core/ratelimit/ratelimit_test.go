package ratelimit

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

var now = time.Unix(1_767_225_600, 0)

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func at(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }

func TestParse(t *testing.T) {
	h := hdr(
		"anthropic-ratelimit-unified-status", "allowed_warning",
		"anthropic-ratelimit-unified-reset", at(time.Hour),
		"anthropic-ratelimit-unified-representative-claim", "five_hour",
		"anthropic-ratelimit-unified-5h-status", "allowed_warning",
		"anthropic-ratelimit-unified-5h-reset", at(time.Hour),
		"anthropic-ratelimit-unified-5h-utilization", "0.91",
		"anthropic-ratelimit-unified-7d-status", "allowed",
		"anthropic-ratelimit-unified-7d-reset", at(72*time.Hour),
		"anthropic-ratelimit-unified-7d-utilization", "0.4",
		"anthropic-ratelimit-unified-7d_oi-status", "allowed",
		"anthropic-ratelimit-unified-overage-in-use", "true",
		"retry-after", "17",
	)
	got := Parse(h)
	if !got.Present || got.Status != AllowedWarning || got.Claim != FiveHour {
		t.Errorf("Parse status = %+v", got)
	}
	if !got.FiveHour.HasUtilization || got.FiveHour.Utilization != 0.91 || !got.FiveHour.Reset.Equal(now.Add(time.Hour)) {
		t.Errorf("FiveHour = %+v, want 0.91 resetting in 1h", got.FiveHour)
	}
	if got.SevenDay.Utilization != 0.4 || !got.SevenDay.Reset.Equal(now.Add(72*time.Hour)) {
		t.Errorf("SevenDay = %+v", got.SevenDay)
	}
	if got.SevenDayOI.Status != Allowed {
		t.Errorf("SevenDayOI.Status = %q, want %q", got.SevenDayOI.Status, Allowed)
	}
	if !got.OverageInUse || got.RetryAfter != 17*time.Second {
		t.Errorf("OverageInUse, RetryAfter = %v, %v; want true, 17s", got.OverageInUse, got.RetryAfter)
	}
	if empty := Parse(http.Header{"Content-Type": {"application/json"}}); empty.Present {
		t.Errorf("Parse of headers without limits: Present = true, want false")
	}
	if bad := Parse(hdr("anthropic-ratelimit-unified-5h-utilization", "abc", "retry-after", "soon")); bad.FiveHour.HasUtilization || bad.RetryAfter != 0 {
		t.Errorf("garbage values parsed as %+v", bad)
	}
}

func TestClassify(t *testing.T) {
	const fallback = 60 * time.Second
	tests := []struct {
		name   string
		status int
		h      http.Header
		want   Verdict
	}{
		{"200 allowed", 200, hdr("anthropic-ratelimit-unified-status", "allowed"), Verdict{}},
		{"200 allowed_warning never benches", 200, hdr("anthropic-ratelimit-unified-status", "allowed_warning", "anthropic-ratelimit-unified-5h-status", "allowed_warning"), Verdict{}},
		{"400 passes through", 400, nil, Verdict{}},
		{"401 refreshes", 401, nil, Verdict{Kind: Unauthorized, Reason: "access token rejected"}},
		{"529 short pause", 529, nil, Verdict{Kind: Overloaded, Until: now.Add(OverloadPause), Reason: "overloaded"}},
		{"bare 429 short pause", 429, nil, Verdict{Kind: Throttled, Until: now.Add(ThrottlePause), Reason: "rate limited"}},
		{"bare 429 honours small retry-after", 429, hdr("retry-after", "3"), Verdict{Kind: Throttled, Until: now.Add(3 * time.Second), Reason: "rate limited"}},
		{"bare 429 caps long retry-after", 429, hdr("retry-after", "3600"), Verdict{Kind: Throttled, Until: now.Add(MaxThrottlePause), Reason: "rate limited"}},
		{"429 allowed_warning is a throttle", 429, hdr("anthropic-ratelimit-unified-status", "allowed_warning", "anthropic-ratelimit-unified-reset", at(4*time.Hour)), Verdict{Kind: Throttled, Until: now.Add(ThrottlePause), Reason: "rate limited"}},
		{"429 5h rejected until its reset", 429, hdr(
			"anthropic-ratelimit-unified-status", "rejected",
			"anthropic-ratelimit-unified-5h-status", "rejected",
			"anthropic-ratelimit-unified-5h-reset", at(2*time.Hour),
			"anthropic-ratelimit-unified-7d-status", "allowed",
			"anthropic-ratelimit-unified-7d-reset", at(90*time.Hour),
			"retry-after", "60"),
			Verdict{Kind: Spent, Until: now.Add(2 * time.Hour), Window: FiveHour, Reason: "5-hour limit"}},
		{"429 both rejected: latest reset binds", 429, hdr(
			"anthropic-ratelimit-unified-status", "rejected",
			"anthropic-ratelimit-unified-5h-status", "rejected",
			"anthropic-ratelimit-unified-5h-reset", at(2*time.Hour),
			"anthropic-ratelimit-unified-7d-status", "rejected",
			"anthropic-ratelimit-unified-7d-reset", at(50*time.Hour)),
			Verdict{Kind: Spent, Until: now.Add(50 * time.Hour), Window: SevenDay, Reason: "weekly limit"}},
		{"429 rejected with only the unified reset", 429, hdr(
			"anthropic-ratelimit-unified-status", "rejected",
			"anthropic-ratelimit-unified-reset", at(3*time.Hour),
			"anthropic-ratelimit-unified-representative-claim", "five_hour"),
			Verdict{Kind: Spent, Until: now.Add(3 * time.Hour), Window: FiveHour, Reason: "5-hour limit"}},
		{"429 rejected, no reset: retry-after", 429, hdr("anthropic-ratelimit-unified-status", "rejected", "retry-after", "120"),
			Verdict{Kind: Spent, Until: now.Add(120 * time.Second), Reason: "usage limit"}},
		{"429 rejected, nothing said: configured cooldown", 429, hdr("anthropic-ratelimit-unified-status", "rejected"),
			Verdict{Kind: Spent, Until: now.Add(fallback), Reason: "usage limit"}},
		{"429 rejected, reset in the past: fallback", 429, hdr("anthropic-ratelimit-unified-status", "rejected", "anthropic-ratelimit-unified-reset", at(-time.Hour)),
			Verdict{Kind: Spent, Until: now.Add(fallback), Reason: "usage limit"}},
		{"429 7d_oi only: model scoped", 429, hdr(
			"anthropic-ratelimit-unified-status", "allowed",
			"anthropic-ratelimit-unified-7d_oi-status", "rejected",
			"anthropic-ratelimit-unified-7d_oi-reset", at(30*time.Hour)),
			Verdict{Kind: ModelSpent, Until: now.Add(30 * time.Hour), Window: SevenDayOI, Reason: "weekly limit for this model"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.h
			if h == nil {
				h = http.Header{}
			}
			got := Classify(tt.status, Parse(h), now, fallback)
			if got.Kind != tt.want.Kind || !got.Until.Equal(tt.want.Until) || got.Window != tt.want.Window || got.Reason != tt.want.Reason {
				t.Errorf("Classify = {%v %v %q %q}, want {%v %v %q %q}",
					got.Kind, got.Until.Sub(now), got.Window, got.Reason,
					tt.want.Kind, tt.want.Until.Sub(now), tt.want.Window, tt.want.Reason)
			}
			if got.Retry() != (tt.want.Kind != OK) {
				t.Errorf("Retry() = %v for kind %v", got.Retry(), got.Kind)
			}
		})
	}
}

func TestStreamErrorAndFamily(t *testing.T) {
	if v := StreamError("rate_limit_error", now); v.Kind != Throttled || !v.Until.After(now) {
		t.Errorf("StreamError(rate_limit_error) = %+v, want a short throttle", v)
	}
	if v := StreamError("overloaded_error", now); v.Kind != Overloaded {
		t.Errorf("StreamError(overloaded_error).Kind = %v, want %v", v.Kind, Overloaded)
	}
	if v := StreamError("invalid_request_error", now); v.Kind != OK {
		t.Errorf("StreamError(invalid_request_error).Kind = %v, want %v", v.Kind, OK)
	}
	for model, want := range map[string]string{
		"claude-opus-4-5-20251101": "opus", "claude-sonnet-4-5": "sonnet",
		"claude-3-5-haiku-latest": "haiku", "mystery": "mystery",
	} {
		if got := Family(model); got != want {
			t.Errorf("Family(%q) = %q, want %q", model, got, want)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	h := hdr("anthropic-ratelimit-unified-status", "allowed",
		"anthropic-ratelimit-unified-5h-utilization", "0.2", "anthropic-ratelimit-unified-5h-reset", at(time.Hour),
		"anthropic-ratelimit-unified-7d-utilization", "0.1", "anthropic-ratelimit-unified-7d-reset", at(50*time.Hour))
	b.ReportAllocs()
	for b.Loop() {
		Parse(h)
	}
}
