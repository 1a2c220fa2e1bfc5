//go:build linux || darwin

package service

import (
	"errors"
	"fmt"
	"os"

	"github.com/kardianos/service"
)

// init builds the kardianos/service handle for the configured system.
func (m *Manager) init() error {
	cfg, err := m.config()
	if err != nil {
		return err
	}
	if !m.supported() {
		return nil // every action reports ErrNoServiceManager
	}
	svc, err := m.system.New(program{}, cfg)
	if err != nil {
		return fmt.Errorf("preparing the %s service for %s: %w", Name, m.system, err)
	}
	m.svc = svc
	return nil
}

// installed reports whether the unit file exists.
func (m *Manager) installed() (bool, error) {
	path, err := unitPath()
	if err != nil {
		return false, err
	}
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// ready returns ErrNoServiceManager or ErrNotInstalled when an action on
// the installed service cannot run.
func (m *Manager) ready() error {
	if m.svc == nil {
		return ErrNoServiceManager
	}
	ok, err := m.installed()
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotInstalled
	}
	return nil
}

func (m *Manager) install() error {
	if m.svc == nil {
		return ErrNoServiceManager
	}
	path, err := unitPath()
	if err != nil {
		return err
	}
	want, err := m.unit()
	if err != nil {
		return err
	}
	switch got, err := os.ReadFile(path); {
	case err == nil && string(got) == want:
		m.log.Info("service already installed", "unit", path)
		return nil
	case err == nil:
		// An older unit (another binary or config path): replace it. The
		// running daemon keeps going until the caller restarts it.
		m.log.Info("replacing outdated service", "unit", path)
		if err := m.svc.Uninstall(); err != nil {
			return fmt.Errorf("removing the outdated unit: %w", err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if err := m.svc.Install(); err != nil {
		return err
	}
	m.log.Info("service installed", "unit", path, "system", m.system.String())
	return nil
}

func (m *Manager) uninstall() error {
	if err := m.ready(); err != nil {
		return err
	}
	// systemd's disable leaves a running unit running; stop it first. A
	// stopped service fails to stop, which is fine here.
	if err := m.svc.Stop(); err != nil {
		m.log.Debug("stopping before uninstall", "err", err)
	}
	if err := m.svc.Uninstall(); err != nil {
		return err
	}
	m.log.Info("service uninstalled")
	return nil
}

func (m *Manager) start() error {
	if err := m.ready(); err != nil {
		return err
	}
	if err := m.svc.Start(); err != nil {
		return err
	}
	m.log.Info("service started")
	return nil
}

func (m *Manager) stop() error {
	if err := m.ready(); err != nil {
		return err
	}
	if err := m.svc.Stop(); err != nil {
		return err
	}
	m.log.Info("service stopped")
	return nil
}

func (m *Manager) restart() error {
	if err := m.ready(); err != nil {
		return err
	}
	if err := m.svc.Restart(); err != nil {
		return err
	}
	m.log.Info("service restarted")
	return nil
}

func (m *Manager) status() (State, error) {
	if m.svc == nil {
		return Unknown, ErrNoServiceManager
	}
	ok, err := m.installed()
	if err != nil {
		return Unknown, err
	}
	if !ok {
		return NotInstalled, nil
	}
	switch st, err := m.svc.Status(); {
	case st == service.StatusRunning:
		return Running, nil
	case st == service.StatusStopped, errors.Is(err, service.ErrNotInstalled), failed(err):
		// The unit file exists, so it is installed; the manager has either
		// not loaded it yet or given up on it after failures.
		return Stopped, nil
	case err != nil:
		return Unknown, err
	default:
		return Unknown, nil
	}
}
