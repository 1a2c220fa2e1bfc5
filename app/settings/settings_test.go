package settings

import (
	"errors"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/control/controltest"
)

// quiet discards what the window logs when the daemon is away.
var quiet = slog.New(slog.DiscardHandler)

func TestLoadShowsDaemonState(t *testing.T) {
	b := newBackend()
	w := newTestWindow(t, b, Options{})

	if got, want := w.win.Title(), "MaxRouter Settings"; got != want {
		t.Errorf("title = %q, want %q", got, want)
	}
	if min := w.Content().MinSize(); min.Width > 820 || min.Height > 560 {
		t.Errorf("content needs %v, more than the default size 820x560", min)
	}
	if got, want := w.strategy.Selected, "Round-robin"; got != want {
		t.Errorf("strategy = %q, want %q", got, want)
	}
	if got, want := w.cooldown.Text, "60s"; got != want {
		t.Errorf("cooldown = %q, want %q", got, want)
	}
	if got, want := w.port.Text, "8787"; got != want {
		t.Errorf("port = %q, want %q", got, want)
	}
	var names []string
	for _, r := range w.rows {
		names = append(names, r.name.Text)
	}
	if want := []string{"work", "personal", "side"}; !slices.Equal(names, want) {
		t.Errorf("rows = %q, want %q", names, want)
	}
	objs := objects(w)
	for _, want := range []string{
		"Max 20x   ~/.claude-work",
		"Available   ·   token renews in 3 h   ·   1234 requests",
		"Cooling until 14:32 (5-hour limit)   ·   token renews in 40 min   ·   87 requests",
		"Needs login — run: CLAUDE_CONFIG_DIR=~/.claude-side claude /login",
		"resets in 2 h 13 min",
		"resets in 3 days",
	} {
		if !hasLabel(objs, want) {
			t.Errorf("no label %q; labels: %q", want, labelTexts(objs))
		}
	}
	if got, want := w.rows[0].five.bar.Value, 0.42; got != want {
		t.Errorf("work's 5-hour bar = %v, want %v", got, want)
	}
	if got, want := w.rows[1].five.bar.Value, 1.0; got != want {
		t.Errorf("personal's 5-hour bar = %v, want %v (clamped)", got, want)
	}
	if !w.applyBtn.Disabled() {
		t.Error("Apply is enabled before any edit")
	}
	if w.banner.Visible() {
		t.Errorf("banner shown: %q", w.bannerText.Text)
	}
	// Reset is offered where it helps, and only there.
	for i, want := range []string{"", "Reset cooldown", "Check again"} {
		r := w.rows[i]
		got := ""
		if r.reset.Visible() {
			got = r.reset.Text
		}
		if got != want {
			t.Errorf("row %s reset button = %q, want %q", r.acct.Name, got, want)
		}
	}
}

func TestApplyStrategy(t *testing.T) {
	b := newBackend()
	w := newTestWindow(t, b, Options{})

	w.strategy.SetSelected("Priority")
	tapApply(t, w)

	got := lastPut(t, b)
	if got.Strategy != "priority" {
		t.Errorf("PutConfig strategy = %q, want priority", got.Strategy)
	}
	// Everything not edited is sent back as the daemon gave it.
	want := fixtureConfig()
	want.Strategy = "priority"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PutConfig =\n%+v\nwant\n%+v", got, want)
	}
	if !w.applyBtn.Disabled() {
		t.Error("Apply still enabled after applying")
	}
	if got, want := w.summary.Text, "Applied."; got != want {
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
	w := newTestWindow(t, b, Options{})

	if got, want := w.rows[3].title.String(), "long-lived token (claude setup-token)"; got != want {
		t.Errorf("token account row says %q, want %q", got, want)
	}
	w.affinity.SetChecked(false)
	w.cooldown.SetText("5m")
	tapApply(t, w)

	want := cfg
	want.SessionAffinity = false
	want.Cooldown = config.Duration(5 * time.Minute)
	if got := lastPut(t, b); !reflect.DeepEqual(got, want) {
		t.Errorf("PutConfig =\n%+v\nwant\n%+v", got, want)
	}
}

func TestAddAccount(t *testing.T) {
	b := newBackend()
	w := newTestWindow(t, b, Options{})

	w.onDirPicked(testHome + "/.claude-new")
	w.wait()

	b.Lock()
	checks := slices.Clone(b.Checks)
	b.Unlock()
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
	if got, want := w.adding.name.Text, "new"; got != want {
		t.Errorf("proposed name = %q, want %q", got, want)
	}
	w.adding.name.SetText("team")
	test.Tap(button(t, dlg, "Add"))

	if w.win.Canvas().Overlays().Top() != nil {
		t.Error("dialog still open after Add")
	}
	if got, want := len(w.rows), 4; got != want {
		t.Fatalf("rows = %d, want %d", got, want)
	}
	if got, want := w.rows[3].stateText, "New — used once you press Apply"; got != want {
		t.Errorf("new row state = %q, want %q", got, want)
	}
	if got, want := w.rows[3].title.String(), "Max 20x   ~/.claude-new"; got != want {
		t.Errorf("new row title = %q, want %q", got, want)
	}
	tapApply(t, w)

	got := lastPut(t, b).Accounts
	if want := (config.Account{Name: "team", Dir: "~/.claude-new"}); len(got) != 4 || !reflect.DeepEqual(got[3], want) {
		t.Errorf("PutConfig accounts = %+v, want the fixtures and %+v", got, want)
	}
}

func TestAddAccountWithoutCredentials(t *testing.T) {
	b := newBackend()
	w := newTestWindow(t, b, Options{})

	w.onDirPicked(testHome + "/.claude-empty")
	w.wait()

	dlg := overlayObjects(t, w)
	text, ok := findLabelContaining(dlg, "No credentials found")
	if !ok {
		t.Fatalf("dialog does not say nothing was found; labels: %q", labelTexts(dlg))
	}
	if !strings.Contains(text, "no Claude Code credentials in this directory") || !strings.Contains(text, "CLAUDE_CONFIG_DIR=~/.claude-empty claude /login") {
		t.Errorf("dialog says %q, want the daemon's problem and the login command", text)
	}
	test.Tap(button(t, dlg, "Cancel"))
	if got, want := len(w.rows), 3; got != want {
		t.Errorf("rows after Cancel = %d, want %d", got, want)
	}
	if !w.applyBtn.Disabled() {
		t.Error("Apply enabled after a cancelled add")
	}
}

func TestAddAccountAlreadyListed(t *testing.T) {
	b := newBackend()
	w := newTestWindow(t, b, Options{})

	w.onDirPicked(testHome + "/.claude-work/")
	w.wait()

	dlg := overlayObjects(t, w)
	if _, ok := findLabelContaining(dlg, "already in the list as work"); !ok {
		t.Errorf("no 'already in the list' message; labels: %q", labelTexts(dlg))
	}
	b.Lock()
	defer b.Unlock()
	if len(b.Checks) != 0 {
		t.Errorf("CheckDir called for a listed folder: %q", b.Checks)
	}
}

func TestRemoveAccount(t *testing.T) {
	b := newBackend()
	w := newTestWindow(t, b, Options{})

	// Keep: nothing changes.
	test.Tap(w.rows[1].remove)
	test.Tap(button(t, overlayObjects(t, w), "Keep"))
	if got, want := len(w.rows), 3; got != want {
		t.Fatalf("rows after Keep = %d, want %d", got, want)
	}

	test.Tap(w.rows[1].remove)
	dlg := overlayObjects(t, w)
	if _, ok := findLabelContaining(dlg, "~/.claude-personal is left as it is"); !ok {
		t.Errorf("confirmation does not reassure about the login; labels: %q", labelTexts(dlg))
	}
	test.Tap(button(t, dlg, "Remove"))
	if got, want := len(w.rows), 2; got != want {
		t.Fatalf("rows after Remove = %d, want %d", got, want)
	}
	tapApply(t, w)

	if got, want := accountNames(lastPut(t, b).Accounts), []string{"work", "side"}; !slices.Equal(got, want) {
		t.Errorf("PutConfig accounts = %q, want %q", got, want)
	}
}

func TestMoveAndDisable(t *testing.T) {
	b := newBackend()
	w := newTestWindow(t, b, Options{})

	if !w.rows[0].up.Disabled() || !w.rows[2].down.Disabled() {
		t.Error("the first row can move up or the last one down")
	}
	work := w.rows[0]
	test.Tap(work.down)
	if got, want := w.rows[1], work; got != want {
		t.Fatalf("after Move down, row 1 is %q, want work", got.acct.Name)
	}
	if work.up.Disabled() {
		t.Error("moved row cannot move back up")
	}

	test.Tap(work.enable)
	if got, want := work.enable.Text, "Enable"; got != want {
		t.Errorf("button after disabling = %q, want %q", got, want)
	}
	if got, want := work.stateText, "Will be disabled when you press Apply"; got != want {
		t.Errorf("state after disabling = %q, want %q", got, want)
	}
	tapApply(t, w)

	got := lastPut(t, b).Accounts
	if names, want := accountNames(got), []string{"personal", "work", "side"}; !slices.Equal(names, want) {
		t.Errorf("PutConfig order = %q, want %q", names, want)
	}
	if got[1].Enabled == nil || *got[1].Enabled {
		t.Errorf("work Enabled = %v, want false", got[1].Enabled)
	}
	if got[0].Enabled == nil || !*got[0].Enabled {
		t.Errorf("personal Enabled = %v, want true as the daemon had it", got[0].Enabled)
	}

	// Enabling again goes back to the default.
	test.Tap(w.rows[1].enable)
	tapApply(t, w)
	if e := lastPut(t, b).Accounts[1].Enabled; e != nil && !*e {
		t.Errorf("work Enabled after enabling = %v, want default (enabled)", *e)
	}
}

func TestRenameAccount(t *testing.T) {
	b := newBackend()
	w := newTestWindow(t, b, Options{})

	w.rows[0].name.SetText("")
	test.Type(w.rows[0].name, "work-job")
	tapApply(t, w)
	if got, want := lastPut(t, b).Accounts[0].Name, "work-job"; got != want {
		t.Errorf("PutConfig name = %q, want %q", got, want)
	}
}

func TestDaemonValidationErrors(t *testing.T) {
	b := newBackend()
	b.PutConfigErr = &config.ValidationError{Fields: []config.FieldError{
		{Field: "listen", Message: "cannot listen on 127.0.0.1:9999: address already in use"},
		{Field: "accounts[1].name", Message: `name "per sonal" may only hold letters, digits, '-', '_' and '.'`},
		{Field: "upstream", Message: "want an absolute http:// or https:// URL"},
	}}
	w := newTestWindow(t, b, Options{})

	w.port.SetText("9999")
	w.rows[1].name.SetText("per sonal")
	tapApply(t, w)

	if got, want := w.tabs.Selected().Text, "Accounts"; got != want {
		t.Errorf("selected tab = %q, want the first with an error, %q", got, want)
	}
	for _, tt := range []struct{ tab, msg string }{
		{"Proxy", "Cannot listen on 127.0.0.1:9999: address already in use"},
		{"Accounts", `Name "per sonal" may only hold letters, digits, '-', '_' and '.'`},
	} {
		w.tabs.Select(w.tabItems[tt.tab])
		if objs := objects(w); !hasLabel(objs, tt.msg) {
			t.Errorf("no inline error %q on the %s tab; labels: %q", tt.msg, tt.tab, labelTexts(objs))
		}
	}
	if got, want := w.portErr.Text, "Cannot listen on 127.0.0.1:9999: address already in use"; got != want {
		t.Errorf("port error = %q, want %q", got, want)
	}
	if got, want := w.rows[1].err.Text, `Name "per sonal" may only hold letters, digits, '-', '_' and '.'`; got != want {
		t.Errorf("row error = %q, want %q", got, want)
	}
	if w.rows[0].err.Visible() {
		t.Errorf("row 0 shows an error: %q", w.rows[0].err.Text)
	}
	want := "Not applied: fix the values marked in red on the Proxy and Accounts tabs; upstream: want an absolute http:// or https:// URL"
	if got := w.summary.Text; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	if w.tabItems["Proxy"].Icon == w.tabIcons["Proxy"] || w.tabItems["Routing"].Icon != w.tabIcons["Routing"] {
		t.Error("tab icons do not mark exactly the tabs with errors")
	}
	// Nothing was applied and the edits are still there.
	if got, _ := b.Config(); got.Listen != "127.0.0.1:8787" {
		t.Errorf("daemon listen = %q, want unchanged", got.Listen)
	}
	if w.port.Text != "9999" || w.rows[1].name.Text != "per sonal" {
		t.Error("the edits were lost")
	}
	if w.applyBtn.Disabled() {
		t.Error("Apply disabled after a refused apply")
	}

	// Fixing it and applying again clears the marks.
	b.Lock()
	b.PutConfigErr = nil
	b.Unlock()
	w.rows[1].name.SetText("personal")
	tapApply(t, w)
	if w.portErr.Visible() || w.rows[1].err.Visible() {
		t.Error("inline errors still shown after a successful apply")
	}
	if got, _ := b.Config(); got.Listen != "127.0.0.1:9999" {
		t.Errorf("daemon listen = %q, want 127.0.0.1:9999", got.Listen)
	}
	if got, want := w.baseURL, "http://127.0.0.1:9999"; got != want {
		t.Errorf("base URL after moving the port = %q, want %q", got, want)
	}
	if w.tabItems["Proxy"].Icon != w.tabIcons["Proxy"] {
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
		{"port not a number", "abc", "60s", func(w *Window) *widget.Label { return w.portErr }, `"abc" is not a port: enter a number from 1 to 65535`},
		{"port too big", "70000", "60s", func(w *Window) *widget.Label { return w.portErr }, `"70000" is not a port: enter a number from 1 to 65535`},
		{"port zero", "0", "60s", func(w *Window) *widget.Label { return w.portErr }, `"0" is not a port: enter a number from 1 to 65535`},
		{"cooldown without unit", "8787", "60", func(w *Window) *widget.Label { return w.cooldownErr }, `"60" is not a duration: write it like 60s, 5m or 1m30s`},
		{"cooldown zero", "8787", "0s", func(w *Window) *widget.Label { return w.cooldownErr }, "Must be more than 0, such as 60s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackend()
			w := newTestWindow(t, b, Options{})

			w.port.SetText(tt.port)
			w.cooldown.SetText(tt.cooldown)
			tapApply(t, w)

			if n := putCount(b); n != 0 {
				t.Errorf("PutConfig called %d times, want 0", n)
			}
			l := tt.field(w)
			if !l.Visible() || l.Text != tt.want {
				t.Errorf("inline error = %q (visible %v), want %q", l.Text, l.Visible(), tt.want)
			}
			if !hasLabel(objects(w), tt.want) {
				t.Errorf("error %q not on the canvas", tt.want)
			}
			if !strings.HasPrefix(w.summary.Text, "Not applied: fix the values marked in red") {
				t.Errorf("summary = %q", w.summary.Text)
			}
		})
	}

	t.Run("port is checked while typing", func(t *testing.T) {
		w := newTestWindow(t, newBackend(), Options{})
		w.port.SetText("")
		test.Type(w.port, "80a")
		if got, want := w.portErr.Text, `"80a" is not a port: enter a number from 1 to 65535`; !w.portErr.Visible() || got != want {
			t.Errorf("port error while typing = %q, want %q", got, want)
		}
		test.Type(w.port, "\b")
		w.port.SetText("8080")
		if w.portErr.Visible() {
			t.Errorf("port error still shown for 8080: %q", w.portErr.Text)
		}
	})
}

func TestRevert(t *testing.T) {
	b := newBackend()
	w := newTestWindow(t, b, Options{})

	w.strategy.SetSelected("Most headroom")
	w.rows[0].name.SetText("renamed")
	test.Tap(w.rows[2].remove)
	test.Tap(button(t, overlayObjects(t, w), "Remove"))
	if w.revertBtn.Disabled() {
		t.Fatal("Revert disabled with edits")
	}
	// The daemon changed meanwhile (the tray switched the strategy).
	cfg := fixtureConfig()
	cfg.Strategy = "least-used"
	b.SetConfig(cfg)

	test.Tap(w.revertBtn)
	w.wait()

	if got, want := w.strategy.Selected, "Least used"; got != want {
		t.Errorf("strategy after Revert = %q, want %q", got, want)
	}
	if got, want := len(w.rows), 3; got != want {
		t.Errorf("rows after Revert = %d, want %d", got, want)
	}
	if got, want := w.rows[0].name.Text, "work"; got != want {
		t.Errorf("name after Revert = %q, want %q", got, want)
	}
	if n := putCount(b); n != 0 {
		t.Errorf("PutConfig called %d times, want 0", n)
	}
	if !w.applyBtn.Disabled() {
		t.Error("Apply enabled after Revert")
	}
}

func TestShowAgainKeepsEditsAndRefreshes(t *testing.T) {
	b := newBackend()
	w := newTestWindow(t, b, Options{})

	w.hide()
	cfg := fixtureConfig()
	cfg.Strategy = "priority"
	b.SetConfig(cfg)
	w.Show()
	w.wait()
	if got, want := w.strategy.Selected, "Priority"; got != want {
		t.Errorf("strategy after Show = %q, want %q (no edits: follow the daemon)", got, want)
	}

	// Edits survive hiding; fields not edited follow the daemon.
	w.cooldown.SetText("2m")
	w.rows[0].name.SetText("job")
	w.hide()
	cfg.Strategy = "headroom"
	cfg.SessionAffinity = false
	cfg.Accounts[2].Dir = "~/.claude-side2"
	b.SetConfig(cfg)
	w.Show()
	w.wait()
	if got, want := w.cooldown.Text, "2m"; got != want {
		t.Errorf("cooldown after Show = %q, want the edit %q kept", got, want)
	}
	if got, want := w.strategy.Selected, "Most headroom"; got != want {
		t.Errorf("strategy after Show = %q, want the daemon's %q", got, want)
	}
	if w.affinity.Checked {
		t.Error("session affinity after Show = on, want the daemon's off")
	}
	tapApply(t, w)
	want := cfg
	want.Cooldown = config.Duration(2 * time.Minute)
	want.Accounts = slices.Clone(fixtureConfig().Accounts) // the edited list wins as a whole
	want.Accounts[0].Name = "job"
	if got := lastPut(t, b); !reflect.DeepEqual(got, want) {
		t.Errorf("PutConfig =\n%+v\nwant\n%+v", got, want)
	}
}

func TestIssueToken(t *testing.T) {
	b := newBackend()
	w := newTestWindow(t, b, Options{})

	w.onIssue()
	dlg := overlayObjects(t, w)
	var label *widget.Entry
	var ttl *widget.Select
	for _, o := range dlg {
		switch x := o.(type) {
		case *widget.Entry:
			label = x
		case *widget.Select:
			ttl = x
		}
	}
	if label == nil || ttl == nil {
		t.Fatal("issue dialog has no label entry or expiry choice")
	}
	test.Type(label, "build server")
	ttl.SetSelected("30 days")
	test.Tap(button(t, dlg, "Issue"))
	w.wait()

	b.Lock()
	issues := slices.Clone(b.Issues)
	b.Unlock()
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
	if !hasLabel(test.LaidOutObjects(w.tokenList), "build server") {
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
	w := newTestWindow(t, b, Options{})

	w.issueToken("laptop", 0)
	w.wait()
	if _, ok := findLabelContaining(overlayObjects(t, w), "token store is read-only"); !ok {
		t.Errorf("error not shown; labels: %q", labelTexts(overlayObjects(t, w)))
	}
}

func TestRevokeToken(t *testing.T) {
	b := newBackend()
	w := newTestWindow(t, b, Options{})

	var revoke []*widget.Button
	for _, o := range test.LaidOutObjects(w.tokenList) {
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
	w.wait()

	b.Lock()
	revokes := slices.Clone(b.Revokes)
	b.Unlock()
	if want := []string{"tok-2"}; !slices.Equal(revokes, want) {
		t.Errorf("RevokeToken calls = %q, want %q", revokes, want)
	}
	n := 0
	for _, s := range labelTexts(test.LaidOutObjects(w.tokenList)) {
		if s == "Revoked" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("token list shows %d revoked tokens, want 2", n)
	}
}

func TestRefreshUpdatesRows(t *testing.T) {
	b := newBackend()
	w := newTestWindow(t, b, Options{})

	accts := fixtureAccounts()
	accts[0].State = control.StateCooling
	accts[0].CooldownUntil = at(time.Hour)
	accts[0].Reason = "7-day limit"
	accts[0].SevenDay.Utilization = 1
	accts[2].State = control.StateAvailable
	accts[2].Reason = ""
	done := make(chan struct{})
	go func() { // the tray's event loop
		defer close(done)
		w.Refresh(accts)
	}()
	<-done

	if got, want := w.rows[0].stateText, "Cooling until 13:19 (7-day limit)"; got != want {
		t.Errorf("work state = %q, want %q", got, want)
	}
	if got, want := w.rows[2].stateText, "Available"; got != want {
		t.Errorf("side state = %q, want %q", got, want)
	}
	if _, ok := findLabelContaining(objects(w), "Cooling until 13:19 (7-day limit)"); !ok {
		t.Error("new state not on the canvas")
	}
	if got, want := w.rows[0].seven.bar.Value, 1.0; got != want {
		t.Errorf("work 7-day bar = %v, want %v", got, want)
	}
	if !w.rows[0].reset.Visible() || w.rows[2].reset.Visible() {
		t.Error("Reset buttons do not follow the new states")
	}
}

func TestResetCooldown(t *testing.T) {
	b := newBackend()
	w := newTestWindow(t, b, Options{})

	test.Tap(w.rows[1].reset)
	w.wait()
	b.Lock()
	resets := slices.Clone(b.Resets)
	b.Unlock()
	if want := []string{"personal"}; !slices.Equal(resets, want) {
		t.Errorf("ResetAccount calls = %q, want %q", resets, want)
	}
	if n := putCount(b); n != 0 {
		t.Errorf("reset went through PutConfig (%d calls)", n)
	}
}

func TestAutostart(t *testing.T) {
	b := newBackend()
	auto := &fakeAutostart{on: false}
	w := newTestWindow(t, b, Options{Autostart: auto})

	if w.autostart.Checked {
		t.Fatal("autostart checked, want the system's state (off)")
	}
	w.autostart.SetChecked(true)
	tapApply(t, w)
	if want := []string{"enable"}; !slices.Equal(auto.calls, want) {
		t.Errorf("autostart calls = %q, want %q", auto.calls, want)
	}
	if n := putCount(b); n != 0 {
		t.Errorf("PutConfig called %d times for an autostart change only", n)
	}
	if !w.applyBtn.Disabled() {
		t.Error("Apply still enabled")
	}

	auto.err = errors.New("no autostart directory")
	w.autostart.SetChecked(false)
	tapApply(t, w)
	if got := w.autostartErr.Text; !w.autostartErr.Visible() || !strings.Contains(got, "no autostart directory") {
		t.Errorf("autostart error = %q, want the cause", got)
	}

	t.Run("hidden without Autostart", func(t *testing.T) {
		w := newTestWindow(t, newBackend(), Options{})
		if w.autostart != nil {
			t.Error("autostart checkbox built without Options.Autostart")
		}
		if _, ok := findLabelContaining(objects(w), "at login"); ok {
			t.Error("autostart text shown without Options.Autostart")
		}
	})
}

func TestNotificationSwitches(t *testing.T) {
	b := newBackend()
	w := newTestWindow(t, b, Options{})

	w.kinds[1].SetChecked(false)
	w.notify.SetChecked(false)
	if !w.kinds[0].Disabled() {
		t.Error("per-kind switches enabled while notifications are off")
	}
	tapApply(t, w)
	got := lastPut(t, b)
	want := config.Notifications{CooldownStarted: true, CooldownEnded: false, NeedsLogin: true, AllExhausted: true}
	if got.Notify || got.Notifications != want {
		t.Errorf("PutConfig notify %v %+v, want false %+v", got.Notify, got.Notifications, want)
	}
}

func TestDaemonUnreachable(t *testing.T) {
	test.NewTempApp(t)
	client, srv := controltest.NewServer(t, newBackend())
	srv.Close()
	w := New(fyne.CurrentApp(), client, Options{Home: testHome, Logger: quiet})
	w.Show()
	w.wait()
	t.Cleanup(w.hide)

	if !w.banner.Visible() || !strings.Contains(w.bannerText.Text, "MaxRouter is not running") {
		t.Errorf("banner = %q (visible %v), want the daemon reported down", w.bannerText.Text, w.banner.Visible())
	}
	if !w.applyBtn.Disabled() {
		t.Error("Apply enabled with nothing loaded")
	}
	if !w.addBtn.Disabled() || !w.revertBtn.Disabled() {
		t.Error("Add account or Revert enabled with nothing loaded")
	}
	if w.noAccounts.Visible() {
		t.Error("'No accounts yet' shown while nothing is known")
	}
	test.Tap(w.applyBtn) // disabled: must not panic or send
	w.onApply()          // and the handler itself refuses
	w.Refresh(fixtureAccounts())
	w.wait()
}

func TestDaemonGoesAwayOnApply(t *testing.T) {
	test.NewTempApp(t)
	client, srv := controltest.NewServer(t, newBackend())
	w := New(fyne.CurrentApp(), client, Options{Home: testHome, Now: func() time.Time { return testNow }, Logger: quiet})
	w.Show()
	w.wait()
	t.Cleanup(w.hide)

	w.strategy.SetSelected("Priority")
	srv.Close()
	tapApply(t, w)
	if !w.banner.Visible() {
		t.Error("no banner after the daemon went away")
	}
	if got, want := w.strategy.Selected, "Priority"; got != want {
		t.Errorf("strategy = %q, want the edit %q kept", got, want)
	}
	if w.applyBtn.Disabled() {
		t.Error("Apply disabled: the person cannot retry")
	}
}
