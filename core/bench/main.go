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
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
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

// cli parses the flags, runs the benchmark and prints its result.
func cli(ctx context.Context, args []string, stdout, stderr io.Writer) int {
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
