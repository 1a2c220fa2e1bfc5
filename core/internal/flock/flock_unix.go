//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package flock

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"
)

// poll is how often Lock tries again while another process holds the lock.
const poll = 20 * time.Millisecond

// Lock waits until it holds the lock on dir, or ctx ends.
func Lock(ctx context.Context, dir string) (unlock func(), err error) {
	for {
		unlock, err := TryLock(dir)
		if !errors.Is(err, ErrLocked) {
			return unlock, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// TryLock takes the lock on dir if no other holder has it, and returns
// ErrLocked if one does.
func TryLock(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	switch {
	case err == nil:
		return func() { f.Close() }, nil // closing releases it
	case errors.Is(err, syscall.EWOULDBLOCK):
		err = ErrLocked
	}
	f.Close()
	return nil, err
}
