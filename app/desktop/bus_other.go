//go:build !headless && !(linux || freebsd || openbsd || netbsd)

package desktop

// trayUsable reports whether a tray can be shown; on macOS and Windows it
// always can.
func trayUsable() error { return nil }
