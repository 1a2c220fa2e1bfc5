//go:build !linux

package notifytest

import "syscall"

func procAttr() *syscall.SysProcAttr { return nil }
