//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package flock

import (
	"context"
	"os"
)

// Lock does nothing where flock(2) is missing (Windows).
func Lock(context.Context, string) (func(), error) { return func() {}, nil }

// TryLock does nothing where flock(2) is missing (Windows).
func TryLock(string) (func(), error) { return func() {}, nil }

// TryLockFile does nothing where flock(2) is missing (Windows).
func TryLockFile(*os.File) error { return nil }
