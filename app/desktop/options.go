// Package desktop is the desktop app MaxRouter starts with no arguments: a
// tray icon with a menu, the settings window and desktop notifications,
// all of them clients of the daemon's control API. It is the only package
// that imports fyne.io/fyne/v2/app (which needs cgo); a build with the
// headless tag leaves it out, and Run then says so.
package desktop

import "log/slog"

// AppID is the desktop app's fyne application ID (also its preferences
// key and, on Linux, the notification and window class name).
const AppID = "io.maxrouter.app"

// Options configures Run.
type Options struct {
	// ConfigPath is the daemon's configuration file; "" means the default
	// (config.DefaultPath). It is created on the first run.
	ConfigPath string
	// Version is shown in the settings window.
	Version string
	// Logger receives what the app does; nil means slog.Default().
	Logger *slog.Logger
}
