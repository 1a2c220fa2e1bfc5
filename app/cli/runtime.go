package cli

import (
	"runtime"
	"runtime/debug"
)

// Runtime settings for the daemon, chosen with core/bench (README,
// Performance). The daemon forwards a handful of concurrent requests for one
// person, so it is tuned for latency and a small CPU footprint rather than
// for throughput across cores:
//
//   - one P: a request crosses several goroutines (server connection,
//     Transport write and read loops); on one P those hand-offs are run-queue
//     operations instead of waking other threads, which on the benchmark
//     machines cut proxy CPU per request and the added latency. One core
//     still forwards thousands of requests per second;
//   - GOGC 400 with a 256 MiB soft memory limit: the live heap is a few MiB,
//     so collecting at 5x it costs little memory and a quarter of the
//     collections; the limit keeps large request bodies from growing the
//     heap fivefold.
//
// Each one the environment sets (GOMAXPROCS, GOGC, GOMEMLIMIT) wins.
const (
	daemonProcs       = 1
	daemonGCPercent   = 400
	daemonMemoryLimit = 256 << 20
)

// tuneRuntime applies the daemon's runtime settings that getenv leaves
// unset, and returns what it applied, for the log.
func tuneRuntime(getenv func(string) string) []any {
	var applied []any
	if getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(daemonProcs)
		applied = append(applied, "gomaxprocs", daemonProcs)
	}
	if getenv("GOGC") == "" {
		debug.SetGCPercent(daemonGCPercent)
		applied = append(applied, "gogc", daemonGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(daemonMemoryLimit)
		applied = append(applied, "gomemlimit_mib", daemonMemoryLimit>>20)
	}
	return applied
}
