package settings

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/software"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/maxrouter/maxrouter/app/setup"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
)

// TestSnapshot renders every tab at the default size, and the dialogs,
// to PNG files in $MAXROUTER_SNAPSHOT_DIR, for a person to look at the
// layout. It is skipped when the variable is not set.
func TestSnapshot(t *testing.T) {
	dir := os.Getenv("MAXROUTER_SNAPSHOT_DIR")
	if dir == "" {
		t.Skip("MAXROUTER_SNAPSHOT_DIR not set")
	}
	b := limitedBackend()
	b.TokenList[0].Limits = control.Limits{MaxRequests: 100, Per: control.Period(24 * time.Hour)}
	b.TokenList[0].Window = &control.TokenWindow{ResetsAt: ciEnds, Requests: 100}
	b.UsageValue = fixtureUsage()
	b.TokenUsageValue = fixtureTokenUsage()
	b.StatusValue.Config = testHome + "/.config/maxrouter/config.toml"
	// Quota read by the daemon for every account, idle ones too.
	accounts := fixtureAccounts()
	accounts[0].Email, accounts[0].BillingExtra = "ana@example.com", true
	accounts[0].LoginExpiresAt = at(3*24*time.Hour + 2*time.Hour)
	accounts[0].Quota = &control.Quota{CheckedAt: at(-2 * time.Minute), NextAt: at(3 * time.Minute)}
	accounts[0].FiveHour.AsOf, accounts[0].SevenDay.AsOf = at(-time.Minute), at(-time.Minute)
	accounts[1].Quota = &control.Quota{CheckedAt: at(-4 * time.Minute), NextAt: at(time.Minute)}
	b.AccountList = accounts
	renews := testNow.Add(5 * time.Hour)
	b.DirChecks["~/.claude-research"] = control.DirCheck{Found: true, Subscription: "max", RateLimitTier: "default_claude_max_5x", ExpiresAt: &renews, CanRefresh: true}
	b.DirChecks["~/.config/claude-team2"] = control.DirCheck{Found: true, Subscription: "pro", ExpiresAt: &renews, CanRefresh: true}
	claude := &setup.Claude{Settings: filepath.Join(t.TempDir(), "settings.json"), StateFile: filepath.Join(t.TempDir(), setup.ClaudeStateFile), Logger: quiet}
	h := newHarness(t, b, Options{Version: "0.9.0", Autostart: &fakeAutostart{on: true}, Start: func() error { return nil },
		Discover: func() []string { return []string{"~/.claude-work", "~/.claude-research", "~/.config/claude-team2"} },
		Claude:   claude,
	}, func(c *control.Client) Daemon {
		claude.Daemon = c
		return c
	})
	w := h.w

	for _, variant := range []struct {
		name string
		th   fyne.Theme
	}{
		{"light", theme.LightTheme()},
		{"dark", theme.DarkTheme()},
	} {
		shot := func(name string) {
			t.Helper()
			writePNG(t, w, variant.th, filepath.Join(dir, "settings-"+variant.name+"-"+name+".png"))
		}
		for i, name := range []string{"accounts", "routing", "proxy", "notifications", "usage"} {
			w.tabs.SelectIndex(i)
			h.settle()
			shot(name)
		}
		w.usage.by.SetSelected(viewTokens)
		h.settle()
		shot("usage-tokens")
		w.usage.by.SetSelected(viewAccounts)
		h.settle()
		w.tabs.SelectIndex(2)
		w.proxy.item.Content.(*container.Scroll).ScrollToBottom()
		shot("proxy-tokens")
		w.proxy.onIssue()
		shot("issue")
		w.win.Canvas().Overlays().Top().Hide()
		w.proxy.onLimits(b.Tokens()[1])
		w.proxy.limiting.tokens.SetText("2x")
		shot("limits")
		w.win.Canvas().Overlays().Top().Hide()
		w.proxy.item.Content.(*container.Scroll).ScrollToTop()
		w.tabs.SelectIndex(1)
		w.routing.item.Content.(*container.Scroll).ScrollToBottom()
		shot("routing-models")
		w.routing.item.Content.(*container.Scroll).ScrollToTop()
		w.tabs.SelectIndex(2)
		test.Tap(w.proxy.claudeSetup)
		h.settle()
		shot("proxy-claude")
		test.Tap(w.proxy.claudeUndo)
		h.settle()
		w.tabs.SelectIndex(0)

		w.accounts.onDirPicked(testHome + "/.claude-new")
		h.settle()
		shot("add")
		w.accounts.adding.dlg.Hide()

		w.accounts.onAdd()
		h.settle()
		shot("add-account")
		w.accounts.add2.dlg.Hide()

		w.accounts.pickFolder()
		w.accounts.picker.open(pickerHome(t))
		h.settle()
		shot("picker")
		w.accounts.picker.dlg.Hide()

		w.accounts.startLogin("personal-2", true)
		h.settle()
		shot("login")
		test.Tap(button(t, overlayObjects(t, w), "Paste the code instead"))
		h.settle()
		shot("login-code")
		w.accounts.login.dismiss()

		w.proxy.port.SetText("abc")
		w.onApply()
		h.settle()
		w.tabs.SelectIndex(2)
		shot("port-error")
		w.onRevert()

		h.b.Lock()
		h.b.PutConfigErr = &config.ValidationError{Fields: []config.FieldError{
			{Field: "accounts[1].name", Message: `name "per sonal" may only hold letters, digits, '-', '_' and '.'`},
			{Field: "upstream", Message: "want an absolute http:// or https:// URL, got \"ftp://x\""},
		}}
		h.b.Unlock()
		h.row("personal").name.SetText("per sonal")
		w.onApply()
		h.settle()
		shot("account-error")
		h.b.Lock()
		h.b.PutConfigErr = nil
		h.b.Unlock()
		w.onRevert()

		w.proxy.showSecret(control.Issued{Token: control.Token{ID: "tok-9", Label: "build server"}, Secret: longSecret})
		shot("secret")
		w.win.Canvas().Overlays().Top().Hide()
		w.tabs.SelectIndex(0)

		h.d.Kill()
		h.waitFor("the banner shows", func() bool { return w.banner.box.Visible() })
		shot("down")
		h.d.Revive()
		h.waitFor("the banner goes", func() bool { return !w.banner.box.Visible() })
	}
}

func writePNG(t *testing.T, w *Window, th fyne.Theme, path string) {
	t.Helper()
	img := software.RenderCanvas(w.win.Canvas(), th)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}

// pickerHome is a home folder as the folder picker shows it: Claude Code
// folders beside others.
func pickerHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	for _, d := range []string{".cache", ".claude", ".claude-research", ".config", ".local", "Documents", "Downloads", "src"} {
		if err := os.Mkdir(filepath.Join(home, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{".claude", ".claude-research"} {
		if err := os.WriteFile(filepath.Join(home, d, ".credentials.json"), []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return home
}
