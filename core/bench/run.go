package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Target names, in the order the report shows them.
const (
	targetDirect    = "direct"
	targetRelay     = "TCP relay"
	targetPlain     = "plain ReverseProxy"
	targetMaxRouter = "MaxRouter"
)

// target is one way to reach the fake upstream.
type target struct {
	name   string
	base   string
	proxy  *proc // nil for direct
	client *http.Client
}

// bench holds the processes of one run.
type bench struct {
	o        options
	dir      string
	upstream *proc
	relay    *proc
	plain    *proc
	daemon   *proc
	secret   string
	targets  []*target
	// repeated counts measurements run again because other processes
	// disturbed them; disturbed those kept although disturbed.
	repeated, disturbed int
}

// run starts the helpers, measures every row and returns the result. Every
// helper is stopped before it returns, also when ctx ends early.
func run(ctx context.Context, o options) (*Result, error) {
	if runtime.GOOS != "linux" {
		return nil, errors.New("the benchmark reads /proc and runs on Linux only")
	}
	var all []row
	for _, r := range rows() {
		if strings.HasPrefix(r.short(), o.Only) {
			all = append(all, r)
		}
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no row matches -only %q", o.Only)
	}
	dir, err := os.MkdirTemp("", "maxrouter-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	b := &bench{o: o, dir: dir}
	defer b.stop()
	res := &Result{
		Command: o.Command, Rounds: o.Rounds, Duration: o.Duration.String(),
		Go: runtime.Version(), CPUs: runtime.NumCPU(), Started: time.Now().UTC().Format(time.RFC3339),
		LoadAvg: loadAvg(),
	}
	if err := b.setup(ctx); err != nil {
		return nil, err
	}
	if err := b.idle(ctx, res); err != nil {
		return nil, err
	}
	other, err := b.otherCPU()
	if err != nil {
		return nil, err
	}
	for i, r := range all {
		b.progress("row %d/%d: %s", i+1, len(all), r)
		rr, err := b.measure(ctx, r)
		if err != nil {
			return nil, err
		}
		res.Rows = append(res.Rows, rr)
	}
	for _, p := range b.procs() {
		pr := res.proc(p.name)
		pr.RSS, pr.PeakRSS, err = memory(p.pid())
		if err != nil {
			return nil, err
		}
		cpu, err := cpuTime(p.pid())
		if err != nil {
			return nil, err
		}
		pr.CPUSeconds = cpu.Seconds()
	}
	res.Finished = time.Now().UTC().Format(time.RFC3339)
	res.LoadAvgEnd = loadAvg()
	if res.OtherCPU, err = other(); err != nil {
		return nil, err
	}
	res.Repeated, res.Disturbed = b.repeated, b.disturbed
	res.Verdicts = verdicts(res)
	return res, nil
}

func (b *bench) progress(format string, args ...any) {
	if b.o.Progress != nil {
		fmt.Fprintf(b.o.Progress, "bench: "+format+"\n", args...)
	}
}

// procs are the helper processes.
func (b *bench) procs() []*proc { return []*proc{b.upstream, b.relay, b.plain, b.daemon} }

// stop ends every helper.
func (b *bench) stop() {
	for _, p := range []*proc{b.daemon, b.plain, b.relay, b.upstream} {
		p.stop()
	}
	for _, t := range b.targets {
		t.client.CloseIdleConnections()
	}
}

// setup builds the daemon when needed and starts the three helpers.
func (b *bench) setup(ctx context.Context) error {
	bin := b.o.MaxRouter
	if bin == "" {
		bin = filepath.Join(b.dir, "maxrouter")
		b.progress("building maxrouter (go build -tags headless)")
		if err := buildDaemon(ctx, bin); err != nil {
			return err
		}
	}
	var upURL, relayURL, plainURL string
	var err error
	b.upstream, upURL, err = startRole(roleUpstream, b.dir, nil)
	if err != nil {
		return err
	}
	b.relay, relayURL, err = startRole(roleRelay, b.dir, []string{upstreamEnv + "=" + upURL})
	if err != nil {
		return err
	}
	b.plain, plainURL, err = startRole(rolePlain, b.dir, []string{upstreamEnv + "=" + upURL})
	if err != nil {
		return err
	}
	exp := time.Now().Add(10 * time.Hour)
	d, err := startDaemon(ctx, b.dir, bin, upURL, upURL+"/v1/oauth/token", "", []login{
		{name: "one", access: "sk-ant-oat01-test-one", expires: exp},
		{name: "two", access: "sk-ant-oat01-test-two", expires: exp},
	})
	if err != nil {
		return err
	}
	b.daemon, b.secret = d.proc, d.secret
	daemonURL := d.base
	b.targets = []*target{
		{name: targetDirect, base: upURL, client: newClient()},
		{name: targetRelay, base: relayURL, proxy: b.relay, client: newClient()},
		{name: targetPlain, base: plainURL, proxy: b.plain, client: newClient()},
		{name: targetMaxRouter, base: daemonURL, proxy: b.daemon, client: newClient()},
	}
	return nil
}

// buildDaemon builds the headless maxrouter binary from the module this
// program belongs to.
func buildDaemon(ctx context.Context, out string) error {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("finding the repository (go env GOMOD): %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if strings.TrimSpace(string(gomod)) == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		return errors.New("run the benchmark from inside the repository, or pass -maxrouter PATH")
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "headless", "-o", out, ".")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building maxrouter: %w\n%s", err, msg)
	}
	return nil
}

// login is one fake Claude Code login the daemon gets as an account.
type login struct {
	name    string
	access  string    // its access token: what the fake upstream sees
	expires time.Time // when the access token expires
}

// daemon is a running `maxrouter serve` and the client token it admits.
type daemon struct {
	*proc
	base   string // http://127.0.0.1:port
	secret string // a client token
}

// startDaemon prepares a home in dir with a Claude Code login per account,
// a config (with extra TOML lines, "" for none) and a client token, and
// starts `maxrouter serve` with the upstream and token endpoint given.
func startDaemon(ctx context.Context, dir, bin, upstream, tokenURL, extra string, logins []login) (*daemon, error) {
	home := filepath.Join(dir, "home")
	var accounts strings.Builder
	for _, l := range logins {
		d := filepath.Join(home, ".claude-"+l.name)
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
		cred := fmt.Sprintf(`{"claudeAiOauth":{"accessToken":%q,"refreshToken":"sk-ant-ort01-test-%s","expiresAt":%d,"scopes":["user:inference","user:profile"],"subscriptionType":"max","rateLimitTier":"default_claude_max_20x"}}`, l.access, l.name, l.expires.UnixMilli())
		if err := os.WriteFile(filepath.Join(d, ".credentials.json"), []byte(cred), 0o600); err != nil {
			return nil, err
		}
		fmt.Fprintf(&accounts, "\n[[account]]\nname = %q\ndir = %q\n", l.name, d)
	}
	cfgPath := filepath.Join(dir, "config.toml")
	env := append(baseEnv(), "HOME="+home, "UPSTREAM_BASE_URL="+upstream)
	secret := ""
	for attempt := 0; attempt < 3; attempt++ {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		cfg := fmt.Sprintf("listen = %q\nupstream = %q\ntoken_url = %q\nnotify = false\n%s%s", addr, upstream, tokenURL, extra, accounts.String())
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			return nil, err
		}
		if secret == "" {
			issue := exec.CommandContext(ctx, bin, "--config", cfgPath, "tokens", "issue", "--label", "bench")
			issue.Env = env
			out, err := issue.Output()
			if err != nil {
				return nil, fmt.Errorf("maxrouter tokens issue: %w", err)
			}
			secret = strings.TrimSpace(string(out))
		}
		cmd := exec.Command(bin, "--config", cfgPath, "serve", "--quiet")
		cmd.Env = env
		p, err := start("maxrouter", dir, cmd)
		if err != nil {
			return nil, err
		}
		base := "http://" + addr
		if err := waitHealthy(ctx, p, base); err != nil {
			p.stop()
			if p.exited() && attempt < 2 {
				continue // most likely the port was taken meanwhile
			}
			return nil, err
		}
		return &daemon{proc: p, base: base, secret: secret}, nil
	}
	return nil, errors.New("maxrouter did not start")
}

// freeAddr finds a loopback port that is free now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitHealthy polls GET /health until it answers 200, for up to 10 s.
func waitHealthy(ctx context.Context, p *proc, base string) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if p.exited() {
			return fmt.Errorf("maxrouter exited: %v: %s", p.err, p.tail())
		}
		resp, err := http.Get(base + "/health")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("maxrouter did not answer /health within 10s: %s", p.tail())
}

// idle sends one request through each proxy, lets them rest and reads
// their memory: the daemon's idle RSS.
func (b *bench) idle(ctx context.Context, res *Result) error {
	r := row{Clients: 1, Body: smallBody}
	for _, t := range b.targets {
		if _, _, err := once(ctx, t.client, t.base+"/v1/messages", b.secret, "bench-idle", r.body(), r); err != nil {
			return fmt.Errorf("first request via %s: %w", t.name, err)
		}
	}
	b.progress("first requests answered; resting %s before reading idle memory", b.o.Idle)
	select {
	case <-time.After(b.o.Idle):
	case <-ctx.Done():
		return ctx.Err()
	}
	for _, p := range b.procs() {
		rss, _, err := memory(p.pid())
		if err != nil {
			return err
		}
		res.Procs = append(res.Procs, Proc{Name: p.name, IdleRSS: rss})
	}
	return nil
}

// measure runs the rounds of one row: in each, every target runs once,
// after a short unmeasured warm-up, in an order rotated per round so that
// drift of the machine affects all of them alike.
func (b *bench) measure(ctx context.Context, r row) (Row, error) {
	rounds := make(map[string][]round, len(b.targets))
	for i := range b.o.Rounds {
		var rates []string
		for j := range b.targets {
			t := b.targets[(i+j)%len(b.targets)]
			var rd round
			var err error
			for try := 0; ; try++ {
				if rd, err = b.measureOnce(ctx, t, r); err != nil {
					return Row{}, err
				}
				if rd.otherCPU <= maxOtherCPU || try >= b.o.Repeats {
					break
				}
				b.repeated++
				b.progress("  %s disturbed (other processes used %.2f cores): again", t.name, rd.otherCPU)
			}
			if rd.otherCPU > maxOtherCPU {
				b.disturbed++
			}
			rounds[t.name] = append(rounds[t.name], rd)
			rates = append(rates, fmt.Sprintf("%s %.0f/s", t.name, float64(rd.requests-rd.errors)/rd.elapsed.Seconds()))
		}
		b.progress("  round %d/%d: %s", i+1, b.o.Rounds, strings.Join(rates, ", "))
	}
	return summarise(r, b.targets, rounds), nil
}

// maxOtherCPU is how many cores other processes may use during a
// measurement before it is repeated (at most options.Repeats times).
const maxOtherCPU = 0.1

// measureOnce runs one target once, after a short unmeasured warm-up.
func (b *bench) measureOnce(ctx context.Context, t *target, r row) (round, error) {
	if b.o.Warmup > 0 {
		drive(ctx, t.client, t.base, b.secret, r, b.o.Warmup)
	}
	var pc0, uc0 time.Duration
	var err error
	if t.proxy != nil {
		if pc0, err = cpuTime(t.proxy.pid()); err != nil {
			return round{}, err
		}
	}
	if uc0, err = cpuTime(b.upstream.pid()); err != nil {
		return round{}, err
	}
	other, err := b.otherCPU()
	if err != nil {
		return round{}, err
	}
	l := drive(ctx, t.client, t.base, b.secret, r, b.o.Duration)
	if err := ctx.Err(); err != nil {
		return round{}, err
	}
	rd := round{load: l}
	if rd.otherCPU, err = other(); err != nil {
		return round{}, err
	}
	if t.proxy != nil {
		pc1, err := cpuTime(t.proxy.pid())
		if err != nil {
			return round{}, err
		}
		rd.proxyCPU = pc1 - pc0
	}
	uc1, err := cpuTime(b.upstream.pid())
	if err != nil {
		return round{}, err
	}
	rd.upstreamCPU = uc1 - uc0
	for _, p := range b.procs() {
		if p.exited() {
			return round{}, fmt.Errorf("%s exited during the run: %v: %s", p.name, p.err, p.tail())
		}
	}
	return rd, nil
}

// otherCPU starts measuring the CPU the rest of the machine uses: the
// function it returns says how many cores, on average since the call, went
// to processes other than the benchmark's own. The load average is no
// measure of that: on a shared VM it counts what this machine cannot see.
func (b *bench) otherCPU() (func() (float64, error), error) {
	ours := func() (time.Duration, error) {
		sum, err := cpuTime(os.Getpid())
		for _, p := range b.procs() {
			if err != nil {
				break
			}
			var c time.Duration
			c, err = cpuTime(p.pid())
			sum += c
		}
		return sum, err
	}
	start := time.Now()
	busy0, err := machineBusy()
	if err != nil {
		return nil, err
	}
	ours0, err := ours()
	if err != nil {
		return nil, err
	}
	return func() (float64, error) {
		busy1, err := machineBusy()
		if err != nil {
			return 0, err
		}
		ours1, err := ours()
		if err != nil {
			return 0, err
		}
		other := (busy1 - busy0) - (ours1 - ours0)
		return max(0, other.Seconds()/time.Since(start).Seconds()), nil
	}, nil
}

// loadAvg is the 1-minute load average when the run started.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
