// Command bench measures what MaxRouter adds to a request. In one run it
// drives, interleaved, direct calls to the fake Anthropic API
// (core/anthropictest), calls through a plain httputil.ReverseProxy (the
// floor any Go proxy gets for free) and calls through the real MaxRouter
// daemon, for non-streaming and streaming requests, 1 and 64 concurrent
// clients, small and 64 KiB bodies, and prints a markdown table with the
// added latency, throughput as a share of direct, proxy CPU per request,
// memory, and a verdict per performance target.
//
//	go run ./core/bench                 # 5 rounds of 2 s per target and row
//	go run ./core/bench -quick          # smoke run: 1 round of 300 ms
//	go run ./core/bench -json           # machine-readable result
//
// The fake upstream, the plain proxy and the daemon each run in their own
// process (the fake and the plain proxy are this program re-executed in a
// role), so CPU and memory are read per process from /proc; the load
// generator is this process. Everything listens on loopback. Linux only.
//
// With -faults it runs the fault-and-load run instead: many clients drive
// the real daemon for a set time while a fake upstream injects faults on
// all accounts but one (rate limits, overload, resets, hangs, a silent
// stream, a mid-stream error, an expired token and a token endpoint that
// hangs) and slow clients trickle their bodies; it prints the
// client-visible failures by cause, failovers, latency, and the daemon's
// memory and descriptors, and exits 1 when a check fails.
//
//	go run ./core/bench -faults                 # 60 s, 200 clients
//	go run ./core/bench -faults -quick          # short form for CI
//	go run ./core/bench -faults -fault hang     # one fault at a time
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"
)

// roleEnv names the environment variable that runs this program as one of
// the helper processes instead of the benchmark.
const roleEnv = "MAXROUTER_BENCH_ROLE"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if role := os.Getenv(roleEnv); role != "" {
		if err := runRole(ctx, role, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench", role+":", err)
			os.Exit(1)
		}
		return
	}
	os.Exit(cli(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// cli parses the flags, runs the benchmark or, with -faults, the
// fault-and-load run, and prints its result.
func cli(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if slices.ContainsFunc(args, func(a string) bool {
		return slices.Contains([]string{"-faults", "--faults", "-faults=true", "--faults=true"}, a)
	}) {
		return faultsCLI(ctx, args, stdout, stderr)
	}
	return benchCLI(ctx, args, stdout, stderr)
}

// benchCLI parses the benchmark's flags, runs it and prints its result.
func benchCLI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := defaultOptions()
	fs.IntVar(&o.Rounds, "rounds", o.Rounds, "rounds per row; each round runs every target once, in rotated order")
	fs.DurationVar(&o.Duration, "duration", o.Duration, "measured time per target per round")
	quick := fs.Bool("quick", false, "smoke run: 1 round of 300ms, short warm-up and idle wait (numbers are not claims)")
	fs.StringVar(&o.MaxRouter, "maxrouter", "", "maxrouter binary to run (default: build one with -tags headless from this repository)")
	asJSON := fs.Bool("json", false, "print the result as JSON instead of markdown")
	render := fs.String("render", "", "print a result saved with -json as markdown, and run nothing")
	fs.StringVar(&o.Only, "only", "", "run only the rows whose short name starts with this, e.g. non-stream/64c (for profiling)")
	fs.IntVar(&o.Repeats, "repeats", o.Repeats, "how often a measurement disturbed by other processes (more than 0.1 cores) is run again")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./core/bench [-rounds N] [-duration D] [-quick] [-repeats N] [-maxrouter PATH] [-only ROWS] [-json | -render FILE]")
		fmt.Fprintln(stderr, "   or: go run ./core/bench -faults [flags] (the fault-and-load run; -faults -h lists its flags)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	if *render != "" {
		return renderFile(*render, stdout, stderr)
	}
	if *quick {
		o = o.quick()
	}
	if o.Rounds < 1 || o.Duration <= 0 {
		fmt.Fprintln(stderr, "bench: -rounds must be at least 1 and -duration above 0")
		return 2
	}
	o.Command = commandLine(args)
	o.Progress = stderr
	res, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		return 0
	}
	writeMarkdown(stdout, res)
	return 0
}

// faultsCLI parses the flags of the fault-and-load run, runs it and prints
// its result. It returns 1 when a check failed.
func faultsCLI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench -faults", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := defaultFaultOptions()
	fs.Bool("faults", true, "run the fault-and-load run (this mode)")
	fs.DurationVar(&o.Duration, "duration", o.Duration, "how long clients start requests")
	fs.IntVar(&o.Clients, "clients", o.Clients, "concurrent clients, half streaming")
	fs.IntVar(&o.Slow, "slow", o.Slow, "slow unauthenticated clients trickling request bodies without a token")
	fs.IntVar(&o.SlowAuth, "slow-auth", o.SlowAuth, "slow authenticated clients trickling bodies and reading slowly")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "a client's patience: how long one request may take")
	only := fs.String("fault", "all", "faults to inject, one account each: all, none, or a comma-separated list of "+faultNames())
	quick := fs.Bool("quick", false, "short form for CI: -duration 8s -clients 50 -slow 30 -slow-auth 2 -timeout 15s (flags given explicitly win)")
	fs.StringVar(&o.MaxRouter, "maxrouter", "", "maxrouter binary to run (default: build one with -tags headless from this repository)")
	fs.StringVar(&o.DaemonLog, "daemon-log", "", "copy the daemon's log to this file at the end")
	asJSON := fs.Bool("json", false, "print the result as JSON instead of markdown")
	render := fs.String("render", "", "print a result saved with -faults -json as markdown, and run nothing")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./core/bench -faults [-duration D] [-clients N] [-slow N] [-slow-auth N] [-timeout D] [-fault KINDS] [-quick] [-maxrouter PATH] [-daemon-log FILE] [-json | -render FILE]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	if *render != "" {
		return renderFaultFile(*render, stdout, stderr)
	}
	if *quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		q := quickFaultOptions()
		if !set["duration"] {
			o.Duration = q.Duration
		}
		if !set["clients"] {
			o.Clients = q.Clients
		}
		if !set["slow"] {
			o.Slow = q.Slow
		}
		if !set["slow-auth"] {
			o.SlowAuth = q.SlowAuth
		}
		if !set["timeout"] {
			o.Timeout = q.Timeout
		}
	}
	var err error
	if o.Faults, err = parseFaults(*only); err != nil {
		fmt.Fprintln(stderr, "bench -faults: -fault:", err)
		return 2
	}
	if o.Duration <= 0 || o.Timeout <= 0 || o.Clients < 1 || o.Slow < 0 || o.SlowAuth < 0 {
		fmt.Fprintln(stderr, "bench -faults: -duration and -timeout must be above 0, -clients at least 1, -slow and -slow-auth not negative")
		return 2
	}
	o.Command = commandLine(args)
	o.Progress = stderr
	res, err := runFaults(ctx, o)
	if err != nil {
		fmt.Fprintln(stderr, "bench -faults:", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fmt.Fprintln(stderr, "bench -faults:", err)
			return 1
		}
	} else {
		writeFaultMarkdown(stdout, res)
	}
	if !res.passed() {
		return 1
	}
	return 0
}

// renderFaultFile prints the markdown of a fault run saved with -json.
func renderFaultFile(path string, stdout, stderr io.Writer) int {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(stderr, "bench -faults:", err)
		return 1
	}
	var res FaultResult
	if err := json.Unmarshal(b, &res); err != nil || len(res.Requests) == 0 {
		fmt.Fprintf(stderr, "bench -faults: %s is not a result of -faults -json (%v)\n", path, err)
		return 1
	}
	res.Checks = faultChecks(&res)
	writeFaultMarkdown(stdout, &res)
	return 0
}

// renderFile prints the markdown of a result saved with -json.
func renderFile(path string, stdout, stderr io.Writer) int {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	var res Result
	if err := json.Unmarshal(b, &res); err != nil {
		fmt.Fprintf(stderr, "bench: reading %s: %v\n", path, err)
		return 1
	}
	res.Verdicts = verdicts(&res) // judged by this version's targets
	writeMarkdown(stdout, &res)
	return 0
}

// commandLine is the command that reproduces this run, for the report
// (-json changes only the output's format and is left out).
func commandLine(args []string) string {
	s := "go run ./core/bench"
	for _, a := range args {
		if a != "-json" && a != "--json" {
			s += " " + a
		}
	}
	return s
}

// options configure one benchmark run.
type options struct {
	Rounds   int
	Duration time.Duration
	// Warmup runs unmeasured before each measured round of a target.
	Warmup time.Duration
	// Idle is how long the daemon rests after its first request before its
	// idle memory is read.
	Idle time.Duration
	// MaxRouter is the daemon binary; "" builds one into the work dir.
	MaxRouter string
	// Command is shown in the report.
	Command string
	// Only keeps the rows whose short name starts with it ("" = all).
	Only string
	// Repeats bounds how often a disturbed measurement is run again.
	Repeats int
	// Progress receives one line per row and round; nil discards them.
	Progress io.Writer
}

func defaultOptions() options {
	return options{Rounds: 5, Duration: 2 * time.Second, Warmup: 200 * time.Millisecond, Idle: 2 * time.Second, Repeats: 2}
}

// quick returns o shortened for a smoke run.
func (o options) quick() options {
	o.Rounds, o.Duration, o.Warmup, o.Idle, o.Repeats = 1, 300*time.Millisecond, 50*time.Millisecond, 300*time.Millisecond, 0
	return o
}
