package service

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/maxrouter/maxrouter/core/store"
)

// How long StopDetached waits for the daemon to exit after asking, and
// again after forcing it.
const (
	stopGrace = 10 * time.Second
	killGrace = 2 * time.Second
)

// StartDetached starts `<exe> serve --config <path>` as a background process
// that outlives the caller: in its own session (Unix) or detached from the
// console (Windows), stdin from the null device, stdout and stderr appended
// to LogPath. It records the process id in maxrouter.pid next to the config
// file. When a daemon started this way still runs, it returns that one's id
// and starts nothing. It is the fallback where Usable is false.
func (m *Manager) StartDetached() (int, error) {
	m.markStopped(false)
	if pid, ok := m.detachedPID(); ok {
		m.log.Info("background daemon already running", "pid", pid)
		return pid, nil
	}
	dir := filepath.Dir(m.configPath)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, fmt.Errorf("creating %s: %w", dir, err)
	}
	logf, err := os.OpenFile(m.LogPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return 0, fmt.Errorf("opening the daemon log: %w", err)
	}
	defer logf.Close() // the child holds its own descriptor

	cmd := exec.Command(m.exe, m.args()...)
	cmd.Dir = dir
	cmd.Stdin = nil // the null device
	cmd.Stdout = logf
	cmd.Stderr = logf
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("starting %s serve: %w", m.exe, err)
	}
	pid := cmd.Process.Pid
	// Reap the child when it exits so it does not linger as a zombie while
	// this process (the tray) runs on; ends when the daemon does.
	go func() { _ = cmd.Wait() }()

	if err := store.WriteFile(m.pidPath(), []byte(strconv.Itoa(pid)+"\n"), 0o600); err != nil {
		return pid, fmt.Errorf("recording the daemon's process id: %w", err)
	}
	m.log.Info("background daemon started", "pid", pid, "log", m.LogPath())
	return pid, nil
}

// StopDetached ends the daemon that StartDetached started (as recorded in
// maxrouter.pid) and waits for it to exit: politely first, then by force.
// Like Stop it remembers that the person stopped it.
// It returns ErrNotRunning when no such daemon runs.
func (m *Manager) StopDetached() error {
	pid, ok := m.detachedPID()
	if !ok {
		m.removePIDFile()
		return ErrNotRunning
	}
	if err := terminate(pid); err != nil && processAlive(pid) {
		return fmt.Errorf("stopping the background daemon (pid %d): %w", pid, err)
	}
	if !waitExit(pid, stopGrace) {
		m.log.Warn("background daemon ignored the stop request; killing it", "pid", pid)
		if p, err := os.FindProcess(pid); err == nil {
			_ = p.Kill()
		}
		if !waitExit(pid, killGrace) {
			return fmt.Errorf("stopping the background daemon: pid %d still runs", pid)
		}
	}
	m.removePIDFile()
	m.log.Info("background daemon stopped", "pid", pid)
	m.markStopped(true)
	return nil
}

// detachedPID returns the recorded daemon's pid when that process still
// runs this executable.
func (m *Manager) detachedPID() (int, bool) {
	b, err := os.ReadFile(m.pidPath())
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	if !processAlive(pid) || !processIs(pid, m.exe) {
		return 0, false
	}
	return pid, true
}

func (m *Manager) removePIDFile() {
	if err := os.Remove(m.pidPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		m.log.Warn("removing the pid file", "err", err)
	}
}

// waitExit polls until pid has exited or d has passed; it reports whether
// the process is gone.
func waitExit(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for processAlive(pid) {
		if time.Now().After(deadline) {
			return false
		}
		<-tick.C
	}
	return true
}
