package tray

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/app/live"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/wait"
)

// fakeMenu is a Menu that remembers what it shows, like a panel reading
// the tray over DBus would.
type fakeMenu struct {
	mu      sync.Mutex
	icon    []byte
	tooltip string
	items   []*fakeItem // top level, separators included
	resets  int
}

type fakeItem struct {
	m         *fakeMenu
	label     string
	checked   bool
	enabled   bool
	checkable bool
	sep       bool
	sub       []*fakeItem
	clicks    chan struct{}
}

func (m *fakeMenu) SetIcon(img []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.icon = img
}

func (m *fakeMenu) SetTooltip(text string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tooltip = text
}

func (m *fakeMenu) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	var close func([]*fakeItem)
	close = func(items []*fakeItem) {
		for _, it := range items {
			if it.clicks != nil {
				closeChan(it.clicks)
			}
			close(it.sub)
		}
	}
	close(m.items)
	m.items = nil
	m.resets++
}

func closeChan(c chan struct{}) { close(c) }

func (m *fakeMenu) Add(parent Item, label string, checkable bool) Item {
	m.mu.Lock()
	defer m.mu.Unlock()
	it := &fakeItem{m: m, label: label, enabled: true, checkable: checkable, clicks: make(chan struct{}, 1)}
	if p, ok := parent.(*fakeItem); ok && p != nil {
		p.sub = append(p.sub, it)
	} else {
		m.items = append(m.items, it)
	}
	return it
}

func (m *fakeMenu) AddSeparator() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items = append(m.items, &fakeItem{sep: true})
}

func (i *fakeItem) SetLabel(l string) {
	i.m.mu.Lock()
	defer i.m.mu.Unlock()
	i.label = l
}

func (i *fakeItem) SetChecked(c bool) {
	i.m.mu.Lock()
	defer i.m.mu.Unlock()
	i.checked = c
}

func (i *fakeItem) SetEnabled(e bool) {
	i.m.mu.Lock()
	defer i.m.mu.Unlock()
	i.enabled = e
}

func (i *fakeItem) Clicked() <-chan struct{} { return i.clicks }

// labels lists the top-level items as a panel shows them ("-" for a
// separator, a trailing "*" for a disabled item).
func (m *fakeMenu) labels() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, it := range m.items {
		switch {
		case it.sep:
			out = append(out, "-")
		case !it.enabled:
			out = append(out, it.label+" *")
		default:
			out = append(out, it.label)
		}
	}
	return out
}

// find returns the item whose label starts with prefix (submenus
// included).
func (m *fakeMenu) find(t *testing.T, prefix string) *fakeItem {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	var walk func([]*fakeItem) *fakeItem
	walk = func(items []*fakeItem) *fakeItem {
		for _, it := range items {
			if !it.sep && strings.HasPrefix(it.label, prefix) {
				return it
			}
			if f := walk(it.sub); f != nil {
				return f
			}
		}
		return nil
	}
	if it := walk(m.items); it != nil {
		return it
	}
	t.Fatalf("no menu item %q", prefix)
	return nil
}

func (i *fakeItem) click() { i.clicks <- struct{}{} }

var now = time.Date(2026, 3, 4, 13, 23, 0, 0, time.UTC)

func state(accounts ...control.Account) live.State {
	cfg := config.Default()
	return live.State{Tried: true, Connected: true, Accounts: accounts, Config: cfg, Revision: "r1"}
}

// recorder records the actions the menu asked for.
type recorder struct {
	mu    sync.Mutex
	calls []string
	err   error // returned by every action
}

func (r *recorder) record(s string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, s)
	return r.err
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

func newTray(t *testing.T, r *recorder) (*Tray, *fakeMenu) {
	t.Helper()
	m := &fakeMenu{}
	tr := New(Options{
		Menu: m,
		Actions: Actions{
			OpenSettings: func(a string) { r.record("settings " + a) },
			SetStrategy:  func(_ context.Context, name string) error { return r.record("strategy " + name) },
			SetPaused:    func(_ context.Context, p bool) error { return r.record(fmt.Sprint("paused ", p)) },
			Start:        func() error { return r.record("start") },
			Stop:         func() error { return r.record("stop") },
			SetupClaude:  func(context.Context) error { return r.record("setup") },
			CopySetup:    func(context.Context) error { return r.record("copy") },
			LogIn:        func(a string) { r.record("login " + a) },
			Quit:         func() { r.record("quit") },
			Tell:         func(title, body string) { r.record("tell " + title + ": " + body) },
		},
		Icons: func(i Icon) []byte { return []byte(i.String()) },
		Now:   func() time.Time { return now },
		Home:  "/home/ana",
	})
	t.Cleanup(tr.Close)
	return tr, m
}

func TestDrawsTheState(t *testing.T) {
	tr, m := newTray(t, &recorder{})
	until := now.Add(69 * time.Minute)
	tr.Show(state(
		control.Account{Name: "work", State: control.StateAvailable, Subscription: "max", RateLimitTier: "default_claude_max_20x", FiveHour: control.Window{Utilization: 0.42, ResetsAt: &until}},
		control.Account{Name: "personal", State: control.StateCooling, CooldownUntil: &until, Reason: "5-hour limit"},
		control.Account{Name: "side", State: control.StateNeedsLogin, Dir: "/home/ana/.claude-side"},
	), nil)
	want := []string{
		"MaxRouter — 1 of 3 accounts available *", "-",
		"✓ work    Max 20x · 5h 42%, resets in 1 h 9 min",
		"⏸ personal    cooling until 14:32 (5-hour limit)",
		"⚠ side    needs login — click to log in again",
		"-", LabelStrategy, LabelSetup, LabelCopy, LabelSettings, LabelPause, LabelStop, "-", LabelQuit,
	}
	if got := m.labels(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("menu =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := string(m.icon); got != NeedsLogin.String() {
		t.Errorf("icon = %s, want %s", got, NeedsLogin)
	}
	if !m.find(t, "Round-robin").checked || m.find(t, "Priority").checked {
		t.Error("the Strategy submenu does not show round-robin checked alone")
	}
}

// The menu changes in place: a panel reading it between two changes never
// finds it half built. Only a new shape (accounts added, removed,
// reordered; the daemon going or coming back) rebuilds it.
func TestMenuChangesInPlace(t *testing.T) {
	tr, m := newTray(t, &recorder{})
	a := control.Account{Name: "work", State: control.StateAvailable, FiveHour: control.Window{Utilization: 0.1}}
	b := control.Account{Name: "home", State: control.StateAvailable}
	tr.Show(state(a, b), nil)
	first := m.find(t, "✓ work")
	for i := range 20 {
		a.FiveHour.Utilization = float64(i) / 100
		s := state(a, b)
		s.Config.Strategy = []string{"priority", "headroom"}[i%2]
		s.Status.Paused = i%3 == 0
		tr.Show(s, nil)
	}
	if m.resets != 1 {
		t.Errorf("menu built %d times for 20 changes of usage, strategy and pause, want once", m.resets)
	}
	if got := m.find(t, "✓ work"); got != first || !strings.Contains(got.label, "5h 19%") {
		t.Errorf("work's line = %q (same item: %t), want the same item showing 19%%", got.label, got == first)
	}
	if !m.find(t, "Most headroom").checked {
		t.Error("the strategy check did not follow")
	}
	tr.Show(state(b, a), nil) // reordered
	if m.resets != 2 {
		t.Errorf("reordered accounts: built %d times, want 2", m.resets)
	}
	tr.Show(live.State{Tried: true, Problem: control.ErrUnreachable, Accounts: []control.Account{b, a}}, nil)
	if m.resets != 3 {
		t.Errorf("daemon gone: built %d times, want 3", m.resets)
	}
}

func TestDaemonDownOffersStart(t *testing.T) {
	r := &recorder{}
	tr, m := newTray(t, r)
	tr.Show(live.State{}, nil)
	if got := m.labels()[0]; got != "MaxRouter — connecting… *" {
		t.Errorf("first title = %q, want connecting", got)
	}
	tr.Show(live.State{Tried: true, Problem: fmt.Errorf("%w: connection refused", control.ErrUnreachable)}, nil)
	tr.ShowService("stopped")
	want := []string{"MaxRouter — daemon not running *", "-", "The MaxRouter daemon is not running (service: stopped). *", LabelStart, "-", LabelSetup, LabelCopy, LabelSettings, "-", LabelQuit}
	if got := m.labels(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("menu =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := string(m.icon); got != Down.String() {
		t.Errorf("icon = %s, want %s", got, Down)
	}
	m.find(t, LabelStart).click()
	wait.For(t, "the start", func() bool { return len(r.got()) == 1 })
	if got := m.find(t, "Starting").label; got != LabelStarting {
		t.Errorf("start item = %q, want %q while it starts", got, LabelStarting)
	}
	tr.Show(state(), nil)
	if got := m.labels(); !contains(got, LabelStop) || contains(got, LabelStart) {
		t.Errorf("menu once running = %q, want Stop and no Start", got)
	}
	// Stopped on purpose says so.
	tr.Show(live.State{Tried: true, Stopped: true, Problem: control.ErrUnreachable}, nil)
	if got := m.labels()[0]; got != "MaxRouter — stopped *" {
		t.Errorf("title after a stop = %q", got)
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

func TestClicks(t *testing.T) {
	r := &recorder{}
	tr, m := newTray(t, r)
	s := state(control.Account{Name: "work", State: control.StateAvailable},
		control.Account{Name: "side", Dir: "~/.claude-side", State: control.StateNeedsLogin},
		control.Account{Name: "ci", Dir: "(token)", State: control.StateNeedsLogin})
	tr.Show(s, nil)
	for _, c := range []struct {
		item, want string
	}{
		{"✓ work", "settings work"},
		{"⚠ side", "login side"},
		{"⚠ ci", "settings ci"}, // a token: the daemon cannot log it in
		{LabelSettings, "settings "},
		{LabelSetup, "setup"},
		{LabelCopy, "copy"},
		{LabelPause, "paused true"},
		{"Priority", "strategy priority"},
		{LabelQuit, "quit"},
	} {
		n := len(r.got())
		m.find(t, c.item).click()
		wait.For(t, c.want, func() bool { return len(r.got()) > n })
		if got := r.got()[n]; got != c.want {
			t.Errorf("click on %q did %q, want %q", c.item, got, c.want)
		}
	}
	// The check moves at once, before the daemon confirms.
	if !m.find(t, "Priority").checked || m.find(t, "Round-robin").checked {
		t.Error("the check did not move to Priority at once")
	}
	s.Status.Paused = true
	tr.Show(s, nil)
	m.find(t, LabelResume).click()
	wait.For(t, "resume", func() bool { return r.got()[len(r.got())-1] == "paused false" })
}

func TestStrategyRefusedMovesBack(t *testing.T) {
	r := &recorder{err: errors.New("the daemon said no")}
	tr, m := newTray(t, r)
	tr.Show(state(), nil)
	m.find(t, "Least used").click()
	wait.For(t, "the refusal told", func() bool {
		for _, c := range r.got() {
			if strings.HasPrefix(c, "tell Couldn't change the strategy: the daemon said no") {
				return true
			}
		}
		return false
	})
	least, rr := m.find(t, "Least used"), m.find(t, "Round-robin")
	wait.For(t, "the check back on round-robin", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return !least.checked && rr.checked
	})
}
