package cli

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
)

// restoreRuntime puts back the settings tuneRuntime changes.
func restoreRuntime(t *testing.T) {
	t.Helper()
	procs := runtime.GOMAXPROCS(0)
	gc := debug.SetGCPercent(100)
	debug.SetGCPercent(gc)
	limit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		runtime.GOMAXPROCS(procs)
		debug.SetGCPercent(gc)
		debug.SetMemoryLimit(limit)
	})
}

func TestTuneRuntimeDefaults(t *testing.T) {
	restoreRuntime(t)
	runtime.GOMAXPROCS(2)
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)

	tuneRuntime(func(string) string { return "" })

	if got := runtime.GOMAXPROCS(0); got != daemonProcs {
		t.Errorf("GOMAXPROCS = %d, want %d", got, daemonProcs)
	}
	if got := debug.SetGCPercent(100); got != daemonGCPercent {
		t.Errorf("GC percent = %d, want %d", got, daemonGCPercent)
	}
	if got := debug.SetMemoryLimit(-1); got != daemonMemoryLimit {
		t.Errorf("memory limit = %d, want %d", got, daemonMemoryLimit)
	}
}

func TestTuneRuntimeLeavesTheEnvironmentsChoice(t *testing.T) {
	restoreRuntime(t)
	runtime.GOMAXPROCS(2)
	debug.SetGCPercent(150)
	debug.SetMemoryLimit(math.MaxInt64)
	env := map[string]string{"GOMAXPROCS": "2", "GOGC": "150", "GOMEMLIMIT": "off"}

	if applied := tuneRuntime(func(k string) string { return env[k] }); len(applied) != 0 {
		t.Errorf("applied %v, want nothing: the environment sets all three", applied)
	}
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Errorf("GOMAXPROCS = %d, want 2 (from the environment)", got)
	}
	if got := debug.SetGCPercent(100); got != 150 {
		t.Errorf("GC percent = %d, want 150 (from the environment)", got)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("memory limit = %d, want none (from the environment)", got)
	}
}
