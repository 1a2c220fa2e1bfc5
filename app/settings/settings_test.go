package settings

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/maxrouter/maxrouter/app/live"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/control/controltest"
	"github.com/maxrouter/maxrouter/core/event"
)

func TestLoadShowsDaemonState(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	w := h.w

	if got, want := w.win.Title(), "MaxRouter Settings"; got != want {
		t.Errorf("title = %q, want %q", got, want)
	}
	if got, want := w.routing.strategy.Selected, "Round-robin"; got != want {
		t.Errorf("strategy = %q, want %q", got, want)
	}
	if got, want := w.routing.cooldown.Text, "60s"; got != want {
		t.Errorf("cooldown = %q, want %q", got, want)
	}
	if got, want := w.proxy.port.Text, "8787"; got != want {
		t.Errorf("port = %q, want %q", got, want)
	}
	var names []string
	for _, r := range w.accounts.rows {
		names = append(names, r.name.Text)
	}
	if want := []string{"work", "personal", "side", "team"}; !slices.Equal(names, want) {
		t.Errorf("rows = %q, want %q", names, want)
	}
	objs := objects(w)
	for _, want := range []string{
		"Max 20x   ~/.claude-work",
		"Available   ·   token renews in 3 h   ·   1234 requests",
		"Cooling until 14:32 (5-hour limit)   ·   token renews in 40 min   ·   87 requests",
		"Needs login — log in again, or run:",
		"CLAUDE_CONFIG_DIR=~/.claude-side claude /login",
		"Error: the token endpoint answered 503 — trying again at 13:05",
		"resets in 2 h 13 min",
		"resets in 3 days",
		"resets in under a minute",
	} {
		if !hasLabel(objs, want) {
			t.Errorf("no label %q; labels: %q", want, labelTexts(objs))
		}
	}
	if got, want := h.row("work").five.bar.Value, 0.42; got != want {
		t.Errorf("work's 5-hour bar = %v, want %v", got, want)
	}
	if got, want := h.row("personal").five.bar.Value, 1.0; got != want {
		t.Errorf("personal's 5-hour bar = %v, want %v (clamped)", got, want)
	}
	if !w.bar.apply.Disabled() {
		t.Error("Apply is enabled before any edit")
	}
	if w.banner.box.Visible() {
		t.Errorf("banner shown: %q", w.banner.text.Text)
	}
	// Trying again is offered where it helps, and only there.
	for _, tt := range []struct{ name, want string }{
		{"work", ""}, {"personal", "Reset cooldown"}, {"side", "Check again"}, {"team", "Check again"},
	} {
		r := h.row(tt.name)
		got := ""
		if r.action.Visible() {
			got = r.action.Text
		}
		if got != tt.want {
			t.Errorf("row %s action = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// The login command of an account that needs one is text to select, with
// a Copy button, not a red label.
func TestLoginCommandCopyable(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	r := h.row("side")
	const cmd = "CLAUDE_CONFIG_DIR=~/.claude-side claude /login"
	if !r.login.Visible() || r.command.Text != cmd {
		t.Fatalf("login command = %q (shown %v), want %q", r.command.Text, r.login.Visible(), cmd)
	}
	if !r.command.Selectable || !r.command.TextStyle.Monospace || r.command.Importance == widget.DangerImportance {
		t.Errorf("login command: selectable %v, monospace %v, importance %v; want selectable monospace text",
			r.command.Selectable, r.command.TextStyle.Monospace, r.command.Importance)
	}
	test.Tap(r.copyCmd)
	if got := h.w.app.Clipboard().Content(); got != cmd {
		t.Errorf("clipboard = %q, want %q", got, cmd)
	}
	if got, want := r.copyCmd.Text, "Copied"; got != want {
		t.Errorf("Copy button says %q after copying, want %q", got, want)
	}
	for _, name := range []string{"work", "personal", "team"} {
		if h.row(name).login.Visible() {
			t.Errorf("%s shows a login command", name)
		}
	}
}

// An account in the error state says why and when it is tried again, and
// Check again asks the daemon now.
func TestErrorStateCheckAgain(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	r := h.row("team")
	if got, want := r.status.Text, "Error: the token endpoint answered 503 — trying again at 13:05"; got != want {
		t.Errorf("team says %q, want %q", got, want)
	}
	test.Tap(r.action)
	h.settle()
	h.b.Lock()
	resets := slices.Clone(h.b.Resets)
	h.b.Unlock()
	if want := []string{"team"}; !slices.Equal(resets, want) {
		t.Errorf("ResetAccount calls = %q, want %q", resets, want)
	}

	// The daemon's answer comes back through the model.
	accts := fixtureAccounts()
	accts[3].State, accts[3].Reason, accts[3].RetryAt = control.StateAvailable, "", nil
	h.b.SetAccounts(accts)
	h.b.Publish(control.Event{Type: event.Refreshed, Account: "team"})
	h.waitFor("team is available", func() bool { return r.status.Text == "Available" })
	if r.action.Visible() {
		t.Error("Check again still offered for an available account")
	}
}

// A change made elsewhere (the tray, the CLI, a hand edit) shows in the
// open window within a second.
func TestChangeElsewhereShows(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	cfg := fixtureConfig()
	cfg.Strategy = "priority"
	cfg.Cooldown = config.Duration(5 * time.Minute)
	cfg.Accounts = append(cfg.Accounts, config.Account{Name: "extra", Dir: "~/.claude-extra"})
	h.b.SetConfig(cfg)
	took := h.waitFor("the tray's strategy shows", func() bool { return h.w.routing.strategy.Selected == "Priority" })
	if took > time.Second {
		t.Errorf("the change showed after %v, want within a second", took)
	}
	if got, want := h.w.routing.cooldown.Text, "5m"; got != want {
		t.Errorf("cooldown = %q, want %q", got, want)
	}
	if got, want := len(h.w.accounts.rows), 5; got != want {
		t.Errorf("rows = %d, want %d", got, want)
	}
	if !h.w.bar.apply.Disabled() {
		t.Error("a change made elsewhere counts as an edit")
	}
}

// Apply of one field sends that field on top of what changed elsewhere:
// the strategy the tray set survives an Apply of the cooldown.
func TestApplyKeepsChangesMadeElsewhere(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	w := h.w
	w.routing.cooldown.SetText("5m")
	h.row("side").name.SetText("spare")

	cfg := fixtureConfig()
	cfg.Strategy = "priority"
	cfg.Accounts[0].Enabled = ptr(false) // the CLI disabled work
	h.b.SetConfig(cfg)
	h.waitFor("the tray's strategy shows", func() bool { return w.routing.strategy.Selected == "Priority" })
	if got, want := w.routing.cooldown.Text, "5m"; got != want {
		t.Errorf("cooldown = %q, want the edit %q kept", got, want)
	}
	if got, want := h.row("side").name.Text, "spare"; got != want {
		t.Errorf("side's name = %q, want the edit %q kept", got, want)
	}
	h.apply()

	want := cfg
	want.Cooldown = config.Duration(5 * time.Minute)
	want.Accounts = slices.Clone(cfg.Accounts)
	want.Accounts[2].Name = "spare"
	if got := lastPut(t, h.b); !reflect.DeepEqual(got, want) {
		t.Errorf("PutConfig =\n%+v\nwant\n%+v", got, want)
	}
	if got, want := w.bar.summary.Text, "Applied."; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	if !w.bar.apply.Disabled() {
		t.Error("Apply still enabled after applying")
	}
}

// When the configuration changed after the window last heard of it, Apply
// is refused (412): the edits stay, the other fields show the change, and
// the summary says what changed.
func TestApplyStaleKeepsEdits(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	w := h.w
	w.routing.cooldown.SetText("5m")

	// A hand edit whose event has not reached the window yet.
	cfg := fixtureConfig()
	cfg.Strategy = "priority"
	h.b.Lock()
	h.b.ConfigValue, h.b.Revision = cfg, "rev-hand-edit"
	h.b.Unlock()
	h.apply()

	if got, want := w.bar.summary.Text, "Not applied: meanwhile the strategy was changed to Priority. Your edits are kept: press Apply again."; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	if got, _ := h.b.Config(); got.Cooldown != config.Duration(time.Minute) || got.Strategy != "priority" {
		t.Errorf("daemon config = %+v, want the hand edit untouched", got)
	}
	if got, want := w.routing.cooldown.Text, "5m"; got != want {
		t.Errorf("cooldown = %q, want the edit %q kept", got, want)
	}
	if got, want := w.routing.strategy.Selected, "Priority"; got != want {
		t.Errorf("strategy = %q, want the daemon's %q", got, want)
	}
	h.apply()
	want := cfg
	want.Cooldown = config.Duration(5 * time.Minute)
	if got := lastPut(t, h.b); !reflect.DeepEqual(got, want) {
		t.Errorf("PutConfig =\n%+v\nwant\n%+v", got, want)
	}
	if got, want := w.bar.summary.Text, "Applied."; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
}

func TestApplyStrategy(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	h.w.routing.strategy.SetSelected("Priority")
	h.apply()

	want := fixtureConfig()
	want.Strategy = "priority"
	if got := lastPut(t, h.b); !reflect.DeepEqual(got, want) {
		t.Errorf("PutConfig =\n%+v\nwant\n%+v", got, want)
	}
	if !h.w.bar.apply.Disabled() {
		t.Error("Apply still enabled after applying")
	}
	if got, want := h.w.bar.summary.Text, "Applied."; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
}

func TestApplyKeepsTokenAccountsAndUnknownFields(t *testing.T) {
	b := newBackend()
	cfg := fixtureConfig()
	cfg.Upstream = "http://127.0.0.1:9/anthropic"
	cfg.MaxBodyMB = 7
	cfg.Accounts = append(cfg.Accounts, config.Account{Name: "ci", Token: "sk-ant-oat01-…abcd"})
	b.ConfigValue = cfg
	h := newHarness(t, b, Options{})

	if got, want := h.row("ci").title.String(), "long-lived token (claude setup-token)"; got != want {
		t.Errorf("token account row says %q, want %q", got, want)
	}
	h.w.routing.affinity.SetChecked(false)
	h.w.routing.cooldown.SetText("5m")
	test.Tap(h.row("ci").enable)
	h.apply()

	want := cfg
	want.SessionAffinity = false
	want.Cooldown = config.Duration(5 * time.Minute)
	want.Accounts = slices.Clone(cfg.Accounts)
	want.Accounts[4].Enabled = ptr(false)
	if got := lastPut(t, h.b); !reflect.DeepEqual(got, want) {
		t.Errorf("PutConfig =\n%+v\nwant\n%+v", got, want)
	}
}

func TestAddAccount(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	w := h.w

	w.accounts.onDirPicked(testHome + "/.claude-new")
	h.settle()

	h.b.Lock()
	checks := slices.Clone(h.b.Checks)
	h.b.Unlock()
	if want := []string{testHome + "/.claude-new"}; !slices.Equal(checks, want) {
		t.Errorf("CheckDir calls = %q, want %q", checks, want)
	}
	dlg := overlayObjects(t, w)
	if !hasLabel(dlg, "Credentials found — Max 20x") {
		t.Fatalf("dialog does not say what was found; labels: %q", labelTexts(dlg))
	}
	if !hasLabel(dlg, "~/.claude-new") {
		t.Errorf("dialog does not show the folder; labels: %q", labelTexts(dlg))
	}
	if got, want := w.accounts.adding.name.Text, "new"; got != want {
		t.Errorf("proposed name = %q, want %q", got, want)
	}
	w.accounts.adding.name.SetText("extra")
	test.Tap(button(t, dlg, "Add"))

	if w.win.Canvas().Overlays().Top() != nil {
		t.Error("dialog still open after Add")
	}
	if got, want := len(w.accounts.rows), 5; got != want {
		t.Fatalf("rows = %d, want %d", got, want)
	}
	r := w.accounts.rows[4]
	if got, want := r.status.Text, "New — used once you press Apply"; got != want {
		t.Errorf("new row state = %q, want %q", got, want)
	}
	if got, want := r.title.String(), "Max 20x   ~/.claude-new"; got != want {
		t.Errorf("new row title = %q, want %q", got, want)
	}
	h.apply()

	got := lastPut(t, h.b).Accounts
	if want := (config.Account{Name: "extra", Dir: "~/.claude-new"}); len(got) != 5 || !reflect.DeepEqual(got[4], want) {
		t.Errorf("PutConfig accounts = %+v, want the fixtures and %+v", got, want)
	}
	if got, want := len(w.accounts.rows), 5; got != want {
		t.Errorf("rows after applying = %d, want %d", got, want)
	}
	if !w.bar.apply.Disabled() {
		t.Error("Apply enabled after the new account was applied")
	}
}

func TestAddAccountWithoutCredentials(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	w := h.w

	w.accounts.onDirPicked(testHome + "/.claude-empty")
	h.settle()

	dlg := overlayObjects(t, w)
	text, ok := findLabelContaining(dlg, "No credentials found")
	if !ok {
		t.Fatalf("dialog does not say nothing was found; labels: %q", labelTexts(dlg))
	}
	if !strings.Contains(text, "no Claude Code credentials in this directory") || !strings.Contains(text, "CLAUDE_CONFIG_DIR=~/.claude-empty claude /login") {
		t.Errorf("dialog says %q, want the daemon's problem and the login command", text)
	}
	test.Tap(button(t, dlg, "Cancel"))
	if got, want := len(w.accounts.rows), 4; got != want {
		t.Errorf("rows after Cancel = %d, want %d", got, want)
	}
	if !w.bar.apply.Disabled() {
		t.Error("Apply enabled after a cancelled add")
	}
}

func TestAddAccountAlreadyListed(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	h.w.accounts.onDirPicked(testHome + "/.claude-work/")
	h.settle()

	dlg := overlayObjects(t, h.w)
	if _, ok := findLabelContaining(dlg, "already in the list as work"); !ok {
		t.Errorf("no 'already in the list' message; labels: %q", labelTexts(dlg))
	}
	h.b.Lock()
	defer h.b.Unlock()
	if len(h.b.Checks) != 0 {
		t.Errorf("CheckDir called for a listed folder: %q", h.b.Checks)
	}
}

func TestRemoveAccount(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	w := h.w

	// Keep: nothing changes.
	test.Tap(h.row("personal").remove)
	test.Tap(button(t, overlayObjects(t, w), "Keep"))
	if got, want := len(w.accounts.rows), 4; got != want {
		t.Fatalf("rows after Keep = %d, want %d", got, want)
	}

	test.Tap(h.row("personal").remove)
	dlg := overlayObjects(t, w)
	if _, ok := findLabelContaining(dlg, "~/.claude-personal is left as it is"); !ok {
		t.Errorf("confirmation does not reassure about the login; labels: %q", labelTexts(dlg))
	}
	test.Tap(button(t, dlg, "Remove"))
	if got, want := len(w.accounts.rows), 3; got != want {
		t.Fatalf("rows after Remove = %d, want %d", got, want)
	}

	// An account added elsewhere meanwhile is kept; the removed one stays
	// removed.
	cfg := fixtureConfig()
	cfg.Accounts = append(cfg.Accounts, config.Account{Name: "extra", Dir: "~/.claude-extra"})
	h.b.SetConfig(cfg)
	h.waitFor("the new account shows", func() bool { return len(w.accounts.rows) == 4 })
	h.apply()

	if got, want := accountNames(lastPut(t, h.b).Accounts), []string{"work", "side", "team", "extra"}; !slices.Equal(got, want) {
		t.Errorf("PutConfig accounts = %q, want %q", got, want)
	}
}

func TestMoveAndDisable(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	w := h.w

	if !h.row("work").up.Disabled() || !h.row("team").down.Disabled() {
		t.Error("the first row can move up or the last one down")
	}
	work := h.row("work")
	test.Tap(work.down)
	if got := w.accounts.rows[1]; got != work {
		t.Fatalf("after Move down, row 1 is %q, want work", got.acct.Name)
	}
	if work.up.Disabled() {
		t.Error("moved row cannot move back up")
	}

	test.Tap(work.enable)
	if got, want := work.enable.Text, "Enable"; got != want {
		t.Errorf("button after disabling = %q, want %q", got, want)
	}
	if got, want := work.status.Text, "Will be disabled when you press Apply"; got != want {
		t.Errorf("state after disabling = %q, want %q", got, want)
	}
	h.apply()

	got := lastPut(t, h.b).Accounts
	if names, want := accountNames(got), []string{"personal", "work", "side", "team"}; !slices.Equal(names, want) {
		t.Errorf("PutConfig order = %q, want %q", names, want)
	}
	if got[1].Enabled == nil || *got[1].Enabled {
		t.Errorf("work Enabled = %v, want false", got[1].Enabled)
	}
	if got[0].Enabled == nil || !*got[0].Enabled {
		t.Errorf("personal Enabled = %v, want true as the daemon had it", got[0].Enabled)
	}

	// Enabling again goes back to the default.
	test.Tap(h.row("work").enable)
	h.apply()
	if e := lastPut(t, h.b).Accounts[1].Enabled; e != nil && !*e {
		t.Errorf("work Enabled after enabling = %v, want default (enabled)", *e)
	}
}

func TestRenameAccount(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	r := h.row("work")
	r.name.SetText("")
	test.Type(r.name, "work-job")
	h.apply()
	if got, want := lastPut(t, h.b).Accounts[0].Name, "work-job"; got != want {
		t.Errorf("PutConfig name = %q, want %q", got, want)
	}
	h.waitFor("the renamed account is followed", func() bool { return h.w.state.Revision == h.w.rev })
	if got, want := len(h.w.accounts.rows), 4; got != want {
		t.Errorf("rows after renaming = %d, want %d", got, want)
	}
}

func TestDaemonValidationErrors(t *testing.T) {
	b := newBackend()
	b.PutConfigErr = &config.ValidationError{Fields: []config.FieldError{
		{Field: "listen", Message: "cannot listen on 127.0.0.1:9999: address already in use"},
		{Field: "accounts[1].name", Message: `name "per sonal" may only hold letters, digits, '-', '_' and '.'`},
		{Field: "upstream", Message: "want an absolute http:// or https:// URL"},
	}}
	h := newHarness(t, b, Options{})
	w := h.w

	w.proxy.port.SetText("9999")
	h.row("personal").name.SetText("per sonal")
	h.apply()

	if got, want := w.tabs.Selected().Text, "Accounts"; got != want {
		t.Errorf("selected tab = %q, want the first with an error, %q", got, want)
	}
	for _, tt := range []struct {
		tab  *fyne.Container
		item string
		msg  string
	}{
		{nil, "Proxy", "Cannot listen on 127.0.0.1:9999: address already in use"},
		{nil, "Accounts", `Name "per sonal" may only hold letters, digits, '-', '_' and '.'`},
	} {
		for _, item := range w.tabs.Items {
			if item.Text == tt.item {
				w.tabs.Select(item)
			}
		}
		if objs := objects(w); !hasLabel(objs, tt.msg) {
			t.Errorf("no inline error %q on the %s tab; labels: %q", tt.msg, tt.item, labelTexts(objs))
		}
	}
	if got, want := h.row("personal").err.Text, `Name "per sonal" may only hold letters, digits, '-', '_' and '.'`; got != want {
		t.Errorf("row error = %q, want %q", got, want)
	}
	if h.row("work").err.Visible() {
		t.Errorf("work shows an error: %q", h.row("work").err.Text)
	}
	want := "Not applied: fix the values marked in red on the Proxy and Accounts tabs; upstream: want an absolute http:// or https:// URL"
	if got := w.bar.summary.Text; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	if !tabHasError(w.proxy.item) || tabHasError(w.routing.item) {
		t.Error("tab icons do not mark exactly the tabs with errors")
	}
	// Nothing was applied and the edits are still there.
	if got, _ := h.b.Config(); got.Listen != "127.0.0.1:8787" {
		t.Errorf("daemon listen = %q, want unchanged", got.Listen)
	}
	if w.proxy.port.Text != "9999" || h.row("personal").name.Text != "per sonal" {
		t.Error("the edits were lost")
	}
	if w.bar.apply.Disabled() {
		t.Error("Apply disabled after a refused apply")
	}

	// Fixing it and applying again clears the marks.
	h.b.Lock()
	h.b.PutConfigErr = nil
	h.b.Unlock()
	h.row("personal").name.SetText("personal")
	h.apply()
	if w.proxy.portErr.Visible() || h.row("personal").err.Visible() {
		t.Error("inline errors still shown after a successful apply")
	}
	if got, _ := h.b.Config(); got.Listen != "127.0.0.1:9999" {
		t.Errorf("daemon listen = %q, want 127.0.0.1:9999", got.Listen)
	}
	if got, want := w.proxy.baseURL.Text, "http://127.0.0.1:9999"; got != want {
		t.Errorf("base URL after moving the port = %q, want %q", got, want)
	}
	if tabHasError(w.proxy.item) {
		t.Error("Proxy tab still marked")
	}
}

func TestLocalValidation(t *testing.T) {
	tests := []struct {
		name     string
		port     string
		cooldown string
		field    func(*Window) *widget.Label
		want     string
	}{
		{"port not a number", "abc", "60s", func(w *Window) *widget.Label { return w.proxy.portErr }, `"abc" is not a port: enter a number from 1 to 65535`},
		{"port too big", "70000", "60s", func(w *Window) *widget.Label { return w.proxy.portErr }, `"70000" is not a port: enter a number from 1 to 65535`},
		{"port zero", "0", "60s", func(w *Window) *widget.Label { return w.proxy.portErr }, `"0" is not a port: enter a number from 1 to 65535`},
		{"cooldown without unit", "8787", "60", func(w *Window) *widget.Label { return w.routing.cooldownErr }, `"60" is not a duration: write it like 60s, 5m or 1m30s`},
		{"cooldown zero", "8787", "0s", func(w *Window) *widget.Label { return w.routing.cooldownErr }, "Must be more than 0, such as 60s"},
	}
	h := newHarness(t, newBackend(), Options{})
	w := h.w
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			test.Tap(w.bar.revert)
			w.proxy.port.SetText(tt.port)
			w.routing.cooldown.SetText(tt.cooldown)
			h.apply()

			if n := putCount(h.b); n != 0 {
				t.Errorf("PutConfig called %d times, want 0", n)
			}
			l := tt.field(w)
			if !l.Visible() || l.Text != tt.want {
				t.Errorf("inline error = %q (visible %v), want %q", l.Text, l.Visible(), tt.want)
			}
			if !hasLabel(objects(w), tt.want) {
				t.Errorf("error %q not on the canvas", tt.want)
			}
			if !strings.HasPrefix(w.bar.summary.Text, "Not applied: fix the values marked in red") {
				t.Errorf("summary = %q", w.bar.summary.Text)
			}
		})
	}

	t.Run("port is checked while typing", func(t *testing.T) {
		test.Tap(w.bar.revert)
		p := w.proxy
		p.port.SetText("")
		test.Type(p.port, "80a")
		if got, want := p.portErr.Text, `"80a" is not a port: enter a number from 1 to 65535`; !p.portErr.Visible() || got != want {
			t.Errorf("port error while typing = %q, want %q", got, want)
		}
		p.port.SetText("8080")
		if p.portErr.Visible() {
			t.Errorf("port error still shown for 8080: %q", p.portErr.Text)
		}
	})
}

func TestRevert(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	w := h.w

	w.routing.strategy.SetSelected("Most headroom")
	h.row("work").name.SetText("renamed")
	test.Tap(h.row("side").remove)
	test.Tap(button(t, overlayObjects(t, w), "Remove"))
	if w.bar.revert.Disabled() {
		t.Fatal("Revert disabled with edits")
	}
	// The daemon changed meanwhile (the tray switched the strategy): the
	// edit wins until it is reverted.
	cfg := fixtureConfig()
	cfg.Strategy = "least-used"
	h.b.SetConfig(cfg)
	h.waitFor("the window follows the change", func() bool { return w.base.Strategy == "least-used" })
	if got, want := w.routing.strategy.Selected, "Most headroom"; got != want {
		t.Errorf("strategy = %q, want the edit %q", got, want)
	}

	test.Tap(w.bar.revert)
	h.settle()
	if got, want := w.routing.strategy.Selected, "Least used"; got != want {
		t.Errorf("strategy after Revert = %q, want %q", got, want)
	}
	if got, want := len(w.accounts.rows), 4; got != want {
		t.Errorf("rows after Revert = %d, want %d", got, want)
	}
	if got, want := w.accounts.rows[0].name.Text, "work"; got != want {
		t.Errorf("name after Revert = %q, want %q", got, want)
	}
	if n := putCount(h.b); n != 0 {
		t.Errorf("PutConfig called %d times, want 0", n)
	}
	if !w.bar.apply.Disabled() {
		t.Error("Apply enabled after Revert")
	}
}

// Edits survive hiding the window; fields not edited follow the daemon
// while it is hidden too.
func TestShowAgainKeepsEditsAndFollows(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	w := h.w

	w.routing.cooldown.SetText("2m")
	h.row("work").name.SetText("job")
	w.hide()
	cfg := fixtureConfig()
	cfg.Strategy = "headroom"
	cfg.SessionAffinity = false
	cfg.Accounts[2].Dir = "~/.claude-side2"
	h.b.SetConfig(cfg)
	_, rev := h.b.Config()
	stop := h.m.Watch(func(live.State, []control.Event) { h.ui.do(func() {}) }) // wakes waitFor
	h.waitFor("the model has the change", func() bool { return h.m.State().Revision == rev })
	stop()
	w.Show()
	h.settle()
	if got, want := w.routing.cooldown.Text, "2m"; got != want {
		t.Errorf("cooldown after Show = %q, want the edit %q kept", got, want)
	}
	if got, want := w.routing.strategy.Selected, "Most headroom"; got != want {
		t.Errorf("strategy after Show = %q, want the daemon's %q", got, want)
	}
	if w.routing.affinity.Checked {
		t.Error("session affinity after Show = on, want the daemon's off")
	}
	h.apply()
	want := cfg
	want.Cooldown = config.Duration(2 * time.Minute)
	want.Accounts = slices.Clone(cfg.Accounts)
	want.Accounts[0].Name = "job"
	if got := lastPut(t, h.b); !reflect.DeepEqual(got, want) {
		t.Errorf("PutConfig =\n%+v\nwant\n%+v", got, want)
	}
}

func TestIssueToken(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	w := h.w

	w.proxy.onIssue()
	dlg := overlayObjects(t, w)
	f := w.proxy.issuing
	for _, o := range []fyne.CanvasObject{f.label, f.ttl, f.limits.requests, f.limits.tokens, f.limits.cacheReads, f.limits.per} {
		if !slices.Contains(dlg, o) {
			t.Fatalf("issue dialog lacks a field (%T)", o)
		}
	}
	test.Type(f.label, "build server")
	f.ttl.SetSelected("30 days")
	test.Tap(button(t, dlg, "Issue"))
	h.settle()

	h.b.Lock()
	issues := slices.Clone(h.b.Issues)
	h.b.Unlock()
	if want := []controltest.IssueCall{{Label: "build server", TTL: 30 * 24 * time.Hour}}; !slices.Equal(issues, want) {
		t.Errorf("IssueToken calls = %+v, want %+v", issues, want)
	}
	const secret = "la_sk_test-4"
	dlg = overlayObjects(t, w)
	if !hasLabel(dlg, secret) {
		t.Fatalf("secret not shown; labels: %q", labelTexts(dlg))
	}
	test.Tap(button(t, dlg, "Copy"))
	if got := w.app.Clipboard().Content(); got != secret {
		t.Errorf("clipboard = %q, want the secret", got)
	}
	if !hasLabel(test.LaidOutObjects(w.proxy.tokenList), "build server") {
		t.Error("token list does not show the new token")
	}
	test.Tap(button(t, dlg, "Done"))

	// Shown once: nothing in the window holds the secret any more.
	for _, s := range labelTexts(objects(w)) {
		if strings.Contains(s, secret) {
			t.Errorf("secret still shown after Done: %q", s)
		}
	}
}

func TestIssueTokenError(t *testing.T) {
	b := newBackend()
	b.IssueErr = errors.New("token store is read-only")
	h := newHarness(t, b, Options{})

	h.w.proxy.issueToken(control.IssueRequest{Label: "laptop"})
	h.settle()
	if _, ok := findLabelContaining(overlayObjects(t, h.w), "token store is read-only"); !ok {
		t.Errorf("error not shown; labels: %q", labelTexts(overlayObjects(t, h.w)))
	}
}

func TestRevokeToken(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	w := h.w

	var revoke []*widget.Button
	for _, o := range test.LaidOutObjects(w.proxy.tokenList) {
		if btn, ok := o.(*widget.Button); ok && btn.Text == "Revoke" {
			revoke = append(revoke, btn)
		}
	}
	if got, want := len(revoke), 2; got != want {
		t.Fatalf("Revoke buttons = %d, want %d (one per active token)", got, want)
	}
	test.Tap(revoke[0]) // ci: active tokens come newest first
	dlg := overlayObjects(t, w)
	if _, ok := findLabelContaining(dlg, "Revoke “ci”?"); !ok {
		t.Errorf("confirmation does not name the token; labels: %q", labelTexts(dlg))
	}
	test.Tap(button(t, dlg, "Revoke"))
	h.settle()

	h.b.Lock()
	revokes := slices.Clone(h.b.Revokes)
	h.b.Unlock()
	if want := []string{"tok-2"}; !slices.Equal(revokes, want) {
		t.Errorf("RevokeToken calls = %q, want %q", revokes, want)
	}
	n := 0
	for _, s := range labelTexts(test.LaidOutObjects(w.proxy.tokenList)) {
		if s == "Revoked" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("token list shows %d revoked tokens, want 2", n)
	}
}

// Account rows follow every new State of the model: states, bars,
// countdowns, buttons.
func TestRowsFollowTheDaemon(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})

	accts := fixtureAccounts()
	accts[0].State = control.StateCooling
	accts[0].CooldownUntil = at(time.Hour)
	accts[0].Reason = "weekly limit"
	accts[0].SevenDay.Utilization = 1
	accts[2].State = control.StateAvailable
	accts[2].Reason = ""
	h.b.SetAccounts(accts)
	h.b.Publish(control.Event{Type: event.CooldownStarted, Account: "work"})

	work, side := h.row("work"), h.row("side")
	h.waitFor("work is cooling", func() bool { return strings.HasPrefix(work.status.Text, "Cooling") })
	if got, want := work.status.Text, "Cooling until 13:19 (weekly limit)"; got != want {
		t.Errorf("work state = %q, want %q", got, want)
	}
	if got, want := side.status.Text, "Available"; got != want {
		t.Errorf("side state = %q, want %q", got, want)
	}
	if _, ok := findLabelContaining(objects(h.w), "Cooling until 13:19 (weekly limit)"); !ok {
		t.Error("new state not on the canvas")
	}
	if got, want := work.seven.bar.Value, 1.0; got != want {
		t.Errorf("work 7-day bar = %v, want %v", got, want)
	}
	if !work.action.Visible() || side.action.Visible() || side.login.Visible() {
		t.Error("buttons and login command do not follow the new states")
	}
}

func TestResetCooldown(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	test.Tap(h.row("personal").action)
	h.settle()
	h.b.Lock()
	resets := slices.Clone(h.b.Resets)
	h.b.Unlock()
	if want := []string{"personal"}; !slices.Equal(resets, want) {
		t.Errorf("ResetAccount calls = %q, want %q", resets, want)
	}
	if n := putCount(h.b); n != 0 {
		t.Errorf("reset went through PutConfig (%d calls)", n)
	}
}

func TestAutostart(t *testing.T) {
	auto := &fakeAutostart{on: false}
	h := newHarness(t, newBackend(), Options{Autostart: auto})
	n := h.w.notifications

	if n.autostart.Checked {
		t.Fatal("autostart checked, want the system's state (off)")
	}
	n.autostart.SetChecked(true)
	h.apply()
	if want := []string{"enable"}; !slices.Equal(auto.calls, want) {
		t.Errorf("autostart calls = %q, want %q", auto.calls, want)
	}
	if c := putCount(h.b); c != 0 {
		t.Errorf("PutConfig called %d times for an autostart change only", c)
	}
	if !h.w.bar.apply.Disabled() {
		t.Error("Apply still enabled")
	}

	auto.err = errors.New("no autostart directory")
	n.autostart.SetChecked(false)
	h.apply()
	if got := n.autostartErr.Text; !n.autostartErr.Visible() || !strings.Contains(got, "no autostart directory") {
		t.Errorf("autostart error = %q, want the cause", got)
	}

	t.Run("hidden without Autostart", func(t *testing.T) {
		h := newHarness(t, newBackend(), Options{})
		if h.w.notifications.autostart != nil {
			t.Error("autostart checkbox built without Options.Autostart")
		}
		if _, ok := findLabelContaining(objects(h.w), "at login"); ok {
			t.Error("autostart text shown without Options.Autostart")
		}
	})
}

func TestNotificationSwitches(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	n := h.w.notifications

	if got, want := len(n.kinds), 6; got != want {
		t.Fatalf("%d switches, want %d", got, want)
	}
	if got, want := n.kinds[4].Text, "An account's answers are billed to paid extra usage"; got != want {
		t.Errorf("fifth switch = %q, want %q", got, want)
	}
	n.kinds[1].SetChecked(false)
	n.kinds[5].SetChecked(false)
	n.notify.SetChecked(false)
	if !n.kinds[0].Disabled() || !n.kinds[5].Disabled() {
		t.Error("per-kind switches enabled while notifications are off")
	}
	h.apply()
	got := lastPut(t, h.b)
	want := config.Notifications{CooldownStarted: true, CooldownEnded: false, NeedsLogin: true, AllExhausted: true, BillingExtra: true, TokenBudgetReached: false}
	if got.Notify || got.Notifications != want {
		t.Errorf("PutConfig notify %v %+v, want false %+v", got.Notify, got.Notifications, want)
	}
}

// Apply and Revert are where settings are, not on the Usage tab.
func TestApplyHiddenOnUsage(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	w := h.w
	for _, item := range w.tabs.Items {
		w.tabs.Select(item)
		h.settle()
		shown := w.bar.apply.Visible() && w.bar.revert.Visible() && w.bar.buttons.Visible()
		if want := item != w.usage.item; shown != want {
			t.Errorf("on the %s tab Apply and Revert shown = %v, want %v", item.Text, shown, want)
		}
	}
}

// A daemon that dies shows at once: a banner with Start MaxRouter, rows
// that no longer look live. Start runs off the UI goroutine, and the
// banner goes when the daemon is back.
func TestDaemonDeathShowsBanner(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	var h *harness
	h = newHarness(t, newBackend(), Options{Start: func() error {
		close(started)
		<-release
		h.d.Revive()
		return nil
	}})
	w := h.w

	h.d.Kill()
	took := h.waitFor("the banner shows", func() bool { return w.banner.box.Visible() })
	if took > 2*time.Second {
		t.Errorf("the banner showed %v after the daemon died, want within 2s", took)
	}
	if got := w.banner.text.Text; !strings.HasPrefix(got, "MaxRouter is not running: nothing answers at http://127.0.0.1:") {
		t.Errorf("banner = %q, want it to say MaxRouter is not running", got)
	}
	if !w.banner.start.Visible() || w.banner.start.Disabled() || w.banner.start.Text != "Start MaxRouter" {
		t.Error("no Start MaxRouter button in the banner")
	}
	work := h.row("work")
	if got, want := work.status.Text, "Last known: available"; got != want {
		t.Errorf("work says %q while the daemon is away, want %q", got, want)
	}
	if work.status.Level != levelUnknown || h.row("personal").action.Visible() {
		t.Error("rows still look live while the daemon is away")
	}

	test.Tap(w.banner.start)
	<-started // Start runs while the UI goroutine goes on
	h.ui.run()
	if got, want := w.banner.text.Text, "Starting MaxRouter…"; got != want {
		t.Errorf("banner while starting = %q, want %q", got, want)
	}
	if !w.banner.start.Disabled() {
		t.Error("Start enabled while starting")
	}
	close(release)
	h.waitFor("the banner goes", func() bool { return !w.banner.box.Visible() })
	h.waitFor("rows look live again", func() bool { return work.status.Text == "Available" })
}

// A daemon that was stopped on purpose says so; a failed start says why.
func TestDaemonStoppedBanner(t *testing.T) {
	var h *harness
	h = newHarness(t, newBackend(), Options{Start: func() error { return errors.New("no service manager") }})
	w := h.w
	h.b.WaitSubscribers(t, 1)
	h.d.Stop(t)
	h.waitFor("the banner shows", func() bool { return w.banner.box.Visible() })
	if got := w.banner.text.Text; !strings.HasPrefix(got, "MaxRouter was stopped") {
		t.Errorf("banner = %q, want it to say MaxRouter was stopped", got)
	}
	test.Tap(w.banner.start)
	h.settle()
	if got := w.banner.text.Text; !strings.HasSuffix(got, "Starting it failed: no service manager") {
		t.Errorf("banner after a failed start = %q, want the reason", got)
	}
	if w.banner.start.Disabled() {
		t.Error("Start disabled after a failed start: the person cannot retry")
	}

	h.d.Revive()
	h.waitFor("the banner goes", func() bool { return !w.banner.box.Visible() })
}

// Routing paused elsewhere (the tray) is said over the tabs until it is
// resumed.
func TestPausedBanner(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	w := h.w
	if err := h.b.Pause(); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the banner says routing is paused", func() bool {
		return w.banner.box.Visible() && strings.HasPrefix(w.banner.text.Text, "Routing is paused")
	})
	if w.banner.start.Visible() {
		t.Error("Start offered while the daemon runs")
	}
	if err := h.b.Resume(); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the banner goes", func() bool { return !w.banner.box.Visible() })
}

func TestDaemonUnreachable(t *testing.T) {
	b := newBackend()
	h := build(t, b, Options{})
	h.d.Kill()
	h.serve()
	h.w.Show()
	w := h.w
	h.waitFor("the banner shows", func() bool { return w.banner.box.Visible() })

	if got := w.banner.text.Text; !strings.Contains(got, "MaxRouter is not running") || !strings.Contains(got, "Start it from the tray menu") {
		t.Errorf("banner = %q, want the daemon reported down and where to start it", got)
	}
	if w.banner.start.Visible() {
		t.Error("Start button shown without Options.Start")
	}
	if !w.bar.apply.Disabled() || !w.bar.revert.Disabled() || !w.accounts.add.Disabled() {
		t.Error("Apply, Revert or Add account enabled with nothing loaded")
	}
	if w.accounts.empty.Visible() {
		t.Error("'No accounts yet' shown while nothing is known")
	}
	test.Tap(w.bar.apply) // disabled: must not panic or send
	w.onApply()           // and the handler itself refuses
	h.settle()
	if n := putCount(b); n != 0 {
		t.Errorf("PutConfig called %d times", n)
	}
}

func TestDaemonGoesAwayOnApply(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	w := h.w
	w.routing.strategy.SetSelected("Priority")
	h.d.Kill()
	h.apply()
	if got := w.bar.summary.Text; !strings.Contains(got, "MaxRouter is not running") {
		t.Errorf("summary = %q, want it to say the daemon is not running", got)
	}
	if got, want := w.routing.strategy.Selected, "Priority"; got != want {
		t.Errorf("strategy = %q, want the edit %q kept", got, want)
	}
	h.waitFor("the banner shows", func() bool { return w.banner.box.Visible() })
	if w.bar.apply.Disabled() {
		t.Error("Apply disabled: the person cannot retry")
	}
}

// ShowAccount opens the Accounts tab at the account and marks it.
func TestShowAccount(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	w := h.w
	w.tabs.Select(w.usage.item)
	w.win.Resize(fyne.NewSize(860, 420)) // the last row out of view
	w.ShowAccount("team")
	h.settle()
	if got := w.tabs.Selected(); got != w.accounts.item {
		t.Errorf("tab = %q, want Accounts", got.Text)
	}
	r := h.row("team")
	if w.accounts.marked != r {
		t.Error("team is not marked")
	}
	if !w.bar.buttons.Visible() {
		t.Error("Apply hidden on the Accounts tab")
	}
	if !w.bar.apply.Disabled() {
		t.Error("marking an account counts as an edit")
	}
	d := fyne.CurrentApp().Driver()
	top := d.AbsolutePositionForObject(r.box).Y
	view := d.AbsolutePositionForObject(w.accounts.scroll)
	if top < view.Y || top+r.box.Size().Height > view.Y+w.accounts.scroll.Size().Height {
		t.Errorf("team's row at y=%v (height %v) is out of the view y=%v..%v", top, r.box.Size().Height, view.Y, view.Y+w.accounts.scroll.Size().Height)
	}

	// "" (the tray's Settings…) shows the window as it was.
	w.tabs.Select(w.routing.item)
	w.ShowAccount("")
	h.settle()
	if got := w.tabs.Selected(); got != w.routing.item {
		t.Errorf("tab after ShowAccount(\"\") = %q, want Routing as it was", got.Text)
	}
}

// The window keeps the size the person gave it.
func TestWindowKeepsItsSize(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	if got := h.w.win.Canvas().Size(); got != defaultSize {
		t.Errorf("first size = %v, want the default %v", got, defaultSize)
	}
	h.w.win.Resize(fyne.NewSize(1000, 760))
	prefs := h.w.opts.Preferences
	if got, want := fyne.NewSize(float32(prefs.Float(prefWidth)), float32(prefs.Float(prefHeight))), fyne.NewSize(1000, 760); got != want {
		t.Errorf("kept size = %v, want %v at once (the app may quit with the window open)", got, want)
	}
	h.w.hide()

	w2 := New(fyne.CurrentApp(), h.d.Client(), h.m, Options{Preferences: prefs, Logger: quiet})
	w2.do = h.ui.do
	w2.build()
	if got, want := w2.win.Canvas().Size(), fyne.NewSize(1000, 760); got != want {
		t.Errorf("size of a new window = %v, want %v", got, want)
	}
}
