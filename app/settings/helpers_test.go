package settings

import (
	"context"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/maxrouter/maxrouter/app/live"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/control/controltest"
)

// testHome is the home directory the fixtures pretend to have.
const testHome = "/home/ada"

// testNow is the fixtures' clock: 12:19 local time.
var testNow = time.Date(2026, 3, 10, 12, 19, 0, 0, time.Local)

func at(d time.Duration) *time.Time {
	t := testNow.Add(d)
	return &t
}

func ptr[T any](v T) *T { return &v }

// quiet discards what the window and the model log.
var quiet = slog.New(slog.DiscardHandler)

// fixtureConfig is the daemon's configuration in the fixtures: four
// accounts, round-robin.
func fixtureConfig() control.Config {
	cfg := config.Default()
	cfg.DataDir = "~/maxrouter-data" // a field the window does not edit
	cfg.Accounts = []config.Account{
		{Name: "work", Dir: "~/.claude-work"},
		{Name: "personal", Dir: "~/.claude-personal", Enabled: ptr(true)},
		{Name: "side", Dir: "~/.claude-side"},
		{Name: "team", Dir: "~/.claude-team"},
	}
	return cfg
}

// fixtureAccounts are the daemon's snapshots of fixtureConfig's accounts,
// one in each state that matters: available with usage, cooling, needing
// a login, failing.
func fixtureAccounts() []control.Account {
	return []control.Account{
		{
			Name: "work", Dir: "~/.claude-work", State: control.StateAvailable, Requests: 1234,
			FiveHour:       control.Window{Utilization: 0.42, ResetsAt: at(2*time.Hour + 13*time.Minute)},
			SevenDay:       control.Window{Utilization: 0.18, ResetsAt: at(3*24*time.Hour + 2*time.Hour)},
			TokenExpiresAt: at(3*time.Hour + 20*time.Second),
			Subscription:   "max", RateLimitTier: "default_claude_max_20x",
		},
		{
			Name: "personal", Dir: "~/.claude-personal", State: control.StateCooling, Requests: 87,
			CooldownUntil: at(2*time.Hour + 13*time.Minute), Reason: "5-hour limit",
			FiveHour:       control.Window{Utilization: 1.04, ResetsAt: at(30 * time.Second)},
			SevenDay:       control.Window{Utilization: 0.61, ResetsAt: at(5 * 24 * time.Hour)},
			TokenExpiresAt: at(40 * time.Minute),
			Subscription:   "max", RateLimitTier: "default_claude_max_5x",
		},
		{
			Name: "side", Dir: "~/.claude-side", State: control.StateNeedsLogin,
			Reason: "refresh token rejected: log in again", Subscription: "pro",
		},
		{
			Name: "team", Dir: "~/.claude-team", State: control.StateError,
			Reason: "the token endpoint answered 503", RetryAt: at(46 * time.Minute),
			Subscription: "team",
		},
	}
}

func fixtureTokens() []control.Token {
	return []control.Token{
		{ID: "tok-1", Label: "laptop", Prefix: "la_sk_3f9a", CreatedAt: testNow.Add(-40 * 24 * time.Hour)},
		{ID: "tok-2", Label: "ci", Prefix: "la_sk_77b2", CreatedAt: testNow.Add(-2 * 24 * time.Hour), ExpiresAt: at(28 * 24 * time.Hour)},
		{ID: "tok-3", Label: "old desktop", Prefix: "la_sk_0c1d", CreatedAt: testNow.Add(-90 * 24 * time.Hour), RevokedAt: at(-10 * 24 * time.Hour)},
	}
}

// newBackend returns a backend holding the fixtures.
func newBackend() *controltest.Backend {
	return &controltest.Backend{
		ConfigValue: fixtureConfig(),
		AccountList: fixtureAccounts(),
		TokenList:   fixtureTokens(),
		Now:         func() time.Time { return testNow },
		DirChecks: map[string]control.DirCheck{
			testHome + "/.claude-new": {Dir: testHome + "/.claude-new", Found: true, File: ".credentials.json",
				Subscription: "max", RateLimitTier: "default_claude_max_20x", CanRefresh: true},
		},
	}
}

// fakeAutostart records what the window asked of it.
type fakeAutostart struct {
	on    bool
	calls []string
	err   error
}

func (f *fakeAutostart) Enabled() (bool, error) { return f.on, nil }
func (f *fakeAutostart) Enable() error {
	f.calls = append(f.calls, "enable")
	if f.err == nil {
		f.on = true
	}
	return f.err
}
func (f *fakeAutostart) Disable() error {
	f.calls = append(f.calls, "disable")
	if f.err == nil {
		f.on = false
	}
	return f.err
}

// uiLoop stands in for fyne's main goroutine: the window hands it UI work
// (Window.do) from any goroutine, and the test goroutine runs it, so that
// every widget is touched by one goroutine as in the app.
type uiLoop struct {
	mu    sync.Mutex
	queue []func()
	wake  chan struct{}
}

func (u *uiLoop) do(fn func()) {
	u.mu.Lock()
	u.queue = append(u.queue, fn)
	u.mu.Unlock()
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

// run runs the queued work and reports whether there was any.
func (u *uiLoop) run() bool {
	ran := false
	for {
		u.mu.Lock()
		q := u.queue
		u.queue = nil
		u.mu.Unlock()
		if len(q) == 0 {
			return ran
		}
		ran = true
		for _, fn := range q {
			fn()
		}
	}
}

// harness is a settings window on a real control server and live.Model.
type harness struct {
	t  *testing.T
	b  *controltest.Backend
	d  *controltest.Daemon
	m  *live.Model
	ui *uiLoop
	w  *Window

	mu     sync.Mutex
	opened []string // the pages the window opened in "the browser"
}

// pages returns the addresses the window opened in the browser.
func (h *harness) pages() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.opened)
}

// newHarness shows a settings window following b's daemon and waits
// until it shows the daemon's configuration (unless b is down: then the
// first connection attempt). wrap, when given, stands between the window
// and the control client.
func newHarness(t *testing.T, b *controltest.Backend, opts Options, wrap ...func(*control.Client) Daemon) *harness {
	t.Helper()
	h := build(t, b, opts, wrap...)
	h.serve()
	h.w.Show()
	h.waitFor("the configuration is shown", func() bool { return h.w.loaded() })
	h.settle()
	return h
}

// build makes the window and its model, neither shown nor served.
func build(t *testing.T, b *controltest.Backend, opts Options, wrap ...func(*control.Client) Daemon) *harness {
	t.Helper()
	test.NewTempApp(t)
	h := &harness{t: t, b: b, d: controltest.NewDaemon(t, b), ui: &uiLoop{wake: make(chan struct{}, 1)}}
	client := h.d.Client()
	h.m = live.New(client, live.Options{Backoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Logger: quiet})
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	if opts.Home == "" {
		opts.Home = testHome
	}
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	if opts.OpenURL == nil {
		opts.OpenURL = func(u *url.URL) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.opened = append(h.opened, u.String())
			return nil
		}
	}
	if opts.Discover == nil {
		opts.Discover = func() []string { return nil } // not this machine's home
	}
	if opts.LoginPoll == 0 {
		opts.LoginPoll = 5 * time.Millisecond
	}
	var d Daemon = client
	for _, fn := range wrap {
		d = fn(client)
	}
	h.w = New(fyne.CurrentApp(), d, h.m, opts)
	h.w.do = h.ui.do
	t.Cleanup(func() {
		h.settle()
		if h.w.win != nil {
			h.w.hide()
		}
		h.w.logins.Wait()
	})
	return h
}

// serve runs the model until the test ends.
func (h *harness) serve() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.m.Serve(ctx)
	}()
	h.t.Cleanup(func() {
		cancel()
		<-done
	})
}

// settle waits for the window's background calls and runs the UI work
// they handed on, until there is none.
func (h *harness) settle() {
	h.t.Helper()
	for {
		h.w.busy.Wait()
		if !h.ui.run() {
			return
		}
	}
}

// waitFor runs the UI work handed on (by the model, by background calls)
// until cond holds, failing after 5 seconds; it returns how long that took.
func (h *harness) waitFor(what string, cond func() bool) time.Duration {
	h.t.Helper()
	start := time.Now()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	for {
		h.ui.run()
		if cond() {
			return time.Since(start)
		}
		select {
		case <-h.ui.wake:
		case <-deadline.C:
			h.t.Fatalf("not within 5s: %s", what)
		}
	}
}

// objects lists every object drawn on the window's canvas (content and
// overlays such as dialogs), visible or not.
func objects(w *Window) []fyne.CanvasObject {
	c := w.win.Canvas()
	all := test.LaidOutObjects(c.Content())
	for _, o := range c.Overlays().List() {
		all = append(all, test.LaidOutObjects(o)...)
	}
	return all
}

// overlayObjects lists the objects of the top overlay (the open dialog).
func overlayObjects(t *testing.T, w *Window) []fyne.CanvasObject {
	t.Helper()
	top := w.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no dialog is open")
	}
	return test.LaidOutObjects(top)
}

// labelTexts returns the text of every visible label among objs.
func labelTexts(objs []fyne.CanvasObject) []string {
	var out []string
	for i, o := range objs {
		if _, ok := o.(*widget.RichText); ok && i > 0 {
			if _, label := objs[i-1].(*widget.Label); label {
				continue // the label's own rendering
			}
		}
		switch l := o.(type) {
		case *widget.Label:
			if l.Visible() {
				out = append(out, l.Text)
			}
		case *widget.RichText:
			if l.Visible() {
				out = append(out, l.String())
			}
		}
	}
	return out
}

// hasLabel reports whether a visible label among objs says text.
func hasLabel(objs []fyne.CanvasObject, text string) bool {
	return slices.Contains(labelTexts(objs), text)
}

// findLabelContaining returns the first visible label text containing sub.
func findLabelContaining(objs []fyne.CanvasObject, sub string) (string, bool) {
	for _, s := range labelTexts(objs) {
		if strings.Contains(s, sub) {
			return s, true
		}
	}
	return "", false
}

// button returns the visible button with the given text among objs.
func button(t *testing.T, objs []fyne.CanvasObject, text string) *widget.Button {
	t.Helper()
	for _, o := range objs {
		if b, ok := o.(*widget.Button); ok && b.Visible() && b.Text == text {
			return b
		}
	}
	t.Fatalf("no button %q", text)
	return nil
}

// apply presses Apply and waits for the daemon's answer.
func (h *harness) apply() {
	h.t.Helper()
	if h.w.bar.apply.Disabled() {
		h.t.Fatal("Apply is disabled")
	}
	test.Tap(h.w.bar.apply)
	h.settle()
}

// lastPut returns the last configuration the daemon received.
func lastPut(t *testing.T, b *controltest.Backend) control.Config {
	t.Helper()
	b.Lock()
	defer b.Unlock()
	if len(b.PutConfigs) == 0 {
		t.Fatal("PutConfig was not called")
	}
	return b.PutConfigs[len(b.PutConfigs)-1]
}

func putCount(b *controltest.Backend) int {
	b.Lock()
	defer b.Unlock()
	return len(b.PutConfigs)
}

func accountNames(accts []config.Account) []string {
	var out []string
	for _, a := range accts {
		out = append(out, a.Name)
	}
	return out
}

// row returns the row of the account named name in the daemon's
// configuration.
func (h *harness) row(name string) *accountRow {
	h.t.Helper()
	for _, r := range h.w.accounts.rows {
		if r.acct.Orig == name {
			return r
		}
	}
	h.t.Fatalf("no row for %s", name)
	return nil
}

// tabHasError reports whether a tab's icon marks an error.
func tabHasError(item *container.TabItem) bool { return item.Icon.Name() != tabIcon(item.Text).Name() }
