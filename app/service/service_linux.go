package service

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// systemdName is the kardianos/service system this package drives on Linux;
// the others (SysV, OpenRC, upstart) have no per-user services.
const systemdName = "linux-systemd"

// supported reports whether the configured system is systemd.
func (m *Manager) supported() bool {
	return m.system != nil && m.system.String() == systemdName
}

// unitPath is where kardianos/service writes a user unit: always under
// ~/.config, whatever XDG_CONFIG_HOME says.
func unitPath() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the home directory: %w", err)
	}
	return filepath.Join(home, ".config", "systemd", "user", Name+".service"), nil
}

func (m *Manager) unit() (string, error) {
	if err := m.checkPaths(); err != nil {
		return "", err
	}
	return systemdUnit(Description, m.exe, m.args()), nil
}

// usable needs systemd as PID 1 (sd_booted: /run/systemd/system exists) and
// a user manager that `systemctl --user` can reach: neither holds in most
// containers, nor in a session without XDG_RUNTIME_DIR (su, some ssh).
func (m *Manager) usable() bool {
	if !m.supported() {
		return false
	}
	if _, err := os.Stat(m.systemdRunDir); err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err := exec.CommandContext(ctx, "systemctl", "--user", "show-environment").Run()
	if err != nil {
		m.log.Debug("systemctl --user unusable", "err", err)
		return false
	}
	return true
}

// failed reports kardianos/service's answer for a unit in the failed state.
func failed(err error) bool {
	return err != nil && err.Error() == "service in failed state"
}
