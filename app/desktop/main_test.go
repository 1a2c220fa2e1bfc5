//go:build !headless

package desktop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/maxrouter/maxrouter/app/notify"
	"github.com/maxrouter/maxrouter/app/notify/notifytest"
	"github.com/maxrouter/maxrouter/core/control"
)

// These tests drive the real desktop app: the GLFW driver (which needs an X
// display, Xvfb in CI) and the tray over a private DBus session bus.
//
// fyne runs its event loop on the main thread, and its GLFW driver starts
// the system tray only if a tray menu was set before the loop started. So
// TestMain builds the one app of this process with its tray (following
// testDaemon, which no daemon answers until a test plugs one in), starts
// the loop on the main goroutine and runs the tests in another.
var (
	busAddr    string        // the private session bus
	guiApp     fyne.App      // nil when the GUI tests skip
	testShell  *shell        // the app's tray, settings window and notifier
	testDaemon *switchDaemon // what testShell talks to
	testSender = &recorder{} // the notifications testShell sent
	// testBrowser is where testShell opens login pages.
	testBrowser = &browser{}
	// testFolders are the Claude Code folders testShell finds.
	testFolders = &folders{}
	// testService is testShell's service manager: no user service here;
	// a start "runs" the daemon detached, which no test plugs in by it.
	testService = &fakeService{}
	noGUI       string // why the GUI tests skip
)

func TestMain(m *testing.M) {
	addr, stop, err := notifytest.StartBus()
	switch {
	case err == nil:
		busAddr = addr
		// Before anything touches the session bus: godbus keeps its
		// first connection.
		os.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	case errors.Is(err, notifytest.ErrNoDaemon):
		noGUI = err.Error()
	default:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if noGUI == "" && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		noGUI = "no display: run under xvfb-run -a to test the desktop app"
	}
	if noGUI != "" {
		code := m.Run()
		stop()
		os.Exit(code)
	}

	dir, err := os.MkdirTemp("", "maxrouter-desktop-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	guiApp = app.NewWithID(AppID + ".test")
	testDaemon = &switchDaemon{}
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("MAXROUTER_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	testShell = newShell(guiApp, shellOptions{
		Daemon:         testDaemon,
		Sender:         testSender,
		Service:        testService,
		TokenFile:      filepath.Join(dir, tokenFileName),
		ClaudeState:    filepath.Join(dir, "data", "claude-setup.json"),
		ClaudeSettings: filepath.Join(dir, "claude", "settings.json"),
		OpenURL:        testBrowser.open,
		Discover:       testFolders.get,
		Version:        "dev",
		Logger:         log,
	})
	ctx, cancel := context.WithCancel(context.Background())
	testShell.start(ctx)

	done := make(chan int, 1)
	go func() {
		fyne.DoAndWait(func() {}) // the app is connected to the display now
		parkPointer()
		code := m.Run()
		cancel()
		testShell.wait()
		done <- code
		fyne.Do(guiApp.Quit)
	}()
	guiApp.Run()
	code := <-done
	stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

// parkPointer moves the X pointer to the display's bottom-right corner,
// outside every window the tests open. Xvfb starts it in the middle, over
// the windows; fyne 2.7.1 then may get a pointer motion for a window it is
// closing and crash in glfw SetInputMode on the nil window
// (fyne-io/fyne#5981): seen once in about eight runs here. A person's
// pointer moves where it likes; the tests need it away. Call it once the
// app is connected to the display: Xvfb resets (and centres the pointer
// again) when its last client leaves, as xdotool does. Without xdotool
// (.ci/run installs it) the tests go on and say so; a pointer that did not
// move is said too.
func parkPointer() {
	geo, err := exec.Command("xdotool", "getdisplaygeometry").Output()
	var w, h int
	if err == nil {
		_, err = fmt.Sscan(string(geo), &w, &h)
	}
	if err == nil {
		err = exec.Command("xdotool", "mousemove", strconv.Itoa(w-1), strconv.Itoa(h-1)).Run()
	}
	if err == nil {
		var at []byte
		at, err = exec.Command("xdotool", "getmouselocation").Output()
		if want := fmt.Sprintf("x:%d y:%d ", w-1, h-1); err == nil && !strings.HasPrefix(string(at), want) {
			err = fmt.Errorf("the pointer is at %q, not %q", strings.TrimSpace(string(at)), want)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "could not move the pointer out of the test windows (xdotool):", err)
	}
}

// needGUI skips t when there is no display or no dbus-daemon.
func needGUI(t *testing.T) {
	t.Helper()
	if noGUI != "" {
		t.Skip(noGUI)
	}
}

// switchDaemon is the daemon the test app talks to: a test plugs in a
// control.Client (of a controltest server); with none it is not running.
type switchDaemon struct {
	mu sync.Mutex
	c  *control.Client
}

var _ daemonAPI = (*switchDaemon)(nil)

var errNotRunning = fmt.Errorf("%w: no test daemon plugged in", control.ErrUnreachable)

// plug makes c the daemon until the test ends, and has the tray connect now.
func (s *switchDaemon) plug(t *testing.T, c *control.Client) {
	t.Helper()
	s.mu.Lock()
	s.c = c
	s.mu.Unlock()
	testShell.model.Reconnect()
	t.Cleanup(func() {
		s.mu.Lock()
		s.c = nil
		s.mu.Unlock()
	})
}

// unplug makes the daemon vanish, as a killed one does.
func (s *switchDaemon) unplug() {
	s.mu.Lock()
	s.c = nil
	s.mu.Unlock()
}

func (s *switchDaemon) get() (*control.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == nil {
		return nil, errNotRunning
	}
	return s.c, nil
}

func (s *switchDaemon) BaseURL() string {
	if c, err := s.get(); err == nil {
		return c.BaseURL()
	}
	return "http://127.0.0.1:8787"
}

func (s *switchDaemon) Status(ctx context.Context) (control.Status, error) {
	c, err := s.get()
	if err != nil {
		return control.Status{}, err
	}
	return c.Status(ctx)
}

func (s *switchDaemon) Pause(ctx context.Context) error {
	c, err := s.get()
	if err != nil {
		return err
	}
	return c.Pause(ctx)
}

func (s *switchDaemon) Resume(ctx context.Context) error {
	c, err := s.get()
	if err != nil {
		return err
	}
	return c.Resume(ctx)
}

func (s *switchDaemon) Accounts(ctx context.Context) ([]control.Account, error) {
	c, err := s.get()
	if err != nil {
		return nil, err
	}
	return c.Accounts(ctx)
}

func (s *switchDaemon) Events(ctx context.Context, after string, fn func(control.Event)) error {
	c, err := s.get()
	if err != nil {
		return err
	}
	return c.Events(ctx, after, fn)
}

func (s *switchDaemon) Config(ctx context.Context) (control.Config, string, error) {
	c, err := s.get()
	if err != nil {
		return control.Config{}, "", err
	}
	return c.Config(ctx)
}

func (s *switchDaemon) PutConfig(ctx context.Context, cfg control.Config, rev string) (string, error) {
	c, err := s.get()
	if err != nil {
		return "", err
	}
	return c.PutConfig(ctx, cfg, rev)
}

func (s *switchDaemon) UpdateConfig(ctx context.Context, edit func(*control.Config) error) error {
	c, err := s.get()
	if err != nil {
		return err
	}
	return c.UpdateConfig(ctx, edit)
}

func (s *switchDaemon) ResetAccount(ctx context.Context, name string) error {
	c, err := s.get()
	if err != nil {
		return err
	}
	return c.ResetAccount(ctx, name)
}

func (s *switchDaemon) CheckDir(ctx context.Context, dir string) (control.DirCheck, error) {
	c, err := s.get()
	if err != nil {
		return control.DirCheck{}, err
	}
	return c.CheckDir(ctx, dir)
}

func (s *switchDaemon) Tokens(ctx context.Context) ([]control.Token, error) {
	c, err := s.get()
	if err != nil {
		return nil, err
	}
	return c.Tokens(ctx)
}

func (s *switchDaemon) IssueToken(ctx context.Context, label string, ttl time.Duration) (control.Issued, error) {
	c, err := s.get()
	if err != nil {
		return control.Issued{}, err
	}
	return c.IssueToken(ctx, label, ttl)
}

func (s *switchDaemon) IssueTokenWith(ctx context.Context, req control.IssueRequest) (control.Issued, error) {
	c, err := s.get()
	if err != nil {
		return control.Issued{}, err
	}
	return c.IssueTokenWith(ctx, req)
}

func (s *switchDaemon) UpdateToken(ctx context.Context, id string, u control.TokenUpdate) (control.Token, error) {
	c, err := s.get()
	if err != nil {
		return control.Token{}, err
	}
	return c.UpdateToken(ctx, id, u)
}

func (s *switchDaemon) RevokeToken(ctx context.Context, id string) error {
	c, err := s.get()
	if err != nil {
		return err
	}
	return c.RevokeToken(ctx, id)
}

func (s *switchDaemon) StartLogin(ctx context.Context, req control.LoginRequest) (control.Login, error) {
	c, err := s.get()
	if err != nil {
		return control.Login{}, err
	}
	return c.StartLogin(ctx, req)
}

func (s *switchDaemon) Login(ctx context.Context, id string) (control.Login, error) {
	c, err := s.get()
	if err != nil {
		return control.Login{}, err
	}
	return c.Login(ctx, id)
}

func (s *switchDaemon) LoginCode(ctx context.Context, id, code string) (control.Login, error) {
	c, err := s.get()
	if err != nil {
		return control.Login{}, err
	}
	return c.LoginCode(ctx, id, code)
}

func (s *switchDaemon) CancelLogin(ctx context.Context, id string) (control.Login, error) {
	c, err := s.get()
	if err != nil {
		return control.Login{}, err
	}
	return c.CancelLogin(ctx, id)
}

// folders are the Claude Code folders "on this computer", set by a test.
type folders struct {
	mu   sync.Mutex
	dirs []string
}

func (f *folders) get() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.dirs)
}

// set makes dirs the folders found until the test ends.
func (f *folders) set(t *testing.T, dirs ...string) {
	f.mu.Lock()
	f.dirs = dirs
	f.mu.Unlock()
	t.Cleanup(func() {
		f.mu.Lock()
		f.dirs = nil
		f.mu.Unlock()
	})
}

// browser records the pages the app opened.
type browser struct {
	mu    sync.Mutex
	pages []string
}

func (b *browser) open(u *url.URL) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pages = append(b.pages, u.String())
	return nil
}

func (b *browser) opened() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.pages)
}

// recorder is a notify.Sender that keeps what it was asked to show.
type recorder struct {
	mu   sync.Mutex
	sent []string
	msgs []notify.Message
}

func (r *recorder) Send(m notify.Message) (uint32, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, m.Title+": "+m.Body)
	r.msgs = append(r.msgs, m)
	return uint32(len(r.sent)), nil
}

// message returns the last message whose title starts with prefix.
func (r *recorder) message(prefix string) (notify.Message, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.msgs) - 1; i >= 0; i-- {
		if strings.HasPrefix(r.msgs[i].Title, prefix) {
			return r.msgs[i], true
		}
	}
	return notify.Message{}, false
}

func (r *recorder) Close(uint32) error { return nil }

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sent)
}
