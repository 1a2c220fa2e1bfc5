//go:build unix && !darwin

package autostart

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/maxrouter/maxrouter/core/store"
)

// By the XDG autostart spec, a login starts the entries in
// $XDG_CONFIG_HOME/autostart and in the autostart subdirectory of each of
// $XDG_CONFIG_DIRS (default /etc/xdg), where a file in a more important
// directory overrides every file of the same name in the others, and a
// file with Hidden=true counts as absent. The user's file therefore both
// adds the entry and switches off the one a package installed.

// location is $XDG_CONFIG_HOME/autostart/maxrouter.desktop, with
// XDG_CONFIG_HOME defaulting to Home/.config.
func (e Entry) location() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(dir) { // unset, or relative (which the spec says to ignore)
		home, err := e.home()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "autostart", XDGName), nil
}

// configDirs are the system directories to look in, most important first:
// ConfigDirs, or $XDG_CONFIG_DIRS, or /etc/xdg. Relative paths are ignored,
// as the spec says.
func (e Entry) configDirs() []string {
	dirs := e.ConfigDirs
	if dirs == nil {
		dirs = filepath.SplitList(os.Getenv("XDG_CONFIG_DIRS"))
	}
	var out []string
	for _, d := range dirs {
		if filepath.IsAbs(d) {
			out = append(out, d)
		}
	}
	if e.ConfigDirs == nil && len(out) == 0 {
		out = []string{"/etc/xdg"}
	}
	return out
}

// systemEntry reads the most important system-wide entry; ok is false
// when there is none.
func (e Entry) systemEntry() (keys map[string]string, ok bool, err error) {
	for _, d := range e.configDirs() {
		keys, ok, err := readEntry(filepath.Join(d, "autostart", XDGName))
		if err != nil || ok {
			return keys, ok, err
		}
	}
	return nil, false, nil
}

// enable removes the user's entry where the system one starts exe (the
// user's could only switch it off, or shadow it), and otherwise writes the
// user's entry starting exe.
func (e Entry) enable(exe string) error {
	path, err := e.location()
	if err != nil {
		return err
	}
	sys, ok, err := e.systemEntry()
	if err != nil {
		return err
	}
	if ok && !switchedOff(sys) && sys["Exec"] == desktopExec(exe) {
		return removeFile(path)
	}
	return writeFile(path, desktopEntry(exe))
}

// disable removes the user's entry, and switches off a system-wide entry
// with a hidden one of the same name.
func (e Entry) disable() error {
	path, err := e.location()
	if err != nil {
		return err
	}
	sys, ok, err := e.systemEntry()
	if err != nil {
		return err
	}
	if ok && !switchedOff(sys) {
		return writeFile(path, hiddenEntry(sys["Exec"]))
	}
	return removeFile(path)
}

// enabled: the user's entry, or else the system one, exists and neither
// hides itself nor was switched off in GNOME's startup applications.
func (e Entry) enabled() (bool, error) {
	path, err := e.location()
	if err != nil {
		return false, err
	}
	keys, ok, err := readEntry(path)
	if err == nil && !ok {
		keys, ok, err = e.systemEntry()
	}
	if err != nil || !ok {
		return false, err
	}
	return !switchedOff(keys), nil
}

// switchedOff reports whether an entry's keys keep it from starting:
// Hidden=true (the spec's way), or X-GNOME-Autostart-enabled=false (what
// GNOME's startup applications write).
func switchedOff(keys map[string]string) bool {
	return keys["Hidden"] == "true" || keys["X-GNOME-Autostart-enabled"] == "false"
}

// readEntry reads the keys of the [Desktop Entry] group of the desktop
// file at path; ok is false when there is no such file.
func readEntry(path string) (keys map[string]string, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	keys = map[string]string{}
	group := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			group = line[1 : len(line)-1]
		case group == "Desktop Entry":
			if key, value, found := strings.Cut(line, "="); found {
				keys[strings.TrimSpace(key)] = strings.TrimSpace(value)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, false, fmt.Errorf("reading %s: %w", path, err)
	}
	return keys, true, nil
}

// writeFile writes the user's entry, creating its directory.
func writeFile(path, text string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	return store.WriteFile(path, []byte(text), 0o644)
}

// removeFile removes the user's entry; a missing one is not an error.
func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
