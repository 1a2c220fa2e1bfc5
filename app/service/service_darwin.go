package service

import (
	"errors"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
)

// supported: launchd is always there.
func (m *Manager) supported() bool { return m.system != nil }

// unitPath is where kardianos/service writes a user LaunchAgent; it finds
// the home directory the same way.
func unitPath() (string, error) {
	home := ""
	if u, err := user.Current(); err == nil {
		home = u.HomeDir
	}
	if home == "" {
		home = os.Getenv("HOME")
	}
	if home == "" {
		return "", errors.New("finding the home directory: neither the user database nor $HOME has it")
	}
	return filepath.Join(home, "Library", "LaunchAgents", Name+".plist"), nil
}

func (m *Manager) unit() (string, error) {
	if err := m.checkPaths(); err != nil {
		return "", err
	}
	return launchdPlist(Name, m.exe, m.args(), m.LogPath()), nil
}

func (m *Manager) usable() bool {
	if !m.supported() {
		return false
	}
	if _, err := exec.LookPath("launchctl"); err != nil {
		m.log.Debug("launchctl not found", "err", err)
		return false
	}
	return true
}

// failed: launchd has no failed state that kardianos/service reports.
func failed(error) bool { return false }
