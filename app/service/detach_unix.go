//go:build unix

package service

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// detach puts the child in a new session (and so a new process group) with
// no controlling terminal: closing the terminal or the tray's process group
// does not signal it.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	// On Linux a zombie still answers signal 0; /proc tells them apart.
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no /proc (macOS): trust the signal
	}
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// processIs reports whether pid runs exe, so a recycled pid is not taken
// for the daemon. Without /proc (macOS) it cannot tell and says yes.
func processIs(pid int, exe string) bool {
	got, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return !pidHasProc(pid)
	}
	got = strings.TrimSuffix(got, " (deleted)") // the binary was upgraded
	if want, err := filepath.EvalSymlinks(exe); err == nil {
		exe = want
	}
	return got == exe
}

// pidHasProc reports whether /proc describes pid, in which case an
// unreadable exe link means another user's process.
func pidHasProc(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

// terminate asks pid to exit.
func terminate(pid int) error {
	return syscall.Kill(pid, syscall.SIGTERM)
}
