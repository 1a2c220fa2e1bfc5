// Package flock takes exclusive advisory locks (flock(2)) on directories,
// so that MaxRouter processes do not step on each other's files. Locking a
// directory itself leaves no lock file behind, which matters in Claude
// Code's config directories. A lock is held until its unlock function is
// called, or the process ends, however it ends. Lock and TryLock do
// nothing on systems without flock(2) (Windows).
package flock

import "errors"

// ErrLocked is TryLock's answer when another holder has the lock. Two
// holders in one process exclude each other as well.
var ErrLocked = errors.New("locked by another process")
