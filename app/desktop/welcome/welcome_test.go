package welcome

import (
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// starter is a fake Start that counts its calls and returns what the test
// set; with gate set, each call waits until the test closes it.
type starter struct {
	mu    sync.Mutex
	calls int
	how   string
	err   error
	gate  chan struct{}
}

func (s *starter) start() (string, error) {
	if s.gate != nil {
		<-s.gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	return s.how, s.err
}

func (s *starter) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// teller records notifications.
type teller struct {
	mu   sync.Mutex
	sent []string
}

func (t *teller) tell(title, body string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sent = append(t.sent, title+": "+body)
}

func (t *teller) all() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.sent)
}

const howService = "It runs as a user service and starts at login."

var twoLogins = []Login{
	{Name: "default", Dir: "~/.claude", Plan: "Pro"},
	{Name: "work", Dir: "~/.claude-work", Plan: "Max 20x"},
}

// newTestWindow shows a welcome window on fyne's test driver.
func newTestWindow(t *testing.T, o Options) (*Window, *starter, *teller) {
	t.Helper()
	test.NewTempApp(t)
	s := &starter{how: howService}
	tl := &teller{}
	o.Start, o.Tell, o.Logger = s.start, tl.tell, slog.New(slog.DiscardHandler)
	w := New(fyne.CurrentApp(), o)
	w.Show()
	t.Cleanup(w.Wait)
	return w, s, tl
}

// texts lists the texts of the visible labels, hints and buttons in the
// window, in layout order.
func texts(w *Window) []string {
	return collect(w.win.Content(), nil)
}

func collect(o fyne.CanvasObject, out []string) []string {
	if !o.Visible() {
		return out
	}
	switch v := o.(type) {
	case *fyne.Container:
		for _, c := range v.Objects {
			out = collect(c, out)
		}
	case *widget.Label:
		out = append(out, v.Text)
	case *widget.RichText:
		out = append(out, v.String())
	case *widget.Button:
		out = append(out, "["+v.Text+"]")
	}
	return out
}

// assertTexts checks that want appear among the window's texts, in this
// order, each as a part of one text.
func assertTexts(t *testing.T, w *Window, want ...string) {
	t.Helper()
	got := texts(w)
	i := 0
	for _, s := range got {
		if i < len(want) && strings.Contains(s, want[i]) {
			i++
		}
	}
	if i < len(want) {
		t.Errorf("window texts lack %q (looking for %q in order) in:\n%s", want[i], want, strings.Join(got, "\n"))
	}
}

// assertNoText checks that no visible text of the window contains s.
func assertNoText(t *testing.T, w *Window, s string) {
	t.Helper()
	for _, got := range texts(w) {
		if strings.Contains(got, s) {
			t.Errorf("window shows %q, want no text with %q", got, s)
		}
	}
}

func TestOffersToStart(t *testing.T) {
	w, s, tl := newTestWindow(t, Options{Logins: twoLogins, Tray: true})
	if got := w.win.Title(); got != Title {
		t.Errorf("title = %q, want %q", got, Title)
	}
	assertTexts(t, w, "Welcome to MaxRouter",
		"Claude Code logins",
		"~/.claude", "default", "Pro", // a row's border layout lists the centre first
		"~/.claude-work", "work", "Max 20x",
		"background service", "[Not now]", "[Start MaxRouter]")
	assertNoText(t, w, "No Claude Code login")
	if got := s.count(); got != 0 {
		t.Fatalf("Start called %d times before a click, want 0", got)
	}

	test.Tap(w.startBtn)
	w.Wait()
	if got := s.count(); got != 1 {
		t.Errorf("Start called %d times after one click, want 1", got)
	}
	assertTexts(t, w, "MaxRouter is running", howService+" Next: choose “Set up Claude Code” in the tray menu", "[Done]")
	assertNoText(t, w, "[Not now]")
	if w.closed.Load() {
		t.Error("the window closed by itself; it should show the result until Done")
	}

	test.Tap(w.startBtn) // Done
	if !w.closed.Load() {
		t.Error("Done did not close the window")
	}
	if got := s.count(); got != 1 {
		t.Errorf("Start called %d times after Done, want 1", got)
	}
	if got := tl.all(); len(got) != 0 {
		t.Errorf("notifications = %q, want none: the window showed the result", got)
	}
}

func TestNotNow(t *testing.T) {
	tests := []struct {
		name  string
		close func(w *Window)
	}{
		{"Not now", func(w *Window) { test.Tap(w.laterBtn) }},
		{"window closed", func(w *Window) { w.close() }}, // the close intercept
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, s, tl := newTestWindow(t, Options{Logins: twoLogins, Tray: true})
			tt.close(w)
			w.Wait()
			if !w.closed.Load() {
				t.Error("the window is still open")
			}
			if got := s.count(); got != 0 {
				t.Errorf("Start called %d times, want 0", got)
			}
			if got := tl.all(); len(got) != 0 {
				t.Errorf("notifications = %q, want none", got)
			}
			w.Show() // shown again, it still only offers
			if got := s.count(); got != 0 {
				t.Errorf("Start called %d times after showing again, want 0", got)
			}
		})
	}
}

func TestNoLogins(t *testing.T) {
	tests := []struct {
		tray bool
		want string
	}{
		{true, "Choose Settings… in the tray menu, then Add account… to log in with Claude in your browser, once per subscription."},
		{false, "Use Add account… in the Settings window to log in with Claude in your browser, once per subscription."},
	}
	for _, tt := range tests {
		t.Run(map[bool]string{true: "tray", false: "no tray"}[tt.tray], func(t *testing.T) {
			w, _, _ := newTestWindow(t, Options{Tray: tt.tray})
			w.Wait() // without a tray the window starts MaxRouter at once
			assertTexts(t, w, "Claude Code logins", "No Claude Code login found yet", tt.want, "background service")
			assertNoText(t, w, "Rename, reorder")
		})
	}
}

func TestStartFails(t *testing.T) {
	w, s, tl := newTestWindow(t, Options{Logins: twoLogins, Tray: true})
	s.err = errors.New("systemctl --user start maxrouter: exit status 1")
	test.Tap(w.startBtn)
	w.Wait()
	assertTexts(t, w, "MaxRouter could not start",
		"The error was: systemctl --user start maxrouter: exit status 1. Try again here, or later with “Start MaxRouter” in the tray menu.",
		"[Not now]", "[Try again]")
	assertNoText(t, w, "MaxRouter is running")

	s.err = nil
	test.Tap(w.startBtn) // Try again
	w.Wait()
	if got := s.count(); got != 2 {
		t.Errorf("Start called %d times, want 2", got)
	}
	assertTexts(t, w, "MaxRouter is running", "[Done]")
	assertNoText(t, w, "could not start")
	if got := tl.all(); len(got) != 0 {
		t.Errorf("notifications = %q, want none", got)
	}
}

func TestWithoutTrayStartsAtOnce(t *testing.T) {
	w, s, _ := newTestWindow(t, Options{Logins: twoLogins[:1], Tray: false})
	w.Wait()
	if got := s.count(); got != 1 {
		t.Fatalf("Start called %d times, want 1: without a tray nothing else offers it", got)
	}
	assertTexts(t, w, "MaxRouter is running", howService+" Next: choose “Set up Claude Code” on the Proxy tab of Settings", "[Done]")
	assertNoText(t, w, "[Close]")
	assertNoText(t, w, "tray menu")

	w.close()
	w.Show()
	w.Wait()
	if got := s.count(); got != 1 {
		t.Errorf("Start called %d times after showing again, want still 1", got)
	}
}

func TestWithoutTrayFails(t *testing.T) {
	test.NewTempApp(t)
	s := &starter{err: errors.New("no service manager")}
	w := New(fyne.CurrentApp(), Options{Start: s.start, Logger: slog.New(slog.DiscardHandler)})
	w.Show()
	w.Wait()
	assertTexts(t, w, "MaxRouter could not start", "no service manager. Try again here, or run maxrouter serve in a terminal.", "[Close]", "[Try again]")
}

// TestClosedWhileStarting: the result of a start that ends after the
// window closed comes as a notification, once.
func TestClosedWhileStarting(t *testing.T) {
	w, s, tl := newTestWindow(t, Options{Logins: twoLogins, Tray: true})
	s.gate = make(chan struct{})
	test.Tap(w.startBtn)
	assertTexts(t, w, "Starting MaxRouter…", "[Starting…]")
	assertNoText(t, w, "[Not now]")
	test.Tap(w.startBtn) // disabled: a second click starts nothing
	w.close()
	close(s.gate)
	w.Wait()
	if got := s.count(); got != 1 {
		t.Errorf("Start called %d times, want 1", got)
	}
	want := "MaxRouter is running: " + howService + " Next: choose “Set up Claude Code” in the tray menu, so that every claude you start goes through MaxRouter."
	if got := tl.all(); !slices.Equal(got, []string{want}) {
		t.Errorf("notifications = %q, want %q", got, []string{want})
	}
}

func TestResult(t *testing.T) {
	tests := []struct {
		name       string
		tray       bool
		how        string
		err        error
		head, text string
	}{
		{"tray", true, howService, nil, "MaxRouter is running",
			howService + " Next: choose “Set up Claude Code” in the tray menu, so that every claude you start goes through MaxRouter."},
		{"no tray", false, howService, nil, "MaxRouter is running",
			howService + " Next: choose “Set up Claude Code” on the Proxy tab of Settings, so that every claude you start goes through MaxRouter."},
		{"no how", true, "", nil, "MaxRouter is running",
			"Next: choose “Set up Claude Code” in the tray menu, so that every claude you start goes through MaxRouter."},
		{"failed, tray", true, "", errors.New("boom"), "MaxRouter could not start",
			"The error was: boom. Try again here, or later with “Start MaxRouter” in the tray menu."},
		{"failed, no tray", false, "", errors.New("boom"), "MaxRouter could not start",
			"The error was: boom. Try again here, or run maxrouter serve in a terminal."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head, text := Result(tt.tray, tt.how, tt.err)
			if head != tt.head || text != tt.text {
				t.Errorf("Result() = %q, %q; want %q, %q", head, text, tt.head, tt.text)
			}
		})
	}
}

// Once MaxRouter runs, the window offers Set up Claude Code and shows how
// that went; a failure can be tried again.
func TestOffersClaudeCodeSetup(t *testing.T) {
	var mu sync.Mutex
	calls, fail := 0, true
	w, _, _ := newTestWindow(t, Options{Logins: twoLogins, Tray: true, SetupClaude: func() (string, string, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if fail {
			return "", "", errors.New("the MaxRouter daemon is not running: start it first")
		}
		return "Claude Code goes through MaxRouter now", "Wrote its address and a client token into ~/.claude/settings.json.", nil
	}})
	assertNoText(t, w, "[Set up Claude Code]")
	test.Tap(w.startBtn)
	w.Wait()
	assertTexts(t, w, "MaxRouter is running", "[Done]", "[Set up Claude Code]")

	test.Tap(w.setupBtn)
	w.Wait()
	assertTexts(t, w, "Claude Code is not set up", "The error was: the MaxRouter daemon is not running: start it first", "[Try again]")
	mu.Lock()
	fail = false
	mu.Unlock()
	test.Tap(w.setupBtn)
	w.Wait()
	assertTexts(t, w, "Claude Code goes through MaxRouter now", "Wrote its address and a client token into ~/.claude/settings.json.", "[Done]")
	assertNoText(t, w, "[Set up Claude Code]")
	mu.Lock()
	defer mu.Unlock()
	if calls != 2 {
		t.Errorf("SetupClaude called %d times, want 2", calls)
	}
}
