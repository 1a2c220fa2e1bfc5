//go:build !headless && (linux || freebsd || openbsd || netbsd)

package desktop

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/godbus/dbus/v5"
)

// The running desktop app owns AppID on the session bus and answers
// Activate there, so that launching it again shows the settings window of
// the one running instead of adding a second tray icon (and sending every
// notification twice).
const (
	instancePath  = dbus.ObjectPath("/io/maxrouter/app")
	instanceIface = AppID
)

// errAlreadyRunning says another instance runs in this session and was
// asked to show itself.
var errAlreadyRunning = errors.New("MaxRouter is already running in this desktop session")

// instance answers Activate for the running app.
type instance struct{ activate func() }

// Activate shows the running app's settings window.
func (i instance) Activate() *dbus.Error {
	i.activate()
	return nil
}

// claimInstance makes this process the session's one desktop app, calling
// activate whenever the app is launched again. When another instance owns
// the name it asks that one to show itself and returns errAlreadyRunning.
// Without a session bus there is nothing to claim and it returns a no-op.
func claimInstance(activate func()) (release func(), err error) {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return func() {}, nil
	}
	if err := conn.Export(instance{activate}, instancePath, instanceIface); err != nil {
		conn.Close()
		return func() {}, fmt.Errorf("offering %s on the session bus: %w", AppID, err)
	}
	reply, err := conn.RequestName(AppID, dbus.NameFlagDoNotQueue)
	if err != nil {
		conn.Close()
		return func() {}, fmt.Errorf("claiming %s on the session bus: %w", AppID, err)
	}
	if reply == dbus.RequestNameReplyPrimaryOwner {
		return func() { conn.Close() }, nil
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if call := conn.Object(AppID, instancePath).CallWithContext(ctx, instanceIface+".Activate", 0); call.Err != nil {
		return nil, fmt.Errorf("%w, but it did not answer: %v", errAlreadyRunning, call.Err)
	}
	return nil, errAlreadyRunning
}

// trayHostShown waits up to timeout for a tray host on the session bus (a
// StatusNotifierWatcher with a host registered, which a desktop's panel
// provides) and reports whether one is there; timeout 0 looks once. Stock
// GNOME has none until the AppIndicator extension is enabled: the tray icon
// registers, and nobody shows it.
func trayHostShown(ctx context.Context, timeout time.Duration) bool {
	conn, err := dbus.SessionBus()
	if err != nil {
		return false
	}
	deadline := time.Now().Add(timeout)
	for {
		if trayHostNow(ctx, conn) {
			return true
		}
		if !time.Now().Before(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// trayHostNow asks the bus once whether a tray host is there.
func trayHostNow(ctx context.Context, conn *dbus.Conn) bool {
	const watcher = "org.kde.StatusNotifierWatcher"
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var owned bool
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, watcher).Store(&owned); err != nil || !owned {
		return false
	}
	var host dbus.Variant
	err := conn.Object(watcher, "/StatusNotifierWatcher").CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, watcher, "IsStatusNotifierHostRegistered").Store(&host)
	if shown, ok := host.Value().(bool); err == nil && ok {
		return shown
	}
	var derr dbus.Error
	if errors.As(err, &derr) && (derr.Name == "org.freedesktop.DBus.Error.ServiceUnknown" || derr.Name == "org.freedesktop.DBus.Error.NameHasNoOwner") {
		return false // it went away meanwhile
	}
	return true // a watcher that cannot say is taken at its word
}
