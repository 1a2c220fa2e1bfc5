package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Result is one benchmark run, as -json prints it.
type Result struct {
	Command  string `json:"command"`
	Rounds   int    `json:"rounds"`
	Duration string `json:"duration"` // measured time per target per round
	Go       string `json:"go"`
	CPUs     int    `json:"cpus"`
	// LoadAvg and LoadAvgEnd are the 1, 5 and 15-minute load averages
	// when it started and ended.
	LoadAvg    string `json:"loadavg"`
	LoadAvgEnd string `json:"loadavg_end"`
	// OtherCPU is how many cores other processes of the machine used on
	// average while the rows ran (the benchmark and its helpers excluded).
	OtherCPU float64 `json:"other_cpu_cores"`
	// Repeated counts measurements run again because other processes used
	// more than 0.1 cores meanwhile; Disturbed those kept all the same
	// (after two repeats).
	Repeated  int    `json:"repeated"`
	Disturbed int    `json:"disturbed"`
	Started   string `json:"started"`
	Finished  string `json:"finished"`
	Rows      []Row  `json:"rows"`
	// Procs are the helper processes: upstream, relay, plain, maxrouter.
	Procs    []Proc    `json:"procs"`
	Verdicts []Verdict `json:"verdicts"`
}

// Row is one line of the matrix with its result per target.
type Row struct {
	Name      string   `json:"name"`
	Stream    bool     `json:"stream"`
	Paced     bool     `json:"paced"`
	Clients   int      `json:"clients"`
	BodyBytes int      `json:"body_bytes"`
	Targets   []Target `json:"targets"` // direct, TCP relay, plain ReverseProxy, MaxRouter
}

// Target is the result of one target in a row. Latencies and rates are
// medians across rounds of each round's value; CPU per request is the
// process's CPU time over all rounds divided by their requests.
type Target struct {
	Target    string  `json:"target"`
	Requests  int     `json:"requests"` // over all rounds
	Errors    int     `json:"errors"`
	FirstErr  string  `json:"first_error,omitempty"`
	RPS       float64 `json:"rps"`
	RPSMin    float64 `json:"rps_min"` // the slowest and fastest round
	RPSMax    float64 `json:"rps_max"`
	PctDirect float64 `json:"pct_of_direct"`
	// P50 and P99 are the time to the full answer (streams: to the last
	// event), in milliseconds.
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
	// FirstP50 and FirstP99 are the time to the first event (streams).
	FirstP50 float64 `json:"first_p50_ms,omitempty"`
	FirstP99 float64 `json:"first_p99_ms,omitempty"`
	// AddedP50 is P50 minus direct's; AddedFirstP50 the same for the
	// first event.
	AddedP50      float64 `json:"added_p50_ms"`
	AddedFirstP50 float64 `json:"added_first_p50_ms,omitempty"`
	// EventP50 and EventP99 are how long an event took from the fake's
	// write to the client (paced streams); Added* subtract direct's.
	EventP50      float64 `json:"event_p50_ms,omitempty"`
	EventP99      float64 `json:"event_p99_ms,omitempty"`
	AddedEventP50 float64 `json:"added_event_p50_ms,omitempty"`
	AddedEventP99 float64 `json:"added_event_p99_ms,omitempty"`
	// ProxyCPU is the proxy process's CPU per request in microseconds (0
	// for direct); UpstreamCPU the fake's.
	ProxyCPU    float64 `json:"proxy_cpu_us_per_req"`
	UpstreamCPU float64 `json:"upstream_cpu_us_per_req"`
}

// Proc is the memory and CPU of one helper process.
type Proc struct {
	Name       string  `json:"name"`
	IdleRSS    int64   `json:"idle_rss_bytes"` // after start, one request and a rest
	RSS        int64   `json:"rss_bytes"`      // after the run
	PeakRSS    int64   `json:"peak_rss_bytes"` // VmHWM
	CPUSeconds float64 `json:"cpu_seconds"`    // over the whole run
}

// Verdict is one performance target checked against the run.
type Verdict struct {
	Target string `json:"target"`
	Pass   bool   `json:"pass"`
	Detail string `json:"detail"`
}

// target is the result of the target called name in r, and whether r has
// it (runs saved before the TCP relay was measured do not).
func (r Row) target(name string) (Target, bool) {
	for _, t := range r.Targets {
		if t.Target == name {
			return t, true
		}
	}
	return Target{}, false
}

func (r *Result) proc(name string) *Proc {
	for i := range r.Procs {
		if r.Procs[i].Name == name {
			return &r.Procs[i]
		}
	}
	r.Procs = append(r.Procs, Proc{Name: name})
	return &r.Procs[len(r.Procs)-1]
}

// round is one measured run of one target.
type round struct {
	load
	proxyCPU, upstreamCPU time.Duration
	otherCPU              float64 // cores other processes used meanwhile
}

// summarise turns the rounds of a row into its result.
func summarise(r row, targets []*target, rounds map[string][]round) Row {
	out := Row{Name: r.String(), Stream: r.Stream, Paced: r.Paced, Clients: r.Clients, BodyBytes: len(r.body())}
	for _, t := range targets {
		var res Target
		res.Target = t.name
		var rps, p50, p99, f50, f99, e50, e99 []float64
		var pcpu, ucpu time.Duration
		ok := 0
		for _, rd := range rounds[t.name] {
			res.Requests += rd.requests
			res.Errors += rd.errors
			if res.FirstErr == "" {
				res.FirstErr = rd.firstErr
			}
			pcpu += rd.proxyCPU
			ucpu += rd.upstreamCPU
			ok += rd.requests - rd.errors
			rps = append(rps, float64(rd.requests-rd.errors)/rd.elapsed.Seconds())
			total := make([]time.Duration, len(rd.samples))
			first := make([]time.Duration, len(rd.samples))
			for i, s := range rd.samples {
				total[i], first[i] = s.total, s.first
			}
			if len(total) > 0 {
				p50 = append(p50, ms(quantile(total, 0.5)))
				p99 = append(p99, ms(quantile(total, 0.99)))
				f50 = append(f50, ms(quantile(first, 0.5)))
				f99 = append(f99, ms(quantile(first, 0.99)))
			}
			if len(rd.delays) > 0 {
				e50 = append(e50, ms(quantile(rd.delays, 0.5)))
				e99 = append(e99, ms(quantile(rd.delays, 0.99)))
			}
		}
		res.RPS = median(rps)
		if len(rps) > 0 {
			res.RPSMin, res.RPSMax = slices.Min(rps), slices.Max(rps)
		}
		res.P50, res.P99 = median(p50), median(p99)
		if r.Stream {
			res.FirstP50, res.FirstP99 = median(f50), median(f99)
		}
		res.EventP50, res.EventP99 = median(e50), median(e99)
		if ok > 0 {
			res.ProxyCPU = float64(pcpu.Microseconds()) / float64(ok)
			res.UpstreamCPU = float64(ucpu.Microseconds()) / float64(ok)
		}
		out.Targets = append(out.Targets, res)
	}
	d := out.Targets[0] // direct
	for i := range out.Targets {
		t := &out.Targets[i]
		if d.RPS > 0 {
			t.PctDirect = 100 * t.RPS / d.RPS
		}
		t.AddedP50 = t.P50 - d.P50
		if r.Stream {
			t.AddedFirstP50 = t.FirstP50 - d.FirstP50
		}
		if r.Paced {
			t.AddedEventP50, t.AddedEventP99 = t.EventP50-d.EventP50, t.EventP99-d.EventP99
		}
	}
	return out
}

// quantile is the nearest-rank q-quantile of ds (sorted in place).
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(q*float64(len(ds))+0.5) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

// median is the median of xs (0 when empty).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// The performance targets.
const (
	maxAddedP50     = 0.2  // ms, at 1 client
	minStreamPct    = 90.0 // % of direct, streaming at 64 clients
	maxEventDelay   = 2.0  // ms added per event
	maxCPUSmall     = 150  // µs per small request
	maxIdleRSSBytes = 20e6 // 20 MB
)

// verdicts checks the targets of the issue against a run.
func verdicts(res *Result) []Verdict {
	var vs []Verdict
	add := func(target string, pass bool, detail string) {
		vs = append(vs, Verdict{Target: target, Pass: pass, Detail: detail})
	}
	mr := func(r Row) Target { t, _ := r.target(targetMaxRouter); return t }
	// floor lists what the TCP relay, which understands no HTTP, reached on
	// the same rows: the least any proxy costs on this machine.
	floor := func(parts []string) string {
		if len(parts) == 0 {
			return ""
		}
		return "; a TCP relay with no HTTP: " + strings.Join(parts, ", ")
	}

	// 1. Added median latency at 1 client.
	pass, worst, where := true, -1e9, ""
	var parts, relay []string
	for _, r := range res.Rows {
		if r.Clients != 1 {
			continue
		}
		added := func(t Target) float64 {
			if r.Stream {
				return t.AddedFirstP50
			}
			return t.AddedP50
		}
		a := added(mr(r))
		parts = append(parts, fmt.Sprintf("%s %+.3f", shortName(r), a))
		if t, ok := r.target(targetRelay); ok {
			relay = append(relay, fmt.Sprintf("%s %+.3f", shortName(r), added(t)))
		}
		if a > maxAddedP50 {
			pass = false
		}
		if a > worst {
			worst, where = a, shortName(r)
		}
	}
	if len(parts) > 0 {
		add(fmt.Sprintf("added median latency at 1 client ≤ %.1f ms (streams: to the first event)", maxAddedP50), pass,
			fmt.Sprintf("worst %+.3f ms (%s); %s%s", worst, where, strings.Join(parts, ", "), floor(relay)))
	}

	// 2. MaxRouter at or above the plain ReverseProxy on every row.
	pass, parts = true, nil
	var fails []string
	for _, r := range res.Rows {
		if r.Paced {
			continue // throughput set by the pace; judged by event delay
		}
		p, _ := r.target(targetPlain)
		m := mr(r)
		parts = append(parts, fmt.Sprintf("%s %.0f%%", shortName(r), 100*m.RPS/p.RPS))
		if m.RPS < p.RPS {
			pass = false
			fails = append(fails, fmt.Sprintf("%s (rounds: plain %.0f–%.0f/s, MaxRouter %.0f–%.0f/s)", shortName(r), p.RPSMin, p.RPSMax, m.RPSMin, m.RPSMax))
		}
	}
	detail := "MaxRouter throughput as % of plain: " + strings.Join(parts, ", ")
	if len(fails) > 0 {
		detail += "; below on " + strings.Join(fails, ", ")
	}
	if len(parts) > 0 {
		add("MaxRouter throughput at or above the plain ReverseProxy on every row", pass, detail)
	}

	// 3. Streaming at 64 clients: throughput and per-event delay.
	pass, parts, relay = true, nil, nil
	for _, r := range res.Rows {
		if !r.Stream || r.Paced || r.Clients != 64 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.1f%%", shortName(r), mr(r).PctDirect))
		if t, ok := r.target(targetRelay); ok {
			relay = append(relay, fmt.Sprintf("%s %.1f%%", shortName(r), t.PctDirect))
		}
		if mr(r).PctDirect < minStreamPct {
			pass = false
		}
	}
	if len(parts) > 0 {
		add(fmt.Sprintf("streaming at 64 clients ≥ %.0f%% of direct", minStreamPct), pass, strings.Join(parts, ", ")+floor(relay))
	}
	for _, r := range res.Rows {
		if !r.Paced || r.Clients != 64 {
			continue
		}
		m, d := mr(r), r.Targets[0]
		relay = nil
		if t, ok := r.target(targetRelay); ok {
			relay = []string{fmt.Sprintf("median %+.3f ms, p99 %+.3f ms", t.AddedEventP50, t.AddedEventP99)}
		}
		add(fmt.Sprintf("events forwarded with < %.0f ms added delay (64 clients, %s between events)", maxEventDelay, pace), m.AddedEventP50 < maxEventDelay && m.AddedEventP99 < maxEventDelay,
			fmt.Sprintf("added per event: median %+.3f ms, p99 %+.3f ms (direct: median %.3f, p99 %.3f)%s", m.AddedEventP50, m.AddedEventP99, d.EventP50, d.EventP99, floor(relay)))
	}

	// 4. Proxy CPU per small request.
	pass, parts, relay = true, nil, nil
	for _, r := range res.Rows {
		if r.Stream || r.BodyBytes >= bigBody {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.0f µs", shortName(r), mr(r).ProxyCPU))
		if t, ok := r.target(targetRelay); ok {
			relay = append(relay, fmt.Sprintf("%s %.0f µs", shortName(r), t.ProxyCPU))
		}
		if mr(r).ProxyCPU > maxCPUSmall {
			pass = false
		}
	}
	if len(parts) > 0 {
		add(fmt.Sprintf("proxy CPU ≤ %d µs per small request", maxCPUSmall), pass, strings.Join(parts, ", ")+floor(relay))
	}

	// 5. Idle memory of the daemon.
	for _, p := range res.Procs {
		if p.Name == "maxrouter" {
			add(fmt.Sprintf("daemon idle RSS < %.0f MB", maxIdleRSSBytes/1e6), float64(p.IdleRSS) < maxIdleRSSBytes, fmt.Sprintf("%.1f MB", float64(p.IdleRSS)/1e6))
		}
	}
	return vs
}

// shortName names a row compactly for verdict lines.
func shortName(r Row) string {
	return row{Stream: r.Stream, Paced: r.Paced, Clients: r.Clients, Body: r.BodyBytes}.short()
}

// short names a row compactly: non-stream/64c/small.
func (r row) short() string {
	kind := "non-stream"
	switch {
	case r.Paced:
		kind = "paced"
	case r.Stream:
		kind = "stream"
	}
	size := "small"
	if r.Body >= bigBody {
		size = "64KiB"
	}
	return fmt.Sprintf("%s/%dc/%s", kind, r.Clients, size)
}

// writeMarkdown prints the result as markdown tables for the README,
// followed by the verdicts.
func writeMarkdown(w io.Writer, res *Result) {
	fmt.Fprintf(w, "`%s` — %d round(s) × %s per target per row, targets interleaved; %d CPUs, %s; other processes used %.2f cores on average during the run; %d measurement(s) repeated because other processes disturbed them, %d kept disturbed.\n\n",
		res.Command, res.Rounds, res.Duration, res.CPUs, res.Go, res.OtherCPU, res.Repeated, res.Disturbed)

	kind := func(stream, paced bool) []Row {
		var out []Row
		for _, r := range res.Rows {
			if r.Stream == stream && r.Paced == paced {
				out = append(out, r)
			}
		}
		return out
	}
	if rs := kind(false, false); len(rs) > 0 {
		fmt.Fprintln(w, "Non-streaming (latency: time to the full answer):")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| clients | body | target | req/s | % of direct | p50 ms | p99 ms | added p50 ms | proxy CPU µs/req | errors |")
		fmt.Fprintln(w, "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
	}
	for _, r := range kind(false, false) {
		for _, t := range r.Targets {
			fmt.Fprintf(w, "| %d | %s | %s | %.0f | %s | %.3f | %.3f | %s | %s | %d |\n",
				r.Clients, sizeName(r.BodyBytes), t.Target, t.RPS, pct(t), t.P50, t.P99, added(t, t.AddedP50), cpu(t), t.Errors)
		}
	}

	if rs := kind(true, false); len(rs) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "Streaming (%d SSE events per answer, sent back to back):\n\n", wantEvents)
		fmt.Fprintln(w, "| clients | body | target | streams/s | % of direct | first event p50 ms | last event p50 ms | last event p99 ms | added first / last p50 ms | proxy CPU µs/stream | errors |")
		fmt.Fprintln(w, "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	}
	for _, r := range kind(true, false) {
		for _, t := range r.Targets {
			a := "–"
			if t.Target != targetDirect {
				a = fmt.Sprintf("%+.3f / %+.3f", t.AddedFirstP50, t.AddedP50)
			}
			fmt.Fprintf(w, "| %d | %s | %s | %.0f | %s | %.3f | %.3f | %.3f | %s | %s | %d |\n",
				r.Clients, sizeName(r.BodyBytes), t.Target, t.RPS, pct(t), t.FirstP50, t.P50, t.P99, a, cpu(t), t.Errors)
		}
	}

	if rs := kind(true, true); len(rs) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "Paced streaming (%d events, %s apart; delay: from the fake's write of an event to the client reading it):\n\n", wantEvents, pace)
		fmt.Fprintln(w, "| clients | target | streams/s | event delay p50 ms | event delay p99 ms | added p50 ms | added p99 ms | proxy CPU µs/stream | errors |")
		fmt.Fprintln(w, "|---:|---|---:|---:|---:|---:|---:|---:|---:|")
	}
	for _, r := range kind(true, true) {
		for _, t := range r.Targets {
			a50, a99 := "–", "–"
			if t.Target != targetDirect {
				a50, a99 = fmt.Sprintf("%+.3f", t.AddedEventP50), fmt.Sprintf("%+.3f", t.AddedEventP99)
			}
			fmt.Fprintf(w, "| %d | %s | %.0f | %.3f | %.3f | %s | %s | %s | %d |\n",
				r.Clients, t.Target, t.RPS, t.EventP50, t.EventP99, a50, a99, cpu(t), t.Errors)
		}
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "Processes (RSS in MB = 10⁶ bytes; idle: after start, one request and a rest):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| process | idle RSS | RSS after the run | peak RSS | CPU s over the run |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
	for _, p := range res.Procs {
		name := map[string]string{"upstream": "fake upstream", "relay": targetRelay + " (no HTTP)", "plain": targetPlain, "maxrouter": "MaxRouter daemon"}[p.Name]
		fmt.Fprintf(w, "| %s | %.1f | %.1f | %.1f | %.1f |\n", name, mb(p.IdleRSS), mb(p.RSS), mb(p.PeakRSS), p.CPUSeconds)
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "Targets:")
	fmt.Fprintln(w)
	for _, v := range res.Verdicts {
		mark := "PASS"
		if !v.Pass {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "- **%s** %s: %s\n", mark, v.Target, v.Detail)
	}
	for _, r := range res.Rows {
		for _, t := range r.Targets {
			if t.Errors > 0 {
				fmt.Fprintf(w, "\nErrors: %s via %s: %d of %d requests failed, first: %s\n", r.Name, t.Target, t.Errors, t.Requests, t.FirstErr)
			}
		}
	}
}

func pct(t Target) string {
	if t.Target == targetDirect {
		return "100%"
	}
	return fmt.Sprintf("%.1f%%", t.PctDirect)
}

func added(t Target, v float64) string {
	if t.Target == targetDirect {
		return "–"
	}
	return fmt.Sprintf("%+.3f", v)
}

func cpu(t Target) string {
	if t.Target == targetDirect {
		return "–"
	}
	return fmt.Sprintf("%.0f", t.ProxyCPU)
}

func mb(b int64) float64 { return float64(b) / 1e6 }
