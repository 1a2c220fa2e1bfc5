//go:build !headless && (linux || freebsd || openbsd || netbsd)

package desktop

import (
	"fmt"

	"github.com/godbus/dbus/v5"
)

// trayUsable reports whether a tray can be shown: on these systems the tray
// is a StatusNotifierItem on the session bus, and systray panics when the
// app quits without one (fyne issue 6403), so the bus is probed first.
func trayUsable() error {
	if _, err := dbus.SessionBus(); err != nil {
		return fmt.Errorf("no DBus session bus, which the tray icon needs: %w", err)
	}
	return nil
}
