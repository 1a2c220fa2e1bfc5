package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sse builds an event stream of the named events.
func sse(names ...string) string {
	var b strings.Builder
	for _, n := range names {
		data := `{}`
		if n == "error" {
			data = `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`
		}
		b.WriteString("event: " + n + "\ndata: " + data + "\n\n")
	}
	return b.String()
}

func fullStream() []string {
	names := []string{"message_start", "content_block_start", "ping"}
	for range events {
		names = append(names, "content_block_delta")
	}
	return append(names, "content_block_stop", "message_delta", "message_stop")
}

func TestStreamClassify(t *testing.T) {
	full := fullStream()
	tests := []struct {
		name     string
		in       string
		readErr  error // returned after the input
		timedOut bool
		want     string
	}{
		{"complete", sse(full...), nil, false, ""},
		{"error after content", sse(append(full[:5:5], "error")...), nil, false, failErrorContent},
		{"error before content", sse("message_start", "error"), nil, false, failErrorEvent},
		{"silent after the first event, client gave up", sse("message_start"), context.DeadlineExceeded, true, failStalled},
		{"connection dropped", sse(full[:4]...), io.ErrUnexpectedEOF, false, failConn},
		{"ends early without error", sse(full[:len(full)-1]...), nil, false, failCut},
		{"a half event at the end", sse(full[:len(full)-1]...) + "event: message_stop\n", nil, false, failCut},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(tt.in)
			if tt.readErr != nil {
				r = io.MultiReader(r, &errReader{tt.readErr})
			}
			seen, err := scanStream(r)
			got, detail := seen.classify(err, tt.timedOut)
			if got != tt.want {
				t.Errorf("got %q (%s), want %q", got, detail, tt.want)
			}
		})
	}
}

type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }

func TestCause(t *testing.T) {
	tests := []struct {
		fail     string
		attempts []string
		want     string
	}{
		{failNoAnswer, nil, causeNotSent},
		{failNoAnswer, []string{kindSpent, kindHang}, kindHang},
		{failNoAnswer, []string{kindSpent}, causeNoPending},
		{failStalled, []string{kindReset, kindSilent}, kindSilent},
		{failErrorContent, []string{kindMidError}, kindMidError},
		{"status 502", []string{kindReset, kindReset}, kindReset},
	}
	for _, tt := range tests {
		if got := cause(tt.fail, attempts(tt.attempts...)); got != tt.want {
			t.Errorf("cause(%q, %q): got %q, want %q", tt.fail, tt.attempts, got, tt.want)
		}
	}
}

func TestParseMetrics(t *testing.T) {
	in := `# HELP maxrouter_upstream_requests_total Requests sent upstream.
# TYPE maxrouter_upstream_requests_total counter
maxrouter_upstream_requests_total{account="healthy",status="200"} 41
maxrouter_upstream_requests_total{account="spent",status="429"} 3
maxrouter_upstream_requests_total{account="spent",status="0"} 1
maxrouter_router_errors_total{status="502"} 2
maxrouter_failovers_total 7
maxrouter_token_refreshes_total{account="token-hang"} 0
maxrouter_account_state{account="spent",state="cooling"} 1
`
	m := parseMetrics(strings.NewReader(in))
	if got, want := m.failovers, 7.0; got != want {
		t.Errorf("failovers: got %v, want %v", got, want)
	}
	if got, want := m.routerErrors["502"], 2.0; got != want {
		t.Errorf("router errors 502: got %v, want %v", got, want)
	}
	before := parseMetrics(strings.NewReader(`maxrouter_upstream_requests_total{account="spent",status="429"} 1`))
	if got, want := m.statuses(before, "spent"), "0×1 429×2"; got != want {
		t.Errorf("statuses: got %q, want %q", got, want)
	}
	if got, want := m.statuses(before, "nobody"), "–"; got != want {
		t.Errorf("statuses of an unknown account: got %q, want %q", got, want)
	}
}

func TestParseFaults(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"all", []string{kindSpent, kindThrottle, kindOverload, kindReset, kindHang, kindSilent, kindMidError, kindTokenHang}, false},
		{"none", nil, false},
		{"hang, token-hang,hang", []string{kindHang, kindTokenHang}, false},
		{"hang,bogus", nil, true},
	}
	for _, tt := range tests {
		got, err := parseFaults(tt.in)
		if (err != nil) != tt.wantErr || strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("parseFaults(%q): got %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// attempts lists attempts of the kinds given, each taking 10 ms.
func attempts(kinds ...string) []attempt {
	var out []attempt
	for _, k := range kinds {
		out = append(out, attempt{Kind: k, MS: 10})
	}
	return out
}

// TestSummariseFaults feeds the accounting a run's worth of outcomes and
// checks the counts, the attribution and the verdicts.
func TestSummariseFaults(t *testing.T) {
	ms := time.Millisecond
	raw := &faultRaw{
		outcomes: []outcome{
			{ID: 1, Kind: reqStream, Latency: 100 * ms},
			{ID: 2, Kind: reqNonStream, Latency: 2 * ms},
			{ID: 3, Kind: reqNonStream, Latency: 30 * time.Second, Fail: failNoAnswer},          // hang
			{ID: 4, Kind: reqStream, Latency: 30 * time.Second, Fail: failNoAnswer},             // stuck on the token
			{ID: 5, Kind: reqStream, Latency: 150 * ms, Fail: failErrorContent, Detail: "boom"}, // excused
			{ID: 6, Kind: reqSlow, Latency: 2 * time.Second},
			{ID: 7, Kind: reqStream, Latency: 3 * ms, Fail: "status 502", Detail: "upstream unreachable"},
		},
		upstream: upstreamReport{
			Kinds: []kindCount{
				{Kind: kindHealthy, Attempts: 3, Last: 3},
				{Kind: kindHang, Attempts: 1, Last: 1},
				{Kind: kindMidError, Attempts: 1, Last: 1},
				{Kind: kindReset, Attempts: 3, FailedOver: 2, Last: 1},
				{Kind: kindOther},
			},
			Attempts: map[uint64][]attempt{3: attempts(kindReset, kindHang), 4: {}, 5: attempts(kindMidError), 7: attempts(kindReset, kindReset)},
		},
		m0:       parseMetrics(strings.NewReader("maxrouter_failovers_total 1\n")),
		m1:       parseMetrics(strings.NewReader("maxrouter_failovers_total 4\nmaxrouter_upstream_requests_total{account=\"reset\",status=\"0\"} 3\nmaxrouter_router_errors_total{status=\"502\"} 1\n")),
		accounts: []accountState{{Name: kindHang, State: "available"}, {Name: kindReset, State: "error", Reason: "resets"}},
		health:   healthStats{Probes: 10, MaxMS: 3},
		flood:    floodStats{Conns: 5, Answered: 5, Statuses: map[int]int{401: 5}},
	}
	o := defaultFaultOptions()
	o.Faults = []string{kindHang, kindMidError, kindReset, kindTokenHang}
	res := summariseFaults(o, raw)
	res.Command = "go run ./core/bench -faults"

	if got, want := res.FailuresWhileHealthy, 3; got != want {
		t.Errorf("failures: got %d, want %d", got, want)
	}
	if got, want := res.Excused, 1; got != want {
		t.Errorf("excused: got %d, want %d", got, want)
	}
	if got, want := res.Failovers, int64(3); got != want {
		t.Errorf("failovers: got %d, want %d", got, want)
	}
	all := res.Requests[len(res.Requests)-1]
	if all.Kind != "all" || all.Requests != 7 || all.OK != 3 || all.Failed != 3 || all.Excused != 1 {
		t.Errorf("all requests: got %+v, want 7 requests, 3 ok, 3 failed, 1 excused", all)
	}
	if got, want := all.Max, 100.0; got != want {
		t.Errorf("max latency of complete answers: got %v, want %v (failures and slow clients left out)", got, want)
	}
	causes := map[string]CauseRow{}
	for _, c := range res.Causes {
		causes[c.Cause+"/"+c.Failure] = c
	}
	for key, want := range map[string]int{
		kindHang + "/" + failNoAnswer:         1,
		causeNotSent + "/" + failNoAnswer:     1,
		kindMidError + "/" + failErrorContent: 1,
		kindReset + "/status 502":             1,
	} {
		if got := causes[key].Count; got != want {
			t.Errorf("cause %s: got %d, want %d (causes: %+v)", key, got, want, res.Causes)
		}
	}
	if !causes[kindMidError+"/"+failErrorContent].Excused {
		t.Errorf("the injected error after content is not marked excused")
	}
	if got, want := causes[kindHang+"/"+failNoAnswer].WaitMax, 30000.0; got != want {
		t.Errorf("hang wait: got %v ms, want %v", got, want)
	}
	kinds := map[string]KindRow{}
	for _, k := range res.Accounts {
		kinds[k.Kind] = k
	}
	if _, ok := kinds[kindOther]; ok {
		t.Errorf("an unused kind %q is listed", kindOther)
	}
	if got, want := kinds[kindReset], (KindRow{Kind: kindReset, About: kinds[kindReset].About, Attempts: 3, FailedOver: 2, Last: 1, Statuses: "0×3", Failures: 1, State: "error: resets"}); got != want {
		t.Errorf("reset row: got %+v, want %+v", got, want)
	}
	if got, want := kinds[kindMidError].Failures, 0; got != want {
		t.Errorf("mid-stream error failures: got %d, want %d (excused ones do not count)", got, want)
	}

	pass := map[string]bool{}
	for _, v := range res.Checks {
		pass[strings.Fields(v.Target)[0]] = v.Pass
	}
	if pass["no"] || !pass["/health"] || !pass["slow"] || res.passed() {
		t.Errorf("checks: got %+v, want only the failure check failing", res.Checks)
	}

	var md bytes.Buffer
	writeFaultMarkdown(&md, res)
	for _, want := range []string{
		"`go run ./core/bench -faults`",
		"**Client-visible failures while a healthy account existed: 3** of 7 requests",
		"| reset | connection reset before any response byte | 3 | 2 | 1 | 0×3 | 1 | error: resets |",
		"| upstream unreachable; attempts: reset 0.01s, reset 0.01s |",
		"| never reached the upstream (waiting inside the daemon) | no answer within the client timeout | 1 | 30.0 / 30.0 |",
		"| 1 (excused) |",
		"Excused, not counted: 1 stream",
		"answered within 5s: 5 (by status: 401×5)",
		"- **FAIL** no client-visible failure while a healthy account existed: 3 of 7 requests failed",
		"- **PASS** /health answers within 1s throughout",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	if _, err := json.Marshal(res); err != nil {
		t.Errorf("JSON: %v", err)
	}

	// A clean run passes every check.
	clean := &faultRaw{
		outcomes: []outcome{{ID: 1, Kind: reqStream, Latency: ms}},
		health:   healthStats{Probes: 3},
		flood:    floodStats{Conns: 2, Answered: 1, CutOff: 1, Recent: 4},
	}
	if res := summariseFaults(o, clean); !res.passed() {
		t.Errorf("clean run: got checks %+v, want all passing", res.Checks)
	}
}

// TestFaultUpstream drives the fault run's fake upstream directly: each
// account's answer, and its bookkeeping of attempts per client request.
func TestFaultUpstream(t *testing.T) {
	u, err := newFaultUpstream("spent,silent,token-hang")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(u)
	t.Cleanup(srv.Close)
	send := func(kind string, id int, stream bool) int {
		t.Helper()
		body := row{Stream: stream, Body: smallBody}.body()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/messages", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+accessToken(kind))
		req.Header.Set(requestIDHeader, strconv.Itoa(id))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	// Request 1 fails over from spent to healthy; request 2 is a
	// non-streaming request to the silent account, which answers it.
	if got, want := send(kindSpent, 1, false), 429; got != want {
		t.Errorf("spent: got %d, want %d", got, want)
	}
	if got, want := send(kindHealthy, 1, false), 200; got != want {
		t.Errorf("healthy: got %d, want %d", got, want)
	}
	if got, want := send(kindSilent, 2, false), 200; got != want {
		t.Errorf("silent, not streaming: got %d, want %d", got, want)
	}
	if got, want := send(kindTokenHang, 3, false), 401; got != want {
		t.Errorf("expired token used anyway: got %d, want %d", got, want)
	}

	q, _ := json.Marshal(map[string][]int{"ids": {1, 2, 9}})
	resp, err := http.Post(srv.URL+reportPath, "application/json", bytes.NewReader(q))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep upstreamReport
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	if got := rep.Attempts[1]; len(got) != 2 || got[0].Kind != kindSpent || got[1].Kind != kindHealthy || got[0].MS < 0 || got[1].MS < 0 {
		t.Errorf("attempts of request 1: got %+v, want spent then healthy, both timed", got)
	}
	if got, ok := rep.Attempts[9]; !ok || len(got) != 0 {
		t.Errorf("attempts of a request never seen: got %+v, %v; want an empty list", got, ok)
	}
	want := map[string]kindCount{
		kindHealthy:   {Kind: kindHealthy, Attempts: 1, Last: 1},
		kindSpent:     {Kind: kindSpent, Attempts: 1, FailedOver: 1},
		kindSilent:    {Kind: kindSilent, Attempts: 1, Last: 1},
		kindTokenHang: {Kind: kindTokenHang, Attempts: 1, Last: 1},
		kindOther:     {Kind: kindOther},
	}
	if got := len(rep.Kinds); got != len(want) {
		t.Errorf("kinds: got %d, want %d: %+v", got, len(want), rep.Kinds)
	}
	for _, k := range rep.Kinds {
		if k != want[k.Kind] {
			t.Errorf("kind %s: got %+v, want %+v", k.Kind, k, want[k.Kind])
		}
	}
}

// TestSlowUnauthenticated points slow clients at a server that answers at
// once and at one that never answers.
func TestSlowUnauthenticated(t *testing.T) {
	answer := func(c net.Conn) {
		http.ReadRequest(bufio.NewReader(c)) // the headers; the body trickles on
		io.WriteString(c, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	}
	silent := func(c net.Conn) { io.Copy(io.Discard, c) }
	tests := []struct {
		name  string
		serve func(net.Conn)
		check func(floodStats) bool
	}{
		{"answers at once", answer, func(s floodStats) bool {
			return s.Conns > 0 && s.Answered == s.Conns && s.Statuses[401] == s.Conns && s.Waiting+s.Recent+s.CutOff == 0
		}},
		{"never answers", silent, func(s floodStats) bool {
			return s.Conns == 1 && s.Recent == 1 && s.Answered+s.Waiting+s.CutOff == 0
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func() {
						defer c.Close()
						tt.serve(c)
					}()
				}
			}()
			f := &faultRun{d: &daemon{base: "http://" + ln.Addr().String()}}
			st := f.slowUnauthenticated(t.Context(), time.Now().Add(300*time.Millisecond))
			if !tt.check(st) {
				t.Errorf("got %+v", st)
			}
		})
	}
}

func TestFaultsCLIRefusesBadFlags(t *testing.T) {
	tests := [][]string{
		{"-faults", "-fault", "bogus"},
		{"-faults", "-rounds", "3"},
		{"-faults", "-clients", "0"},
		{"-faults", "extra"},
	}
	for _, args := range tests {
		var stderr bytes.Buffer
		if got, want := cli(context.Background(), args, io.Discard, &stderr), 2; got != want {
			t.Errorf("%q: got exit %d, want %d", args, got, want)
		}
		if stderr.Len() == 0 {
			t.Errorf("%q: nothing on stderr", args)
		}
	}
}

// TestFaultsRender prints a result saved with -json again, judged anew.
func TestFaultsRender(t *testing.T) {
	raw := &faultRaw{
		outcomes: []outcome{{ID: 1, Kind: reqStream, Latency: time.Millisecond}, {ID: 2, Kind: reqStream, Fail: failNoAnswer}},
		health:   healthStats{Probes: 3},
	}
	res := summariseFaults(defaultFaultOptions(), raw)
	res.Command = "go run ./core/bench -faults -duration 1s"
	res.Checks = nil
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "run.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, stderr bytes.Buffer
	if got, want := cli(context.Background(), []string{"-faults", "-render", path}, &out, &stderr), 0; got != want {
		t.Fatalf("exit: got %d, want %d: %s", got, want, stderr.String())
	}
	for _, want := range []string{"`go run ./core/bench -faults -duration 1s`", "**Client-visible failures while a healthy account existed: 1** of 2 requests", "- **FAIL** no client-visible failure"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("rendered markdown lacks %q:\n%s", want, out.String())
		}
	}
	os.WriteFile(path, []byte(`{"rows":[]}`), 0o600)
	if got, want := cli(context.Background(), []string{"-faults", "-render", path}, io.Discard, &stderr), 1; got != want {
		t.Errorf("a benchmark result: got exit %d, want %d", got, want)
	}
}
