package words

import (
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
)

func TestAmount(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{
		{0, "0"}, {500, "500"}, {999, "999"}, {1000, "1k"}, {1234, "1,234"}, {2500, "2.5k"},
		{500_000, "500k"}, {2_000_000, "2M"}, {1_500_000, "1.5M"}, {1_050_000, "1.05M"},
		{1_234_567, "1,234,567"}, {3_000_000_000, "3B"}, {-2000, "-2k"},
	} {
		got := Amount(tt.n)
		if got != tt.want {
			t.Errorf("Amount(%d) = %q, want %q", tt.n, got, tt.want)
		}
		if back, err := control.ParseCount(got); tt.n >= 0 && (err != nil || back != tt.n) {
			t.Errorf("ParseCount(%q) = %d, %v, want %d back", got, back, err, tt.n)
		}
	}
}

func TestTokenBudgetWords(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	now := time.Date(2026, 3, 4, 14, 52, 0, 0, loc)
	h5 := control.Period(5 * time.Hour)
	resets := time.Date(2026, 3, 4, 17, 5, 0, 0, loc)
	win := func(req, tok int64) *control.TokenWindow {
		return &control.TokenWindow{Start: resets.Add(-5 * time.Hour), ResetsAt: resets, Requests: req, Tokens: tok}
	}
	limits := control.Limits{MaxRequests: 500, MaxTokens: 2_000_000, Per: h5}
	past := now.Add(-time.Hour)
	tests := []struct {
		name               string
		tok                control.Token
		limits, use, state string
	}{
		{"no limits", control.Token{}, "no limits", "", "active"},
		{"fresh", control.Token{Limits: limits}, "500 requests, 2M tokens per 5h", "0/500 requests, 0/2M tokens", "active"},
		{"in use", control.Token{Limits: limits, Window: win(120, 1_234_000)}, "500 requests, 2M tokens per 5h", "120/500 requests, 1.2M/2M tokens · resets 17:05", "active"},
		{"requests spent", control.Token{Limits: limits, Window: win(500, 10)}, "500 requests, 2M tokens per 5h", "500/500 requests, 10/2M tokens · resets 17:05", "spent until 17:05"},
		{"tokens overshot", control.Token{Limits: limits, Window: win(3, 2_100_000)}, "500 requests, 2M tokens per 5h", "3/500 requests, 2.1M/2M tokens · resets 17:05", "spent until 17:05"},
		{"ended window", control.Token{Limits: limits, Window: &control.TokenWindow{ResetsAt: past, Requests: 500}}, "500 requests, 2M tokens per 5h", "0/500 requests, 0/2M tokens", "active"},
		{"one", control.Token{Limits: control.Limits{MaxRequests: 1, MaxTokens: 1, Per: h5}}, "1 request, 1 token per 5h", "0/1 requests, 0/1 tokens", "active"},
		{"cache reads", control.Token{Limits: control.Limits{MaxCacheReads: 50_000_000, Per: control.Period(7 * 24 * time.Hour)}}, "50M cache-read tokens per 7d", "0/50M cache-read tokens", "active"},
		{"revoked", control.Token{RevokedAt: &past, Limits: limits, Window: win(500, 0)}, "500 requests, 2M tokens per 5h", "500/500 requests, 0/2M tokens · resets 17:05", "revoked"},
		{"expired", control.Token{ExpiresAt: &past}, "no limits", "", "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Limits(tt.tok.Limits); got != tt.limits {
				t.Errorf("Limits = %q, want %q", got, tt.limits)
			}
			if got := TokenUse(tt.tok, now); got != tt.use {
				t.Errorf("TokenUse = %q, want %q", got, tt.use)
			}
			if got := TokenStatus(tt.tok, now); got != tt.state {
				t.Errorf("TokenStatus = %q, want %q", got, tt.state)
			}
		})
	}

	got := BudgetSpent("ci", "requests", 500, h5, resets, now)
	want := "client token \"ci\" has used its 500 requests per 5h: it can send again at 17:05 (in 2 h 13 min) (`maxrouter tokens limit` changes its limits)"
	if got != want {
		t.Errorf("BudgetSpent =\n%s\nwant\n%s", got, want)
	}
	// In the reader's zone: the daemon's local time.
	if got := BudgetSpent("ci", "tokens", 2_000_000, control.Period(24*time.Hour), resets.UTC().Add(24*time.Hour), now); got != "client token \"ci\" has used its 2M tokens per 1d: it can send again tomorrow at 17:05 (`maxrouter tokens limit` changes its limits)" {
		t.Errorf("BudgetSpent a day away = %s", got)
	}
}

func TestTokenBudget(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	now := time.Date(2026, 3, 4, 14, 52, 0, 0, loc)
	resets := time.Date(2026, 3, 4, 17, 5, 0, 0, loc)
	limits := control.Limits{MaxRequests: 500, MaxTokens: 2_000_000, Per: control.Period(5 * time.Hour)}
	for _, tt := range []struct {
		name string
		tok  control.Token
		want string
	}{
		{"no limits", control.Token{}, "no limits"},
		{"no window", control.Token{Limits: limits}, "0/500 requests, 0/2M tokens per 5h"},
		{"in use", control.Token{Limits: limits, Window: &control.TokenWindow{ResetsAt: resets, Requests: 312, Tokens: 1_234_000}},
			"312/500 requests, 1.2M/2M tokens per 5h · resets 17:05"},
		{"a day", control.Token{Limits: control.Limits{MaxCacheReads: 50_000_000, Per: control.Period(24 * time.Hour)}}, "0/50M cache-read tokens per 1d"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := TokenBudget(tt.tok, now); got != tt.want {
				t.Errorf("TokenBudget = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTokenName(t *testing.T) {
	for _, tt := range []struct{ label, id, want string }{
		{"ci", "3f9a1c2b5d6e7f80", "ci"},
		{"", "3f9a1c2b5d6e7f80", "removed token 3f9a1c2b…"},
		{"", "tok-3", "removed token tok-3"},
	} {
		if got := TokenName(tt.label, tt.id); got != tt.want {
			t.Errorf("TokenName(%q, %q) = %q, want %q", tt.label, tt.id, got, tt.want)
		}
	}
}

func TestBudgetReached(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	now := time.Date(2026, 3, 4, 14, 52, 0, 0, loc)
	at := func(h, m int) *time.Time { t := time.Date(2026, 3, 4, h, m, 0, 0, loc); return &t }
	tomorrow := time.Date(2026, 3, 5, 9, 0, 0, 0, loc)
	for _, tt := range []struct {
		name              string
		spent             []SpentToken
		wantTitle, wantBd string
	}{
		{"one", []SpentToken{{Label: "ci", Limits: "500 requests per 5h", Until: at(17, 5)}},
			"Client token “ci” spent its budget",
			"Its requests are refused until 17:05 (in 2 h 13 min). Its limits: 500 requests per 5h; Settings → Proxy changes them."},
		{"no end known", []SpentToken{{Label: "ci"}},
			"Client token “ci” spent its budget", "Its requests are refused until its window ends."},
		{"two", []SpentToken{{Label: "ci", Limits: "500 requests per 5h", Until: at(17, 5)}, {Label: "agent", Limits: "2M tokens per 1d", Until: &tomorrow}},
			"2 client tokens spent their budgets: ci, agent",
			"ci: refused until 17:05 (in 2 h 13 min); 500 requests per 5h.\nagent: refused until tomorrow 09:00 (in 18 h 8 min); 2M tokens per 1d.\nSettings → Proxy changes their limits."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			title, body := BudgetReached(tt.spent, now)
			if title != tt.wantTitle || body != tt.wantBd {
				t.Errorf("BudgetReached =\n%q\n%q\nwant\n%q\n%q", title, body, tt.wantTitle, tt.wantBd)
			}
		})
	}
}
