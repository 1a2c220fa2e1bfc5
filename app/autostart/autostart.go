// Package autostart starts the MaxRouter tray when the user logs in: an XDG
// autostart entry on Linux and the BSDs, a LaunchAgent on macOS, a value
// under the per-user Run key on Windows. None needs administrator rights.
package autostart

import (
	"fmt"
	"os"
)

// Entry is one user's login item for the tray. The zero Entry is the
// current user's; tests set Home to a temporary directory.
type Entry struct {
	// Home is the user's home directory; "" means os.UserHomeDir(). On
	// Linux a set $XDG_CONFIG_HOME takes precedence over Home/.config, as
	// the XDG spec says. Windows keeps login items in the registry and
	// ignores Home.
	Home string
	// ConfigDirs are the system configuration directories, most important
	// first, whose autostart subdirectory may hold the entry a package
	// installed for every user (/etc/xdg/autostart/maxrouter.desktop). nil
	// means $XDG_CONFIG_DIRS, or /etc/xdg when that is unset; an empty
	// slice means none. Only Linux and the BSDs have them.
	ConfigDirs []string
}

// Enable makes the current user's login start exe (see Entry.Enable).
func Enable(exe string) error { return Entry{}.Enable(exe) }

// Disable removes the current user's login item (see Entry.Disable).
func Disable() error { return Entry{}.Disable() }

// Enabled reports whether the current user's login starts the tray (see
// Entry.Enabled).
func Enabled() (bool, error) { return Entry{}.Enabled() }

// Enable makes login start exe, replacing an earlier entry. exe should be a
// path that outlives this run: the installed binary, or for an AppImage the
// image itself ($APPIMAGE), not its temporary mount. On Linux, where the
// package's system-wide entry already starts exe, Enable only removes the
// user's entry that switched it off.
func (e Entry) Enable(exe string) error {
	if exe == "" {
		return fmt.Errorf("enabling autostart: no executable given")
	}
	if err := e.enable(exe); err != nil {
		return fmt.Errorf("enabling autostart: %w", err)
	}
	return nil
}

// Disable removes the login item; without one it does nothing. On Linux a
// system-wide entry cannot be removed by the user: Disable writes the
// user's entry of the same name with Hidden=true, which switches it off.
func (e Entry) Disable() error {
	if err := e.disable(); err != nil {
		return fmt.Errorf("disabling autostart: %w", err)
	}
	return nil
}

// Enabled reports whether an entry exists and is not switched off (by a
// desktop's startup-apps settings, where the platform has them). On Linux
// the entry is the user's, or else the system-wide one.
func (e Entry) Enabled() (bool, error) {
	ok, err := e.enabled()
	if err != nil {
		return false, fmt.Errorf("reading autostart: %w", err)
	}
	return ok, nil
}

// Location names where the entry lives: a file path, or on Windows the
// registry value.
func (e Entry) Location() (string, error) { return e.location() }

func (e Entry) home() (string, error) {
	if e.Home != "" {
		return e.Home, nil
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the home directory: %w", err)
	}
	return h, nil
}
