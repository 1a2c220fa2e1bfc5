package autostart

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/maxrouter/maxrouter/core/store"
)

// location is ~/Library/LaunchAgents/io.maxrouter.tray.plist.
func (e Entry) location() (string, error) {
	home, err := e.home()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "Library", "LaunchAgents", Label+".plist"), nil
}

// enable writes the plist; launchd reads it at the next login. It is not
// loaded now, which would start a second tray beside this one.
func (e Entry) enable(exe string) error {
	path, err := e.location()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	return store.WriteFile(path, []byte(launchAgent(exe)), 0o644)
}

// disable removes the plist. It does not unload the agent: that would quit
// the running tray if launchd started it.
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

func (e Entry) enabled() (bool, error) {
	path, err := e.location()
	if err != nil {
		return false, err
	}
	_, err = os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	default:
		return false, err
	}
}
