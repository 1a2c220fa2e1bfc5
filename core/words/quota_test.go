package words

import (
	"fmt"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
)

func TestWindowAndLoginExpiry(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	reset := now.Add(2*time.Hour + 10*time.Minute)
	tests := []struct {
		name, got, want string
	}{
		{"window", Window(control.Window{Utilization: 0.24, ResetsAt: &reset, AsOf: &now}, now), "24% · resets in 2 h 10 min"},
		{"window not started", Window(control.Window{AsOf: &now}, now), "0%"},
		{"window unknown", Window(control.Window{}, now), ""},
		{"login far away", LoginExpiry(ptr(now.Add(20*24*time.Hour)), now), ""},
		{"login in a week", LoginExpiry(ptr(now.Add(7*24*time.Hour)), now), "login expires in 7 days"},
		{"login in 3 days", LoginExpiry(ptr(now.Add(3*24*time.Hour+5*time.Hour)), now), "login expires in 3 days"},
		{"login in a day", LoginExpiry(ptr(now.Add(30*time.Hour)), now), "login expires in 1 day"},
		{"login today", LoginExpiry(ptr(now.Add(5*time.Hour)), now), "login expires in 5 h"},
		{"login over", LoginExpiry(ptr(now.Add(-time.Minute)), now), "login expired"},
		{"login unknown", LoginExpiry(nil, now), ""},
		{"notes", fmt.Sprint(Notes(control.Account{BillingExtra: true, LoginExpiresAt: ptr(now.Add(2 * 24 * time.Hour))}, now)), "[billing extra usage login expires in 2 days]"},
		{"no notes", fmt.Sprint(Notes(control.Account{LoginExpiresAt: ptr(now.Add(9 * 24 * time.Hour))}, now)), "[]"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestChecked(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { return ptr(now.Add(-d)) }
	tests := []struct {
		name string
		a    control.Account
		want string
	}{
		{"nothing known", control.Account{}, ""},
		{"read by the poller", control.Account{Quota: &control.Quota{CheckedAt: ago(2 * time.Minute), NextAt: ptr(now.Add(3 * time.Minute))}}, "usage checked 2 min ago"},
		{"an answer is newer", control.Account{FiveHour: control.Window{AsOf: ago(10 * time.Second)}, Quota: &control.Quota{CheckedAt: ago(4 * time.Minute)}}, "usage checked under a minute ago"},
		{"headers only", control.Account{SevenDay: control.Window{AsOf: ago(time.Hour)}}, "usage checked 1 h ago"},
		{"read failed", control.Account{
			FiveHour: control.Window{AsOf: ago(70 * time.Minute)},
			Quota:    &control.Quota{CheckedAt: ago(70 * time.Minute), Error: "429 Too Many Requests", NextAt: ptr(now.Add(8 * time.Minute))},
		}, "usage not read (429 Too Many Requests) — trying again at 12:08; checked 1 h 10 min ago"},
		{"read failed, never read", control.Account{Quota: &control.Quota{Error: "dial tcp: connection refused", NextAt: ago(time.Second)}}, "usage not read (dial tcp: connection refused) — trying again now"},
		{"cannot be read", control.Account{Quota: &control.Quota{Skipped: "its token cannot read the usage (no user:profile scope, as with a setup token)"}},
			"usage known from answers only: its token cannot read the usage (no user:profile scope, as with a setup token)"},
	}
	for _, tt := range tests {
		if got := Checked(tt.a, now); got != tt.want {
			t.Errorf("%s: Checked = %q, want %q", tt.name, got, tt.want)
		}
	}
}
