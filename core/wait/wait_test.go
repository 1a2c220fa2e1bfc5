package wait

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestFor(t *testing.T) {
	var n atomic.Int32
	For(t, "the third call", func() bool { return n.Add(1) == 3 })
	if got := n.Load(); got != 3 {
		t.Errorf("cond called %d times, want 3", got)
	}
}

// failing records a Fatalf instead of stopping the test.
type failing struct {
	testing.TB
	msg string
}

func (f *failing) Helper() {}
func (f *failing) Fatalf(format string, args ...any) {
	f.msg = format
	panic(f)
}

func TestForTimesOut(t *testing.T) {
	f := &failing{TB: t}
	defer func() {
		if recover() != f || f.msg != "timed out waiting for %s" {
			t.Errorf("For did not fail the test with a message: %q", f.msg)
		}
	}()
	until(f, "nothing", func() bool { return false }, 50*time.Millisecond)
}
