package notifytest

import "syscall"

// procAttr makes the kernel kill dbus-daemon if the test binary dies first
// (say, on a test timeout) so that no bus outlives its tests. Pdeathsig
// follows the starting thread, which Go only retires when a goroutine
// exits while locked to it; StartBus is meant for TestMain, which does not.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
