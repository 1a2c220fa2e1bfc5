package main

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FaultResult is one fault-and-load run, as -faults -json prints it.
type FaultResult struct {
	Command string `json:"command"`
	Go      string `json:"go"`
	CPUs    int    `json:"cpus"`
	Started string `json:"started"`
	// Duration is how long clients started requests; Timeout a client's
	// patience per request.
	Duration   string   `json:"duration"`
	Timeout    string   `json:"client_timeout"`
	Clients    int      `json:"clients"`
	SlowUnauth int      `json:"slow_unauthenticated_clients"`
	SlowAuth   int      `json:"slow_authenticated_clients"`
	Faults     []string `json:"faults"`

	// Requests has a row per kind of request, then one for all of them
	// (whose latencies leave out the slow clients').
	Requests []RequestRow `json:"requests"`
	// FailuresWhileHealthy counts client-visible failures (an answer other
	// than 200, a broken or stalled stream, no answer within the client
	// timeout) while an account that answers every request was configured:
	// in this run that is all of them but the excused ones.
	FailuresWhileHealthy int `json:"failures_while_healthy"`
	// Excused counts streams that ended in the fake's injected
	// `event: error` after content had reached the client: no proxy can
	// retry those, they are the upstream's answer passed on.
	Excused int `json:"excused"`
	// Causes breaks the failures (and the excused) down by cause and by
	// what the client saw.
	Causes []CauseRow `json:"causes"`
	// Accounts is what each account's kind saw, from the fake upstream and
	// the daemon.
	Accounts []KindRow `json:"accounts"`
	// Failovers is the growth of the daemon's maxrouter_failovers_total;
	// RouterErrors of maxrouter_router_errors_total, by status.
	Failovers    int64            `json:"failovers"`
	RouterErrors map[string]int64 `json:"router_errors"`

	Flood  floodStats  `json:"slow_unauthenticated"`
	Health healthStats `json:"health"`
	Token  TokenResult `json:"token_endpoint"`
	// Daemon is the daemon's memory and open descriptors after start,
	// at the peak of the run, and after it.
	Daemon struct {
		Before footprint `json:"before"`
		Peak   footprint `json:"peak"`
		After  footprint `json:"after"`
	} `json:"daemon"`
	// DaemonExited says how the daemon ended, when it did during the run.
	DaemonExited string    `json:"daemon_exited,omitempty"`
	Checks       []Verdict `json:"checks"`
}

// RequestRow counts one kind of request; latencies are those of complete
// answers (to the last byte), in milliseconds.
type RequestRow struct {
	Kind     string  `json:"kind"`
	Requests int     `json:"requests"`
	OK       int     `json:"ok"`
	Failed   int     `json:"failed"`
	Excused  int     `json:"excused"`
	P50      float64 `json:"p50_ms"`
	P99      float64 `json:"p99_ms"`
	Max      float64 `json:"max_ms"`
}

// CauseRow counts the failures of one cause that the client saw alike.
type CauseRow struct {
	// Cause is the kind of the last account the daemon tried for the
	// request, as the fake saw it, or why there is none.
	Cause string `json:"cause"`
	// Example is what the client saw of the first such failure and the
	// daemon's attempts for it upstream.
	Failure string `json:"failure"`
	Count   int    `json:"count"`
	// WaitP50 and WaitMax are how long the client waited until it saw
	// the failure, in milliseconds.
	WaitP50 float64 `json:"wait_p50_ms"`
	WaitMax float64 `json:"wait_max_ms"`
	Example string  `json:"example,omitempty"`
	Excused bool    `json:"excused,omitempty"`
}

// KindRow is what the account of one kind saw during the run.
type KindRow struct {
	Kind  string `json:"kind"`
	About string `json:"about"`
	// Attempts, FailedOver and Last are the fake's counts (see kindCount).
	Attempts   int `json:"attempts"`
	FailedOver int `json:"failed_over"`
	Last       int `json:"last"`
	// Statuses are the daemon's upstream answers for the account by
	// status (0 = no answer), e.g. "429×12 0×3".
	Statuses string `json:"daemon_statuses"`
	// Failures counts the client-visible failures with this cause.
	Failures int `json:"client_failures"`
	// State is the account's state at the end, with its reason.
	State string `json:"state_at_end"`
}

// TokenResult is what the hanging token endpoint saw.
type TokenResult struct {
	Requests int `json:"requests"`
	// Waiting counts requests still held when the run ended.
	Waiting int `json:"waiting_at_end"`
	// DaemonRefreshes is the growth of maxrouter_token_refreshes_total.
	DaemonRefreshes int64 `json:"daemon_refreshes"`
}

// Causes that are no account's kind.
const (
	causeNotSent   = "never reached the upstream (waiting inside the daemon)"
	causeNoPending = "no upstream request pending (waiting inside the daemon)"
)

// cause names why a request failed the way fail says, from the kinds of
// the accounts the daemon tried for it (in order).
func cause(fail string, attempts []attempt) string {
	if len(attempts) == 0 {
		return causeNotSent
	}
	last := attempts[len(attempts)-1].Kind
	if fail == failNoAnswer && last != kindHang {
		// The last account answered (or failed) at once, and yet the
		// client heard nothing: the daemon was waiting on something else.
		return causeNoPending
	}
	return last
}

// example describes one failure for the report: what the client saw and
// the daemon's attempts upstream, with the time the fake took over each.
func example(oc outcome, attempts []attempt) string {
	var parts []string
	for _, a := range attempts {
		took := "still open"
		if a.MS >= 0 {
			took = fmt.Sprintf("%.2fs", a.MS/1000)
		}
		parts = append(parts, a.Kind+" "+took)
	}
	s := oc.Detail
	if len(parts) > 0 {
		s = strings.TrimPrefix(s+"; ", "; ") + "attempts: " + strings.Join(parts, ", ")
	}
	return s
}

// summariseFaults turns what a run collected into its result.
func summariseFaults(o faultOptions, raw *faultRaw) *FaultResult {
	res := &FaultResult{
		Duration: o.Duration.String(), Timeout: o.Timeout.String(),
		Clients: o.Clients, SlowUnauth: o.Slow, SlowAuth: o.SlowAuth,
		Faults: append([]string{}, o.Faults...), Flood: raw.flood, Health: raw.health,
	}
	res.Daemon.Before, res.Daemon.Peak, res.Daemon.After = raw.before, raw.peak, raw.after
	res.DaemonExited = raw.exited

	type causeKey struct{ cause, failure string }
	causes := map[causeKey]*CauseRow{}
	waits := map[causeKey][]time.Duration{}
	byCause := map[string]int{}
	rows := map[string]*RequestRow{}
	lat := map[string][]time.Duration{}
	all := &RequestRow{Kind: "all"}
	for _, oc := range raw.outcomes {
		r := rows[oc.Kind]
		if r == nil {
			r = &RequestRow{Kind: oc.Kind}
			rows[oc.Kind] = r
		}
		r.Requests++
		all.Requests++
		if oc.Fail == "" {
			r.OK++
			all.OK++
			lat[oc.Kind] = append(lat[oc.Kind], oc.Latency)
			if oc.Kind != reqSlow { // slow by design
				lat[all.Kind] = append(lat[all.Kind], oc.Latency)
			}
			continue
		}
		c := cause(oc.Fail, raw.upstream.Attempts[oc.ID])
		// Once a stream's first bytes reached the client, no proxy can
		// retry it: an `event: error` after content, and a silent stream
		// the daemon cut (its read broke before the client gave up), are
		// what the client must then see. A silent stream the client had to
		// give up on is a failure: the daemon should have cut it.
		excused := (oc.Fail == failErrorContent && c == kindMidError) || (oc.Fail == failConn && c == kindSilent)
		k := causeKey{c, oc.Fail}
		cr := causes[k]
		if cr == nil {
			cr = &CauseRow{Cause: c, Failure: oc.Fail, Example: example(oc, raw.upstream.Attempts[oc.ID]), Excused: excused}
			causes[k] = cr
		}
		cr.Count++
		waits[k] = append(waits[k], oc.Latency)
		if excused {
			r.Excused++
			all.Excused++
			res.Excused++
			continue
		}
		r.Failed++
		all.Failed++
		res.FailuresWhileHealthy++
		byCause[c]++
	}
	for _, kind := range []string{reqStream, reqNonStream, reqSlow} {
		if r := rows[kind]; r != nil {
			res.Requests = append(res.Requests, *r)
		}
	}
	res.Requests = append(res.Requests, *all)
	for i := range res.Requests {
		r := &res.Requests[i]
		ds := lat[r.Kind]
		r.P50, r.P99 = ms(quantile(ds, 0.5)), ms(quantile(ds, 0.99))
		if len(ds) > 0 {
			r.Max = ms(slices.Max(ds))
		}
	}
	for k, cr := range causes {
		cr.WaitP50, cr.WaitMax = ms(quantile(waits[k], 0.5)), ms(slices.Max(waits[k]))
		res.Causes = append(res.Causes, *cr)
	}
	slices.SortFunc(res.Causes, func(a, b CauseRow) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Cause, b.Cause), cmp.Compare(a.Failure, b.Failure))
	})

	states := map[string]string{}
	for _, a := range raw.accounts {
		s := a.State
		if why := cmp.Or(a.Reason, a.LastError); why != "" {
			s += ": " + why
		}
		states[a.Name] = s
	}
	for _, kc := range raw.upstream.Kinds {
		if kc.Kind == kindOther && kc.Attempts == 0 {
			continue
		}
		about := "answers every request"
		if f, ok := faultNamed(kc.Kind); ok {
			about = f.about
		} else if kc.Kind == kindOther {
			about = "a token the fake does not know (e.g. one the daemon refreshed)"
		}
		res.Accounts = append(res.Accounts, KindRow{
			Kind: kc.Kind, About: about, Attempts: kc.Attempts, FailedOver: kc.FailedOver, Last: kc.Last,
			Statuses: raw.m1.statuses(raw.m0, kc.Kind), Failures: byCause[kc.Kind], State: states[kc.Kind],
		})
	}

	res.Failovers = int64(raw.m1.failovers - raw.m0.failovers)
	res.RouterErrors = map[string]int64{}
	for k, v := range raw.m1.routerErrors {
		if d := int64(v - raw.m0.routerErrors[k]); d > 0 {
			res.RouterErrors[k] = d
		}
	}
	res.Token = TokenResult{Requests: raw.upstream.TokenRequests, Waiting: raw.upstream.TokenWaiting}
	for k, v := range raw.m1.refreshes {
		res.Token.DaemonRefreshes += int64(v - raw.m0.refreshes[k])
	}
	res.Checks = faultChecks(res)
	return res
}

// faultChecks judges a run: it passes when every check does.
func faultChecks(res *FaultResult) []Verdict {
	var vs []Verdict
	add := func(target string, pass bool, detail string) {
		vs = append(vs, Verdict{Target: target, Pass: pass, Detail: detail})
	}
	all := res.Requests[len(res.Requests)-1]
	detail := fmt.Sprintf("%d of %d requests failed", res.FailuresWhileHealthy, all.Requests)
	if res.DaemonExited != "" {
		detail += "; the daemon exited during the run: " + res.DaemonExited
	}
	add("no client-visible failure while a healthy account existed", res.FailuresWhileHealthy == 0 && res.DaemonExited == "" && all.Requests > 0, detail)
	h := res.Health
	detail = fmt.Sprintf("%d probes, slowest %.1f ms, %d not answered 200 within %s", h.Probes, h.MaxMS, h.Slow, healthWithin)
	if h.FirstProblem != "" {
		detail += " (first: " + h.FirstProblem + ")"
	}
	add(fmt.Sprintf("/health answers within %s throughout", healthWithin), h.Probes > 0 && h.Slow == 0, detail)
	if res.SlowUnauth > 0 {
		fl := res.Flood
		late := fl.AnsweredLate + fl.CutOffLate + fl.Waiting
		add(fmt.Sprintf("slow unauthenticated clients are answered or cut off within %s", slowWithin), late == 0 && fl.Conns > 0,
			fmt.Sprintf("%d of %d connections were not (answered later: %d, cut off later: %d, still waiting at the end: %d); longest wait %.1f s",
				late, fl.Conns, fl.AnsweredLate, fl.CutOffLate, fl.Waiting, fl.MaxWait/1000))
	}
	return vs
}

// passed reports whether every check passed.
func (res *FaultResult) passed() bool {
	for _, v := range res.Checks {
		if !v.Pass {
			return false
		}
	}
	return true
}

// daemonMetrics are the counters of the daemon's /metrics a run compares.
type daemonMetrics struct {
	failovers    float64
	upstream     map[[2]string]float64 // account, status → requests
	routerErrors map[string]float64    // status → answers
	refreshes    map[string]float64    // account → refreshes
}

// parseMetrics reads the counters a run uses from Prometheus text.
func parseMetrics(r io.Reader) daemonMetrics {
	m := daemonMetrics{upstream: map[[2]string]float64{}, routerErrors: map[string]float64{}, refreshes: map[string]float64{}}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		name, labels, _ := strings.Cut(line[:i], "{")
		l := parseLabels(strings.TrimSuffix(labels, "}"))
		switch name {
		case "maxrouter_failovers_total":
			m.failovers = v
		case "maxrouter_upstream_requests_total":
			m.upstream[[2]string{l["account"], l["status"]}] = v
		case "maxrouter_router_errors_total":
			m.routerErrors[l["status"]] = v
		case "maxrouter_token_refreshes_total":
			m.refreshes[l["account"]] = v
		}
	}
	return m
}

// parseLabels reads `a="x",b="y"` (label values hold no quotes here).
func parseLabels(s string) map[string]string {
	out := map[string]string{}
	for s != "" {
		k, rest, ok := strings.Cut(s, `="`)
		if !ok {
			break
		}
		v, rest, _ := strings.Cut(rest, `"`)
		out[strings.TrimSpace(k)] = v
		s = strings.TrimPrefix(rest, ",")
	}
	return out
}

// statuses lists how account's upstream answers grew since before, by
// status: "200×5 429×2".
func (m daemonMetrics) statuses(before daemonMetrics, account string) string {
	counts := map[string]int64{}
	for k, v := range m.upstream {
		if k[0] == account {
			if d := int64(v - before.upstream[k]); d > 0 {
				counts[k[1]] = d
			}
		}
	}
	return countList(counts)
}

// countList formats counts by key as "k×n", sorted by key.
func countList[K cmp.Ordered](counts map[K]int64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%v×%d", k, counts[k]))
	}
	if len(parts) == 0 {
		return "–"
	}
	return strings.Join(parts, " ")
}

// writeFaultMarkdown prints a fault run as markdown, checks last.
func writeFaultMarkdown(w io.Writer, res *FaultResult) {
	fmt.Fprintf(w, "`%s` — %s of %d clients (half streaming, %s pause between requests), %d slow unauthenticated and %d slow authenticated clients alongside; client timeout %s; faults: %s; %d CPUs, %s.\n\n",
		res.Command, res.Duration, res.Clients, think, res.SlowUnauth, res.SlowAuth, res.Timeout, faultList(res.Faults), res.CPUs, res.Go)

	fmt.Fprintln(w, "Accounts (attempts, failed over, last: the fake upstream's count of the daemon's requests on the account, of those after which it tried another account for the same client request, and of those after which it tried none):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| account | behaviour | attempts | failed over | last | daemon's count by status | client failures caused | state at the end |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---|---:|---|")
	for _, a := range res.Accounts {
		fmt.Fprintf(w, "| %s | %s | %d | %d | %d | %s | %d | %s |\n", a.Kind, a.About, a.Attempts, a.FailedOver, a.Last, a.Statuses, a.Failures, cmp.Or(a.State, "–"))
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "Requests (latency of complete answers, to the last byte; the slow clients' left out of the line \"all\"):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| requests | count | ok | failed | excused | p50 ms | p99 ms | max ms |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range res.Requests {
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %.1f | %.1f | %.1f |\n", r.Kind, r.Requests, r.OK, r.Failed, r.Excused, r.P50, r.P99, r.Max)
	}
	all := res.Requests[len(res.Requests)-1]
	fmt.Fprintf(w, "\n**Client-visible failures while a healthy account existed: %d** of %d requests (the account `healthy` answers every request it gets, so every failure counts). Failovers (daemon's /metrics): %d. Answers the daemon made itself, by status: %s.\n",
		res.FailuresWhileHealthy, all.Requests, res.Failovers, countList(res.RouterErrors))
	if res.Excused > 0 {
		fmt.Fprintf(w, "Excused, not counted: %d streams whose first bytes had reached the client before the fake injected an `event: error` or went silent (no proxy can retry those; the daemon cut the silent ones at stream_idle_timeout).\n", res.Excused)
	}

	if len(res.Causes) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Failures by cause (the kind of the last account the daemon tried for the request, as the fake upstream saw it):")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| cause | what the client saw | count | waited p50 / max s | example |")
		fmt.Fprintln(w, "|---|---|---:|---:|---|")
		for _, c := range res.Causes {
			n := strconv.Itoa(c.Count)
			if c.Excused {
				n += " (excused)"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %.1f / %.1f | %s |\n", c.Cause, c.Failure, n, c.WaitP50/1000, c.WaitMax/1000, cell(c.Example))
		}
	}

	fmt.Fprintln(w)
	if res.SlowUnauth > 0 {
		fl := res.Flood
		fmt.Fprintf(w, "- Slow unauthenticated clients (no token; an %d KiB body trickled %d B every %s; a new connection once answered): %d connections; answered within %s: %d (by status: %s), later: %d; cut off without an answer within %s: %d, later: %d; still waiting when the run ended: %d (and %d opened in its last %s); longest wait %.1f s.\n",
			floodBody>>10, floodPiece, floodEvery, fl.Conns, slowWithin, fl.Answered, countList(statusCounts(fl.Statuses)), fl.AnsweredLate, slowWithin, fl.CutOff, fl.CutOffLate, fl.Waiting, fl.Recent, slowWithin, fl.MaxWait/1000)
	}
	h := res.Health
	fmt.Fprintf(w, "- `/health` (a new connection every %s): %d probes, slowest %.1f ms, %d not answered 200 within %s.\n", healthEvery, h.Probes, h.MaxMS, h.Slow, healthWithin)
	if slices.Contains(res.Faults, kindTokenHang) {
		fmt.Fprintf(w, "- Token endpoint (hangs): %d refresh request%s received, %d still held at the end; the daemon's token refreshes: %d.\n", res.Token.Requests, plural(res.Token.Requests), res.Token.Waiting, res.Token.DaemonRefreshes)
	}
	d := res.Daemon
	fmt.Fprintf(w, "- Daemon: RSS %.1f MB before, %.1f MB at the peak, %.1f MB after; open descriptors %d before, %d at the peak, %d after (a second after every client closed its connections; idle upstream connections stay open).\n",
		mb(d.Before.RSS), mb(d.Peak.RSS), mb(d.After.RSS), d.Before.FDs, d.Peak.FDs, d.After.FDs)
	if res.DaemonExited != "" {
		fmt.Fprintf(w, "- **The daemon exited during the run:** %s\n", res.DaemonExited)
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "Checks:")
	fmt.Fprintln(w)
	for _, v := range res.Checks {
		mark := "PASS"
		if !v.Pass {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "- **%s** %s: %s\n", mark, v.Target, v.Detail)
	}
}

// faultList names the kinds injected: "none" when there are none.
func faultList(kinds []string) string {
	if len(kinds) == 0 {
		return "none"
	}
	return strings.Join(kinds, ", ")
}

func statusCounts(m map[int]int) map[int]int64 {
	out := map[int]int64{}
	for k, v := range m {
		out[k] = int64(v)
	}
	return out
}

// cell makes text fit in a markdown table cell.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return strings.ReplaceAll(s, "|", `\|`)
}
