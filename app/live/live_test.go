package live

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/control/controltest"
	"github.com/maxrouter/maxrouter/core/event"
)

// recorder keeps what a Watcher was told.
type recorder struct {
	mu     sync.Mutex
	states []State
	events []control.Event
	moved  chan struct{}
}

func watch(t *testing.T, m *Model) *recorder {
	r := &recorder{moved: make(chan struct{}, 1)}
	t.Cleanup(m.Watch(func(s State, es []control.Event) {
		r.mu.Lock()
		r.states = append(r.states, s)
		r.events = append(r.events, es...)
		r.mu.Unlock()
		select {
		case r.moved <- struct{}{}:
		default:
		}
	}))
	return r
}

// until waits (up to 5 s) for a State that satisfies cond and returns it.
func (r *recorder) until(t *testing.T, what string, cond func(State) bool) State {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		r.mu.Lock()
		for _, s := range r.states {
			if cond(s) {
				r.mu.Unlock()
				return s
			}
		}
		r.mu.Unlock()
		select {
		case <-r.moved:
		case <-deadline:
			t.Fatalf("no state where %s within 5s", what)
		}
	}
}

func (r *recorder) seen(typ event.Type) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// newDaemon is a daemon with one account and the default configuration.
func newDaemon(t *testing.T) *controltest.Daemon {
	t.Helper()
	return controltest.NewDaemon(t, &controltest.Backend{
		AccountList: []control.Account{{Name: "work", State: control.StateAvailable}},
		ConfigValue: config.Default(),
	})
}

func serve(t *testing.T, d *controltest.Daemon) *Model {
	t.Helper()
	m := New(d.Client(), Options{Backoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		m.Serve(ctx)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return m
}

func TestModelFollowsTheDaemon(t *testing.T) {
	d := newDaemon(t)
	m := New(d.Client(), Options{})
	r := watch(t, m)
	if s := m.State(); s.Tried || s.Connected {
		t.Fatalf("before Serve: %+v, want connecting", s)
	}
	serveModel(t, m)
	s := r.until(t, "it is connected", func(s State) bool { return s.Connected })
	if len(s.Accounts) != 1 || s.Accounts[0].Name != "work" || !s.HasConfig() || s.Config.Strategy != "round-robin" {
		t.Errorf("connected state = %+v, want the backend's accounts and config", s)
	}

	// An account event: the accounts are read again, the event handed on.
	d.Backend().SetAccounts([]control.Account{{Name: "work", State: control.StateCooling}})
	d.Backend().Publish(control.Event{Type: event.CooldownStarted, Account: "work"})
	r.until(t, "work is cooling", func(s State) bool { return len(s.Accounts) == 1 && s.Accounts[0].State == control.StateCooling })
	if r.seen(event.CooldownStarted) != 1 {
		t.Errorf("watchers saw cooldown_started %d times, want once", r.seen(event.CooldownStarted))
	}

	// A change made elsewhere (the CLI, a hand edit): the new configuration.
	cfg := config.Default()
	cfg.Strategy = "priority"
	d.Backend().SetConfig(cfg)
	_, rev := d.Backend().Config()
	r.until(t, "the new config is shown", func(s State) bool { return s.Config.Strategy == "priority" && s.Revision == rev })

	// Pause from elsewhere.
	if err := d.Backend().Pause(); err != nil {
		t.Fatal(err)
	}
	r.until(t, "routing is paused", func(s State) bool { return s.Paused() })
}

func serveModel(t *testing.T, m *Model) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		m.Serve(ctx)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// A daemon that dies is seen at once; one that comes back is followed
// again, and nothing it said meanwhile is lost.
func TestModelSeesTheDaemonDieAndComeBack(t *testing.T) {
	d := newDaemon(t)
	m := serve(t, d)
	r := watch(t, m)
	r.until(t, "it is connected", func(s State) bool { return s.Connected })

	start := time.Now()
	d.Kill()
	s := r.until(t, "it is gone", func(s State) bool { return s.Tried && !s.Connected })
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the dead daemon was noticed after %v, want within 2s", took)
	}
	if s.Stopped || s.Problem == nil {
		t.Errorf("state after a crash = %+v, want not Stopped, with a Problem", s)
	}
	if len(s.Accounts) != 1 {
		t.Errorf("the last accounts were forgotten: %+v", s.Accounts)
	}

	// Events published while the stream was down arrive after reconnecting.
	d.Backend().Publish(control.Event{Type: event.NeedsLogin, Account: "work"})
	d.Revive()
	r.until(t, "it is back", func(s State) bool { return s.Connected && s.Since.After(start) })
	deadline := time.Now().Add(5 * time.Second)
	for r.seen(event.NeedsLogin) == 0 && time.Now().Before(deadline) {
		<-r.moved
	}
	if n := r.seen(event.NeedsLogin); n != 1 {
		t.Errorf("needs_login published while disconnected was seen %d times, want once", n)
	}
}

// A daemon that says it is stopping went on purpose.
func TestModelKnowsAStopFromACrash(t *testing.T) {
	d := newDaemon(t)
	m := serve(t, d)
	r := watch(t, m)
	r.until(t, "it is connected", func(s State) bool { return s.Connected })
	d.Backend().WaitSubscribers(t, 1)
	d.Stop(t)
	s := r.until(t, "it is gone", func(s State) bool { return s.Tried && !s.Connected })
	if !s.Stopped {
		t.Errorf("state after an announced stop = %+v, want Stopped", s)
	}
	d.Revive()
	if s := r.until(t, "it is back", func(s State) bool { return s.Connected }); s.Stopped {
		t.Error("Stopped still set after the daemon came back")
	}
}

// Events the Model missed are replaced by a re-read of everything.
func TestModelRereadsAfterLostEvents(t *testing.T) {
	d := newDaemon(t)
	m := serve(t, d)
	r := watch(t, m)
	r.until(t, "it is connected", func(s State) bool { return s.Connected })
	d.Kill()
	r.until(t, "it is gone", func(s State) bool { return !s.Connected })
	for range event.Keep + 1 {
		d.Backend().Publish(control.Event{Type: event.Refreshed})
	}
	d.Backend().SetAccounts([]control.Account{{Name: "new", State: control.StateAvailable}})
	d.Revive()
	r.until(t, "the new accounts are read", func(s State) bool {
		return s.Connected && slices.ContainsFunc(s.Accounts, func(a control.Account) bool { return a.Name == "new" })
	})
}
