package settings

import (
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

// testHome is the home directory the fixtures pretend to have.
const testHome = "/home/ada"

// testNow is the fixtures' clock: 12:19 local time.
var testNow = time.Date(2026, 3, 10, 12, 19, 0, 0, time.Local)

func at(d time.Duration) *time.Time {
	t := testNow.Add(d)
	return &t
}

func ptr[T any](v T) *T { return &v }

// fixtureConfig is the daemon's configuration in the fixtures: three
// accounts, round-robin.
func fixtureConfig() control.Config {
	cfg := config.Default()
	cfg.DataDir = "~/maxrouter-data" // a field the window does not edit
	cfg.Accounts = []config.Account{
		{Name: "work", Dir: "~/.claude-work"},
		{Name: "personal", Dir: "~/.claude-personal", Enabled: ptr(true)},
		{Name: "side", Dir: "~/.claude-side"},
	}
	return cfg
}

// fixtureAccounts are the daemon's snapshots of fixtureConfig's accounts.
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
			FiveHour:       control.Window{Utilization: 1.04, ResetsAt: at(2*time.Hour + 13*time.Minute)},
			SevenDay:       control.Window{Utilization: 0.61, ResetsAt: at(5 * 24 * time.Hour)},
			TokenExpiresAt: at(40 * time.Minute),
			Subscription:   "max", RateLimitTier: "default_claude_max_5x",
		},
		{
			Name: "side", Dir: "~/.claude-side", State: control.StateNeedsLogin,
			Reason: "refresh token rejected: log in again", Subscription: "pro",
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

// newTestWindow shows a settings window talking to b through a real
// control client, waits for it to load and returns it.
func newTestWindow(t *testing.T, b *controltest.Backend, opts Options) *Window {
	t.Helper()
	test.NewTempApp(t)
	client, _ := controltest.NewServer(t, b)
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	if opts.Home == "" {
		opts.Home = testHome
	}
	w := New(fyne.CurrentApp(), client, opts)
	w.Show()
	w.wait()
	t.Cleanup(func() {
		w.wait()
		w.hide()
	})
	if !w.loaded {
		t.Fatalf("window did not load the configuration; banner: %q", w.bannerText.Text)
	}
	return w
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

// visible reports whether o and every parent it has in objs is visible.
// (LaidOutObjects lists hidden objects' children too; a label is shown
// only if it is visible itself, which is what these tests need.)
func shown(o fyne.CanvasObject) bool { return o.Visible() }

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
			if shown(l) {
				out = append(out, l.Text)
			}
		case *widget.RichText:
			if shown(l) {
				out = append(out, l.String())
			}
		}
	}
	return out
}

// hasLabel reports whether a visible label among objs says text.
func hasLabel(objs []fyne.CanvasObject, text string) bool {
	for _, s := range labelTexts(objs) {
		if s == text {
			return true
		}
	}
	return false
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

// tapApply presses Apply and waits for the daemon's answer.
func tapApply(t *testing.T, w *Window) {
	t.Helper()
	if w.applyBtn.Disabled() {
		t.Fatal("Apply is disabled")
	}
	test.Tap(w.applyBtn)
	w.wait()
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
