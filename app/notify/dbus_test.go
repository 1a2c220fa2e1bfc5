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
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/app/notify"
	"github.com/maxrouter/maxrouter/app/notify/notifytest"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/event"
)

var (
	busAddr string // the private session bus; "" when there is none
	noBus   string // why there is none
)

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

func TestBeeepSenderOverDBus(t *testing.T) {
	srv := server(t)
	png := icon(t)
	s := notify.BeeepSender(png)
	for _, m := range []notify.Message{
		{Title: "personal hit its 5-hour limit", Body: "Back at 14:32. Requests now go to work and side."},
		{Title: "personal is available again", Body: ""},
	} {
		if err := s.Send(m.Title, m.Body); err != nil {
			t.Fatalf("Send(%q) = %v", m.Title, err)
		}
	}
	got := srv.Wait(t, 2, 10*time.Second)
	if len(got) != 2 {
		t.Fatalf("received %d notifications, want 2: %+v", len(got), got)
	}
	for i, want := range []struct{ summary, body string }{
		{"personal hit its 5-hour limit", "Back at 14:32. Requests now go to work and side."},
		{"personal is available again", ""},
	} {
		n := got[i]
		if n.AppName != "MaxRouter" {
			t.Errorf("notification %d: app name %q, want %q", i, n.AppName, "MaxRouter")
		}
		if n.Summary != want.summary || n.Body != want.body {
			t.Errorf("notification %d: (%q, %q), want (%q, %q)", i, n.Summary, n.Body, want.summary, want.body)
		}
		if !filepath.IsAbs(n.AppIcon) {
			t.Errorf("notification %d: icon %q, want an absolute path", i, n.AppIcon)
			continue
		}
		if data, err := os.ReadFile(n.AppIcon); err != nil || !bytes.Equal(data, png) {
			t.Errorf("notification %d: icon file %s holds %d bytes (err %v), want the %d-byte icon", i, n.AppIcon, len(data), err, len(png))
		}
	}
	if got[0].AppIcon != got[1].AppIcon {
		t.Errorf("icon paths %q and %q differ, want the icon written once", got[0].AppIcon, got[1].AppIcon)
	}
}

// TestNotifierOverDBus runs a burst through the whole path: Handle,
// coalescing, Compose, beeep, the session bus.
func TestNotifierOverDBus(t *testing.T) {
	srv := server(t)
	n := notify.New(notify.BeeepSender(nil), notify.Options{Window: 20 * time.Millisecond, Location: time.UTC})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx) }()

	back := time.Now().Add(time.Hour).UTC()
	accounts := []control.Account{
		{Name: "a", State: control.StateCooling, CooldownUntil: &back},
		{Name: "b", State: control.StateCooling, CooldownUntil: &back},
	}
	for _, name := range []string{"a", "b"} {
		n.Handle(event.Event{Type: event.CooldownStarted, Account: name, Window: "five_hour", Until: &back}, accounts)
	}
	got := srv.Wait(t, 1, 10*time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve() = %v, want nil", err)
	}
	// Send is a synchronous DBus call: everything sent has arrived.
	got = srv.Received()
	if len(got) != 1 {
		t.Fatalf("received %d notifications, want 1: %+v", len(got), got)
	}
	if got[0].AppName != "MaxRouter" || got[0].Summary != "a and b hit their limits" || got[0].AppIcon != "" {
		t.Errorf("received (%q, %q, icon %q), want (%q, %q, no icon)", got[0].AppName, got[0].Summary, got[0].AppIcon,
			"MaxRouter", "a and b hit their limits")
	}
	// "at 15:04", or "tomorrow at 00:04" near midnight.
	for _, want := range []string{"The first comes back ", back.Format("15:04") + " (a).", "No other account is available."} {
		if !strings.Contains(got[0].Body, want) {
			t.Errorf("body %q does not contain %q", got[0].Body, want)
		}
	}
}
