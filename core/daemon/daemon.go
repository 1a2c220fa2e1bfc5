// Package daemon is the one place that wires MaxRouter's core together: it
// reads the configuration, opens the token store and the accounts'
// credentials, builds the pool and the proxy, serves the proxy and the
// control API on one listener, and applies configuration changes while it
// runs without dropping requests in flight.
package daemon

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/maxrouter/maxrouter/core/account"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/credential"
	"github.com/maxrouter/maxrouter/core/event"
	"github.com/maxrouter/maxrouter/core/internal/flock"
	"github.com/maxrouter/maxrouter/core/login"
	"github.com/maxrouter/maxrouter/core/proxy"
	"github.com/maxrouter/maxrouter/core/quota"
	"github.com/maxrouter/maxrouter/core/token"
	"github.com/maxrouter/maxrouter/core/usage"
)

// retryInterval is how often accounts whose credentials could not be read
// are tried again (a directory that does not exist yet cannot be watched).
const retryInterval = 30 * time.Second

// Options configure a Daemon.
type Options struct {
	// ConfigPath is the configuration file; it is created with defaults and
	// the Claude Code directories found under Home when missing. Required.
	ConfigPath string
	// Home expands "~" and is searched for Claude Code directories.
	// Default: the user's home directory.
	Home string
	// Getenv reads the environment overrides of the original router.
	// Default os.Getenv.
	Getenv func(string) string
	// Version is reported by the status endpoint and /health.
	Version string
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Transport reaches the upstream; nil means proxy.NewTransport().
	Transport http.RoundTripper
	// HTTPClient refreshes tokens; nil means the credential default.
	HTTPClient *http.Client
	// Listen overrides the configured address (`serve --listen`, tests).
	Listen string
	// ShutdownGrace is how long requests in flight get to finish once
	// Serve's context ends, before their connections are closed; 0 means
	// DefaultShutdownGrace.
	ShutdownGrace time.Duration
}

// DefaultShutdownGrace is how long requests in flight get to finish when
// the daemon stops.
const DefaultShutdownGrace = 10 * time.Second

// headerTimeout bounds how long a client may take to send a request's
// headers. Clients send them in one go; a connection that trickles them
// only holds a file descriptor.
const headerTimeout = 10 * time.Second

// Daemon is the running router. Create it with New, bind with Listen, run
// with Serve.
type Daemon struct {
	o       Options
	log     *slog.Logger
	bus     *event.Bus
	pool    *account.Pool
	proxy   *proxy.Handler
	tokens  *token.Store
	usage   *usage.Recorder
	secret  string
	control *control.Server
	logins  *login.Manager
	quota   *quota.Poller
	srv     *http.Server
	dataDir string
	unlock  func() // releases the data directory; set while Listen..Serve hold it
	created bool
	started time.Time
	paused  atomic.Bool // routing paused by the user (runtime state only); read lock-free per request
	pauseMu sync.Mutex  // orders Pause and Resume, so events follow the state's order

	mu      sync.Mutex // serialises configuration changes; guards below
	file    config.Config
	rev     string            // revision of file
	disk    [sha256.Size]byte // hash of the file's bytes as last read or written
	eff     config.Config
	entries map[string]*entry // by account name
	ln      net.Listener
	errc    chan error     // failures of the current listener, while serving
	proxied sync.WaitGroup // /v1 requests in flight
	rewatch chan struct{}
}

// entry is an account with the configuration it was built from.
type entry struct {
	cfg  config.Account
	key  string                          // where its credentials come from (sourceKey): an entry is kept while it is unchanged
	dir  string                          // expanded directory ("" for a token account)
	acct atomic.Pointer[account.Account] // replaced when renamed; read without d.mu (refresh callbacks)
	src  *credential.Source              // nil while the credentials cannot be read
}

// sourceKey names where an account's credentials come from: its expanded
// directory or its token. A configuration change keeps everything the
// daemon knows about an account whose source is unchanged.
func (d *Daemon) sourceKey(ac config.Account) string {
	if ac.Token != "" {
		return "token\x00" + ac.Token
	}
	return "dir\x00" + config.ExpandHome(ac.Dir, d.o.Home)
}

// New reads (or creates) the configuration and builds everything it
// describes. It does not bind the listener.
func New(o Options) (*Daemon, error) {
	if o.ConfigPath == "" {
		return nil, errors.New("no configuration file given")
	}
	if o.Home == "" {
		o.Home, _ = os.UserHomeDir()
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	d := &Daemon{o: o, log: o.Logger.With("component", "daemon"), bus: new(event.Bus), entries: map[string]*entry{}, rewatch: make(chan struct{}, 1)}
	file, created, err := config.LoadOrCreate(o.ConfigPath, o.Home, hasCredentials(o.Home))
	if err != nil {
		return nil, err
	}
	d.created = created
	eff, err := d.effective(file)
	if err != nil {
		return nil, fmt.Errorf("environment overrides: %w", err)
	}
	dataDir := eff.DataDirFor(o.ConfigPath)
	d.dataDir = dataDir
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	if d.tokens, err = token.Open(filepath.Join(dataDir, "tokens.json"), nil); err != nil {
		return nil, err
	}
	if d.secret, err = control.LoadOrCreateSecret(dataDir); err != nil {
		return nil, err
	}
	d.usage = openUsage(filepath.Join(dataDir, "usage.json"), d.log)
	d.usage.Log = o.Logger
	if d.pool, err = account.NewPool(account.Options{Strategy: eff.Strategy, Affinity: eff.SessionAffinity, Bus: d.bus, Logger: o.Logger}); err != nil {
		return nil, err
	}
	d.proxy, err = proxy.New(proxy.Options{
		Pool: d.pool, Tokens: d.tokens, Upstream: eff.Upstream, Transport: o.Transport,
		MaxBody: int64(eff.MaxBodyMB) << 20, Cooldown: time.Duration(eff.Cooldown), Usage: d.usage, Logger: o.Logger,
		Spent:           d.budgetSpent,
		ResponseTimeout: time.Duration(eff.ResponseTimeout), StreamIdleTimeout: time.Duration(eff.StreamIdleTimeout),
	})
	if err != nil {
		return nil, err
	}
	d.file, d.eff, d.rev = file, eff, revision(file)
	d.noteDiskLocked()
	d.applyLocked(eff)
	select {
	case <-d.rewatch: // the watch starts with these directories anyway
	default:
	}
	d.logins, d.quota = d.newLogins(), d.newPoller()
	d.control = control.NewServer(d, d.secret, o.Logger)
	d.srv = &http.Server{
		Handler:           d.routes(),
		ReadHeaderTimeout: headerTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelDebug),
	}
	d.srv.RegisterOnShutdown(d.control.Close)
	return d, nil
}

// openUsage loads the usage history at path. A history that cannot be read
// must not keep the router from starting. A corrupt one is replaced by a
// new one, and the file is kept: renamed aside when the new one is first
// saved. One that cannot be read for another reason (permissions) may be
// fine, so it is left alone and this run's history stays in memory.
func openUsage(path string, log *slog.Logger) *usage.Recorder {
	rec, err := usage.Open(path, nil)
	switch {
	case err == nil:
		return rec
	case errors.Is(err, usage.ErrCorrupt):
		log.Warn("the usage history is corrupt; starting a new one (the file is kept: renamed to "+filepath.Base(path)+".corrupt-<time> when the new one is first saved)", "file", path, "err", err)
		return usage.Replace(path, nil)
	default:
		log.Warn("cannot read the usage history; this run's usage is kept in memory only and the file is left as it is", "file", path, "err", err)
		return usage.Memory(path, nil)
	}
}

// effective is the file's configuration with the environment overrides and
// the Listen option applied.
func (d *Daemon) effective(file config.Config) (config.Config, error) {
	eff, err := config.ApplyEnv(file, d.o.Getenv)
	if err != nil {
		return eff, err
	}
	if d.o.Listen != "" {
		eff.Listen = d.o.Listen
	}
	return eff, nil
}

// hasCredentials tells config discovery which directories hold a login.
func hasCredentials(home string) func(string) bool {
	return func(dir string) bool {
		_, err := credential.Inspect(config.ExpandHome(dir, home))
		return err == nil
	}
}

// Created reports whether New wrote a new configuration file.
func (d *Daemon) Created() bool { return d.created }

// Listen claims the data directory and binds the configured address. It
// fails with a message naming the directory when another daemon serves
// from it, and naming the address and the config key when the port is
// taken. Serve releases the directory when it returns.
func (d *Daemon) Listen() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.claimLocked(); err != nil {
		return err
	}
	ln, err := listen(d.eff.Listen, d.o.ConfigPath)
	if err != nil {
		d.releaseLocked()
		return err
	}
	d.ln = ln
	return nil
}

// claimLocked takes the lock on the data directory, so that two daemons
// never write one client token store or usage history: the second one
// would overwrite the first one's work. (The accounts are safe anyway:
// refreshes lock the credential directory.)
func (d *Daemon) claimLocked() error {
	if d.unlock != nil {
		return nil
	}
	unlock, err := flock.TryLock(d.dataDir)
	switch {
	case errors.Is(err, flock.ErrLocked):
		return fmt.Errorf("another MaxRouter daemon is already running with the data directory %s: stop it first (Stop MaxRouter in the tray menu, or Ctrl-C where it runs), or give this one its own \"data_dir\" in %s", d.dataDir, d.o.ConfigPath)
	case err != nil:
		d.log.Warn("cannot lock the data directory; a second daemon over it would go unnoticed", "dir", d.dataDir, "err", err)
		unlock = func() {}
	}
	d.unlock = unlock
	return nil
}

func (d *Daemon) releaseLocked() {
	if d.unlock != nil {
		d.unlock()
		d.unlock = nil
	}
}

func listen(addr, configPath string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use") {
			return nil, fmt.Errorf("cannot listen on %s: the port is in use (another MaxRouter running? change \"listen\" in %s)", addr, configPath)
		}
		return nil, fmt.Errorf("cannot listen on %s (\"listen\" in %s): %w", addr, configPath, err)
	}
	return ln, nil
}

// Addr is the address the daemon listens on, once Listen succeeded.
func (d *Daemon) Addr() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ln == nil {
		return ""
	}
	return d.ln.Addr().String()
}

// Serve answers requests until ctx ends, then shuts down gracefully:
// requests in flight get up to ten seconds to finish.
func (d *Daemon) Serve(ctx context.Context) error {
	d.mu.Lock()
	if d.ln == nil {
		d.mu.Unlock()
		if err := d.Listen(); err != nil {
			return err
		}
		d.mu.Lock()
	}
	ln := d.ln
	errc := make(chan error, 1)
	d.errc = errc
	d.mu.Unlock()
	d.started = time.Now()
	defer d.pool.Close()
	defer func() {
		d.mu.Lock()
		d.releaseLocked()
		d.mu.Unlock()
	}()

	go d.serveOn(ln, errc)
	// The usage history is saved once more after the last request ended,
	// so it outlives ctx until the server has shut down.
	uctx, stopUsage := context.WithCancel(context.WithoutCancel(ctx))
	defer stopUsage()
	usageDone := make(chan struct{})
	go func() {
		defer close(usageDone)
		if err := d.usage.Serve(uctx); err != nil {
			d.log.Error("cannot save the usage history", "err", err)
		}
	}()
	var wg sync.WaitGroup
	wg.Go(func() { d.watch(ctx) })
	wg.Go(func() { d.retry(ctx) })
	wg.Go(func() { d.keepFresh(ctx) })
	wg.Go(func() { d.saveTokenUse(ctx) })
	wg.Go(func() { d.quota.Serve(ctx) })
	wg.Go(func() {
		// The tokens CLI writes the store itself when it cannot reach this
		// daemon (say, one started with --listen elsewhere).
		if err := d.tokens.Watch(ctx, d.o.Logger); err != nil {
			d.log.Warn("not watching the client token file: tokens issued by the CLI while the daemon runs need a restart", "err", err)
		}
	})
	d.log.Info("serving", "addr", ln.Addr().String(), "accounts", len(d.pool.Accounts()), "strategy", d.pool.Strategy())

	var err error
	select {
	case <-ctx.Done():
		// Asked to stop (a signal, the service manager): say so, so that
		// the desktop app can tell this from a crash.
		d.bus.Publish(event.Event{Type: event.Stopping, At: time.Now()})
	case err = <-errc:
		err = fmt.Errorf("serving: %w", err)
	}
	grace := cmp.Or(d.o.ShutdownGrace, DefaultShutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if serr := d.srv.Shutdown(sctx); serr != nil {
		// Long answers still streaming: cut them, and wait a moment for
		// their handlers, which record the tokens reported so far, so the
		// last save of the usage history below has them.
		d.log.Warn("requests still running when stopping; closing them", "after", grace, "err", serr)
		d.srv.Close()
		handled := make(chan struct{})
		go func() {
			d.proxied.Wait()
			close(handled)
		}()
		select {
		case <-handled:
		case <-time.After(2 * time.Second):
			d.log.Warn("requests still running after their connections were closed; their token counts are lost")
		}
	}
	d.logins.Close()
	wg.Wait()
	stopUsage()
	<-usageDone
	d.log.Info("stopped")
	return err
}

// serveOn serves ln until it is closed. A failure of the current listener
// is reported on errc; one closed because the address changed is not.
func (d *Daemon) serveOn(ln net.Listener, errc chan<- error) {
	err := d.srv.Serve(ln)
	d.mu.Lock()
	current := d.ln == ln
	d.mu.Unlock()
	if current && !errors.Is(err, http.ErrServerClosed) {
		select {
		case errc <- err:
		default:
		}
	}
}

// watch follows the credential directories, re-reading an account's
// credentials when Claude Code rewrote them. It restarts when the set of
// directories changes.
func (d *Daemon) watch(ctx context.Context) {
	for {
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := credential.Watch(wctx, d.dirs(), d.credentialsChanged, d.o.Logger); err != nil {
				d.log.Warn("cannot watch credential directories; changes are picked up on the next refresh", "err", err)
			}
		}()
		select {
		case <-ctx.Done():
			cancel()
			<-done
			return
		case <-d.rewatch:
			cancel()
			<-done
		}
	}
}

func (d *Daemon) dirs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, e := range d.entries {
		if e.dir != "" && !slices.Contains(out, e.dir) {
			out = append(out, e.dir)
		}
	}
	slices.Sort(out)
	return out
}

// credentialsChanged re-reads the credentials of the accounts in dir.
func (d *Daemon) credentialsChanged(dir string) {
	d.mu.Lock()
	var es []*entry
	for _, e := range d.entries {
		if e.dir == dir {
			es = append(es, e)
		}
	}
	d.mu.Unlock()
	for _, e := range es {
		d.reload(e, false)
	}
}

// reload re-reads e's credentials and puts the account back into rotation
// when they look new. force puts it back whenever they can be read (a
// manual reset).
func (d *Daemon) reload(e *entry, force bool) {
	d.mu.Lock()
	src := e.src
	d.mu.Unlock()
	acct := e.acct.Load()
	if src == nil {
		d.mu.Lock()
		opts := d.credOptions()
		d.mu.Unlock()
		opts.OnRefresh = d.onRefresh(e)
		s, err := credential.Open(e.dir, opts)
		if err != nil {
			d.pool.Failed(acct, err)
			return
		}
		d.mu.Lock()
		e.src = s
		d.mu.Unlock()
		d.log.Info("credentials found", "account", e.cfg.Name)
		d.pool.SetCredential(acct, s)
		return
	}
	before := src.Info().ExpiresAt
	if err := src.Reload(); err != nil {
		d.log.Warn("credentials changed but cannot be read; keeping the previous token", "account", e.cfg.Name, "err", err)
		return
	}
	state := acct.Snapshot(time.Now()).State
	if force || ((state == control.StateNeedsLogin || state == control.StateError) && !src.Info().ExpiresAt.Equal(before)) {
		d.pool.SetCredential(acct, src)
	}
}

// retry tries again, now and then, the accounts whose credentials could
// not be read at all.
func (d *Daemon) retry(ctx context.Context) {
	t := time.NewTicker(retryInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d.mu.Lock()
		var es []*entry
		for _, e := range d.entries {
			if e.src == nil && e.dir != "" {
				es = append(es, e)
			}
		}
		d.mu.Unlock()
		for _, e := range es {
			d.reload(e, false)
		}
	}
}

// freshInterval is how often the daemon looks for tokens due for a
// refresh among accounts that served no request.
const freshInterval = time.Minute

// keepFresh refreshes, at start and then every freshInterval, the tokens
// that are due, so an idle account is ready (and a dead login shows) before
// a request needs it.
func (d *Daemon) keepFresh(ctx context.Context) {
	d.pool.RenewDue()
	t := time.NewTicker(freshInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.pool.RenewDue()
		}
	}
}

// credOptions are the options of new credentials; d.mu is held.
func (d *Daemon) credOptions() credential.Options {
	return credential.Options{
		TokenURL:      d.eff.TokenURL,
		HTTPClient:    d.o.HTTPClient,
		RefreshBefore: time.Duration(d.eff.RefreshBefore),
		Logger:        d.o.Logger,
	}
}

// applyLocked makes the running daemon follow eff. Every account whose
// credentials source (directory or token) is unchanged keeps its Account,
// with all the daemon knows about it: state, cooldowns, counters, learnt
// usage, session affinity; a renamed one carries it to its new name. A
// changed token endpoint or refresh margin is handed to the kept
// credentials.
func (d *Daemon) applyLocked(eff config.Config) {
	prevDirs := d.dirsLocked()
	d.eff = eff
	if err := d.pool.SetStrategy(eff.Strategy); err != nil {
		d.log.Error("strategy", "err", err) // validated before; cannot happen
	}
	d.pool.SetAffinity(eff.SessionAffinity)
	if err := d.proxy.SetUpstream(eff.Upstream); err != nil {
		d.log.Error("upstream", "err", err)
	}
	d.proxy.SetCooldown(time.Duration(eff.Cooldown))
	d.proxy.SetMaxBody(int64(eff.MaxBodyMB) << 20)
	d.proxy.SetTimeouts(time.Duration(eff.ResponseTimeout), time.Duration(eff.StreamIdleTimeout))
	d.proxy.SetModels(eff.Models)
	d.pool.SetAvoidExtra(eff.ExtraUsage != config.ExtraAllow)

	opts := d.credOptions()
	chosen := make([]*entry, len(eff.Accounts))
	kept := map[*entry]bool{}
	// The same name and source: the same account.
	for i, ac := range eff.Accounts {
		if e, ok := d.entries[ac.Name]; ok && e.key == d.sourceKey(ac) {
			chosen[i], kept[e] = e, true
		}
	}
	// The same source under a new name: renamed.
	for i, ac := range eff.Accounts {
		if chosen[i] != nil {
			continue
		}
		key := d.sourceKey(ac)
		for _, e := range d.entries {
			if !kept[e] && e.key == key {
				d.log.Info("account renamed", "from", e.cfg.Name, "to", ac.Name)
				e.acct.Store(e.acct.Load().Renamed(ac.Name))
				chosen[i], kept[e] = e, true
				break
			}
		}
	}
	next := map[string]*entry{}
	var accts []*account.Account
	for i, ac := range eff.Accounts {
		e := chosen[i]
		if e == nil {
			e = d.newEntry(ac, d.sourceKey(ac), opts)
		} else if e.src != nil {
			e.src.SetEndpoint(eff.TokenURL, time.Duration(eff.RefreshBefore))
		}
		e.cfg = ac
		e.acct.Load().SetEnabled(ac.IsEnabled())
		next[ac.Name] = e
		accts = append(accts, e.acct.Load())
	}
	d.entries = next
	d.pool.SetAccounts(accts)
	if eff.QuotaPoll == 0 {
		d.pool.ClearQuota()
	}
	if d.quota != nil {
		d.quota.Kick() // new accounts are read at once
	}
	if !slices.Equal(prevDirs, d.dirsLocked()) {
		select {
		case d.rewatch <- struct{}{}:
		default:
		}
	}
}

func (d *Daemon) dirsLocked() []string {
	var out []string
	for _, e := range d.entries {
		if e.dir != "" {
			out = append(out, e.dir)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (d *Daemon) newEntry(ac config.Account, key string, opts credential.Options) *entry {
	e := &entry{cfg: ac, key: key}
	opts.OnRefresh = d.onRefresh(e)
	if ac.Token != "" {
		e.src = credential.Static(ac.Token, opts)
		e.acct.Store(account.New(ac.Name, "(token)", e.src, nil))
		return e
	}
	e.dir = config.ExpandHome(ac.Dir, d.o.Home)
	src, err := credential.Open(e.dir, opts)
	if err != nil {
		d.log.Warn("account unusable until its credentials can be read", "account", ac.Name, "dir", ac.Dir, "err", err)
		e.acct.Store(account.New(ac.Name, ac.Dir, nil, err))
		return e
	}
	e.src = src
	e.acct.Store(account.New(ac.Name, ac.Dir, src, nil))
	return e
}

// onRefresh counts and announces a refresh of e's token.
func (d *Daemon) onRefresh(e *entry) func() {
	return func() {
		a := e.acct.Load()
		d.proxy.Metrics().Refresh(a.Name)
		d.pool.Refreshed(a)
	}
}

// routes is the listener's whole surface.
func (d *Daemon) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", d.health)
	mux.HandleFunc("HEAD /{$}", func(w http.ResponseWriter, _ *http.Request) {})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "MaxRouter is running. Point ANTHROPIC_BASE_URL here; see `maxrouter --help`.\n")
	})
	mux.HandleFunc("GET /v1/accounts", d.readOnly(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, control.Accounts{Accounts: d.pool.Snapshots()})
	}))
	mux.HandleFunc("GET /metrics", d.readOnly(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		d.proxy.Metrics().WriteTo(w, d.pool.Snapshots())
		paused := 0
		if d.paused.Load() {
			paused = 1
		}
		fmt.Fprintf(w, "# HELP maxrouter_paused Routing paused by the user (1) or not (0).\n# TYPE maxrouter_paused gauge\nmaxrouter_paused %d\n", paused)
	}))
	mux.HandleFunc("GET /v1/usage", d.readOnly(d.todayUsage))
	mux.Handle(control.Prefix, d.control)
	mux.Handle("/v1/", d.unlessPaused(d.proxy))
	mux.Handle(proxy.ChatPath, d.unlessPaused(http.HandlerFunc(d.proxy.ServeOpenAI)))
	mux.Handle(proxy.ResponsesPath, d.unlessPaused(http.HandlerFunc(d.proxy.ServeOpenAI)))
	mux.Handle("GET "+proxy.ModelsPath, d.unlessPaused(http.HandlerFunc(d.openAIModels)))
	return stripAPIPrefix(d.dropUnreadBodies(mux))
}

// dropUnreadBodies answers at once, without waiting for its body (see
// proxy.DropBody), a request whose body nothing will read: one for a path
// that takes none, or for the control API without the control secret. A
// client trickling such a body would otherwise hold its connection for as
// long as it likes. The proxy sees to its own refusals.
func (d *Daemon) dropUnreadBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 && !d.readsBody(r) {
			proxy.DropBody(w, r)
		}
		next.ServeHTTP(w, r)
	})
}

// readsBody reports whether the handler of r may read its body.
func (d *Daemon) readsBody(r *http.Request) bool {
	p := r.URL.Path
	switch {
	case strings.Contains(p, "/.") || strings.Contains(p, "//"):
		return false // ServeMux redirects it
	case strings.HasPrefix(p, control.Prefix):
		return control.IsLoopbackHost(r.Host) && d.hasSecret(r)
	case p == "/v1/accounts", p == "/v1/usage":
		return false
	}
	return strings.HasPrefix(p, "/v1/")
}

// hasSecret reports whether r carries the control secret.
func (d *Daemon) hasSecret(r *http.Request) bool {
	s, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(s)), []byte(d.secret)) == 1
}

// pausedMessage is the error message of a request refused while paused.
const pausedMessage = "MaxRouter is paused: choose Resume routing in the tray menu, or restart the daemon"

// unlessPaused passes requests to next, except while routing is paused:
// then a client the proxy admits gets 503 in Anthropic's error shape, and
// nothing is sent upstream. A client it does not admit still gets the
// proxy's authentication error. Requests already in next when the pause
// starts finish normally. It counts the requests in flight for Serve,
// which waits for them when it cuts them short on stopping.
func (d *Daemon) unlessPaused(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.proxied.Add(1)
		defer d.proxied.Done()
		if d.paused.Load() && d.proxy.Authorize(r) == nil {
			proxy.DropBody(w, r)
			// Anthropic's SDKs, and Claude Code with them, retry a 503 for
			// minutes unless told not to; the person should see why now.
			w.Header().Set(proxy.ShouldRetryHeader, "false")
			proxy.WriteErrorFor(w, r, http.StatusServiceUnavailable, "api_error", pausedMessage)
			d.proxy.Metrics().RouterError(http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// health answers without authentication: it says nothing about accounts
// beyond how many can take requests.
func (d *Daemon) health(w http.ResponseWriter, _ *http.Request) {
	snaps := d.pool.Snapshots()
	avail := 0
	for _, s := range snaps {
		if s.State == control.StateAvailable {
			avail++
		}
	}
	status := "ok"
	if avail == 0 {
		status = "degraded"
	}
	writeJSON(w, map[string]any{"status": status, "version": d.o.Version, "accounts": len(snaps), "available": avail, "paused": d.paused.Load()})
}

// readOnly admits a client token or the control secret.
func (d *Daemon) readOnly(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if d.hasSecret(r) {
			next(w, r)
			return
		}
		if err := d.proxy.Authorize(r); err != nil {
			proxy.WriteError(w, http.StatusUnauthorized, "authentication_error", "this endpoint needs a client token or the control secret")
			return
		}
		next(w, r)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
