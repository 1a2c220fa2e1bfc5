package quota

import (
	"math"
	"testing"
	"time"
)

func ptr(v float64) *float64 { return &v }

func TestParseUsage(t *testing.T) {
	reset := time.Date(2026, 1, 2, 19, 59, 59, 600956000, time.UTC)
	tests := []struct {
		name string
		body string
		want Usage
	}{
		{"documented shape",
			`{"five_hour":{"utilization":24.0,"resets_at":"2026-01-02T19:59:59.600956+00:00"},"seven_day":{"utilization":7,"resets_at":null},
			  "seven_day_opus":null,"seven_day_sonnet":{"utilization":50,"resets_at":"2026-01-02T19:59:59.600956+00:00"},
			  "seven_day_oauth_apps":null,"some_new_bucket":{"utilization":99},
			  "extra_usage":{"is_enabled":false,"monthly_limit":null,"used_credits":null,"utilization":null}}`,
			Usage{
				FiveHour: &Window{0.24, reset}, SevenDay: &Window{0.07, time.Time{}},
				Models: map[string]Window{"sonnet": {0.5, reset}},
				Extra:  &Extra{},
			}},
		{"extra usage in use",
			`{"five_hour":null,"seven_day":null,"extra_usage":{"is_enabled":true,"monthly_limit":5000,"used_credits":1250.5,"utilization":25.01}}`,
			Usage{Extra: &Extra{Enabled: true, MonthlyLimit: ptr(5000), UsedCredits: ptr(1250.5), Utilization: ptr(0.2501)}}},
		{"values that cannot be real are left out",
			`{"five_hour":{"utilization":-3},"seven_day":{"utilization":1e9},"seven_day_opus":{"utilization":"high"},"extra_usage":"yes"}`,
			Usage{}},
		{"past the limit", `{"five_hour":{"utilization":104.5,"resets_at":"not a time"}}`, Usage{FiveHour: &Window{1.045, time.Time{}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseUsage([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			checkWindow(t, "five_hour", got.FiveHour, tt.want.FiveHour)
			checkWindow(t, "seven_day", got.SevenDay, tt.want.SevenDay)
			if len(got.Models) != len(tt.want.Models) {
				t.Errorf("models = %v, want %v", got.Models, tt.want.Models)
			}
			for f, w := range tt.want.Models {
				g, ok := got.Models[f]
				if !ok {
					t.Errorf("model %q missing", f)
					continue
				}
				checkWindow(t, f, &g, &w)
			}
			if (got.Extra == nil) != (tt.want.Extra == nil) {
				t.Fatalf("extra = %+v, want %+v", got.Extra, tt.want.Extra)
			}
			if g, w := got.Extra, tt.want.Extra; g != nil {
				if g.Enabled != w.Enabled || !same(g.MonthlyLimit, w.MonthlyLimit) || !same(g.UsedCredits, w.UsedCredits) || !same(g.Utilization, w.Utilization) {
					t.Errorf("extra = %+v, want %+v", *g, *w)
				}
			}
		})
	}
	if _, err := ParseUsage([]byte(`<html>`)); err == nil {
		t.Error("ParseUsage(html) succeeded, want an error")
	}
}

func checkWindow(t *testing.T, name string, got, want *Window) {
	t.Helper()
	switch {
	case (got == nil) != (want == nil):
		t.Errorf("%s = %+v, want %+v", name, got, want)
	case got != nil && (math.Abs(got.Utilization-want.Utilization) > 1e-9 || !got.ResetsAt.Equal(want.ResetsAt)):
		t.Errorf("%s = %+v, want %+v", name, *got, *want)
	}
}

func same(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return math.Abs(*a-*b) < 1e-9
}

func TestParseProfile(t *testing.T) {
	tests := []struct {
		name, body string
		email, org string
		sub        string
	}{
		{"max", `{"account":{"email":"a@example.test","display_name":"A"},"organization":{"name":"A's org","organization_type":"claude_max","rate_limit_tier":"default_claude_max_20x"}}`,
			"a@example.test", "A's org", "max"},
		{"flags only", `{"account":{"email_address":"b@example.test","has_claude_pro":true},"organization":{}}`, "b@example.test", "", "pro"},
		{"nothing", `{}`, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseProfile([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if p.Email != tt.email || p.Organization != tt.org || p.Subscription() != tt.sub {
				t.Errorf("profile = %+v (plan %q), want %s, %s, %s", p, p.Subscription(), tt.email, tt.org, tt.sub)
			}
		})
	}
}
