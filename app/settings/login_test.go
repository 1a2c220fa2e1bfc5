package settings

import (
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/maxrouter/maxrouter/app/setup"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/control/controltest"
)

func loginStarts(b *controltest.Backend) []control.LoginRequest {
	b.Lock()
	defer b.Unlock()
	return slices.Clone(b.LoginStarts)
}

// dialogOpen reports whether a dialog is shown over the window.
func dialogOpen(w *Window) bool { return w.win.Canvas().Overlays().Top() != nil }

// addNewAccount has the daemon add the account a login added, as it does
// before it says the login completed: the configuration gains it, the
// accounts list shows it, quota read.
func addNewAccount(b *controltest.Backend, name string) {
	cfg := fixtureConfig()
	cfg.Accounts = append(cfg.Accounts, config.Account{Name: name, Dir: "~/maxrouter-data/accounts/" + name})
	accounts := append(fixtureAccounts(), control.Account{
		Name: name, Dir: "~/maxrouter-data/accounts/" + name, State: control.StateAvailable,
		Email: "ana@example.com", Subscription: "max", RateLimitTier: "default_claude_max_20x",
		FiveHour: control.Window{Utilization: 0.24, ResetsAt: at(2*time.Hour + 10*time.Minute), AsOf: at(-2 * time.Minute)},
		SevenDay: control.Window{Utilization: 0.05, ResetsAt: at(6 * 24 * time.Hour), AsOf: at(-2 * time.Minute)},
		Quota:    &control.Quota{CheckedAt: at(-2 * time.Minute), NextAt: at(3 * time.Minute)},
	})
	b.SetAccounts(accounts)
	b.SetConfig(cfg)
}

// A new account from Add account: name it, Log in with Claude opens the
// login page, the dialog waits for the browser, and once the daemon says
// the login completed the dialog goes and the new row shows, marked.
func TestAddAccountLogsInWithClaude(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	w := h.w
	test.Tap(w.accounts.add)
	h.settle()
	a := w.accounts.add2
	if a == nil {
		t.Fatal("Add account… opened no dialog")
	}
	if got, want := a.name.Text, "claude"; got != want {
		t.Errorf("proposed name = %q, want %q", got, want)
	}
	a.name.SetText("new")
	test.Tap(a.login)
	h.settle()

	if got, want := loginStarts(h.b), []control.LoginRequest{{Account: "new"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("StartLogin = %+v, want %+v", got, want)
	}
	if got, want := h.pages(), []string{"https://claude.example/oauth/authorize?login=1"}; !slices.Equal(got, want) {
		t.Errorf("opened %q, want the login page %q", got, want)
	}
	v := w.accounts.login
	if v == nil || !dialogOpen(w) {
		t.Fatal("no login dialog")
	}
	dlg := overlayObjects(t, w)
	for _, want := range []string{"Add new: log in with Claude", "Waiting for the browser…"} {
		if !hasLabel(dlg, want) {
			t.Errorf("login dialog does not say %q; labels: %q", want, labelTexts(dlg))
		}
	}
	button(t, dlg, "Paste the code instead")
	button(t, dlg, "Open the login page again")

	// The person approves in the browser: the daemon adds the account,
	// then says the login completed.
	addNewAccount(h.b, "new")
	h.b.FinishLogin("login-1", control.Login{Status: control.LoginCompleted, Email: "ana@example.com", Subscription: "max", RateLimitTier: "default_claude_max_20x"})
	h.waitFor("the dialog to close", func() bool { return !dialogOpen(w) })
	h.waitFor("the new row, marked", func() bool {
		return len(w.accounts.rows) == 5 && w.accounts.marked != nil && w.accounts.marked.acct.Orig == "new"
	})
	h.settle()
	if got, want := w.bar.summary.Text, "Added new: logged in as ana@example.com (Max 20x). It takes requests now."; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	r := h.row("new")
	if got, want := r.title.String(), "Max 20x   ~/maxrouter-data/accounts/new"; got != want {
		t.Errorf("new row title = %q, want %q", got, want)
	}
	if !r.bars.Visible() || r.five.reset.String() != "resets in 2 h 10 min" {
		t.Errorf("new row's quota: bars shown %v, 5-hour %q; want them with its reset", r.bars.Visible(), r.five.reset.String())
	}
	if !w.bar.apply.Disabled() {
		t.Error("Apply enabled: the daemon added the account, nothing is left to apply")
	}
}

// bothLogins opens the login dialog for a new account "new" and presses
// Paste the code instead: the automatic login (login-1) and a manual one
// (login-2) wait side by side.
func bothLogins(t *testing.T) *harness {
	h := newHarness(t, newBackend(), Options{})
	h.w.accounts.startLogin("new", true)
	h.settle()
	test.Tap(button(t, overlayObjects(t, h.w), "Paste the code instead"))
	h.settle()
	return h
}

// Paste the code instead: a manual login is started and its page opened;
// the code pasted goes to the daemon, which completes the login.
func TestLoginPasteTheCode(t *testing.T) {
	h := bothLogins(t)
	w := h.w
	if got, want := loginStarts(h.b), []control.LoginRequest{{Account: "new"}, {Account: "new", Manual: true}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("StartLogin = %+v, want %+v", got, want)
	}
	if got := h.pages(); len(got) != 2 || got[1] != "https://claude.example/oauth/authorize?login=2" {
		t.Errorf("opened %q, want the manual login's page second", got)
	}
	v := w.accounts.login
	if !v.pasteBox.Visible() || !hasLabel(overlayObjects(t, w), "Paste the code") {
		t.Fatalf("no place to paste the code; labels: %q", labelTexts(overlayObjects(t, w)))
	}
	// Half the code: the daemon refuses it, the dialog says what to paste
	// and waits on.
	test.Type(v.code, "abc123")
	test.Tap(v.submit)
	h.waitFor("the refusal", func() bool { return v.err.Visible() })
	if got, want := v.err.Text, "That is not this login's code: copy all of what the page shows, with the # in the middle."; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	if !dialogOpen(w) || v.done {
		t.Fatal("the dialog gave up after a wrong code; it should wait for the right one")
	}
	v.code.SetText("")
	test.Type(v.code, "abc123#state-2")
	addNewAccount(h.b, "new")
	test.Tap(v.submit)
	h.waitFor("the dialog to close", func() bool { return !dialogOpen(w) })
	h.b.Lock()
	codes := slices.Clone(h.b.LoginCodes)
	h.b.Unlock()
	if want := []string{"abc123", "abc123#state-2"}; !slices.Equal(codes, want) {
		t.Errorf("codes handed to the daemon = %q, want %q", codes, want)
	}
	if got := w.bar.summary.Text; !strings.HasPrefix(got, "Added new: logged in") {
		t.Errorf("summary = %q, want the account added", got)
	}
	// The automatic login, still waiting for a browser, is cancelled.
	h.settle()
	if got, want := loginCancels(h.b), []string{"login-1"}; !slices.Equal(got, want) {
		t.Errorf("cancelled %q, want %q: the automatic login still waited for a browser", got, want)
	}
}

func loginCancels(b *controltest.Backend) []string {
	b.Lock()
	defer b.Unlock()
	return slices.Clone(b.LoginCancels)
}

// Closing the login dialog cancels the logins it started, so no browser
// coming back later adds the account behind the person's back.
func TestClosingTheLoginCancelsIt(t *testing.T) {
	h := bothLogins(t)
	w := h.w
	test.Tap(button(t, overlayObjects(t, w), "Cancel"))
	h.settle()
	got := loginCancels(h.b)
	slices.Sort(got)
	if want := []string{"login-1", "login-2"}; !slices.Equal(got, want) {
		t.Errorf("cancelled %q, want %q", got, want)
	}
	if dialogOpen(w) {
		t.Error("the login dialog is still open after Cancel")
	}
	for _, id := range []string{"login-1", "login-2"} {
		if l, _ := h.b.Login(id); l.Status != control.LoginFailed {
			t.Errorf("%s = %+v, want it ended", id, l)
		}
	}
}

// A login that fails says why and offers Try again, which starts another.
func TestLoginFailedOffersTryAgain(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	w := h.w
	w.accounts.startLogin("new", true)
	h.settle()
	h.b.FinishLogin("login-1", control.Login{Status: control.LoginFailed, Reason: "the login was not finished within 10 minutes"})
	h.waitFor("the failure", func() bool { return w.accounts.login.done })
	h.settle()
	dlg := overlayObjects(t, w)
	if !hasLabel(dlg, "The login failed: the login was not finished within 10 minutes.") {
		t.Errorf("failure not shown; labels: %q", labelTexts(dlg))
	}
	test.Tap(button(t, dlg, "Try again"))
	h.settle()
	if got := len(loginStarts(h.b)); got != 2 {
		t.Errorf("StartLogin called %d times after Try again, want 2", got)
	}
	if !dialogOpen(w) || w.accounts.login == nil || w.accounts.login.done {
		t.Error("no login under way after Try again")
	}
	if got := len(w.win.Canvas().Overlays().List()); got != 1 {
		t.Errorf("%d dialogs open after Try again, want the new login's alone", got)
	}
	h.settle()
	if got := loginCancels(h.b); len(got) != 0 {
		t.Errorf("cancelled %q; the failed login was over already", got)
	}
}

// A name in use is refused before any login starts; a name the daemon
// refuses is said in the dialog.
func TestLoginName(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	w := h.w
	test.Tap(w.accounts.add)
	h.settle()
	a := w.accounts.add2
	a.name.SetText("work")
	test.Tap(a.login)
	h.settle()
	if got, want := a.nameErr.Text, "work is an account already: choose another name, or use Log in again on its row"; got != want {
		t.Errorf("name error = %q, want %q", got, want)
	}
	if n := len(loginStarts(h.b)); n != 0 {
		t.Errorf("StartLogin called %d times for a taken name", n)
	}

	h.b.Lock()
	h.b.LoginErr = control.ErrInvalid
	h.b.Unlock()
	a.name.SetText("fine")
	test.Tap(a.login)
	h.settle()
	if _, ok := findLabelContaining(overlayObjects(t, w), "MaxRouter could not start the login"); !ok {
		t.Errorf("refusal not shown; labels: %q", labelTexts(overlayObjects(t, w)))
	}
}

// An account that needs a login offers Log in again on its row; the tray
// and notifications reach the same through ShowLogin.
func TestRowLogsInAgain(t *testing.T) {
	h := newHarness(t, newBackend(), Options{})
	w := h.w
	side, work := h.row("side"), h.row("work")
	if !side.relogin.Visible() || side.relogin.Importance != widget.HighImportance {
		t.Fatalf("side (needs login) shows Log in again: %v, importance %v; want it, high", side.relogin.Visible(), side.relogin.Importance)
	}
	if work.relogin.Visible() {
		t.Error("work (available, login not ending) offers Log in again")
	}
	test.Tap(side.relogin)
	h.settle()
	if got, want := loginStarts(h.b), []control.LoginRequest{{Account: "side"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("StartLogin = %+v, want %+v", got, want)
	}
	if !hasLabel(overlayObjects(t, w), "Log in to side again") {
		t.Errorf("dialog title; labels: %q", labelTexts(overlayObjects(t, w)))
	}
	accounts := fixtureAccounts()
	accounts[2].State, accounts[2].Reason = control.StateAvailable, ""
	h.b.SetAccounts(accounts)
	h.b.FinishLogin("login-1", control.Login{Status: control.LoginCompleted, Email: "bob@example.com",
		Reason: "logged in as bob@example.com; the account was ana@example.com"})
	h.waitFor("the dialog to close", func() bool { return !dialogOpen(w) })
	h.waitFor("side available", func() bool { return side.status.Text == "Available" })
	if got, want := w.bar.summary.Text, "Logged in to side again as bob@example.com. Logged in as bob@example.com; the account was ana@example.com."; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	if side.relogin.Visible() {
		t.Error("Log in again still offered once logged in")
	}

	// From the tray or a notification.
	w.Hide()
	h.settle()
	w.ShowLogin("team")
	h.settle()
	if got := loginStarts(h.b); len(got) != 2 || got[1] != (control.LoginRequest{Account: "team"}) {
		t.Errorf("StartLogin = %+v, want team's second", got)
	}
	if w.accounts.marked != h.row("team") || !dialogOpen(w) {
		t.Error("ShowLogin did not mark team and open the login dialog")
	}

	// An account the daemon no longer has is not logged in: that would
	// add it back.
	w.accounts.login.dismiss()
	w.ShowLogin("gone")
	h.settle()
	if got := len(loginStarts(h.b)); got != 2 {
		t.Errorf("StartLogin called for an account the daemon does not have (%d calls, want 2)", got)
	}
	if _, ok := findLabelContaining(overlayObjects(t, w), "MaxRouter has no account named gone"); !ok {
		t.Errorf("no word on the unknown account; labels: %q", labelTexts(overlayObjects(t, w)))
	}
}

// Add account lists the Claude Code logins on this computer that are not
// in the list, with plan and token; one click puts one in the list.
func TestAddAccountFoundOnThisComputer(t *testing.T) {
	b := newBackend()
	renews := testNow.Add(3 * time.Hour)
	expired := testNow.Add(-2 * time.Hour)
	b.DirChecks["~/.claude-new"] = control.DirCheck{Found: true, Subscription: "max", RateLimitTier: "default_claude_max_20x", ExpiresAt: &renews, CanRefresh: true}
	b.DirChecks["~/.claude-old"] = control.DirCheck{Found: true, Subscription: "pro", ExpiresAt: &expired, CanRefresh: true}
	b.DirChecks["~/.claude-work"] = control.DirCheck{Found: true}
	h := newHarness(t, b, Options{Discover: func() []string {
		return []string{"~/.claude-work", "~/.claude-new", "~/.claude-empty", "~/.claude-old"}
	}})
	w := h.w
	test.Tap(w.accounts.add)
	h.settle()
	a := w.accounts.add2
	if got, want := slices.Sorted(maps.Keys(a.adds)), []string{"~/.claude-new", "~/.claude-old"}; !slices.Equal(got, want) {
		t.Fatalf("found %q, want %q (work is listed, empty holds no login)", got, want)
	}
	dlg := overlayObjects(t, w)
	for _, want := range []string{"Max 20x · token renews in 3 h", "Pro · token expired 2 h ago, renewed when used"} {
		if !hasLabel(dlg, want) {
			t.Errorf("dialog does not say %q; labels: %q", want, labelTexts(dlg))
		}
	}
	test.Tap(a.adds["~/.claude-new"])
	h.settle()
	if got := slices.Sorted(maps.Keys(a.adds)); !slices.Equal(got, []string{"~/.claude-old"}) {
		t.Errorf("after adding new, found %q, want old alone", got)
	}
	if !dialogOpen(w) {
		t.Error("the dialog closed: one click each should leave it open for the next")
	}
	a.dlg.Hide()
	h.apply()
	got := lastPut(t, h.b).Accounts
	if want := (config.Account{Name: "new", Dir: "~/.claude-new"}); len(got) != 5 || !reflect.DeepEqual(got[4], want) {
		t.Errorf("PutConfig accounts = %+v, want the fixtures and %+v", got, want)
	}
}

// The folder picker starts in the home folder with its hidden folders
// shown, marks those with a Claude Code login, and hands the folder chosen
// to the naming dialog.
func TestFolderPickerShowsHiddenFolders(t *testing.T) {
	home := t.TempDir()
	for _, d := range []string{".claude-x", ".cache", "Documents"} {
		if err := os.Mkdir(filepath.Join(home, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(home, ".claude-x", ".credentials.json"), []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "notes.txt"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, newBackend(), Options{Home: home})
	w := h.w
	test.Tap(w.accounts.add)
	h.settle()
	test.Tap(w.accounts.add2.choose)
	h.settle()
	p := w.accounts.picker
	if p == nil {
		t.Fatal("Choose folder… opened no picker")
	}
	want := []folder{{".cache", false}, {".claude-x", true}, {"Documents", false}}
	if !reflect.DeepEqual(p.folders, want) {
		t.Errorf("picker lists %+v, want %+v", p.folders, want)
	}
	if got := p.path.Text; got != "~" {
		t.Errorf("picker starts at %q, want ~", got)
	}
	p.list.Select(1)
	h.settle()
	if got := p.path.Text; got != "~/.claude-x" {
		t.Errorf("after opening .claude-x the picker shows %q", got)
	}
	test.Tap(p.choose)
	h.settle()
	if w.accounts.adding == nil || w.accounts.adding.dir != "~/.claude-x" {
		t.Fatalf("the naming dialog did not open for ~/.claude-x")
	}
	h.b.Lock()
	checks := slices.Clone(h.b.Checks)
	h.b.Unlock()
	if want := []string{filepath.Join(home, ".claude-x")}; !slices.Equal(checks, want) {
		t.Errorf("CheckDir calls = %q, want %q", checks, want)
	}

	p2, _ := listFolders(home, false)
	if want := []folder{{"Documents", false}}; !reflect.DeepEqual(p2, want) {
		t.Errorf("listFolders without hidden = %+v, want %+v", p2, want)
	}
}

// Rows show every account's quota with its resets and how fresh it is,
// idle ones too (read by the daemon's quota poller), what the person
// should know (billing extra usage, a login about to end, with Log in
// again), and a quota read that failed.
func TestRowsShowQuota(t *testing.T) {
	b := newBackend()
	accounts := fixtureAccounts()
	accounts[0].Requests = 0 // idle: the poller read its quota
	accounts[0].FiveHour = control.Window{Utilization: 0.24, ResetsAt: at(2*time.Hour + 10*time.Minute), AsOf: at(-2 * time.Minute)}
	accounts[0].SevenDay = control.Window{Utilization: 0.05, ResetsAt: at(6 * 24 * time.Hour), AsOf: at(-2 * time.Minute)}
	accounts[0].Quota = &control.Quota{CheckedAt: at(-2 * time.Minute), NextAt: at(3 * time.Minute)}
	accounts[0].BillingExtra, accounts[0].LoginExpiresAt = true, at(3*24*time.Hour+time.Hour)
	accounts[3] = control.Account{Name: "team", Dir: "~/.claude-team", State: control.StateAvailable, Subscription: "team",
		Quota: &control.Quota{Error: "429 Too Many Requests", NextAt: at(8 * time.Minute)}}
	b.AccountList = accounts
	h := newHarness(t, b, Options{})
	work, team := h.row("work"), h.row("team")

	if got, want := work.state.String(), "Available   ·   billing extra usage · login expires in 3 days   ·   token renews in 3 h   ·   usage checked 2 min ago"; got != want {
		t.Errorf("work's state = %q, want %q", got, want)
	}
	if got, want := work.five.reset.String()+" / "+work.seven.reset.String(), "resets in 2 h 10 min / resets in 6 days"; got != want {
		t.Errorf("work's resets = %q, want %q", got, want)
	}
	if got, want := work.five.text, "24%"; got != want {
		t.Errorf("work's 5-hour bar says %q, want %q", got, want)
	}
	if !work.relogin.Visible() || work.relogin.Importance == widget.HighImportance {
		t.Error("work's login ends in 3 days: want Log in again, not as urgent as for a dead login")
	}
	if team.bars.Visible() {
		t.Error("team shows usage bars with nothing known")
	}
	if got, want := team.state.String(), "Available   ·   usage not read (429 Too Many Requests) — trying again at 12:27"; got != want {
		t.Errorf("team's state = %q, want %q", got, want)
	}
}

// The Routing tab shows the [models] table read-only, naming the key and
// the file.
func TestRoutingShowsModels(t *testing.T) {
	b := newBackend()
	b.StatusValue.Config = testHome + "/.config/maxrouter/config.toml"
	cfg := fixtureConfig()
	cfg.Models = map[string]string{"gpt-4o": "claude-sonnet-4-5", "gpt-4o-mini": "claude-haiku-4-5", "o3": "claude-opus-4-5", "gpt-4.1": "claude-sonnet-4-5"}
	b.ConfigValue = cfg
	h := newHarness(t, b, Options{})
	var got []string
	for _, o := range h.w.routing.models.Objects {
		got = append(got, o.(*widget.Label).Text)
	}
	want := []string{"claude-haiku-4-5", "gpt-4o-mini", "claude-opus-4-5", "o3", "claude-sonnet-4-5", "gpt-4.1, gpt-4o"}
	if !slices.Equal(got, want) {
		t.Errorf("models = %q, want %q", got, want)
	}
	if got, want := h.w.routing.where.String(), "Read-only here: change it under the config key [models] in ~/.config/maxrouter/config.toml, then restart MaxRouter (or send it SIGHUP)."; got != want {
		t.Errorf("where = %q, want %q", got, want)
	}
	for _, o := range objects(h.w) {
		if e, ok := o.(*widget.Entry); ok && strings.Contains(e.Text, "claude-") {
			t.Errorf("the models are editable (%q): they are read-only", e.Text)
		}
	}
}

// The Proxy tab sets Claude Code up through its settings.json (a real
// file), says so, and undoes it.
func TestClaudeCodeSetup(t *testing.T) {
	b := newBackend()
	dir := t.TempDir()
	settingsFile := filepath.Join(dir, ".claude", "settings.json")
	if err := os.MkdirAll(filepath.Dir(settingsFile), 0o700); err != nil {
		t.Fatal(err)
	}
	const before = "{\n  \"model\": \"opus\"\n}\n"
	if err := os.WriteFile(settingsFile, []byte(before), 0o600); err != nil {
		t.Fatal(err)
	}
	cl := &setup.Claude{Settings: settingsFile, StateFile: filepath.Join(dir, "data", setup.ClaudeStateFile), Hostname: "box", Logger: quiet}
	h := newHarness(t, b, Options{Home: dir, Claude: cl}, func(c *control.Client) Daemon {
		cl.Daemon = c // the harness's daemon
		return c
	})
	p := h.w.proxy
	if got, want := p.claudeState.String(), "Claude Code does not go through MaxRouter yet (nothing written to its settings)."; got != want {
		t.Errorf("state = %q, want %q", got, want)
	}
	if !p.claudeUndo.Disabled() {
		t.Error("Undo enabled before any setup")
	}
	test.Tap(p.claudeSetup)
	h.settle()
	data, _ := os.ReadFile(settingsFile)
	if !strings.Contains(string(data), `"ANTHROPIC_AUTH_TOKEN": "la_sk_test-4"`) || !strings.Contains(string(data), `"model": "opus"`) {
		t.Errorf("settings.json after Set up =\n%s\nwant the token and the model kept", data)
	}
	if got, want := p.claudeState.String(), "Claude Code goes through MaxRouter: ~/.claude/settings.json holds its address and client token."; got != want {
		t.Errorf("state = %q, want %q", got, want)
	}
	if got := p.claudeResult.Text; !strings.HasPrefix(got, "Claude Code goes through MaxRouter now. Wrote its address and a client token into ~/.claude/settings.json.") {
		t.Errorf("result = %q", got)
	}
	if p.claudeUndo.Disabled() {
		t.Fatal("Undo disabled after the setup")
	}
	test.Tap(p.claudeUndo)
	h.settle()
	if data, _ := os.ReadFile(settingsFile); string(data) != before {
		t.Errorf("settings.json after Undo =\n%s\nwant it as it was", data)
	}
	if got, want := p.claudeResult.Text, "Claude Code no longer goes through MaxRouter. Restored ~/.claude/settings.json as it was. Its client token is revoked."; got != want {
		t.Errorf("result = %q, want %q", got, want)
	}
	h.b.Lock()
	revokes := slices.Clone(h.b.Revokes)
	h.b.Unlock()
	if want := []string{"tok-4"}; !slices.Equal(revokes, want) {
		t.Errorf("revoked %q, want %q", revokes, want)
	}
}
