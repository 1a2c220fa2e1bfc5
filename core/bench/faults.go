package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// faultOptions configure a fault-and-load run (-faults).
type faultOptions struct {
	// Duration is how long clients start requests; requests started
	// before its end are waited for (each at most Timeout).
	Duration time.Duration
	// Clients is how many clients send requests back to back (with a
	// short pause), half of them streaming, alternating per request.
	Clients int
	// Slow is how many slow unauthenticated clients trickle request bodies
	// without a token, reconnecting whenever they are answered.
	Slow int
	// SlowAuth is how many slow authenticated clients trickle their bodies
	// and read their streams slowly.
	SlowAuth int
	// Timeout is a client's patience: how long one request may take.
	Timeout time.Duration
	// Faults are the kinds injected, one account each, beside one account
	// that always answers.
	Faults []string
	// MaxRouter is the daemon binary; "" builds one into the work dir.
	MaxRouter string
	// DaemonLog, when set, receives a copy of the daemon's log.
	DaemonLog string
	// Command is shown in the report.
	Command string
	// Progress receives a line every few seconds; nil discards them.
	Progress io.Writer
}

func defaultFaultOptions() faultOptions {
	all, _ := parseFaults("all")
	return faultOptions{Duration: 60 * time.Second, Clients: 200, Slow: 100, SlowAuth: 4, Timeout: 30 * time.Second, Faults: all}
}

// bounds are the daemon's config lines for its upstream bounds. The
// defaults (response_timeout 10m, stream_idle_timeout 2m) follow the real
// API, whose answers take that long; the fake answers in milliseconds, so
// the run shortens them to a fraction of a client's patience: a hang must
// then fail over, and a silent stream be cut, well before a client gives
// up.
func (o faultOptions) bounds() string {
	return fmt.Sprintf("response_timeout = %q\nstream_idle_timeout = %q\n", (o.Timeout / 5).String(), (o.Timeout / 6).String())
}

// quickFaultOptions are the short form's settings (-quick), for CI.
func quickFaultOptions() faultOptions {
	o := defaultFaultOptions()
	o.Duration, o.Clients, o.Slow, o.SlowAuth, o.Timeout = 8*time.Second, 50, 30, 2, 15*time.Second
	return o
}

const (
	// think is each client's pause between two requests.
	think = 50 * time.Millisecond
	// healthEvery is how often /health is probed; healthWithin is how fast
	// it must answer.
	healthEvery  = 250 * time.Millisecond
	healthWithin = time.Second
	// slowWithin is how soon a slow unauthenticated client must be
	// answered or cut off.
	slowWithin = 5 * time.Second
	// floodBody is the Content-Length a slow unauthenticated client
	// announces: a Claude Code request's size, below the 256 KiB net/http
	// gives up reading after a handler returns. It trickles floodPiece
	// bytes every floodEvery, so the body never completes during a run.
	floodBody  = 80 << 10
	floodPiece = 16
	floodEvery = 200 * time.Millisecond
	// slowBody is how long a slow authenticated client takes to send its
	// body, in slowPieces pieces; it then reads the answer slowRead bytes
	// at a time with slowReadPause between reads.
	slowBody      = 2 * time.Second
	slowPieces    = 10
	slowRead      = 256
	slowReadPause = 10 * time.Millisecond
)

// faultRun holds the processes and clients of one fault run.
type faultRun struct {
	o      faultOptions
	dir    string
	up     *proc
	upURL  string
	d      *daemon
	client *http.Client
	nextID atomic.Uint64
	done   atomic.Int64 // requests finished, for progress lines
	failed atomic.Int64
}

// runFaults runs the fault-and-load run and returns its result. Every
// helper is stopped before it returns.
func runFaults(ctx context.Context, o faultOptions) (*FaultResult, error) {
	if runtime.GOOS != "linux" {
		return nil, errors.New("the fault run reads /proc and runs on Linux only")
	}
	dir, err := os.MkdirTemp("", "maxrouter-faults-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	f := &faultRun{o: o, dir: dir}
	defer f.stop()
	if err := f.setup(ctx); err != nil {
		return nil, err
	}
	raw, err := f.drive(ctx)
	if err != nil {
		return nil, err
	}
	res := summariseFaults(o, raw)
	res.Command, res.Go, res.CPUs, res.Started = o.Command, runtime.Version(), runtime.NumCPU(), raw.started.UTC().Format(time.RFC3339)
	return res, nil
}

func (f *faultRun) progress(format string, args ...any) {
	if f.o.Progress != nil {
		fmt.Fprintf(f.o.Progress, "bench -faults: "+format+"\n", args...)
	}
}

// stop ends the helpers, keeping a copy of the daemon's log if asked.
func (f *faultRun) stop() {
	if f.d != nil {
		f.d.stop()
		if f.o.DaemonLog != "" {
			if b, err := os.ReadFile(f.d.log); err == nil {
				os.WriteFile(f.o.DaemonLog, b, 0o600)
			}
		}
	}
	f.up.stop()
	if f.client != nil {
		f.client.CloseIdleConnections()
	}
}

// setup builds the daemon when needed and starts the fake upstream and the
// daemon: one account per fault, one that always answers.
func (f *faultRun) setup(ctx context.Context) error {
	bin := f.o.MaxRouter
	if bin == "" {
		bin = filepath.Join(f.dir, "maxrouter")
		f.progress("building maxrouter (go build -tags headless)")
		if err := buildDaemon(ctx, bin); err != nil {
			return err
		}
	}
	var err error
	f.up, f.upURL, err = startRole(roleFaults, f.dir, []string{faultsEnv + "=" + strings.Join(f.o.Faults, ",")})
	if err != nil {
		return err
	}
	now := time.Now()
	logins := []login{{name: kindHealthy, access: accessToken(kindHealthy), expires: now.Add(10 * time.Hour)}}
	for _, k := range f.o.Faults {
		l := login{name: k, access: accessToken(k), expires: now.Add(10 * time.Hour)}
		if k == kindTokenHang {
			l.expires = now.Add(-time.Hour)
		}
		logins = append(logins, l)
	}
	if f.d, err = startDaemon(ctx, f.dir, bin, f.upURL, f.upURL+tokenPath, f.o.bounds(), logins); err != nil {
		return err
	}
	f.client = &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        f.o.Clients + f.o.SlowAuth,
		MaxIdleConnsPerHost: f.o.Clients + f.o.SlowAuth,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}}
	return nil
}

// faultRaw is what a fault run collected, before it is summarised.
type faultRaw struct {
	started  time.Time
	outcomes []outcome
	flood    floodStats
	health   healthStats
	// before: after start; peak: during the run; after: once every client
	// closed its connections and a second passed.
	before, peak, after footprint
	m0, m1              daemonMetrics
	accounts            []accountState
	upstream            upstreamReport
	exited              string // how the daemon ended, if it did
}

// footprint is the daemon's memory and open descriptors at one moment.
type footprint struct {
	RSS int64 `json:"rss_bytes"`
	FDs int   `json:"open_fds"`
}

// drive runs the clients for the run's duration, alongside the slow
// clients, the /health probe and the sampler, and collects what they saw.
func (f *faultRun) drive(ctx context.Context) (*faultRaw, error) {
	raw := &faultRaw{started: time.Now()}
	var err error
	if raw.before, err = f.footprint(); err != nil {
		return nil, err
	}
	raw.peak = raw.before
	if raw.m0, err = f.metrics(ctx); err != nil {
		return nil, err
	}
	f.progress("%d clients for %s (client timeout %s), %d slow unauthenticated, %d slow authenticated; faults: %s",
		f.o.Clients, f.o.Duration, f.o.Timeout, f.o.Slow, f.o.SlowAuth, faultList(f.o.Faults))

	end := time.Now().Add(f.o.Duration)
	var probes sync.WaitGroup
	stopProbes := make(chan struct{})
	probes.Go(func() { raw.health = f.probeHealth(stopProbes) })
	probes.Go(func() { f.sample(stopProbes, &raw.peak) })

	var mu sync.Mutex
	var clients sync.WaitGroup
	for range f.o.Slow {
		clients.Go(func() {
			st := f.slowUnauthenticated(ctx, end)
			mu.Lock()
			raw.flood.add(st)
			mu.Unlock()
		})
	}
	per := make([][]outcome, f.o.Clients+f.o.SlowAuth)
	for i := range per {
		clients.Go(func() { per[i] = f.runClient(ctx, i, end) })
	}
	clients.Wait()
	close(stopProbes)
	probes.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, p := range per {
		raw.outcomes = append(raw.outcomes, p...)
	}

	f.client.CloseIdleConnections()
	time.Sleep(time.Second) // the daemon notices the closed connections
	if f.d.exited() {
		raw.exited = fmt.Sprintf("%v: %s", f.d.err, f.d.tail())
		raw.m1 = raw.m0
	} else {
		if raw.after, err = f.footprint(); err != nil {
			return nil, err
		}
		if raw.m1, err = f.metrics(ctx); err != nil {
			return nil, err
		}
		if raw.accounts, err = f.accounts(ctx); err != nil {
			return nil, err
		}
	}
	var ids []uint64
	for _, oc := range raw.outcomes {
		if oc.Fail != "" {
			ids = append(ids, oc.ID)
		}
	}
	if raw.upstream, err = f.upstreamReport(ctx, ids); err != nil {
		return nil, err
	}
	return raw, nil
}

// runClient is client i: a normal one, or, for i ≥ Clients, a slow
// authenticated one. It sends requests until end and returns their
// outcomes.
func (f *faultRun) runClient(ctx context.Context, i int, end time.Time) []outcome {
	slow := i >= f.o.Clients
	session := fmt.Sprintf("fault-session-%03d", i)
	stream := slow || i%2 == 1
	var out []outcome
	for ctx.Err() == nil && time.Now().Before(end) {
		oc := f.call(ctx, session, stream, slow)
		if ctx.Err() != nil {
			break // interrupted: no outcome
		}
		out = append(out, oc)
		f.done.Add(1)
		if oc.Fail != "" {
			f.failed.Add(1)
		}
		if !slow {
			stream = !stream
		}
		select {
		case <-time.After(think):
		case <-ctx.Done():
		}
	}
	return out
}

// outcome is one client request as the client saw it.
type outcome struct {
	ID      uint64
	Kind    string // reqStream, reqNonStream or reqSlow
	Latency time.Duration
	// Fail is "" for a complete answer, else the failure class (fail*).
	Fail   string
	Detail string
}

// Request kinds, as the report names them.
const (
	reqStream    = "streaming"
	reqNonStream = "non-streaming"
	reqSlow      = "slow authenticated (streaming)"
)

// Failure classes: what a client saw when a request failed.
const (
	failNoAnswer     = "no answer within the client timeout"
	failStalled      = "answer stalled until the client timeout"
	failConn         = "connection failed"
	failCut          = "stream cut short"
	failErrorEvent   = "event: error before any content"
	failErrorContent = "event: error after content"
	failNotMessage   = "answer is not a message"
	// failStatus is the prefix of "status 502" and the like.
	failStatus = "status "
)

// call sends one request through the daemon and reads the whole answer.
func (f *faultRun) call(ctx context.Context, session string, stream, slow bool) (oc outcome) {
	id := f.nextID.Add(1)
	oc = outcome{ID: id, Kind: reqNonStream}
	if stream {
		oc.Kind = reqStream
	}
	body := row{Stream: stream, Body: smallBody}.body()
	var rd io.Reader = bytes.NewReader(body)
	timeout := f.o.Timeout
	if slow {
		oc.Kind = reqSlow
		rd = &trickle{data: body, piece: len(body)/slowPieces + 1, every: slowBody / slowPieces}
		timeout += slowBody
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	timedOut := func() bool { return errors.Is(rctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil }
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, f.d.base+"/v1/messages", rd)
	if err != nil {
		oc.Fail, oc.Detail = failConn, err.Error()
		return oc
	}
	req.ContentLength = int64(len(body))
	setClientHeaders(req.Header, f.d.secret, session)
	req.Header.Set(requestIDHeader, strconv.FormatUint(id, 10))
	start := time.Now()
	defer func() { oc.Latency = time.Since(start) }()
	resp, err := f.client.Do(req)
	if err != nil {
		oc.Fail, oc.Detail = failConn, err.Error()
		if timedOut() {
			oc.Fail, oc.Detail = failNoAnswer, ""
		}
		return oc
	}
	defer resp.Body.Close()
	var in io.Reader = resp.Body
	if slow {
		in = &slowReader{r: resp.Body}
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(in, 300))
		oc.Fail, oc.Detail = fmt.Sprintf("%s%d", failStatus, resp.StatusCode), string(b)
		return oc
	}
	if stream {
		seen, err := scanStream(in)
		oc.Fail, oc.Detail = seen.classify(err, timedOut())
		return oc
	}
	b, err := io.ReadAll(in)
	switch {
	case err != nil && timedOut():
		oc.Fail = failStalled
	case err != nil:
		oc.Fail, oc.Detail = failConn, err.Error()
	case !isMessage(resp.Header.Get("Content-Type"), b):
		oc.Fail, oc.Detail = failNotMessage, string(b[:min(len(b), 200)])
	}
	return oc
}

// isMessage reports whether a non-streaming answer is a Messages API
// message.
func isMessage(contentType string, b []byte) bool {
	var m struct {
		Type string `json:"type"`
	}
	return strings.HasPrefix(contentType, "application/json") && json.Unmarshal(b, &m) == nil && m.Type == "message"
}

// streamSeen is what a client read of an event stream.
type streamSeen struct {
	events  int    // complete events
	deltas  int    // content_block_delta events among them
	stop    bool   // message_stop arrived
	errType string // the error type of an `event: error` ("" = none)
	errMsg  string
	// errAfter is true when content reached the client before the error.
	errAfter bool
}

// scanStream reads an event stream to its end.
func scanStream(r io.Reader) (streamSeen, error) {
	var s streamSeen
	br := bufio.NewReaderSize(r, 4096)
	name := ""
	for {
		line, err := br.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			name = line[len("event: "):]
		case strings.HasPrefix(line, "data: ") && name == "error":
			var e struct {
				Error struct {
					Type    string `json:"type"`
					Message string `json:"message"`
				} `json:"error"`
			}
			json.Unmarshal([]byte(line[len("data: "):]), &e)
			s.errType, s.errMsg = cmp.Or(e.Error.Type, "unknown"), e.Error.Message
			s.errAfter = s.deltas > 0
		case line == "" && name != "" && err == nil:
			s.events++
			switch name {
			case "content_block_delta":
				s.deltas++
			case "message_stop":
				s.stop = true
			}
			name = ""
		}
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			return s, err
		}
	}
}

// classify names the failure of a stream read with error err (nil at its
// end); timedOut says the client's patience ran out. A complete stream
// gives "".
func (s streamSeen) classify(err error, timedOut bool) (fail, detail string) {
	switch {
	case s.errType != "" && s.errAfter:
		return failErrorContent, s.errType + ": " + s.errMsg
	case s.errType != "":
		return failErrorEvent, s.errType + ": " + s.errMsg
	case err != nil && timedOut:
		return failStalled, fmt.Sprintf("after %d events", s.events)
	case err != nil:
		return failConn, fmt.Sprintf("after %d events: %v", s.events, err)
	case !s.stop || s.events != wantEvents:
		return failCut, fmt.Sprintf("%d of %d events, message_stop %t", s.events, wantEvents, s.stop)
	}
	return "", ""
}

// trickle hands out data piece bytes at a time, pausing every before each
// piece but the first: a client on a slow link.
type trickle struct {
	data    []byte
	piece   int
	every   time.Duration
	started bool
}

func (t *trickle) Read(p []byte) (int, error) {
	if len(t.data) == 0 {
		return 0, io.EOF
	}
	if t.started {
		time.Sleep(t.every)
	}
	t.started = true
	n := copy(p[:min(len(p), t.piece)], t.data)
	t.data = t.data[n:]
	return n, nil
}

// slowReader reads at most slowRead bytes at a time, pausing before each
// read: a client that reads its answer slowly.
type slowReader struct{ r io.Reader }

func (s *slowReader) Read(p []byte) (int, error) {
	time.Sleep(slowReadPause)
	return s.r.Read(p[:min(len(p), slowRead)])
}

// floodStats is what the slow unauthenticated clients saw.
type floodStats struct {
	Conns int `json:"connections"`
	// Answered counts connections answered within slowWithin,
	// AnsweredLate those answered later; CutOff and CutOffLate the same
	// for connections closed without an answer.
	Answered     int `json:"answered"`
	AnsweredLate int `json:"answered_late"`
	CutOff       int `json:"cut_off"`
	CutOffLate   int `json:"cut_off_late"`
	// Waiting counts connections still waiting when the run ended after
	// more than slowWithin; Recent those opened less than slowWithin
	// before the end.
	Waiting    int `json:"waiting_at_end"`
	Recent     int `json:"recent_at_end"`
	DialFailed int `json:"dial_failed"`
	// Statuses counts the answers by status code.
	Statuses map[int]int `json:"statuses,omitempty"`
	// MaxWait is the longest any connection waited, in milliseconds.
	MaxWait float64 `json:"max_wait_ms"`
}

func (s *floodStats) add(o floodStats) {
	s.Conns += o.Conns
	s.Answered += o.Answered
	s.AnsweredLate += o.AnsweredLate
	s.CutOff += o.CutOff
	s.CutOffLate += o.CutOffLate
	s.Waiting += o.Waiting
	s.Recent += o.Recent
	s.DialFailed += o.DialFailed
	for k, v := range o.Statuses {
		if s.Statuses == nil {
			s.Statuses = map[int]int{}
		}
		s.Statuses[k] += v
	}
	s.MaxWait = max(s.MaxWait, o.MaxWait)
}

// slowUnauthenticated is one slow client without a token: it sends the
// headers of a Messages request, trickles its body and waits for an
// answer, until end; answered or cut off, it connects again.
func (f *faultRun) slowUnauthenticated(ctx context.Context, end time.Time) floodStats {
	var st floodStats
	addr := strings.TrimPrefix(f.d.base, "http://")
	for ctx.Err() == nil && time.Now().Before(end) {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			st.DialFailed++
			time.Sleep(100 * time.Millisecond)
			continue
		}
		st.Conns++
		stop := context.AfterFunc(ctx, func() { conn.Close() })
		start := time.Now()
		fmt.Fprintf(conn, "POST /v1/messages HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAnthropic-Version: 2023-06-01\r\nContent-Length: %d\r\n\r\n{", addr, floodBody)
		done := make(chan struct{})
		go func() {
			piece := bytes.Repeat([]byte(" "), floodPiece)
			t := time.NewTicker(floodEvery)
			defer t.Stop()
			for sent := 1; sent+floodPiece < floodBody; sent += floodPiece {
				select {
				case <-done:
					return
				case <-t.C:
				}
				if _, err := conn.Write(piece); err != nil {
					return
				}
			}
		}()
		conn.SetReadDeadline(end)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		wait := time.Since(start)
		close(done)
		stop()
		conn.Close()
		st.MaxWait = max(st.MaxWait, ms(wait))
		var ne net.Error
		switch {
		case err == nil:
			if st.Statuses == nil {
				st.Statuses = map[int]int{}
			}
			st.Statuses[resp.StatusCode]++
			if wait <= slowWithin {
				st.Answered++
			} else {
				st.AnsweredLate++
			}
		case errors.As(err, &ne) && ne.Timeout():
			if wait > slowWithin {
				st.Waiting++
			} else {
				st.Recent++
			}
		case ctx.Err() != nil:
		case wait <= slowWithin:
			st.CutOff++
		default:
			st.CutOffLate++
		}
		time.Sleep(100 * time.Millisecond)
	}
	return st
}

// healthStats is what the /health probe saw.
type healthStats struct {
	Probes int `json:"probes"`
	// Slow counts probes not answered 200 within healthWithin.
	Slow         int     `json:"slow_or_failed"`
	MaxMS        float64 `json:"max_ms"`
	FirstProblem string  `json:"first_problem,omitempty"`
}

// probeHealth asks GET /health on a new connection every healthEvery
// until stop is closed.
func (f *faultRun) probeHealth(stop <-chan struct{}) healthStats {
	var st healthStats
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	t := time.NewTicker(healthEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return st
		case <-t.C:
		}
		start := time.Now()
		resp, err := c.Get(f.d.base + "/health")
		took := time.Since(start)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		st.Probes++
		st.MaxMS = max(st.MaxMS, ms(took))
		problem := ""
		switch {
		case err != nil:
			problem = err.Error()
		case resp.StatusCode != http.StatusOK:
			problem = resp.Status
		case took > healthWithin:
			problem = fmt.Sprintf("took %s", took.Round(time.Millisecond))
		}
		if problem != "" {
			st.Slow++
			if st.FirstProblem == "" {
				st.FirstProblem = problem
			}
		}
	}
}

// sample reads the daemon's memory and descriptors every healthEvery until
// stop is closed, keeping the highest in peak, and prints progress.
func (f *faultRun) sample(stop <-chan struct{}, peak *footprint) {
	t := time.NewTicker(healthEvery)
	defer t.Stop()
	start := time.Now()
	last := start
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		u, err := f.footprint()
		if err != nil {
			continue // the daemon ended; the run reports it
		}
		peak.RSS, peak.FDs = max(peak.RSS, u.RSS), max(peak.FDs, u.FDs)
		if time.Since(last) >= 5*time.Second {
			last = time.Now()
			f.progress("%s: %d requests done, %d failed; daemon RSS %.1f MB, %d open fds", time.Since(start).Round(time.Second), f.done.Load(), f.failed.Load(), mb(u.RSS), u.FDs)
		}
	}
}

// footprint reads the daemon's memory and open descriptors now.
func (f *faultRun) footprint() (footprint, error) {
	rss, _, err := memory(f.d.pid())
	if err != nil {
		return footprint{}, err
	}
	fds, err := openFDs(f.d.pid())
	return footprint{RSS: rss, FDs: fds}, err
}

// get asks the daemon for path with the client token, within 5 seconds.
func (f *faultRun) get(ctx context.Context, path string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.d.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+f.d.secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s: %.200s", path, resp.Status, b)
	}
	return b, err
}

// metrics reads the daemon's /metrics.
func (f *faultRun) metrics(ctx context.Context) (daemonMetrics, error) {
	b, err := f.get(ctx, "/metrics")
	if err != nil {
		return daemonMetrics{}, err
	}
	return parseMetrics(bytes.NewReader(b)), nil
}

// accountState is an account as GET /v1/accounts describes it.
type accountState struct {
	Name      string `json:"name"`
	State     string `json:"state"`
	Reason    string `json:"reason"`
	LastError string `json:"last_error"`
}

// accounts reads the daemon's accounts.
func (f *faultRun) accounts(ctx context.Context) ([]accountState, error) {
	b, err := f.get(ctx, "/v1/accounts")
	if err != nil {
		return nil, err
	}
	var v struct {
		Accounts []accountState `json:"accounts"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("reading /v1/accounts: %w", err)
	}
	return v.Accounts, nil
}

// upstreamReport asks the fake upstream what it saw, with the attempts of
// the requests ids.
func (f *faultRun) upstreamReport(ctx context.Context, ids []uint64) (upstreamReport, error) {
	q, _ := json.Marshal(map[string][]uint64{"ids": ids})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.upURL+reportPath, bytes.NewReader(q))
	if err != nil {
		return upstreamReport{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return upstreamReport{}, fmt.Errorf("asking the fake upstream what it saw: %w", err)
	}
	defer resp.Body.Close()
	var rep upstreamReport
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		return upstreamReport{}, fmt.Errorf("reading the fake upstream's report: %w", err)
	}
	return rep, nil
}
