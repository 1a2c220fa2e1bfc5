//go:build !headless

package desktop

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"

	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/control/controltest"
	"github.com/maxrouter/maxrouter/core/wait"
)

// realisticTokens are three client tokens: the tray's without limits, a
// CI runner part way through its budget, and an agent that spent its
// budget for the day.
func realisticTokens(now time.Time) []control.Token {
	created := now.Add(-36 * time.Hour)
	ends := now.Add(2*time.Hour + 13*time.Minute).Truncate(time.Minute)
	night := now.Add(9*time.Hour + 40*time.Minute).Truncate(time.Minute)
	month := now.Add(24 * 24 * time.Hour)
	return []control.Token{
		{ID: "3f9a1c2b", Label: "laptop (tray)", Prefix: "la_sk_3f9a", CreatedAt: created},
		{ID: "81c0d4e5", Label: "ci runner", Prefix: "la_sk_81c0", CreatedAt: created.Add(2 * time.Hour), ExpiresAt: &month,
			Limits: control.Limits{MaxRequests: 500, MaxTokens: 2_000_000, Per: control.Period(5 * time.Hour)},
			Window: &control.TokenWindow{Start: ends.Add(-5 * time.Hour), ResetsAt: ends, Requests: 312, Tokens: 1_234_000}},
		{ID: "c77e02aa", Label: "overnight agent", Prefix: "la_sk_c77e", CreatedAt: created.Add(5 * time.Hour),
			Limits: control.Limits{MaxTokens: 5_000_000, MaxCacheReads: 50_000_000, Per: control.Period(24 * time.Hour)},
			Window: &control.TokenWindow{Start: night.Add(-24 * time.Hour), ResetsAt: night, Requests: 1_840, Tokens: 5_230_000, CacheReadTokens: 31_400_000}},
	}
}

// TestProxyTabWindow opens the real settings window on its Proxy tab with
// three client tokens (one without limits, one part way through its
// budget, one spent), waits until the rows show their use, and checks the
// rendered pixels are not blank. With MAXROUTER_PROXY_SCREENSHOT=file.png
// it saves the window as a PNG (see TestSettingsWindow):
//
//	MAXROUTER_PROXY_SCREENSHOT=$PWD/docs/proxy.png dbus-run-session -- \
//	  xvfb-run -a -s "-screen 0 1280x800x24" go test -run TestProxyTabWindow ./app/desktop
func TestProxyTabWindow(t *testing.T) {
	needGUI(t)
	now := time.Now()
	backend := &controltest.Backend{}
	cfg := config.Default()
	cfg.Accounts = []config.Account{{Name: "work", Dir: "~/.claude-work"}, {Name: "personal", Dir: "~/.claude-personal"}, {Name: "side", Dir: "~/.claude-side"}}
	backend.ConfigValue = cfg
	backend.AccountList = realisticAccounts(now)
	backend.TokenList = realisticTokens(now)
	showSettings(t, backend)
	wait.For(t, "the settings window to load", func() bool { return slices.Contains(windowTexts(), "side") })
	fyne.DoAndWait(func() {
		tabs := findTabs(settingsWindow().Content())
		for _, it := range tabs.Items {
			if it.Text == "Proxy" {
				tabs.Select(it)
				if s, ok := it.Content.(*container.Scroll); ok {
					s.ScrollToBottom()
				}
			}
		}
	})
	wait.For(t, "the Proxy tab to show the tokens' use", func() bool {
		texts := windowTexts()
		return slices.ContainsFunc(texts, func(s string) bool { return strings.HasPrefix(s, "312/500 requests, 1.2M/2M tokens per 5h · resets ") }) &&
			slices.ContainsFunc(texts, func(s string) bool { return strings.HasPrefix(s, "Spent until ") }) && slices.Contains(texts, "No limits")
	})

	captureWindow(t, settingsTitle, 600, 400, os.Getenv("MAXROUTER_PROXY_SCREENSHOT"))
}
