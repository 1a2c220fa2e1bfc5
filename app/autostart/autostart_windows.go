package autostart

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

const (
	runKey   = `Software\Microsoft\Windows\CurrentVersion\Run`
	runValue = "MaxRouter"
	// approvedKey is where Task Manager's Startup tab records entries the
	// user switched off: a binary value whose first byte is odd.
	approvedKey = `Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run`
)

func (e Entry) location() (string, error) {
	return `HKCU\` + runKey + `\` + runValue, nil
}

// enable writes the Run value and clears a "disabled" mark Task Manager may
// have left, so the entry really runs.
func (e Entry) enable(exe string) error {
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if err != nil {
		return fmt.Errorf("opening HKCU\\%s: %w", runKey, err)
	}
	defer k.Close()
	if err := k.SetStringValue(runValue, `"`+exe+`"`); err != nil {
		return fmt.Errorf("writing %q in HKCU\\%s: %w", runValue, runKey, err)
	}
	return deleteValue(approvedKey, runValue)
}

func (e Entry) disable() error {
	if err := deleteValue(runKey, runValue); err != nil {
		return err
	}
	return deleteValue(approvedKey, runValue)
}

func (e Entry) enabled() (bool, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("opening HKCU\\%s: %w", runKey, err)
	}
	defer k.Close()
	if _, _, err := k.GetStringValue(runValue); err != nil {
		if errors.Is(err, registry.ErrNotExist) {
			return false, nil
		}
		return false, fmt.Errorf("reading %q in HKCU\\%s: %w", runValue, runKey, err)
	}
	a, err := registry.OpenKey(registry.CURRENT_USER, approvedKey, registry.QUERY_VALUE)
	if err != nil {
		return true, nil // no Startup-tab record: enabled
	}
	defer a.Close()
	mark, _, err := a.GetBinaryValue(runValue)
	if err != nil || len(mark) == 0 {
		return true, nil
	}
	return mark[0]&1 == 0, nil
}

// deleteValue removes name from the per-user key path; a missing key or
// value is not an error.
func deleteValue(path, name string) error {
	k, err := registry.OpenKey(registry.CURRENT_USER, path, registry.SET_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("opening HKCU\\%s: %w", path, err)
	}
	defer k.Close()
	if err := k.DeleteValue(name); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return fmt.Errorf("deleting %q in HKCU\\%s: %w", name, path, err)
	}
	return nil
}
