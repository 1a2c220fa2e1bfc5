package tray

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/control/controltest"
	"github.com/maxrouter/maxrouter/core/event"
)

// fakeDesktop records what the tray shows; it implements desktop.App.
type fakeDesktop struct {
	mu      sync.Mutex
	items   []*fyne.MenuItem // of the last menu set
	menus   int              // SetSystemTrayMenu calls
	icon    fyne.Resource
	tooltip string
	clip    []string
	told    []string
	changed chan struct{} // closed and replaced on every change
}

func newFakeDesktop() *fakeDesktop { return &fakeDesktop{changed: make(chan struct{})} }

func (d *fakeDesktop) SetSystemTrayMenu(m *fyne.Menu) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.items = m.Items // render never mutates a slice it handed out
	d.menus++
	d.bumpLocked()
}

func (d *fakeDesktop) SetSystemTrayIcon(r fyne.Resource) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.icon = r
	d.bumpLocked()
}

func (d *fakeDesktop) SetSystemTrayWindow(fyne.Window) {}

func (d *fakeDesktop) setTooltip(s string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tooltip = s
	d.bumpLocked()
}

func (d *fakeDesktop) copy(s string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.clip = append(d.clip, s)
	d.bumpLocked()
}

func (d *fakeDesktop) tell(title, body string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.told = append(d.told, title+": "+body)
	d.bumpLocked()
}

func (d *fakeDesktop) bumpLocked() {
	close(d.changed)
	d.changed = make(chan struct{})
}

// view is what the fake desktop shows, for assertions.
type view struct {
	items   []*fyne.MenuItem
	icon    string
	tooltip string
	clip    []string
	told    []string
}

func (v view) labels() []string {
	var out []string
	for _, it := range v.items {
		if it.IsSeparator {
			out = append(out, "---")
			continue
		}
		out = append(out, it.Label)
	}
	return out
}

// item finds a menu item by label, looking into submenus.
func (v view) item(label string) *fyne.MenuItem { return find(v.items, label) }

func find(items []*fyne.MenuItem, label string) *fyne.MenuItem {
	for _, it := range items {
		if it.Label == label {
			return it
		}
		if it.ChildMenu != nil {
			if c := find(it.ChildMenu.Items, label); c != nil {
				return c
			}
		}
	}
	return nil
}

// wait returns the view once cond holds, failing the test after 10s.
func (d *fakeDesktop) wait(t *testing.T, what string, cond func(v view) bool) view {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		d.mu.Lock()
		v := view{items: d.items, tooltip: d.tooltip, clip: slices.Clone(d.clip), told: slices.Clone(d.told)}
		if d.icon != nil {
			v.icon = d.icon.Name()
		}
		changed := d.changed
		d.mu.Unlock()
		if cond(v) {
			return v
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("waiting for %s: menu is %q, icon %q, tooltip %q, told %q", what, v.labels(), v.icon, v.tooltip, v.told)
		}
	}
}

func hasLabel(label string) func(view) bool {
	return func(v view) bool { return v.item(label) != nil }
}

// switchDaemon is a Daemon whose server the test replaces, as a daemon
// that stops and starts again.
type switchDaemon struct {
	mu        sync.Mutex
	c         *control.Client // nil: not running
	statusErr error           // when set, Status fails with it
}

var errDown = fmt.Errorf("%w: test daemon stopped", control.ErrUnreachable)

func (s *switchDaemon) set(c *control.Client) { s.mu.Lock(); s.c = c; s.mu.Unlock() }

func (s *switchDaemon) client() *control.Client { s.mu.Lock(); defer s.mu.Unlock(); return s.c }

func (s *switchDaemon) Status(ctx context.Context) (control.Status, error) {
	s.mu.Lock()
	err := s.statusErr
	s.mu.Unlock()
	if err != nil {
		return control.Status{}, err
	}
	if c := s.client(); c != nil {
		return c.Status(ctx)
	}
	return control.Status{}, errDown
}

func (s *switchDaemon) Pause(ctx context.Context) error {
	if c := s.client(); c != nil {
		return c.Pause(ctx)
	}
	return errDown
}

func (s *switchDaemon) Resume(ctx context.Context) error {
	if c := s.client(); c != nil {
		return c.Resume(ctx)
	}
	return errDown
}

func (s *switchDaemon) Accounts(ctx context.Context) ([]control.Account, error) {
	if c := s.client(); c != nil {
		return c.Accounts(ctx)
	}
	return nil, errDown
}

func (s *switchDaemon) Events(ctx context.Context, after string, fn func(control.Event)) error {
	if c := s.client(); c != nil {
		return c.Events(ctx, after, fn)
	}
	return errDown
}

func (s *switchDaemon) Config(ctx context.Context) (control.Config, string, error) {
	if c := s.client(); c != nil {
		return c.Config(ctx)
	}
	return control.Config{}, "", errDown
}

func (s *switchDaemon) UpdateConfig(ctx context.Context, edit func(*control.Config) error) error {
	if c := s.client(); c != nil {
		return c.UpdateConfig(ctx, edit)
	}
	return errDown
}

func (s *switchDaemon) Tokens(ctx context.Context) ([]control.Token, error) {
	if c := s.client(); c != nil {
		return c.Tokens(ctx)
	}
	return nil, errDown
}

func (s *switchDaemon) IssueToken(ctx context.Context, label string, ttl time.Duration) (control.Issued, error) {
	if c := s.client(); c != nil {
		return c.IssueToken(ctx, label, ttl)
	}
	return control.Issued{}, errDown
}

func (s *switchDaemon) BaseURL() string { return "http://127.0.0.1:8787" }

// fakeNotifier records what the tray hands to the notifier.
type fakeNotifier struct {
	mu     sync.Mutex
	events []control.Event
	seen   [][]control.Account // the accounts given with each event
	notify *bool
	prefs  int // SetPrefs calls
}

func (n *fakeNotifier) Handle(e control.Event, accounts []control.Account) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.events = append(n.events, e)
	n.seen = append(n.seen, accounts)
}

func (n *fakeNotifier) SetPrefs(notify bool, _ config.Notifications) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.notify = &notify
	n.prefs++
}

// harness runs a Tray against a controltest backend.
type harness struct {
	t       *testing.T
	backend *controltest.Backend
	daemon  *switchDaemon
	desk    *fakeDesktop
	notif   *fakeNotifier
	tray    *Tray
	opts    Options
	starts  chan struct{}
	cancel  context.CancelFunc
	done    chan error
}

func threeAccounts() []control.Account {
	return []control.Account{
		{Name: "work", Dir: "/home/ann/.claude-work", State: control.StateAvailable, Subscription: "max",
			RateLimitTier: "default_claude_max_20x", FiveHour: control.Window{Utilization: 0.42, ResetsAt: at("15:00")}},
		{Name: "personal", Dir: "/home/ann/.claude-personal", State: control.StateAvailable, Subscription: "pro"},
		{Name: "side", Dir: "/home/ann/.claude-side", State: control.StateNeedsLogin},
	}
}

// newHarness makes the backend (three accounts, round-robin) and the tray;
// adjust h.opts, then call h.start.
func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{
		t:       t,
		backend: &controltest.Backend{},
		daemon:  &switchDaemon{},
		desk:    newFakeDesktop(),
		notif:   &fakeNotifier{},
		starts:  make(chan struct{}, 10),
	}
	cfg := config.Default()
	cfg.Accounts = []config.Account{{Name: "work", Dir: "~/.claude-work"}}
	h.backend.ConfigValue = cfg
	h.backend.AccountList = threeAccounts()
	c, _ := controltest.NewServer(t, h.backend)
	h.daemon.set(c)
	h.opts = Options{
		Daemon:          h.daemon,
		Notifier:        h.notif,
		TokenFile:       filepath.Join(t.TempDir(), "tray-token"),
		Hostname:        "box",
		OpenSettings:    func() {},
		StartService:    func() error { h.starts <- struct{}{}; return nil },
		StopService:     func() error { return nil },
		ServiceStatus:   func() string { return "stopped" },
		Quit:            func() {},
		CopyToClipboard: h.desk.copy,
		Tell:            h.desk.tell,
		SetTooltip:      h.desk.setTooltip,
		Do:              func(fn func()) { fn() },
		Now:             func() time.Time { return now },
		Home:            "/home/ann",
		Poll:            time.Hour,
		Backoff:         5 * time.Millisecond,
		MaxBackoff:      20 * time.Millisecond,
		Logger:          slog.New(slog.DiscardHandler),
	}
	return h
}

func (h *harness) start() {
	h.t.Helper()
	h.tray = New(h.desk, h.opts)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan error, 1)
	go func() { h.done <- h.tray.Serve(ctx) }()
	h.t.Cleanup(h.stop)
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Serve() = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		h.t.Errorf("Serve did not return 10s after its context ended")
	}
}

func TestServeShowsAccounts(t *testing.T) {
	h := newHarness(t)
	h.start()
	v := h.desk.wait(t, "the account menu", func(v view) bool {
		it := v.item("Round-robin")
		return it != nil && it.Checked
	})
	want := []string{
		"MaxRouter — 2 of 3 accounts available",
		"---",
		"✓ work    Max 20x · 5h 42%",
		"✓ personal    Pro",
		"⚠ side    needs login — run: CLAUDE_CONFIG_DIR=~/.claude-side claude /login",
		"---",
		LabelStrategy,
		LabelCopy,
		LabelSettings,
		LabelPause,
		LabelStop,
		"---",
		LabelQuit,
	}
	if got := v.labels(); !slices.Equal(got, want) {
		t.Errorf("menu =\n%q\nwant\n%q", got, want)
	}
	if !v.items[0].Disabled {
		t.Errorf("title item is enabled, want disabled")
	}
	if quit := v.items[len(v.items)-1]; !quit.IsQuit {
		t.Errorf("last item %q has IsQuit false", quit.Label)
	}
	if got, want := v.icon, "tray-some.png"; got != want {
		t.Errorf("icon = %q, want %q", got, want)
	}
	if got, want := v.tooltip, "MaxRouter — 2 of 3 accounts available"; got != want {
		t.Errorf("tooltip = %q, want %q", got, want)
	}
	var sub []string
	for _, it := range v.item(LabelStrategy).ChildMenu.Items {
		sub = append(sub, fmt.Sprintf("%s %t", it.Label, it.Checked))
	}
	if want := []string{"Round-robin true", "Priority false", "Least used false", "Most headroom false"}; !slices.Equal(sub, want) {
		t.Errorf("strategy submenu = %q, want %q", sub, want)
	}
	h.notif.mu.Lock()
	notify := h.notif.notify
	h.notif.mu.Unlock()
	if notify == nil || !*notify {
		t.Errorf("notifier prefs not set from the configuration (notify = %v)", notify)
	}
}

func TestEventsRefreshMenuAndReachNotifier(t *testing.T) {
	h := newHarness(t)
	snaps := make(chan []control.Account, 10)
	h.opts.OnAccounts = func(a []control.Account) { snaps <- a }
	h.start()
	h.desk.wait(t, "the account menu", hasLabel("✓ personal    Pro"))
	h.backend.WaitSubscribers(t, 1)

	accounts := threeAccounts()
	accounts[1].State = control.StateCooling
	accounts[1].CooldownUntil = at("14:32")
	accounts[1].Reason = "5-hour limit"
	h.backend.SetAccounts(accounts)
	e := control.Event{Type: event.CooldownStarted, Account: "personal", Until: at("14:32"), Window: "five_hour", At: now}
	h.backend.Publish(e)

	v := h.desk.wait(t, "the cooling line", hasLabel("⏸ personal    cooling until 14:32 (5-hour limit)"))
	if got, want := v.items[0].Label, "MaxRouter — 1 of 3 accounts available"; got != want {
		t.Errorf("title = %q, want %q", got, want)
	}
	var last []control.Account
	for len(snaps) > 0 {
		last = <-snaps
	}
	if len(last) != 3 || last[1].State != control.StateCooling {
		t.Errorf("OnAccounts last got %+v, want the fresh snapshot (personal cooling)", last)
	}
	h.notif.mu.Lock()
	defer h.notif.mu.Unlock()
	if len(h.notif.events) != 1 || h.notif.events[0].Type != event.CooldownStarted || h.notif.events[0].Account != "personal" {
		t.Fatalf("notifier got %+v, want the one cooldown_started event for personal", h.notif.events)
	}
	if got := h.notif.seen[0]; len(got) != 3 || got[1].State != control.StateCooling {
		t.Errorf("notifier got accounts %+v with the event, want the fresh snapshot (personal cooling)", got)
	}
}

func TestNoneAvailableTooltipAndIcon(t *testing.T) {
	h := newHarness(t)
	accounts := threeAccounts()
	for i := range accounts[:2] {
		accounts[i].State = control.StateCooling
		accounts[i].CooldownUntil = at(fmt.Sprintf("1%d:00", 5-i))
	}
	h.backend.AccountList = accounts
	h.start()
	// The menu is set last in an update: once it shows the accounts, the
	// icon and the tooltip are current.
	v := h.desk.wait(t, "the account menu", hasLabel("⚠ side    needs login — run: CLAUDE_CONFIG_DIR=~/.claude-side claude /login"))
	if got, want := v.icon, "tray-none.png"; got != want {
		t.Errorf("icon = %q, want %q", got, want)
	}
	if got, want := v.tooltip, "MaxRouter — 0 of 3 accounts available\nFirst back at 14:00 (personal)"; got != want {
		t.Errorf("tooltip = %q, want %q", got, want)
	}
}

func TestReconnects(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.desk.wait(t, "the account menu", hasLabel("✓ work    Max 20x · 5h 42%"))
	h.backend.WaitSubscribers(t, 1)

	// The daemon goes away: the stream ends, and every call fails.
	h.daemon.set(nil)
	h.backend.CloseStreams()
	v := h.desk.wait(t, "the unreachable menu", hasLabel(LabelStart))
	want := []string{
		"MaxRouter — daemon not running",
		"---",
		"The MaxRouter daemon is not running (service: stopped).",
		LabelStart,
		"---",
		LabelCopy,
		LabelSettings,
		"---",
		LabelQuit,
	}
	if got := v.labels(); !slices.Equal(got, want) {
		t.Errorf("menu =\n%q\nwant\n%q", got, want)
	}
	if got, want := v.icon, "tray-down.png"; got != want {
		t.Errorf("icon = %q, want %q", got, want)
	}

	// It comes back (another server, as after a restart) with other accounts.
	b2 := &controltest.Backend{ConfigValue: config.Default()}
	b2.ConfigValue.Strategy = "priority"
	b2.AccountList = []control.Account{{Name: "solo", State: control.StateAvailable}}
	c2, _ := controltest.NewServer(t, b2)
	h.daemon.set(c2)
	v = h.desk.wait(t, "the menu after reconnecting", hasLabel("✓ solo    available"))
	if got, want := v.icon, "tray-ok.png"; got != want {
		t.Errorf("icon = %q, want %q", got, want)
	}
	if it := v.item("Priority"); it == nil || !it.Checked {
		t.Errorf("Priority not checked after reconnecting to a daemon using it")
	}
	b2.WaitSubscribers(t, 1) // follows the new stream
}

func TestStartService(t *testing.T) {
	h := newHarness(t)
	h.daemon.set(nil) // not running at first
	c, _ := controltest.NewServer(t, h.backend)
	release := make(chan struct{})
	h.opts.StartService = func() error {
		h.starts <- struct{}{}
		<-release // the service manager takes its time
		h.daemon.set(c)
		return nil
	}
	h.opts.Backoff, h.opts.MaxBackoff = time.Hour, time.Hour
	h.start()
	v := h.desk.wait(t, "the unreachable menu", hasLabel(LabelStart))

	v.item(LabelStart).Action()
	select {
	case <-h.starts:
	case <-time.After(10 * time.Second):
		t.Fatal("StartService not called")
	}
	h.desk.wait(t, "the starting label", func(v view) bool { return v.item(LabelStarting) != nil && v.item(LabelStart) == nil })
	close(release)
	// The backoff is an hour: only the wake-up after starting connects.
	v = h.desk.wait(t, "the account menu", hasLabel("✓ personal    Pro"))
	if v.item(LabelStarting) != nil || v.item(LabelStart) != nil {
		t.Errorf("menu %q still offers to start the daemon", v.labels())
	}
}

func TestStartServiceFails(t *testing.T) {
	h := newHarness(t)
	h.daemon.set(nil)
	h.opts.StartService = func() error { return errors.New("systemctl exploded") }
	h.start()
	v := h.desk.wait(t, "the unreachable menu", hasLabel(LabelStart))
	v.item(LabelStart).Action()
	v = h.desk.wait(t, "the error message", func(v view) bool { return len(v.told) > 0 && v.item(LabelStart) != nil })
	if got, want := v.told[0], "Couldn't start MaxRouter: systemctl exploded"; got != want {
		t.Errorf("told %q, want %q", got, want)
	}
}

func TestStrategyClick(t *testing.T) {
	h := newHarness(t)
	h.start()
	v := h.desk.wait(t, "the strategy submenu", hasLabel("Least used"))
	v.item("Least used").Action()
	v = h.desk.wait(t, "Least used checked", func(v view) bool {
		it := v.item("Least used")
		return it != nil && it.Checked && !v.item("Round-robin").Checked
	})
	waitFor(t, "PutConfig", func() bool {
		h.backend.Lock()
		defer h.backend.Unlock()
		return len(h.backend.PutConfigs) > 0
	})
	h.backend.Lock()
	put := h.backend.PutConfigs
	h.backend.Unlock()
	if len(put) != 1 || put[0].Strategy != "least-used" {
		t.Fatalf("PutConfig got %d configs (%+v), want one with strategy least-used", len(put), put)
	}
	if len(put[0].Accounts) != 1 || put[0].Accounts[0].Name != "work" {
		t.Errorf("PutConfig lost the rest of the configuration: accounts %+v", put[0].Accounts)
	}

	// Clicking the checked one again changes nothing.
	v.item("Least used").Action()
	// A refusal moves the check mark back and says why.
	h.backend.Lock()
	h.backend.PutConfigErr = &config.ValidationError{Fields: []config.FieldError{{Field: "strategy", Message: "no"}}}
	h.backend.Unlock()
	v.item("Priority").Action()
	v = h.desk.wait(t, "the refusal", func(v view) bool { return len(v.told) > 0 })
	if !strings.HasPrefix(v.told[0], "Couldn't change the strategy: ") {
		t.Errorf("told %q, want it to say the strategy could not be changed", v.told[0])
	}
	h.desk.wait(t, "Least used checked again", func(v view) bool {
		return v.item("Least used").Checked && !v.item("Priority").Checked
	})
	h.backend.Lock()
	n := len(h.backend.PutConfigs)
	h.backend.Unlock()
	if n != 2 {
		t.Errorf("PutConfig called %d times, want 2 (the same strategy is not written again)", n)
	}
}

func TestCopySetup(t *testing.T) {
	h := newHarness(t)
	h.start()
	v := h.desk.wait(t, "the copy item", hasLabel(LabelCopy))
	copyOnce := func(n int) string {
		t.Helper()
		h.desk.wait(t, "the copy item", hasLabel(LabelCopy)).item(LabelCopy).Action()
		return h.desk.wait(t, "the clipboard", func(v view) bool { return len(v.clip) == n }).clip[n-1]
	}
	_ = v

	first := copyOnce(1)
	if want := "export ANTHROPIC_BASE_URL=http://127.0.0.1:8787\nexport ANTHROPIC_AUTH_TOKEN=la_sk_test-1\n"; first != want {
		t.Errorf("clipboard = %q, want %q", first, want)
	}
	data, err := os.ReadFile(h.opts.TokenFile)
	if err != nil {
		t.Fatal(err)
	}
	var saved savedToken
	if err := json.Unmarshal(data, &saved); err != nil || saved.ID != "tok-1" || saved.Secret != "la_sk_test-1" {
		t.Errorf("token file = %s (%v), want id tok-1 and its secret", data, err)
	}
	if fi, err := os.Stat(h.opts.TokenFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode = %v (%v), want 0600", fi.Mode().Perm(), err)
	}

	if second := copyOnce(2); second != first {
		t.Errorf("second copy = %q, want the same token again %q", second, first)
	}
	h.backend.Lock()
	issues := slices.Clone(h.backend.Issues)
	h.backend.Unlock()
	if len(issues) != 1 || issues[0].Label != "box (tray)" || issues[0].TTL != 0 {
		t.Errorf("IssueToken calls = %+v, want one labelled \"box (tray)\" without TTL", issues)
	}

	// Revoked: the next copy issues a new one.
	if err := h.backend.RevokeToken("tok-1"); err != nil {
		t.Fatal(err)
	}
	if third := copyOnce(3); !strings.HasSuffix(third, "ANTHROPIC_AUTH_TOKEN=la_sk_test-2\n") {
		t.Errorf("copy after revoking = %q, want the new token la_sk_test-2", third)
	}
	// Forgotten by the daemon (a new token store): issued again too.
	h.backend.Lock()
	h.backend.TokenList = nil
	h.backend.Unlock()
	if fourth := copyOnce(4); !strings.HasSuffix(fourth, "ANTHROPIC_AUTH_TOKEN=la_sk_test-1\n") {
		t.Errorf("copy after the daemon forgot the token = %q, want a newly issued one", fourth)
	}
	h.backend.Lock()
	n := len(h.backend.Issues)
	h.backend.Unlock()
	if n != 3 {
		t.Errorf("IssueToken called %d times, want 3", n)
	}
	v = h.desk.wait(t, "the confirmations", func(v view) bool { return len(v.told) == 4 })
	if got, want := v.told[0], "Claude Code setup copied: Paste it in the shell you start claude from."; got != want {
		t.Errorf("told %q, want %q", got, want)
	}
}

func TestCopySetupWhileUnreachable(t *testing.T) {
	h := newHarness(t)
	h.daemon.set(nil)
	h.start()
	v := h.desk.wait(t, "the unreachable menu", hasLabel(LabelStart))

	// Nothing saved: nothing to copy, and the person is told why.
	v.item(LabelCopy).Action()
	v = h.desk.wait(t, "the error", func(v view) bool { return len(v.told) == 1 })
	if got := v.told[0]; !strings.Contains(got, "not running") {
		t.Errorf("told %q, want it to say the daemon is not running", got)
	}
	if len(v.clip) != 0 {
		t.Errorf("clipboard = %q, want nothing copied", v.clip)
	}

	// A saved token is copied unchecked.
	data, _ := json.Marshal(savedToken{ID: "tok-7", Secret: "la_sk_test-7"})
	if err := os.WriteFile(h.opts.TokenFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	v.item(LabelCopy).Action()
	v = h.desk.wait(t, "the clipboard", func(v view) bool { return len(v.clip) == 1 })
	if !strings.HasSuffix(v.clip[0], "ANTHROPIC_AUTH_TOKEN=la_sk_test-7\n") {
		t.Errorf("clipboard = %q, want the saved token", v.clip[0])
	}
}

func TestServeEndsWithContext(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.desk.wait(t, "the account menu", hasLabel(LabelStop))
	h.backend.WaitSubscribers(t, 1)
	h.stop() // fails the test if Serve does not return
	h.backend.WaitSubscribers(t, 0)
}

func TestMenuUnchangedIsNotResent(t *testing.T) {
	h := newHarness(t)
	h.opts.Poll = 2 * time.Millisecond
	h.start()
	h.desk.wait(t, "the account menu", hasLabel(LabelStop))
	// Every poll re-reads the configuration and sets the notifier's prefs.
	waitFor(t, "five polls", func() bool {
		h.notif.mu.Lock()
		defer h.notif.mu.Unlock()
		return h.notif.prefs >= 6
	})
	h.desk.mu.Lock()
	n := h.desk.menus
	h.desk.mu.Unlock()
	if n != 2 { // the "connecting" menu and the account menu
		t.Errorf("SetSystemTrayMenu called %d times for an unchanged menu, want 2", n)
	}
}

// pauses returns the Pause (true) and Resume (false) calls the backend got.
func (h *harness) pauses() []bool {
	h.backend.Lock()
	defer h.backend.Unlock()
	return slices.Clone(h.backend.Pauses)
}

func TestPauseAndResumeClicks(t *testing.T) {
	h := newHarness(t)
	h.start()
	v := h.desk.wait(t, "the pause item", hasLabel(LabelPause))
	if it := v.item(LabelPause); it.Disabled {
		t.Fatalf("%q is disabled", LabelPause)
	}
	if v.item(LabelResume) != nil {
		t.Errorf("menu %q offers both pause and resume", v.labels())
	}
	h.backend.WaitSubscribers(t, 1)

	v.item(LabelPause).Action()
	v = h.desk.wait(t, "the resume item", hasLabel(LabelResume))
	if got, want := h.pauses(), []bool{true}; !slices.Equal(got, want) {
		t.Errorf("pause calls = %v, want %v", got, want)
	}
	if got := h.backend.Status(); !got.Paused {
		t.Error("daemon not paused after clicking " + LabelPause)
	}
	want := []string{
		"MaxRouter — paused (2 of 3 accounts available)",
		"---",
		"✓ work    Max 20x · 5h 42%",
		"✓ personal    Pro",
		"⚠ side    needs login — run: CLAUDE_CONFIG_DIR=~/.claude-side claude /login",
		"---",
		LabelStrategy,
		LabelCopy,
		LabelSettings,
		LabelResume,
		LabelStop,
		"---",
		LabelQuit,
	}
	if got := v.labels(); !slices.Equal(got, want) {
		t.Errorf("paused menu =\n%q\nwant\n%q", got, want)
	}
	if got, want := v.icon, "tray-none.png"; got != want {
		t.Errorf("paused icon = %q, want %q", got, want)
	}
	if got, want := v.tooltip, "MaxRouter — paused (2 of 3 accounts available)\nClients get an error until you choose Resume routing."; got != want {
		t.Errorf("paused tooltip = %q, want %q", got, want)
	}

	v.item(LabelResume).Action()
	v = h.desk.wait(t, "the pause item again", hasLabel(LabelPause))
	if got, want := h.pauses(), []bool{true, false}; !slices.Equal(got, want) {
		t.Errorf("pause calls = %v, want %v", got, want)
	}
	if got, want := v.items[0].Label, "MaxRouter — 2 of 3 accounts available"; got != want {
		t.Errorf("title after resuming = %q, want %q", got, want)
	}
	if got, want := v.icon, "tray-some.png"; got != want {
		t.Errorf("icon after resuming = %q, want %q", got, want)
	}
	// The events reach the notifier, which has nothing to say about them.
	waitFor(t, "the paused and resumed events at the notifier", func() bool {
		h.notif.mu.Lock()
		defer h.notif.mu.Unlock()
		var types []event.Type
		for _, e := range h.notif.events {
			types = append(types, e.Type)
		}
		return slices.Equal(types, []event.Type{event.Paused, event.Resumed})
	})
}

func TestPausedElsewhereShowsLive(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.desk.wait(t, "the pause item", hasLabel(LabelPause))
	h.backend.WaitSubscribers(t, 1)

	// Paused by another client (the CLI): the event updates the menu.
	if err := h.backend.Pause(); err != nil {
		t.Fatal(err)
	}
	v := h.desk.wait(t, "the resume item", hasLabel(LabelResume))
	if got, want := v.items[0].Label, "MaxRouter — paused (2 of 3 accounts available)"; got != want {
		t.Errorf("title = %q, want %q", got, want)
	}
	// Without a status answer, the event alone still says it.
	h.daemon.mu.Lock()
	h.daemon.statusErr = errors.New("status broken")
	h.daemon.mu.Unlock()
	h.backend.SetPaused(false)
	h.backend.Publish(control.Event{Type: event.Resumed, At: now})
	h.desk.wait(t, "the pause item", hasLabel(LabelPause))
	h.backend.Publish(control.Event{Type: event.Paused, At: now})
	h.desk.wait(t, "the resume item", hasLabel(LabelResume))
	if got := h.pauses(); len(got) != 1 {
		t.Errorf("pause calls = %v, want only the one made directly (the tray called none)", got)
	}
}

func TestPausedOnConnect(t *testing.T) {
	h := newHarness(t)
	h.backend.StatusValue.Paused = true
	h.start()
	v := h.desk.wait(t, "the resume item", hasLabel(LabelResume))
	if got, want := v.items[0].Label, "MaxRouter — paused (2 of 3 accounts available)"; got != want {
		t.Errorf("title = %q, want %q", got, want)
	}
	if got, want := v.icon, "tray-none.png"; got != want {
		t.Errorf("icon = %q, want %q", got, want)
	}
	h.backend.WaitSubscribers(t, 1)

	// The daemon goes away: neither item is offered.
	h.daemon.set(nil)
	h.backend.CloseStreams()
	v = h.desk.wait(t, "the unreachable menu", hasLabel(LabelStart))
	if v.item(LabelPause) != nil || v.item(LabelResume) != nil {
		t.Errorf("unreachable menu %q offers to pause or resume", v.labels())
	}
	// It restarts (a restart resumes): the menu follows the new status.
	b2 := &controltest.Backend{ConfigValue: config.Default(), AccountList: threeAccounts()}
	c2, _ := controltest.NewServer(t, b2)
	h.daemon.set(c2)
	v = h.desk.wait(t, "the pause item", hasLabel(LabelPause))
	if got, want := v.items[0].Label, "MaxRouter — 2 of 3 accounts available"; got != want {
		t.Errorf("title after the restart = %q, want %q", got, want)
	}
}

func TestPauseFails(t *testing.T) {
	h := newHarness(t)
	h.backend.PauseErr = errors.New("nope")
	h.start()
	v := h.desk.wait(t, "the pause item", hasLabel(LabelPause))
	v.item(LabelPause).Action()
	v = h.desk.wait(t, "the error message", func(v view) bool { return len(v.told) > 0 })
	if got := v.told[0]; !strings.HasPrefix(got, "Couldn't pause routing: ") || !strings.Contains(got, "nope") {
		t.Errorf("told %q, want it to say routing could not be paused, and why", got)
	}
	if v.item(LabelPause) == nil || v.item(LabelResume) != nil {
		t.Errorf("menu %q after a failed pause, want %q still offered", v.labels(), LabelPause)
	}
}

// waitFor polls cond until it holds, failing t after 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
