//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package credential

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"
)

// lockPoll is how often lockDir tries again while another process holds
// the lock.
const lockPoll = 20 * time.Millisecond

// lockDir takes an exclusive advisory lock (flock(2)) on the directory dir
// itself, so that MaxRouter processes sharing a login refresh it one at a
// time and the second finds the first one's new pair in the file instead
// of spending the single-use refresh token again. Locking the directory
// leaves no file behind in Claude Code's config dir. It waits until ctx
// ends; the lock goes with the process, should that die.
func lockDir(ctx context.Context, dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing releases it
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(lockPoll):
		}
	}
}
