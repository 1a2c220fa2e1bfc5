// Package wait is the tests' one way to wait for something that happens on
// another goroutine or in another process: poll a condition until it holds,
// and fail the test, saying what did not happen, when it never does.
//
// Use it where there is nothing to wait on (a file appearing, a state
// another process shows); where a channel or testing/synctest can say when
// it happened, use those instead.
package wait

import (
	"testing"
	"time"
)

// Timeout is how long For waits: generous, for loaded CI machines.
const Timeout = 15 * time.Second

// every is how often For checks the condition.
const every = 10 * time.Millisecond

// For calls cond until it reports true, and fails t with "timed out waiting
// for <what>" when it has not after Timeout.
func For(t testing.TB, what string, cond func() bool) {
	t.Helper()
	until(t, what, cond, Timeout)
}

// until is For with a timeout of one's choice.
func until(t testing.TB, what string, cond func() bool, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}
