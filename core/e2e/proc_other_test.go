//go:build !unix

package e2e

import "os/exec"

// ownGroup leaves cmd as it is: without process groups only the client
// itself is killed when its context ends.
func ownGroup(*exec.Cmd) (reap func()) { return func() {} }
