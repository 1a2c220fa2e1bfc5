package notifytest

import "syscall"

// procAttr makes the kernel kill dbus-daemon if the test binary dies first.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
