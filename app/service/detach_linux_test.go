package service

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/maxrouter/maxrouter/core/wait"
)

// procStat returns a process's state, process group and session from
// /proc/<pid>/stat.
func procStat(t *testing.T, pid int) (state byte, pgrp, session int) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatalf("reading stat of pid %d: %v", pid, err)
	}
	// pid (comm) state ppid pgrp session ...
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	pgrp, _ = strconv.Atoi(f[2])
	session, _ = strconv.Atoi(f[3])
	return f[0][0], pgrp, session
}

// killAtEnd makes sure the helper does not outlive the test.
func killAtEnd(t *testing.T, pid int) {
	t.Cleanup(func() {
		if processAlive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

func testExecutable(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func TestStartDetached(t *testing.T) {
	config := filepath.Join(t.TempDir(), "conf", "config.toml")
	m, err := New(Options{Executable: testExecutable(t), ConfigPath: config})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(helperEnv, "daemon")

	pid, err := m.StartDetached()
	if err != nil {
		t.Fatalf("StartDetached: %v", err)
	}
	killAtEnd(t, pid)

	logPath := filepath.Join(filepath.Dir(config), "maxrouter.log")
	if got := m.LogPath(); got != logPath {
		t.Errorf("LogPath() = %q, want %q", got, logPath)
	}
	readLog := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	wantOut := fmt.Sprintf("fake daemon pid=%d args=%q", pid, []string{"serve", "--config", config})
	wait.For(t, "the daemon's output in the log", func() bool {
		return strings.Contains(readLog(), wantOut) && strings.Contains(readLog(), "fake daemon stderr")
	})

	own := os.Getpid()
	_, _, ownSession := procStat(t, own)
	state, pgrp, session := procStat(t, pid)
	if session != pid || pgrp != pid {
		t.Errorf("daemon session, group = %d, %d; want both %d (its own)", session, pgrp, pid)
	}
	if session == ownSession {
		t.Errorf("daemon shares the test's session %d", ownSession)
	}
	if state == 'Z' {
		t.Errorf("daemon is a zombie")
	}
	if stdin, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/0", pid)); err != nil || stdin != os.DevNull {
		t.Errorf("daemon stdin = %q (%v), want %s", stdin, err, os.DevNull)
	}
	if b, err := os.ReadFile(filepath.Join(filepath.Dir(config), "maxrouter.pid")); err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(pid) {
		t.Errorf("pid file = %q (%v), want %d", b, err, pid)
	}

	// A second start finds the running daemon.
	again, err := m.StartDetached()
	if err != nil || again != pid {
		t.Errorf("second StartDetached = %d, %v; want %d, nil", again, err, pid)
	}

	if m.StoppedByUser() {
		t.Error("StoppedByUser before any stop")
	}
	if err := m.StopDetached(); err != nil {
		t.Fatalf("StopDetached: %v", err)
	}
	if !m.StoppedByUser() {
		t.Error("StoppedByUser = false after StopDetached: a launch of the app would start it again")
	}
	if processAlive(pid) {
		t.Errorf("pid %d still alive after StopDetached", pid)
	}
	if !strings.Contains(readLog(), "fake daemon stopping") {
		t.Errorf("daemon was not stopped with a signal it handles; log:\n%s", readLog())
	}
	if err := m.StopDetached(); !errors.Is(err, ErrNotRunning) {
		t.Errorf("second StopDetached: err = %v, want ErrNotRunning", err)
	}
	// Starting it again forgets the stop.
	pid, err = m.StartDetached()
	if err != nil {
		t.Fatal(err)
	}
	killAtEnd(t, pid)
	if m.StoppedByUser() {
		t.Error("StoppedByUser after a new start")
	}
	if err := m.StopDetached(); err != nil {
		t.Fatal(err)
	}
}

// TestStartDetachedOutlivesStarter starts the daemon from a process that
// exits at once, as the tray's "Start MaxRouter" may, and checks it runs on.
func TestStartDetachedOutlivesStarter(t *testing.T) {
	config := filepath.Join(t.TempDir(), "config.toml")
	cmd := exec.Command(testExecutable(t))
	cmd.Env = append(os.Environ(), helperEnv+"=launch", helperConfigEnv+"="+config)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	// Output returns once the launcher exits and its stdout closes: the
	// daemon must not hold the launcher's stdout open.
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("launcher: %v\n%s", err, stderr.Bytes())
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("launcher printed %q, want a pid", out)
	}
	killAtEnd(t, pid)

	logPath := filepath.Join(filepath.Dir(config), "maxrouter.log")
	wait.For(t, "the daemon's output in the log", func() bool {
		b, _ := os.ReadFile(logPath)
		return bytes.Contains(b, []byte(fmt.Sprintf("fake daemon pid=%d", pid)))
	})
	if !processAlive(pid) {
		t.Fatalf("daemon pid %d died with its starter", pid)
	}
	if _, _, session := procStat(t, pid); session != pid {
		t.Errorf("daemon session = %d, want its own (%d)", session, pid)
	}

	m, err := New(Options{Executable: testExecutable(t), ConfigPath: config})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.StopDetached(); err != nil {
		t.Fatalf("StopDetached from another process: %v", err)
	}
	if processAlive(pid) {
		t.Errorf("pid %d still alive after StopDetached", pid)
	}
}

func TestDetachedPIDIgnoresOtherPrograms(t *testing.T) {
	config := filepath.Join(t.TempDir(), "config.toml")
	m, err := New(Options{Executable: "/usr/bin/maxrouter", ConfigPath: config})
	if err != nil {
		t.Fatal(err)
	}
	// The pid file names a live process that is not maxrouter: this test.
	if err := os.WriteFile(filepath.Join(filepath.Dir(config), "maxrouter.pid"), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		t.Fatal(err)
	}
	if pid, ok := m.detachedPID(); ok {
		t.Errorf("detachedPID() = %d, true; want false for a recycled pid", pid)
	}
	if err := m.StopDetached(); !errors.Is(err, ErrNotRunning) {
		t.Errorf("StopDetached: err = %v, want ErrNotRunning", err)
	}
}
