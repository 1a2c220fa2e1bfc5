// Package live is the desktop app's one view of the daemon. A Model owns
// the connection to the daemon's control API: it reads the accounts, the
// configuration and the status, follows the event stream (resuming after
// the last event it saw when the stream breaks), re-reads what each burst
// of events changed, and tells its watchers (the tray, the settings window,
// the notifier) about every new State with the events behind it.
//
// When the daemon goes away the Model says so at once (the stream breaks
// when the process dies) and tries again every few hundred milliseconds,
// backing off to MaxBackoff; a daemon that announced it was stopping went
// on purpose, and the State says that too.
package live

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/event"
)

// Daemon is the part of the control API the Model reads; *control.Client
// implements it. Errors wrapping control.ErrUnreachable mean the daemon
// is not running.
type Daemon interface {
	Status(ctx context.Context) (control.Status, error)
	Accounts(ctx context.Context) ([]control.Account, error)
	Config(ctx context.Context) (control.Config, string, error)
	Events(ctx context.Context, after string, fn func(control.Event)) error
}

// State is the daemon as last read. The zero State is "connecting".
type State struct {
	// Connected is true while the daemon answers (from the first read of
	// everything until its event stream breaks).
	Connected bool
	// Tried is true once a connection attempt finished: before that the
	// app does not know yet whether the daemon runs.
	Tried bool
	// Problem is why the daemon cannot be used while not Connected (nil
	// before the first attempt).
	Problem error
	// Stopped is true when the daemon said it was stopping (asked by a
	// signal or its service manager) before it went: not a crash.
	Stopped bool
	// Since is when Connected last changed.
	Since time.Time

	// Accounts, Config, Revision and Status are as last read while
	// connected; they are kept (stale) while the daemon is away.
	Accounts []control.Account
	Config   control.Config
	Revision string // "" until the configuration was read
	Status   control.Status
}

// HasConfig reports whether the configuration was read.
func (s State) HasConfig() bool { return s.Revision != "" }

// Paused reports whether routing is paused (as far as is known).
func (s State) Paused() bool { return s.Connected && s.Status.Paused }

// clone copies s deeply enough that the copy can be handed out.
func (s State) clone() State {
	s.Accounts = slices.Clone(s.Accounts)
	return s
}

// Options tune a Model. Every field is optional.
type Options struct {
	// Poll is how often the accounts are read again while connected: usage
	// changes without events. Default 15s.
	Poll time.Duration
	// Backoff is the first wait before reconnecting; it doubles up to
	// MaxBackoff and starts over after a successful connection. Defaults
	// 250ms and 2s.
	Backoff, MaxBackoff time.Duration
	// Timeout bounds one control API call. Default 10s.
	Timeout time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives what went wrong. Default slog.Default().
	Logger *slog.Logger
}

// Watcher is told about every new State, with the events that led to it
// (none for a poll, a connection or a disconnection). It is called from
// the Model's goroutine, one call at a time and in order, and must return
// quickly: hand work to the UI thread with fyne.Do.
type Watcher func(s State, events []control.Event)

// Model follows one daemon. Create it with New and run Serve.
type Model struct {
	d    Daemon
	o    Options
	log  *slog.Logger
	wake chan struct{}

	mu       sync.Mutex
	state    State
	watchers map[int]Watcher
	nextID   int
	lastID   string // the last event seen, to resume the stream after
}

// New returns a Model of d; nothing is read until Serve runs.
func New(d Daemon, o Options) *Model {
	if o.Poll <= 0 {
		o.Poll = 15 * time.Second
	}
	if o.Backoff <= 0 {
		o.Backoff = 250 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 2 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Model{d: d, o: o, log: log.With("component", "live"), wake: make(chan struct{}, 1), watchers: map[int]Watcher{}}
}

// State returns the latest State.
func (m *Model) State() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state.clone()
}

// Watch calls w with the current State at once and then with every new
// one, until the returned function is called.
func (m *Model) Watch(w Watcher) (cancel func()) {
	m.mu.Lock()
	id := m.nextID
	m.nextID++
	m.watchers[id] = w
	s := m.state.clone()
	m.mu.Unlock()
	w(s, nil)
	return func() {
		m.mu.Lock()
		delete(m.watchers, id)
		m.mu.Unlock()
	}
}

// Reconnect makes Serve try to reach the daemon now rather than after its
// backoff, for a caller that just started the daemon.
func (m *Model) Reconnect() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Refresh reads everything again now (after the app changed something and
// wants to show it before the daemon's event arrives). It may be called
// from any goroutine; errors only mean the next event or poll will tell.
func (m *Model) Refresh(ctx context.Context) {
	m.readAll(ctx, nil)
}

// Serve connects and follows the daemon until ctx ends, reconnecting with
// backoff whenever it goes away. It returns nil when ctx ends.
func (m *Model) Serve(ctx context.Context) error {
	backoff := m.o.Backoff
	for {
		connected, stopped, err := m.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if connected {
			backoff = m.o.Backoff
		}
		m.lost(err, stopped)
		timer := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-m.wake:
			timer.Stop()
			backoff = m.o.Backoff
		case <-timer.C:
			backoff = min(2*backoff, m.o.MaxBackoff)
		}
	}
}

// session connects once: it reads everything, then follows the event
// stream until it breaks. connected reports whether the daemon answered;
// stopped whether it said it was stopping.
func (m *Model) session(ctx context.Context) (connected, stopped bool, err error) {
	if err := m.readAll(ctx, nil); err != nil {
		return false, false, err
	}
	m.log.Debug("connected to the daemon")
	// Follow the events after the last one seen; a new daemon (another
	// epoch of ids) starts after the one its status named, read before
	// everything else: no change falls in between.
	m.mu.Lock()
	if last := m.state.Status.LastEventID; epoch(m.lastID) != epoch(last) {
		m.lastID = last
	}
	m.mu.Unlock()

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	f := &follower{m: m, kick: make(chan struct{}, 1)}
	var wg sync.WaitGroup
	wg.Go(func() { f.run(sctx) })
	m.mu.Lock()
	after := m.lastID
	m.mu.Unlock()
	err = m.d.Events(sctx, after, f.add)
	stop()
	wg.Wait()
	f.flush(ctx) // what arrived last, such as the daemon stopping
	return true, f.stopped, err
}

// readAll reads status, configuration and accounts and publishes the
// State with events. An unreachable daemon is an error; other failures of
// one read keep what was known.
func (m *Model) readAll(ctx context.Context, events []control.Event) error {
	cctx, cancel := context.WithTimeout(ctx, m.o.Timeout)
	defer cancel()
	// Status first: its LastEventID is where the stream resumes.
	st, stErr := m.d.Status(cctx)
	if stErr != nil && (errors.Is(stErr, control.ErrUnreachable) || errors.Is(stErr, control.ErrUnauthorized)) {
		return stErr
	}
	accounts, err := m.d.Accounts(cctx)
	if err != nil {
		return err
	}
	cfg, rev, cfgErr := m.d.Config(cctx)
	for _, e := range []error{stErr, cfgErr} {
		if e != nil && ctx.Err() == nil {
			m.log.Warn("reading the daemon", "err", e)
		}
	}
	m.update(func(s *State) {
		if !s.Connected {
			s.Since = m.o.Now()
		}
		s.Connected, s.Tried, s.Problem, s.Stopped = true, true, nil, false
		s.Accounts = accounts
		if stErr == nil {
			s.Status = st
		}
		if cfgErr == nil {
			s.Config, s.Revision = cfg, rev
		}
	}, events)
	return nil
}

// lost marks the daemon unreachable because of err; stopped says it
// announced its stop.
func (m *Model) lost(err error, stopped bool) {
	if err == nil {
		err = control.ErrUnreachable
	}
	m.mu.Lock()
	was, tried := m.state.Connected, m.state.Tried
	m.mu.Unlock()
	switch {
	case was && stopped:
		m.log.Info("the daemon stopped")
	case was:
		m.log.Warn("lost the daemon", "err", err)
	default:
		m.log.Debug("daemon not reachable", "err", err)
	}
	if !was && tried {
		m.mu.Lock()
		same := m.state.Problem != nil && m.state.Problem.Error() == err.Error()
		m.mu.Unlock()
		if same {
			return // nothing new to tell
		}
	}
	m.update(func(s *State) {
		if s.Connected || !s.Tried {
			s.Since = m.o.Now()
		}
		s.Connected, s.Tried, s.Problem = false, true, err
		s.Stopped = s.Stopped || stopped
	}, nil)
}

// update changes the state with fn and tells the watchers.
func (m *Model) update(fn func(*State), events []control.Event) {
	m.mu.Lock()
	fn(&m.state)
	for _, e := range events {
		if e.ID != "" {
			m.lastID = e.ID
		}
	}
	s := m.state.clone()
	ws := make([]Watcher, 0, len(m.watchers))
	ids := make([]int, 0, len(m.watchers))
	for id := range m.watchers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		ws = append(ws, m.watchers[id])
	}
	m.mu.Unlock()
	for _, w := range ws {
		w(s, slices.Clone(events))
	}
}

// epoch is the part of an event ID that names the daemon run it comes
// from ("" for "").
func epoch(id string) string {
	if i := strings.LastIndexByte(id, '-'); i >= 0 {
		return id[:i]
	}
	return id
}

// follower collects a burst of events and re-reads what they changed,
// once per burst; it also reads the accounts every Poll.
type follower struct {
	m       *Model
	kick    chan struct{}
	stopped bool // the daemon said it is stopping

	mu     sync.Mutex
	queued []control.Event
}

// add queues e; it is called from the event stream's goroutine.
func (f *follower) add(e control.Event) {
	f.mu.Lock()
	f.queued = append(f.queued, e)
	f.mu.Unlock()
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

func (f *follower) run(ctx context.Context) {
	tick := time.NewTicker(f.m.o.Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.kick:
		case <-tick.C:
		}
		f.flush(ctx)
	}
}

// flush re-reads what the queued events changed (the accounts at least)
// and publishes the State with them.
func (f *follower) flush(ctx context.Context) {
	f.mu.Lock()
	events := f.queued
	f.queued = nil
	f.mu.Unlock()
	m := f.m
	var (
		reset, config, status bool
		paused, pauseKnown    bool
	)
	for _, e := range events {
		switch e.Type {
		case control.EventReset:
			reset = true
		case event.ConfigChanged:
			config = true
		case event.Paused, event.Resumed:
			status = true
			paused, pauseKnown = e.Type == event.Paused, true
		case event.Stopping:
			f.stopped = true
		}
	}
	if f.stopped {
		m.update(func(s *State) { s.Stopped = true }, events)
		return
	}
	if ctx.Err() != nil {
		if len(events) > 0 {
			m.update(func(*State) {}, events) // the stream broke: say what came
		}
		return
	}
	cctx, cancel := context.WithTimeout(ctx, m.o.Timeout)
	defer cancel()
	if reset {
		if err := m.readAll(ctx, events); err != nil && ctx.Err() == nil {
			m.log.Warn("re-reading the daemon after lost events", "err", err)
		}
		return
	}
	accounts, accErr := m.d.Accounts(cctx)
	var (
		cfg    control.Config
		rev    string
		cfgErr error
		st     control.Status
		stErr  = errors.New("not read")
	)
	if config {
		cfg, rev, cfgErr = m.d.Config(cctx)
	}
	if status {
		st, stErr = m.d.Status(cctx)
	}
	for _, err := range []error{accErr, cfgErr} {
		if err != nil && ctx.Err() == nil {
			m.log.Warn("re-reading the daemon", "err", err)
		}
	}
	m.update(func(s *State) {
		if accErr == nil {
			s.Accounts = accounts
		}
		if config && cfgErr == nil {
			s.Config, s.Revision = cfg, rev
		}
		switch {
		case status && stErr == nil:
			s.Status = st
		case pauseKnown:
			s.Status.Paused = paused // the event says it when the status cannot
		}
	}, events)
}
