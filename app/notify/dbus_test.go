//go:build linux || freebsd || netbsd || openbsd || illumos

package notify_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/app/live"
	"github.com/maxrouter/maxrouter/app/notify"
	"github.com/maxrouter/maxrouter/app/notify/notifytest"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/event"
)

var (
	busAddr string // the private session bus; "" when there is none
	noBus   string // why there is none
)

// wait bounds every wait for the bus.
const wait = 10 * time.Second

// TestMain starts a private session bus before anything can touch the
// user's, and points the icon cache at a temporary directory.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	cache, err := os.MkdirTemp("", "notify-test-cache")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(cache)
	os.Setenv("XDG_CACHE_HOME", cache)
	addr, stop, err := notifytest.StartBus()
	switch {
	case errors.Is(err, notifytest.ErrNoDaemon):
		noBus = err.Error()
		os.Setenv("DBUS_SESSION_BUS_ADDRESS", "disabled:")
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		return 1
	default:
		busAddr = addr
		os.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	}
	defer stop()
	return m.Run()
}

func server(t *testing.T) *notifytest.Server {
	t.Helper()
	if busAddr == "" {
		t.Skip(noBus)
	}
	return notifytest.NewServer(t, notifytest.Connect(t, busAddr))
}

// desktop is the platform Sender, stopped when the test ends.
func desktop(t *testing.T, png []byte) *notify.Desktop {
	t.Helper()
	d := notify.NewDesktop(png, nil)
	t.Cleanup(d.Stop)
	return d
}

func icon(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checkIcon checks that the notifications carry the app name and one icon
// file holding png.
func checkIcon(t *testing.T, got []notifytest.Notification, png []byte) {
	t.Helper()
	for i, n := range got {
		if n.AppName != "MaxRouter" {
			t.Errorf("notification %d: app name %q, want %q", i, n.AppName, "MaxRouter")
		}
		if !filepath.IsAbs(n.AppIcon) {
			t.Errorf("notification %d: icon %q, want an absolute path", i, n.AppIcon)
			continue
		}
		if data, err := os.ReadFile(n.AppIcon); err != nil || !bytes.Equal(data, png) {
			t.Errorf("notification %d: icon file %s holds %d bytes (err %v), want the %d-byte icon", i, n.AppIcon, len(data), err, len(png))
		}
		if n.AppIcon != got[0].AppIcon {
			t.Errorf("icon paths %q and %q differ, want the icon written once", got[0].AppIcon, n.AppIcon)
		}
	}
}

// TestDesktopOverDBus: urgent messages are critical and never expire, the
// others normal with the server's expiry; actions go where the server has
// them; bodies are escaped for a server that reads markup.
func TestDesktopOverDBus(t *testing.T) {
	settings := []notify.Action{{Key: "open-settings", Label: "Open settings", Do: func() {}}}
	tests := []struct {
		name        string
		caps        []string
		m           notify.Message
		wantUrgency int
		wantTimeout int32
		wantActions []string
		wantBody    string
	}{
		{
			name:        "urgent",
			m:           notify.Message{Title: "All accounts are at their limit", Body: "The first comes back at 14:32 (work).", Urgent: true},
			wantUrgency: 2, wantTimeout: 0, wantBody: "The first comes back at 14:32 (work).",
		},
		{
			name:        "normal",
			m:           notify.Message{Title: "personal is available again"},
			wantUrgency: 1, wantTimeout: -1,
		},
		{
			name:        "with an action",
			m:           notify.Message{Title: "side needs a new login", Body: "Run: claude /login", Urgent: true, Actions: settings},
			wantUrgency: 2, wantTimeout: 0, wantActions: []string{"open-settings", "Open settings"}, wantBody: "Run: claude /login",
		},
		{
			name:        "a server without actions",
			caps:        []string{"body"},
			m:           notify.Message{Title: "side needs a new login", Urgent: true, Actions: settings},
			wantUrgency: 2, wantTimeout: 0,
		},
		{
			name:        "a server that reads markup",
			caps:        []string{"body", "body-markup"},
			m:           notify.Message{Title: "a & b", Body: "side: <refused> & gone"},
			wantUrgency: 1, wantTimeout: -1, wantBody: "side: &lt;refused&gt; &amp; gone",
		},
	}
	png := icon(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := server(t)
			if tt.caps != nil {
				srv.SetCapabilities(tt.caps...)
			}
			d := desktop(t, png)
			id, err := d.Send(tt.m)
			if err != nil {
				t.Fatalf("Send() = %v", err)
			}
			got := srv.Wait(t, 1, wait)
			n := got[0]
			if n.ID != id {
				t.Errorf("Send() = id %d, want the server's %d", id, n.ID)
			}
			if n.Summary != tt.m.Title || n.Body != tt.wantBody {
				t.Errorf("received (%q, %q), want (%q, %q)", n.Summary, n.Body, tt.m.Title, tt.wantBody)
			}
			if n.Urgency() != tt.wantUrgency || n.Timeout != tt.wantTimeout {
				t.Errorf("urgency %d, timeout %d; want %d, %d", n.Urgency(), n.Timeout, tt.wantUrgency, tt.wantTimeout)
			}
			if !slices.Equal(n.Actions, tt.wantActions) {
				t.Errorf("actions %q, want %q", n.Actions, tt.wantActions)
			}
			checkIcon(t, got, png)
			if err := d.Close(id); err != nil {
				t.Errorf("Close(%d) = %v", id, err)
			}
			srv.WaitClosed(t, id, wait)
		})
	}
}

// TestBeeepFallbackOverDBus: beeep shows title and body with the app name
// and icon, but cannot keep a notification on the screen.
func TestBeeepFallbackOverDBus(t *testing.T) {
	srv := server(t)
	png := icon(t)
	s := notify.NewBeeep(png)
	for _, m := range []notify.Message{
		{Title: "personal hit its 5-hour limit", Body: "Back at 14:32. Requests now go to work and side."},
		{Title: "All accounts are at their limit", Urgent: true},
	} {
		if id, err := s.Send(m); err != nil || id != 0 {
			t.Fatalf("Send(%q) = %d, %v; want 0, nil", m.Title, id, err)
		}
	}
	got := srv.Wait(t, 2, wait)
	for i, want := range []struct{ summary, body string }{
		{"personal hit its 5-hour limit", "Back at 14:32. Requests now go to work and side."},
		{"All accounts are at their limit", ""},
	} {
		if got[i].Summary != want.summary || got[i].Body != want.body {
			t.Errorf("notification %d: (%q, %q), want (%q, %q)", i, got[i].Summary, got[i].Body, want.summary, want.body)
		}
		if got[i].Timeout <= 0 {
			t.Errorf("notification %d: timeout %d; beeep has always expired its notifications", i, got[i].Timeout)
		}
	}
	checkIcon(t, got, png)
}

// follow runs a Notifier with short windows through the platform Sender
// until the test ends.
func follow(t *testing.T, opts notify.Options) *notify.Notifier {
	t.Helper()
	opts.Window, opts.Settle, opts.Location = 20*time.Millisecond, 20*time.Millisecond, time.UTC
	n := notify.New(desktop(t, nil), opts)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve() = %v, want nil", err)
		}
	})
	return n
}

func connected(accounts ...control.Account) live.State {
	return live.State{Connected: true, Tried: true, Accounts: accounts}
}

// TestNotifierOverDBus runs a burst through the whole path: Follow,
// coalescing, Compose, the session bus.
func TestNotifierOverDBus(t *testing.T) {
	srv := server(t)
	n := follow(t, notify.Options{})
	back := time.Now().Add(time.Hour).UTC()
	accounts := []control.Account{
		{Name: "a", State: control.StateCooling, CooldownUntil: &back},
		{Name: "b", State: control.StateCooling, CooldownUntil: &back},
	}
	n.Follow(connected(), nil)
	for _, name := range []string{"a", "b"} {
		n.Follow(connected(accounts...), []control.Event{{Type: event.CooldownStarted, Account: name, Window: "five_hour", Until: &back}})
	}
	got := srv.Wait(t, 1, wait)
	if got[0].AppName != "MaxRouter" || got[0].Summary != "a and b hit their limits" || got[0].AppIcon != "" {
		t.Errorf("received (%q, %q, icon %q), want (%q, %q, no icon)", got[0].AppName, got[0].Summary, got[0].AppIcon,
			"MaxRouter", "a and b hit their limits")
	}
	if got[0].Urgency() != 1 || got[0].Timeout != -1 {
		t.Errorf("urgency %d, timeout %d; want normal (1) with the server's expiry (-1)", got[0].Urgency(), got[0].Timeout)
	}
	// "at 15:04", or "tomorrow at 00:04" near midnight.
	for _, want := range []string{"The first comes back ", back.Format("15:04") + " (a).", "No other account is available."} {
		if !strings.Contains(got[0].Body, want) {
			t.Errorf("body %q does not contain %q", got[0].Body, want)
		}
	}
}

// TestOpenSettingsOverDBus: "needs a new login" stays until dismissed,
// and its Open settings action opens the settings at the account.
func TestOpenSettingsOverDBus(t *testing.T) {
	srv := server(t)
	n, side, got, opened := sideNeedsLogin(t, srv)
	if got.Summary != "side needs a new login" || got.Urgency() != 2 || got.Timeout != 0 {
		t.Errorf("received %q, urgency %d, timeout %d; want %q, critical (2), no expiry (0)", got.Summary, got.Urgency(), got.Timeout,
			"side needs a new login")
	}
	if len(got.Actions) != 2 || got.Actions[1] != "Open settings" {
		t.Fatalf("actions %q, want one Open settings", got.Actions)
	}
	srv.Invoke(t, got.ID+100, got.Actions[0]) // another notification's: ignored
	srv.Invoke(t, got.ID, got.Actions[0])
	openedOnce(t, opened, "side")

	// Logged in again: the notification goes, a confirmation comes.
	side.State = control.StateAvailable
	n.Follow(connected(side), []control.Event{{Type: event.LoginCompleted, Account: "side"}})
	srv.WaitClosed(t, got.ID, wait)
	if confirm := srv.Wait(t, 2, wait)[1]; confirm.Summary != "side is logged in again" || confirm.Urgency() != 1 {
		t.Errorf("then received %q, urgency %d; want %q, normal", confirm.Summary, confirm.Urgency(), "side is logged in again")
	}
}

// TestDaemonStoppedOverDBus: a crash is one urgent notification, closed
// when the daemon is back.
func TestDaemonStoppedOverDBus(t *testing.T) {
	srv := server(t)
	n := follow(t, notify.Options{})
	n.Follow(connected(), nil)
	n.Follow(live.State{Tried: true, Problem: control.ErrUnreachable}, nil)
	got := srv.Wait(t, 1, wait)[0]
	if got.Summary != "MaxRouter stopped unexpectedly" || got.Urgency() != 2 || got.Timeout != 0 {
		t.Errorf("received %q, urgency %d, timeout %d; want %q, critical (2), no expiry (0)", got.Summary, got.Urgency(), got.Timeout,
			"MaxRouter stopped unexpectedly")
	}
	n.Follow(connected(), nil)
	srv.WaitClosed(t, got.ID, wait)
	if got := srv.Received(); len(got) != 1 {
		t.Errorf("received %d notifications, want 1: %+v", len(got), got)
	}
}

// TestLogInAgainOverDBus: "needs a new login" offers Log in again, which
// logs the account in again; a server without actions gets none.
func TestLogInAgainOverDBus(t *testing.T) {
	srv := server(t)
	loggedIn := make(chan string, 1)
	n := follow(t, notify.Options{
		LogIn:        func(account string) { loggedIn <- account },
		OpenSettings: func(string) {},
	})
	side := control.Account{Name: "side", Dir: "/tmp/claude-side", State: control.StateNeedsLogin}
	n.Follow(connected(side), nil)
	n.Follow(connected(side), []control.Event{{Type: event.NeedsLogin, Account: "side"}})
	got := srv.Wait(t, 1, wait)[0]
	if want := []string{"log-in", "Log in again", "open-settings", "Open settings"}; !slices.Equal(got.Actions, want) {
		t.Fatalf("actions %q, want %q", got.Actions, want)
	}
	if !strings.HasPrefix(got.Body, "Log in again from Settings, or run: ") {
		t.Errorf("body %q, want it to say how to log in again", got.Body)
	}
	srv.Invoke(t, got.ID, "log-in")
	select {
	case account := <-loggedIn:
		if account != "side" {
			t.Errorf("Log in again logged in %q, want side", account)
		}
	case <-time.After(wait):
		t.Fatal("Log in again did nothing")
	}
}

// TestBudgetReachedOverDBus: a client token that spent its budget is one
// normal notification naming it and when it may send again, once per
// window.
func TestBudgetReachedOverDBus(t *testing.T) {
	srv := server(t)
	n := follow(t, notify.Options{})
	until := time.Now().Add(2 * time.Hour).UTC()
	e := control.Event{Type: event.TokenBudgetReached, Token: "0a1b", Label: "ci", Until: &until, Reason: "500 requests per 5h", At: time.Now()}
	n.Follow(connected(), nil)
	n.Follow(connected(), []control.Event{e})
	got := srv.Wait(t, 1, wait)[0]
	if got.Summary != "Client token “ci” spent its budget" || got.Urgency() != 1 || got.Timeout != -1 {
		t.Errorf("received %q, urgency %d, timeout %d; want %q, normal, the server's expiry", got.Summary, got.Urgency(), got.Timeout, "Client token “ci” spent its budget")
	}
	// "until 15:04", or "until tomorrow 00:04" near midnight.
	for _, want := range []string{"Its requests are refused until ", until.Format("15:04") + " (in ", "500 requests per 5h"} {
		if !strings.Contains(got.Body, want) {
			t.Errorf("body %q does not contain %q", got.Body, want)
		}
	}
	// The next window's is news again.
	next := until.Add(5 * time.Hour)
	e.Until, e.At = &next, time.Now()
	n.Follow(connected(), []control.Event{e})
	got2 := srv.Wait(t, 2, wait)
	if len(got2) != 2 || !strings.Contains(got2[1].Body, next.Format("15:04")) {
		t.Errorf("received %+v, want the next window's notification second", got2)
	}
}

// Any program on the session bus can send signals in the notification
// service's name: malformed ones are ignored, and the app neither panics
// nor stops taking the real ones.
func TestMalformedSignalsAreIgnored(t *testing.T) {
	srv := server(t)
	_, _, got, opened := sideNeedsLogin(t, srv)

	other := notifytest.Connect(t, busAddr)
	for _, args := range [][]any{
		nil,
		{got.ID},
		{"side", got.ID},
		{got.ID, uint32(7)},
		{got.ID, got.Actions[0], "extra"},
	} {
		if err := other.Emit(notifytest.Path, notifytest.Interface+".ActionInvoked", args...); err != nil {
			t.Fatal(err)
		}
	}
	if err := other.Emit(notifytest.Path, notifytest.Interface+".NotificationClosed"); err != nil {
		t.Fatal(err)
	}
	srv.Invoke(t, got.ID, got.Actions[0])
	openedOnce(t, opened, "side")
}

// sideNeedsLogin has a notifier over the bus tell that side needs a new
// login, and returns the notifier, side, the notification the server
// received, and where Open settings reports the account it opens.
func sideNeedsLogin(t *testing.T, srv *notifytest.Server) (*notify.Notifier, control.Account, notifytest.Notification, <-chan string) {
	t.Helper()
	opened := make(chan string, 4)
	n := follow(t, notify.Options{OpenSettings: func(account string) { opened <- account }})
	side := control.Account{Name: "side", Dir: "/tmp/claude-side", State: control.StateNeedsLogin}
	n.Follow(connected(side), nil)
	n.Follow(connected(side), []control.Event{{Type: event.NeedsLogin, Account: "side"}})
	return n, side, srv.Wait(t, 1, wait)[0], opened
}

// openedOnce checks that Open settings opened account, once: a second
// call within a moment is an error.
func openedOnce(t *testing.T, opened <-chan string, account string) {
	t.Helper()
	select {
	case got := <-opened:
		if got != account {
			t.Errorf("Open settings opened %q, want %q", got, account)
		}
	case <-time.After(wait):
		t.Fatal("Open settings was not called")
	}
	select {
	case got := <-opened:
		t.Errorf("Open settings also opened %q, want it called once", got)
	case <-time.After(100 * time.Millisecond):
	}
}
