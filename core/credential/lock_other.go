//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package credential

import "context"

// lockDir is a no-op where flock(2) is missing (Windows): refreshes are
// single-flight within the process, and a second process that loses the
// race re-reads the file after invalid_grant.
func lockDir(context.Context, string) (func(), error) { return func() {}, nil }
