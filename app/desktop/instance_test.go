//go:build !headless && (linux || freebsd || openbsd || netbsd)

package desktop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"github.com/godbus/dbus/v5"
	"github.com/maxrouter/maxrouter/core/wait"
)

func needBus(t *testing.T) {
	t.Helper()
	if busAddr == "" {
		t.Skip(noGUI)
	}
}

// TestSecondLaunchShowsTheFirst: launching the app again while it runs
// asks the running one to show itself, over the session bus, and starts
// nothing; once the first has quit, a launch runs again.
func TestSecondLaunchShowsTheFirst(t *testing.T) {
	needBus(t)
	activated := make(chan struct{}, 1)
	release, err := claimInstance(func() { activated <- struct{}{} })
	if err != nil {
		t.Fatalf("first launch: %v", err)
	}
	if _, err := claimInstance(func() { t.Error("the second launch was activated") }); !errors.Is(err, errAlreadyRunning) {
		t.Fatalf("second launch: err = %v, want errAlreadyRunning", err)
	}
	select {
	case <-activated:
	case <-time.After(5 * time.Second):
		t.Fatal("the running app was not asked to show itself")
	}
	release()
	again, err := claimInstance(func() {})
	if err != nil {
		t.Fatalf("launch after the first quit: %v", err)
	}
	again()
}

// ownWatcher owns org.kde.StatusNotifierWatcher on the test bus, saying
// whether a host (a panel) is registered, until the test ends.
func ownWatcher(t *testing.T, host bool) {
	t.Helper()
	conn, err := watcherConn(host)
	if conn != nil {
		t.Cleanup(func() { conn.Close() })
	}
	if err != nil {
		t.Fatal(err)
	}
}

func watcherConn(host bool) (*dbus.Conn, error) {
	conn, err := dbus.Connect(busAddr)
	if err != nil {
		return nil, err
	}
	const iface = "org.kde.StatusNotifierWatcher"
	if _, err := exportWatcher(conn, host); err != nil {
		return conn, err
	}
	if reply, err := conn.RequestName(iface, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		return conn, fmt.Errorf("owning %s: %v, %v", iface, reply, err)
	}
	return conn, nil
}

func TestTrayHostShown(t *testing.T) {
	needBus(t)
	ctx := t.Context()
	t.Run("no watcher", func(t *testing.T) {
		// An earlier test's watcher may still be leaving the bus.
		conn, err := dbus.Connect(busAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		wait.For(t, "no StatusNotifierWatcher on the test bus", func() bool {
			var owned bool
			err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher").Store(&owned)
			return err == nil && !owned
		})
		if trayHostShown(ctx, 0) {
			t.Error("a tray host with no StatusNotifierWatcher on the bus")
		}
		start := time.Now()
		if trayHostShown(ctx, 300*time.Millisecond) {
			t.Error("a tray host after waiting, with no watcher")
		}
		if waited := time.Since(start); waited < 300*time.Millisecond || waited > 3*time.Second {
			t.Errorf("waited %v, want about 300ms", waited)
		}
	})
	t.Run("watcher without a host", func(t *testing.T) {
		ownWatcher(t, false)
		if trayHostShown(ctx, 0) {
			t.Error("a tray host although the watcher has none registered")
		}
	})
	t.Run("watcher with a host", func(t *testing.T) {
		ownWatcher(t, true)
		if !trayHostShown(ctx, 0) {
			t.Error("no tray host although the watcher has one")
		}
	})
	t.Run("panel comes up late", func(t *testing.T) {
		up := make(chan *dbus.Conn, 1)
		go func() {
			time.Sleep(300 * time.Millisecond)
			conn, err := watcherConn(true)
			if err != nil {
				t.Error(err)
			}
			up <- conn
		}()
		if !trayHostShown(ctx, 5*time.Second) {
			t.Error("no tray host although the panel came up while waiting")
		}
		if conn := <-up; conn != nil {
			conn.Close()
		}
	})
}

// TestNoTrayHostShowsSettings: with a tray icon that no panel shows, the
// app says why and opens its settings window rather than run unseen.
func TestNoTrayHostShowsSettings(t *testing.T) {
	needGUI(t)
	// settingsWindows lists the app's windows titled as the settings window.
	settingsWindows := func() []fyne.Window {
		var ws []fyne.Window
		fyne.DoAndWait(func() {
			for _, w := range guiApp.Driver().AllWindows() {
				if w.Title() == settingsTitle {
					ws = append(ws, w)
				}
			}
		})
		return ws
	}
	for _, shown := range []bool{true, false} {
		sender := &recorder{}
		sh := newShell(guiApp, shellOptions{Daemon: testDaemon, Sender: sender, NoTray: true, Logger: slog.New(slog.DiscardHandler)})
		sh.hasTray = true
		var waited time.Duration
		sh.trayHost = func(_ context.Context, wait time.Duration) bool {
			waited = wait
			return shown
		}
		before := settingsWindows()
		sh.checkTrayHost(t.Context(), trayHostWait)
		if waited != trayHostWait {
			t.Errorf("waited %v for a panel, want %v", waited, trayHostWait)
		}
		if shown {
			if got := sender.all(); len(got) != 0 {
				t.Errorf("with a panel: notifications %q, want none", got)
			}
			if len(settingsWindows()) != len(before) {
				t.Error("with a panel: the settings window opened")
			}
			continue
		}
		if got := sender.all(); !slices.ContainsFunc(got, func(s string) bool {
			return strings.HasPrefix(s, noTrayHostTitle+": ") && strings.Contains(s, "AppIndicator")
		}) {
			t.Errorf("without a panel: notifications %q, want one saying why and naming the AppIndicator extension", got)
		}
		var opened []fyne.Window
		wait.For(t, "the settings window to open", func() bool {
			opened = nil
			for _, w := range settingsWindows() {
				if !slices.Contains(before, w) {
					opened = append(opened, w)
				}
			}
			return len(opened) == 1
		})
		// Only the test app's own settings window may stay: other tests
		// find it by its title.
		sh.settings.Hide()
		sh.wait()
		fyne.DoAndWait(opened[0].Close)
	}
}
