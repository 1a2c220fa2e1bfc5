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
	return filepath.Join(dir, "autostart", "maxrouter.desktop"), nil
}

func (e Entry) enable(exe string) error {
	path, err := e.location()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	return store.WriteFile(path, []byte(desktopEntry(exe)), 0o644)
}

func (e Entry) disable() error {
	path, err := e.location()
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// enabled: the file exists and neither hides itself nor was switched off
// in GNOME's startup applications (X-GNOME-Autostart-enabled=false).
func (e Entry) enabled() (bool, error) {
	path, err := e.location()
	if err != nil {
		return false, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(key) {
		case "Hidden":
			if strings.TrimSpace(value) == "true" {
				return false, nil
			}
		case "X-GNOME-Autostart-enabled":
			if strings.TrimSpace(value) == "false" {
				return false, nil
			}
		}
	}
	return true, sc.Err()
}
