package service

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// The per-user Run key, and our value in it. The tray's own login entry
// (package autostart) is "MaxRouter"; value names ignore case, so this one
// must differ by more than case.
const (
	runKey   = `Software\Microsoft\Windows\CurrentVersion\Run`
	runValue = "MaxRouter daemon"
)

// init: Windows does not use kardianos/service (see Manager).
func (m *Manager) init() error { return m.checkPaths() }

func (m *Manager) unit() (string, error) {
	if err := m.checkPaths(); err != nil {
		return "", err
	}
	return windowsCommandLine(m.exe, m.args()), nil
}

// usable: the Run key and detached processes need no service manager.
func (m *Manager) usable() bool { return true }

func (m *Manager) installed() (bool, error) {
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
	return true, nil
}

func (m *Manager) install() error {
	cmdline, err := m.unit()
	if err != nil {
		return err
	}
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if err != nil {
		return fmt.Errorf("opening HKCU\\%s: %w", runKey, err)
	}
	defer k.Close()
	if err := k.SetStringValue(runValue, cmdline); err != nil {
		return fmt.Errorf("writing %q in HKCU\\%s: %w", runValue, runKey, err)
	}
	m.log.Info("daemon registered to start at login", "key", `HKCU\`+runKey, "value", runValue)
	return nil
}

func (m *Manager) uninstall() error {
	ok, err := m.installed()
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotInstalled
	}
	if err := m.StopDetached(); err != nil && !errors.Is(err, ErrNotRunning) {
		return err
	}
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if err != nil {
		return fmt.Errorf("opening HKCU\\%s: %w", runKey, err)
	}
	defer k.Close()
	if err := k.DeleteValue(runValue); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return fmt.Errorf("deleting %q in HKCU\\%s: %w", runValue, runKey, err)
	}
	m.log.Info("daemon login entry removed")
	return nil
}

func (m *Manager) ready() error {
	ok, err := m.installed()
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotInstalled
	}
	return nil
}

func (m *Manager) start() error {
	if err := m.ready(); err != nil {
		return err
	}
	_, err := m.StartDetached()
	return err
}

func (m *Manager) stop() error {
	if err := m.ready(); err != nil {
		return err
	}
	return m.StopDetached()
}

func (m *Manager) restart() error {
	if err := m.ready(); err != nil {
		return err
	}
	if err := m.StopDetached(); err != nil && !errors.Is(err, ErrNotRunning) {
		return err
	}
	_, err := m.StartDetached()
	return err
}

// status: the daemon counts as running when the process StartDetached
// recorded still runs. One started by the Run key at login has no pid file
// and shows as stopped; the control API is the better liveness check.
func (m *Manager) status() (State, error) {
	ok, err := m.installed()
	if err != nil {
		return Unknown, err
	}
	if !ok {
		return NotInstalled, nil
	}
	if _, running := m.detachedPID(); running {
		return Running, nil
	}
	return Stopped, nil
}
