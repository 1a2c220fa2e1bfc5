// Package flock takes exclusive advisory locks (flock(2)) on directories
// and open files, so that MaxRouter processes do not step on each other's
// files. Locking a directory itself leaves no lock file behind, which
// matters in Claude Code's config directories. A lock is held until its
// unlock function is called (for TryLockFile: until the file is closed), or
// the process ends, however it ends. Lock, TryLock and TryLockFile do
// nothing on systems without flock(2) (Windows).
package flock

import "errors"

// ErrLocked is TryLock's answer when another holder has the lock. Two
// holders in one process exclude each other as well.
var ErrLocked = errors.New("locked by another process")
