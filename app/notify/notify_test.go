package notify

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/maxrouter/maxrouter/app/live"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/event"
)

// fakeSender records what it is asked to show and to close, and answers
// ids from 1 as a notification server does.
type fakeSender struct {
	mu     sync.Mutex
	got    []Message
	closed []uint32
	err    error
}

func (f *fakeSender) Send(m Message) (uint32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, m)
	return uint32(len(f.got)), f.err
}

func (f *fakeSender) Close(id uint32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = append(f.closed, id)
	return nil
}

func (f *fakeSender) sent() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got)
}

func (f *fakeSender) titles() []string {
	var out []string
	for _, m := range f.sent() {
		out = append(out, m.Title)
	}
	return out
}

func (f *fakeSender) closedIDs() []uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.closed)
}

// serve runs n.Serve until the test ends. Call it inside a synctest bubble.
func serve(t *testing.T, n *Notifier) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve() = %v, want nil", err)
		}
	})
	return cancel
}

// up is a connected daemon with accounts.
func up(accounts ...control.Account) live.State {
	return live.State{Connected: true, Tried: true, Accounts: accounts}
}

// down is a daemon that went away; stopped says it announced it.
func down(stopped bool) live.State {
	return live.State{Tried: true, Problem: control.ErrUnreachable, Stopped: stopped}
}

// withPrefs is s with the configuration's notification switches.
func withPrefs(s live.State, notify bool, kinds config.Notifications) live.State {
	s.Config = config.Default()
	s.Config.Notify, s.Config.Notifications = notify, kinds
	s.Revision = "r1"
	return s
}

func events(es ...event.Event) []control.Event { return es }

// sleep lets virtual time pass and everything settle.
func sleep(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

const window = 100 * time.Millisecond

func TestBurstIsOneNotification(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &fakeSender{}
		n := New(s, Options{Window: window, Settle: window, Location: time.UTC})
		serve(t, n)
		t0 := time.Now()
		accounts := []control.Account{
			cooling("a", t0.Add(3*time.Hour)), cooling("b", t0.Add(2*time.Hour)), cooling("c", t0.Add(4*time.Hour)),
			acct("work", "", control.StateAvailable),
		}
		n.Follow(up(), nil)
		for i, name := range []string{"a", "b", "c"} {
			n.Follow(up(accounts...), events(event.Event{Type: event.CooldownStarted, Account: name, Window: "five_hour", Until: accounts[i].CooldownUntil}))
			sleep(window / 4) // the burst spans 3/4 of the window
		}
		if got := s.sent(); len(got) != 0 {
			t.Fatalf("sent %q before the window closed, want nothing yet", view(got))
		}
		sleep(window/4 - time.Nanosecond)
		if got := s.sent(); len(got) != 0 {
			t.Fatalf("sent %q a nanosecond before the window closed, want nothing yet", view(got))
		}
		sleep(time.Nanosecond)
		want := []msg{{"3 accounts hit their limits: a, b, c", "The first comes back at 02:00 (b). Requests now go to work."}}
		if got := view(s.sent()); !slices.Equal(got, want) {
			t.Fatalf("sent %q, want %q", got, want)
		}

		// The next event starts a new burst.
		n.Follow(up(accounts...), events(event.Event{Type: event.CooldownEnded, Account: "b"}))
		sleep(window)
		if got, want := s.titles(), []string{want[0].Title, "b is available again"}; !slices.Equal(got, want) {
			t.Errorf("sent %q, want %q", got, want)
		}
	})
}

func TestServeFlushesOnExit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &fakeSender{}
		n := New(s, Options{Window: time.Hour, Home: "-"})
		cancel := serve(t, n)
		n.Follow(up(acct("side", "~/.claude-side", control.StateNeedsLogin)), events(event.Event{Type: event.NeedsLogin, Account: "side"}))
		synctest.Wait()
		cancel()
		synctest.Wait()
		want := []msg{{"side needs a new login", "Log in again from Settings, or run: CLAUDE_CONFIG_DIR=~/.claude-side claude /login"}}
		if got := view(s.sent()); !slices.Equal(got, want) {
			t.Errorf("sent %q, want %q", got, want)
		}
	})
}

func TestNotifier(t *testing.T) {
	on := config.Default().Notifications
	type prefs struct {
		notify bool
		kinds  config.Notifications
	}
	// Times are offsets from the start of the test; each batch is followed
	// and then announced before the next.
	type ev struct {
		typ     event.Type
		account string
		until   time.Duration // 0 = none
		at      time.Duration // event time; -1 = unset (stamped by Follow)
	}
	tests := []struct {
		name    string
		prefs   *prefs
		batches [][]ev
		want    []string // titles
	}{
		{
			name:    "stream replay of the same event",
			batches: [][]ev{{{event.CooldownStarted, "p", time.Hour, 0}}, {{event.CooldownStarted, "p", time.Hour, 0}}},
			want:    []string{"p hit its rate limit"},
		},
		{
			name:    "same cooldown announced again later",
			batches: [][]ev{{{event.CooldownStarted, "p", time.Hour, 0}}, {{event.CooldownStarted, "p", time.Hour, -1}}},
			want:    []string{"p hit its rate limit"},
		},
		{
			name:    "same cooldown twice in one burst",
			batches: [][]ev{{{event.CooldownStarted, "p", time.Hour, 0}, {event.CooldownStarted, "p", time.Hour, -1}}},
			want:    []string{"p hit its rate limit"},
		},
		{
			name:    "cooldown extended",
			batches: [][]ev{{{event.CooldownStarted, "p", time.Hour, -1}}, {{event.CooldownStarted, "p", 2 * time.Hour, -1}}},
			want:    []string{"p hit its rate limit", "p hit its rate limit"},
		},
		{
			name: "replay of older history after the account came back",
			batches: [][]ev{
				{{event.CooldownStarted, "p", time.Hour, 0}},
				{{event.CooldownEnded, "p", 0, -1}},
				{{event.CooldownStarted, "p", time.Hour, 0}}, // the stream resumed too early
			},
			want: []string{"p hit its rate limit", "p is available again"},
		},
		{
			name: "reset by hand, then the same limit again",
			batches: [][]ev{
				{{event.CooldownStarted, "p", time.Hour, -1}},
				{{event.CooldownEnded, "p", 0, -1}},
				{{event.CooldownStarted, "p", time.Hour, -1}},
			},
			want: []string{"p hit its rate limit", "p is available again", "p hit its rate limit"},
		},
		{
			name:    "ended twice",
			batches: [][]ev{{{event.CooldownEnded, "p", 0, -1}}, {{event.CooldownEnded, "p", 0, -1}}},
			want:    []string{"p is available again"},
		},
		{
			name:    "started and ended in one burst",
			batches: [][]ev{{{event.CooldownStarted, "p", time.Hour, -1}, {event.CooldownEnded, "p", 0, -1}}},
			want:    nil,
		},
		{
			name: "needs login once until logged in again",
			batches: [][]ev{
				{{event.NeedsLogin, "s", 0, -1}}, {{event.NeedsLogin, "s", 0, -1}},
				{{event.Refreshed, "s", 0, -1}}, {{event.NeedsLogin, "s", 0, -1}},
				{{event.LoginCompleted, "s", 0, -1}}, {{event.LoginCompleted, "s", 0, -1}},
				{{event.NeedsLogin, "s", 0, -1}},
			},
			want: []string{"s needs a new login", "s is logged in again", "s needs a new login"},
		},
		{
			name:    "a login completed is confirmed even when its need was not seen",
			batches: [][]ev{{{event.LoginCompleted, "s", 0, -1}}},
			want:    []string{"s is logged in again"},
		},
		{
			name:  "a login completed follows the needs_login switch",
			prefs: &prefs{true, config.Notifications{CooldownStarted: true, CooldownEnded: true, AllExhausted: true}},
			batches: [][]ev{
				{{event.NeedsLogin, "s", 0, -1}}, {{event.LoginCompleted, "s", 0, -1}},
			},
			want: nil,
		},
		{
			name: "error once until cleared",
			batches: [][]ev{
				{{event.Error, "s", time.Minute, -1}}, {{event.Error, "s", 2 * time.Minute, -1}},
				{{event.ErrorCleared, "s", 0, -1}}, {{event.ErrorCleared, "s", 0, -1}},
			},
			want: []string{"s can't be used", "s works again"},
		},
		{
			name:  "errors follow the cooldown switches",
			prefs: &prefs{true, config.Notifications{CooldownEnded: true, NeedsLogin: true, AllExhausted: true}},
			batches: [][]ev{
				{{event.Error, "s", time.Minute, -1}}, {{event.ErrorCleared, "s", 0, -1}},
				{{event.Error, "t", time.Minute, -1}},
			},
			want: []string{"s works again"},
		},
		{
			name:    "stale event is not announced",
			batches: [][]ev{{{event.CooldownStarted, "p", time.Hour, -3 * time.Minute}}},
			want:    nil,
		},
		{
			name:    "stale event still counts for dedupe",
			batches: [][]ev{{{event.CooldownStarted, "p", time.Hour, -3 * time.Minute}}, {{event.CooldownStarted, "p", time.Hour, -1}}},
			want:    nil,
		},
		{
			name: "exhausted once, then recovered",
			batches: [][]ev{
				{{event.AllExhausted, "", time.Hour, -1}}, {{event.AllExhausted, "", time.Hour, -1}}, {{event.Recovered, "", 0, -1}},
			},
			want: []string{"All accounts are at their limit", "MaxRouter is routing again"},
		},
		{
			name:    "recovered without a notified exhaustion",
			batches: [][]ev{{{event.Recovered, "", 0, -1}}},
			want:    nil,
		},
		{
			name:  "recovered follows the all_exhausted switch",
			prefs: &prefs{true, config.Notifications{CooldownStarted: true, CooldownEnded: true, NeedsLogin: true}},
			batches: [][]ev{
				{{event.CooldownStarted, "p", time.Hour, -1}, {event.AllExhausted, "", time.Hour, -1}},
				{{event.Recovered, "", 0, -1}},
			},
			want: []string{"p hit its rate limit"}, // all_exhausted off: the cooldown is told instead
		},
		{
			name:  "master switch off",
			prefs: &prefs{false, on},
			batches: [][]ev{
				{{event.CooldownStarted, "p", time.Hour, -1}}, {{event.NeedsLogin, "s", 0, -1}}, {{event.AllExhausted, "", 0, -1}},
				{{event.LoginCompleted, "s", 0, -1}}, {{event.Error, "e", 0, -1}},
			},
			want: nil,
		},
		{
			name:  "cooldown_started off: a cancelled pair stays silent",
			prefs: &prefs{true, config.Notifications{CooldownEnded: true, NeedsLogin: true, AllExhausted: true}},
			batches: [][]ev{
				{{event.CooldownStarted, "p", time.Hour, -1}, {event.CooldownEnded, "p", 0, -1}},
				{{event.CooldownStarted, "q", time.Hour, -1}},
				{{event.CooldownEnded, "q", 0, -1}},
			},
			want: []string{"q is available again"},
		},
		{
			name:  "per-kind switches",
			prefs: &prefs{true, config.Notifications{CooldownStarted: true, AllExhausted: true}},
			batches: [][]ev{
				{{event.NeedsLogin, "s", 0, -1}, {event.CooldownStarted, "p", time.Hour, -1}}, {{event.CooldownEnded, "p", 0, -1}},
			},
			want: []string{"p hit its rate limit"},
		},
		{
			name: "lost events, configuration, routing and stopping say nothing",
			batches: [][]ev{
				{{control.EventReset, "", 0, -1}, {event.ConfigChanged, "", 0, -1}, {event.Paused, "", 0, -1}, {event.Stopping, "", 0, -1}},
			},
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &fakeSender{}
				n := New(s, Options{Window: window, Settle: window, MaxDelay: window})
				serve(t, n)
				state := up()
				if tt.prefs != nil {
					state = withPrefs(state, tt.prefs.notify, tt.prefs.kinds)
				}
				n.Follow(state, nil)
				t0 := time.Now()
				for _, b := range tt.batches {
					var es []control.Event
					for _, e := range b {
						x := event.Event{Type: e.typ, Account: e.account}
						if e.until != 0 {
							x.Until = ptr(t0.Add(e.until))
						}
						if e.at != -1 {
							x.At = t0.Add(e.at)
						}
						es = append(es, x)
					}
					n.Follow(state, es)
					sleep(window)
				}
				if got := s.titles(); !slices.Equal(got, tt.want) {
					t.Errorf("sent %q, want %q", got, tt.want)
				}
			})
		})
	}
}

// TestGoodNewsSettles: recoveries a few seconds apart are one notification;
// bad news keeps its short window.
func TestGoodNewsSettles(t *testing.T) {
	type at struct {
		offset time.Duration
		e      event.Event
	}
	ended := func(name string) event.Event { return event.Event{Type: event.CooldownEnded, Account: name} }
	tests := []struct {
		name   string
		events []at
		// want is what was sent at each time (offsets from the first
		// event), titles joined with " | ".
		want map[time.Duration]string
	}{
		{
			name:   "two recoveries 2 s apart",
			events: []at{{0, ended("a")}, {2 * time.Second, event.Event{Type: event.ErrorCleared, Account: "b"}}},
			want:   map[time.Duration]string{5*time.Second - 1: "", 5 * time.Second: "a and b are available again"},
		},
		{
			name:   "a login completed joins them",
			events: []at{{0, ended("a")}, {2 * time.Second, event.Event{Type: event.LoginCompleted, Account: "b"}}, {4 * time.Second, ended("c")}},
			want:   map[time.Duration]string{7*time.Second - 1: "", 7 * time.Second: "3 accounts are available again: a, b, c"},
		},
		{
			name:   "recoveries further apart are told apart",
			events: []at{{0, ended("a")}, {4 * time.Second, ended("b")}},
			want:   map[time.Duration]string{3 * time.Second: "a is available again", 7 * time.Second: "a is available again | b is available again"},
		},
		{
			name: "a trickle is told after MaxDelay",
			events: []at{
				{0, ended("a")}, {2 * time.Second, ended("b")}, {4 * time.Second, ended("c")},
				{6 * time.Second, ended("d")}, {8 * time.Second, ended("e")}, {9500 * time.Millisecond, ended("f")},
			},
			want: map[time.Duration]string{10*time.Second - 1: "", 10 * time.Second: "6 accounts are available again: a, b, c, d, e, f"},
		},
		{
			name:   "bad news keeps its window",
			events: []at{{0, event.Event{Type: event.CooldownStarted, Account: "a", Window: "five_hour"}}},
			want:   map[time.Duration]string{time.Second - 1: "", time.Second: "a hit its 5-hour limit"},
		},
		{
			name: "bad news takes the good news pending with it",
			events: []at{
				{0, ended("a")}, {500 * time.Millisecond, event.Event{Type: event.CooldownStarted, Account: "b", Window: "five_hour"}},
			},
			want: map[time.Duration]string{1500 * time.Millisecond: "b hit its 5-hour limit | a is available again"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &fakeSender{}
				n := New(s, Options{}) // the default windows
				serve(t, n)
				n.Follow(up(), nil)
				t0 := time.Now()
				checks := slices.Sorted(func(yield func(time.Duration) bool) {
					for d := range tt.want {
						if !yield(d) {
							return
						}
					}
				})
				evs := tt.events
				for _, check := range checks {
					for len(evs) > 0 && evs[0].offset <= check {
						sleep(t0.Add(evs[0].offset).Sub(time.Now()))
						n.Follow(up(), events(evs[0].e))
						evs = evs[1:]
					}
					sleep(t0.Add(check).Sub(time.Now()))
					if got := strings.Join(s.titles(), " | "); got != tt.want[check] {
						t.Errorf("at %v: sent %q, want %q", check, got, tt.want[check])
					}
				}
			})
		})
	}
}

// TestUrgencyAndActions: the notifications that matter stay; "needs a new
// login" offers Open settings at its account.
func TestUrgencyAndActions(t *testing.T) {
	tests := []struct {
		name       string
		events     []event.Event
		settings   bool // Options.OpenSettings is set
		wantUrgent bool
		wantAction string // the account Open settings opens; "" for no action
	}{
		{name: "all exhausted", events: []event.Event{{Type: event.AllExhausted}}, wantUrgent: true},
		{name: "needs login", events: []event.Event{{Type: event.NeedsLogin, Account: "side"}}, settings: true, wantUrgent: true, wantAction: "side"},
		{name: "two need a login: the first one opens", settings: true, wantUrgent: true, wantAction: "side",
			events: []event.Event{{Type: event.NeedsLogin, Account: "side"}, {Type: event.NeedsLogin, Account: "work"}}},
		{name: "needs login without OpenSettings", events: []event.Event{{Type: event.NeedsLogin, Account: "side"}}, wantUrgent: true},
		{name: "limit hit", events: []event.Event{{Type: event.CooldownStarted, Account: "a"}}, settings: true},
		{name: "error", events: []event.Event{{Type: event.Error, Account: "a"}}, settings: true},
		{name: "available again", events: []event.Event{{Type: event.CooldownEnded, Account: "a"}}, settings: true},
		{name: "logged in again", events: []event.Event{{Type: event.LoginCompleted, Account: "a"}}, settings: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &fakeSender{}
				var opened []string
				o := Options{Window: window, Settle: window}
				if tt.settings {
					o.OpenSettings = func(account string) { opened = append(opened, account) }
				}
				n := New(s, o)
				serve(t, n)
				n.Follow(up(), nil)
				n.Follow(up(), tt.events)
				sleep(window)
				got := s.sent()
				if len(got) != 1 {
					t.Fatalf("sent %q, want one notification", view(got))
				}
				if got[0].Urgent != tt.wantUrgent {
					t.Errorf("%q: urgent %v, want %v", got[0].Title, got[0].Urgent, tt.wantUrgent)
				}
				if tt.wantAction == "" {
					if len(got[0].Actions) != 0 {
						t.Errorf("%q: actions %+v, want none", got[0].Title, got[0].Actions)
					}
					return
				}
				if len(got[0].Actions) != 1 || got[0].Actions[0].Label != "Open settings" || got[0].Actions[0].Key == "" {
					t.Fatalf("%q: actions %+v, want one keyed Open settings", got[0].Title, got[0].Actions)
				}
				got[0].Actions[0].Do()
				if want := []string{tt.wantAction}; !slices.Equal(opened, want) {
					t.Errorf("Open settings opened %q, want %q", opened, want)
				}
			})
		})
	}
}

// TestDaemonStopped: a daemon that goes away without saying so is one
// urgent notification, closed once it is back; one that said it was
// stopping is none.
func TestDaemonStopped(t *testing.T) {
	const stoppedTitle = "MaxRouter stopped unexpectedly"
	allOff := config.Notifications{}
	tests := []struct {
		name       string
		states     []live.State // followed one by one, window/4 apart
		lastLater  bool         // the last state comes after the window closed
		want       []string     // titles sent
		wantClosed []uint32
	}{
		{
			name:       "crash, then back",
			states:     []live.State{up(), down(false), {Tried: true, Problem: errors.New("connection refused")}, up()},
			lastLater:  true,
			want:       []string{stoppedTitle},
			wantClosed: []uint32{1},
		},
		{
			name:   "crash",
			states: []live.State{up(), down(false)},
			want:   []string{stoppedTitle},
		},
		{
			name:   "stopped on purpose",
			states: []live.State{up(), {Connected: true, Tried: true, Stopped: true}, down(true), up()},
		},
		{
			name:   "back within the window",
			states: []live.State{up(), down(false), up()},
		},
		{
			name:   "never connected",
			states: []live.State{{}, down(false), down(false)},
		},
		{
			name:   "master switch off",
			states: []live.State{withPrefs(up(), false, config.Default().Notifications), withPrefs(down(false), false, config.Default().Notifications)},
		},
		{
			name:   "no per-kind switch applies",
			states: []live.State{withPrefs(up(), true, allOff), withPrefs(down(false), true, allOff)},
			want:   []string{stoppedTitle},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &fakeSender{}
				n := New(s, Options{Window: window})
				serve(t, n)
				for i, st := range tt.states {
					n.Follow(st, nil)
					sleep(window / 4)
					if tt.lastLater && i == len(tt.states)-2 {
						sleep(2 * window)
					}
				}
				sleep(2 * window)
				if got := s.titles(); !slices.Equal(got, tt.want) {
					t.Errorf("sent %q, want %q", got, tt.want)
				}
				for _, m := range s.sent() {
					if !m.Urgent || len(m.Actions) != 0 {
						t.Errorf("%q: urgent %v, actions %+v; want urgent without actions", m.Title, m.Urgent, m.Actions)
					}
				}
				if got := s.closedIDs(); !slices.Equal(got, tt.wantClosed) {
					t.Errorf("closed %v, want %v", got, tt.wantClosed)
				}
			})
		})
	}
}

// TestUrgentClosedWhenOver: an urgent notification goes once what it says
// no longer holds.
func TestUrgentClosedWhenOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &fakeSender{}
		n := New(s, Options{Window: window, Settle: window})
		serve(t, n)
		n.Follow(up(), nil)

		n.Follow(up(), events(event.Event{Type: event.AllExhausted}, event.Event{Type: event.NeedsLogin, Account: "a"},
			event.Event{Type: event.NeedsLogin, Account: "b"}))
		sleep(window)
		if got, want := s.titles(), []string{"All accounts are at their limit", "a and b need a new login"}; !slices.Equal(got, want) {
			t.Fatalf("sent %q, want %q", got, want)
		}

		// Closed at once, before the good news settles.
		n.Follow(up(), events(event.Event{Type: event.Recovered}))
		synctest.Wait()
		if got, want := s.closedIDs(), []uint32{1}; !slices.Equal(got, want) {
			t.Errorf("after recovered: closed %v, want %v", got, want)
		}
		n.Follow(up(), events(event.Event{Type: event.LoginCompleted, Account: "a"}))
		synctest.Wait()
		if got, want := s.closedIDs(), []uint32{1}; !slices.Equal(got, want) {
			t.Errorf("after a logged in: closed %v, want %v (b still needs a login)", got, want)
		}
		n.Follow(up(), events(event.Event{Type: event.LoginCompleted, Account: "b"}))
		synctest.Wait()
		if got, want := s.closedIDs(), []uint32{1, 2}; !slices.Equal(got, want) {
			t.Errorf("after b logged in: closed %v, want %v", got, want)
		}
		sleep(window)
		if got, want := s.titles()[2:], []string{"MaxRouter is routing again"}; !slices.Equal(got, want) {
			t.Errorf("then sent %q, want %q", got, want)
		}
	})
}

// TestReconnectForgetsWhatIsOver: after the daemon restarts (or events
// were lost) what the accounts show to be over is forgotten and its
// notifications closed, so that it is news when it comes again.
func TestReconnectForgetsWhatIsOver(t *testing.T) {
	tests := []struct {
		name string
		// resync follows the state the snapshot is read in.
		resync func(n *Notifier, accounts ...control.Account)
	}{
		{"restart", func(n *Notifier, accounts ...control.Account) {
			n.Follow(live.State{Connected: true, Tried: true, Stopped: true}, nil)
			n.Follow(down(true), nil)
			n.Follow(up(accounts...), nil)
		}},
		{"events lost", func(n *Notifier, accounts ...control.Account) {
			n.Follow(up(accounts...), events(event.Event{Type: control.EventReset}))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &fakeSender{}
				n := New(s, Options{Window: window, Settle: window})
				serve(t, n)
				n.Follow(up(), nil)
				bad := [][]control.Event{
					events(event.Event{Type: event.AllExhausted}, event.Event{Type: event.NeedsLogin, Account: "side"}),
					events(event.Event{Type: event.CooldownStarted, Account: "work", Window: "five_hour"}),
				}
				for _, es := range bad {
					n.Follow(up(), es)
					sleep(window)
				}

				tt.resync(n, acct("work", "", control.StateAvailable), acct("side", "", control.StateAvailable))
				synctest.Wait()
				if got, want := slices.Sorted(slices.Values(s.closedIDs())), []uint32{1, 2}; !slices.Equal(got, want) {
					t.Errorf("closed %v, want %v (all exhausted, side needs a login)", got, want)
				}
				for _, es := range bad {
					n.Follow(up(), es)
					sleep(window)
				}
				want := []string{
					"All accounts are at their limit", "side needs a new login", "work hit its 5-hour limit",
					"All accounts are at their limit", "side needs a new login", "work hit its 5-hour limit",
				}
				if got := s.titles(); !slices.Equal(got, want) {
					t.Errorf("sent %q, want %q", got, want)
				}
			})
		})
	}
}

// TestSnapshotNeverHidesNews: a snapshot that already shows a change whose
// event is still on its way does not make that event a repeat.
func TestSnapshotNeverHidesNews(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &fakeSender{}
		n := New(s, Options{Window: window})
		serve(t, n)
		side := acct("side", "", control.StateNeedsLogin)
		n.Follow(up(side), nil)
		n.Follow(up(side), events(event.Event{Type: event.NeedsLogin, Account: "side"}))
		sleep(window)
		if got, want := s.titles(), []string{"side needs a new login"}; !slices.Equal(got, want) {
			t.Errorf("sent %q, want %q", got, want)
		}
	})
}

func TestHomeIsShortened(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &fakeSender{}
		n := New(s, Options{Window: window, Home: "/home/u"})
		serve(t, n)
		state := up(
			acct("side", "/home/u/.claude-side", control.StateNeedsLogin), acct("work", "/home/u/.claude", control.StateAvailable),
			acct("other", "/home/user2/.claude", control.StateAvailable),
		)
		n.Follow(state, nil)
		n.Follow(state, events(event.Event{Type: event.NeedsLogin, Account: "side"}))
		n.Follow(state, events(event.Event{Type: event.NeedsLogin, Account: "work"}, event.Event{Type: event.NeedsLogin, Account: "other"}))
		sleep(window)
		want := []msg{{"3 accounts need a new login: side, work, other",
			"side: CLAUDE_CONFIG_DIR=~/.claude-side claude /login\nwork: claude /login\nother: CLAUDE_CONFIG_DIR=/home/user2/.claude claude /login"}}
		if got := view(s.sent()); !slices.Equal(got, want) {
			t.Errorf("sent %q, want %q", got, want)
		}
	})
}

func TestSendFailureIsLoggedAndServeGoesOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		var mu sync.Mutex
		log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			return buf.Write(p)
		}), nil))
		s := &fakeSender{err: errors.New("no notification service")}
		n := New(s, Options{Window: window, Logger: log})
		serve(t, n)
		n.Follow(up(), events(event.Event{Type: event.NeedsLogin, Account: "a"}))
		sleep(window)
		n.Follow(up(), events(event.Event{Type: event.NeedsLogin, Account: "b"}))
		sleep(window)
		if got, want := s.titles(), []string{"a needs a new login", "b needs a new login"}; !slices.Equal(got, want) {
			t.Errorf("sent %q, want %q", got, want)
		}
		mu.Lock()
		logged := buf.String()
		mu.Unlock()
		for _, want := range []string{"component=notify", "no notification service", `title="a needs a new login"`} {
			if !strings.Contains(logged, want) {
				t.Errorf("log %q does not contain %q", logged, want)
			}
		}
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// memory is a Memory in a map, as fyne's preferences keep it.
type memory struct {
	mu sync.Mutex
	m  map[string]string
}

func (m *memory) String(key string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.m[key]
}

func (m *memory) SetString(key, value string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]string{}
	}
	m.m[key] = value
}

// TestLoginAddsAnAccount: a login that adds an account says so, rather
// than that it logged in again, whether its login_completed comes with the
// state that first shows the account or in the next burst; a login to an
// account there before is "logged in again".
func TestLoginAddsAnAccount(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &fakeSender{}
		n := New(s, Options{Window: window, Settle: window, MaxDelay: window, Location: time.UTC})
		serve(t, n)
		work := acct("work", "~/.claude-work", control.StateAvailable)
		n.Follow(up(work), nil)
		sleep(time.Hour)

		added := acct("new", "/data/accounts/new", control.StateAvailable)
		added.Email = "ana@example.com"
		n.Follow(up(work, added), events(
			event.Event{Type: event.ConfigChanged, Revision: "r2"},
			event.Event{Type: event.LoginCompleted, Account: "new", Email: "ana@example.com"},
		))
		sleep(window)

		// The configuration's change is read first; the login's event
		// comes with the next burst.
		later := acct("later", "/data/accounts/later", control.StateAvailable)
		n.Follow(up(work, added, later), events(event.Event{Type: event.ConfigChanged, Revision: "r3"}))
		sleep(window)
		n.Follow(up(work, added, later), events(event.Event{Type: event.LoginCompleted, Account: "later"}))
		sleep(window)

		// Logging in to an account that was there before.
		sleep(time.Hour)
		n.Follow(up(work, added, later), events(event.Event{Type: event.LoginCompleted, Account: "new", Email: "ana@example.com"}))
		n.Follow(up(work, added, later), events(event.Event{Type: event.LoginCompleted, Account: "work"}))
		sleep(window)

		want := []msg{
			{"new was added", "Logged in as ana@example.com. It takes requests now. All 2 accounts are available."},
			{"later was added", "It takes requests now. All 3 accounts are available."},
			{"new and work are available again", "new is logged in again. work is logged in again. All 3 accounts are available."},
		}
		if got := view(s.sent()); !slices.Equal(got, want) {
			t.Errorf("sent\n%q\nwant\n%q", got, want)
		}
	})
}

// TestLoginEndingOncePerDay: a login that ends within three days is told
// once a day, offering Log in again, also across a restart of the app;
// not before its last three days, not for an account that needs a login
// already, not with the needs_login switch off.
func TestLoginEndingOncePerDay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &fakeSender{}
		mem := &memory{}
		var loggedIn []string
		o := Options{Window: window, Settle: window, Location: time.UTC, Memory: mem,
			LogIn: func(a string) { loggedIn = append(loggedIn, a) }}
		n := New(s, o)
		cancel := serve(t, n)
		sleep(10 * time.Hour) // 10:00
		t0 := time.Now()
		ends := t0.Add(2*24*time.Hour + 8*time.Hour) // in 2 days at 18:00
		work := acct("work", "~/.claude-work", control.StateAvailable)
		work.LoginExpiresAt = &ends
		far := acct("far", "~/.claude-far", control.StateAvailable)
		far.LoginExpiresAt = ptr(t0.Add(5 * 24 * time.Hour))
		dead := acct("dead", "~/.claude-dead", control.StateNeedsLogin)
		dead.LoginExpiresAt = ptr(t0.Add(time.Hour))
		st := up(work, far, dead)

		n.Follow(st, nil)
		sleep(window)
		for range 5 { // polls during the day
			sleep(time.Hour)
			n.Follow(st, nil)
		}
		sleep(window)
		got := s.sent()
		if want := []msg{{"work's login expires in 2 days", "After Mon 18:00 it needs a new login. Log in again now to keep it working."}}; !slices.Equal(view(got), want) {
			t.Fatalf("sent %q, want %q", view(got), want)
		}
		if len(got[0].Actions) != 1 || got[0].Actions[0].Label != "Log in again" || got[0].Urgent {
			t.Fatalf("actions %+v, urgent %v; want Log in again alone, not urgent", got[0].Actions, got[0].Urgent)
		}
		got[0].Actions[0].Do()
		if !slices.Equal(loggedIn, []string{"work"}) {
			t.Errorf("Log in again logged in %q, want work", loggedIn)
		}

		// The app restarts the same day: nothing new.
		cancel()
		synctest.Wait()
		n = New(s, o)
		serve(t, n)
		n.Follow(st, nil)
		sleep(window)
		if got := len(s.sent()); got != 1 {
			t.Errorf("after a restart on the same day: %d notifications, want 1", got)
		}

		// The next day: once more.
		sleep(24 * time.Hour)
		n.Follow(st, nil)
		n.Follow(st, nil)
		sleep(window)
		if got, want := s.titles(), []string{"work's login expires in 2 days", "work's login expires in 1 day"}; !slices.Equal(got, want) {
			t.Errorf("sent %q, want %q", got, want)
		}

		// With the needs_login switch off: nothing.
		sleep(24 * time.Hour)
		n.Follow(withPrefs(st, true, config.Notifications{CooldownStarted: true, CooldownEnded: true, AllExhausted: true}), nil)
		sleep(window)
		if got := len(s.sent()); got != 2 {
			t.Errorf("with needs_login off: %d notifications, want 2", got)
		}
	})
}

// TestBillingExtraOncePerWindow: billing extra usage is told once per
// account and window (a repeat of the event, as after the stream resumed,
// says nothing), follows its own switch (billing_extra), and the account
// that stopped billing is news again the next time.
func TestBillingExtraOncePerWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &fakeSender{}
		n := New(s, Options{Window: window, Settle: window, Location: time.UTC})
		serve(t, n)
		t0 := time.Now()
		reset := t0.Add(3 * time.Hour)
		work, side := acct("work", "", control.StateAvailable), acct("side", "", control.StateAvailable)
		work.BillingExtra = true
		n.Follow(up(work, side), nil)
		billing := func(until time.Time) []control.Event {
			return events(event.Event{Type: event.BillingExtra, Account: "work", Until: &until, At: t0})
		}
		n.Follow(up(work, side), billing(reset))
		sleep(window)
		n.Follow(up(work, side), billing(reset)) // replayed
		sleep(window)
		if got, want := s.titles(), []string{"work is billing extra usage"}; !slices.Equal(got, want) {
			t.Fatalf("sent %q, want %q", got, want)
		}
		// The window reset; a reconnect shows work no longer billing;
		// the next window's billing is news.
		work.BillingExtra = false
		n.Follow(down(false), nil)
		n.Follow(up(work, side), nil)
		sleep(window)
		next := reset.Add(5 * time.Hour)
		work.BillingExtra = true
		t0 = time.Now()
		n.Follow(up(work, side), billing(next))
		sleep(window)
		if got, want := s.titles(), []string{"work is billing extra usage", "work is billing extra usage"}; !slices.Equal(got, want) {
			t.Fatalf("sent %q, want %q", got, want)
		}
		// Its own switch off: not told.
		side.BillingExtra = true
		kinds := config.Default().Notifications
		kinds.BillingExtra = false
		n.Follow(withPrefs(up(work, side), true, kinds), events(event.Event{Type: event.BillingExtra, Account: "side", Until: &reset, At: time.Now()}))
		sleep(window)
		if got := len(s.sent()); got != 2 {
			t.Errorf("with billing_extra off: %d notifications, want 2", got)
		}
		// cooldown_started off does not silence it (side's next window).
		kinds = config.Default().Notifications
		kinds.CooldownStarted = false
		n.Follow(withPrefs(up(work, side), true, kinds), events(event.Event{Type: event.BillingExtra, Account: "side", Until: &next, At: time.Now()}))
		sleep(window)
		if got, want := s.titles(), "side is billing extra usage"; len(got) != 3 || got[2] != want {
			t.Errorf("with only cooldown_started off: sent %q, want %q third", got, want)
		}
	})
}

// TestLoginFailedIsTold: a login through the daemon that failed is told,
// with its reason, under the needs_login switch.
func TestLoginFailedIsTold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &fakeSender{}
		n := New(s, Options{Window: window, Settle: window, Location: time.UTC})
		serve(t, n)
		n.Follow(up(), nil)
		n.Follow(up(), events(event.Event{Type: event.LoginFailed, Account: "new", Reason: "the login was not finished within 10 minutes"}))
		sleep(window)
		off := withPrefs(up(), true, config.Notifications{CooldownStarted: true, CooldownEnded: true, AllExhausted: true})
		n.Follow(off, events(event.Event{Type: event.LoginFailed, Account: "other", Reason: "denied"}))
		sleep(window)
		want := []msg{{"Logging in to new failed", "The login was not finished within 10 minutes. Try again from Settings."}}
		if got := view(s.sent()); !slices.Equal(got, want) {
			t.Errorf("sent %q, want %q", got, want)
		}
	})
}

// TestLogInAgainAction: "needs a new login" offers Log in again before Open
// settings, for an account the daemon can log in; not for a token.
func TestLogInAgainAction(t *testing.T) {
	for _, tt := range []struct {
		name string
		dir  string
		want []string
	}{
		{"a folder", "~/.claude-side", []string{"Log in again", "Open settings"}},
		{"a token", "(token)", []string{"Open settings"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &fakeSender{}
				var did []string
				n := New(s, Options{Window: window, Settle: window,
					LogIn:        func(a string) { did = append(did, "log in "+a) },
					OpenSettings: func(a string) { did = append(did, "open "+a) }})
				serve(t, n)
				side := acct("side", tt.dir, control.StateNeedsLogin)
				n.Follow(up(side), nil)
				n.Follow(up(side), events(event.Event{Type: event.NeedsLogin, Account: "side"}))
				sleep(window)
				got := s.sent()
				if len(got) != 1 || !got[0].Urgent {
					t.Fatalf("sent %q, want one urgent notification", view(got))
				}
				var labels []string
				for _, a := range got[0].Actions {
					labels = append(labels, a.Label)
					a.Do()
				}
				if !slices.Equal(labels, tt.want) {
					t.Errorf("actions %q, want %q", labels, tt.want)
				}
				if tt.want[0] == "Log in again" && !slices.Equal(did, []string{"log in side", "open side"}) {
					t.Errorf("the actions did %q, want log in side, open side", did)
				}
			})
		})
	}
}

// A client token that spent its budget is told once per window, with its
// label and when its requests are let through again; it follows its own
// switch (token_budget_reached), not cooldown_started.
func TestBudgetReached(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &fakeSender{}
		n := New(s, Options{Window: window, Settle: window, Location: time.UTC})
		serve(t, n)
		// The bubble's clock starts at 2000-01-01 00:00 and moves a
		// window at a time.
		spent := func(id, label string, until time.Duration) event.Event {
			u := time.Now().UTC().Add(until)
			return event.Event{Type: event.TokenBudgetReached, Token: id, Label: label, Until: &u, Reason: "500 requests per 5h", At: time.Now()}
		}
		state := up(acct("work", "", control.StateAvailable))
		n.Follow(state, nil)

		first := spent("0a1b", "ci", 2*time.Hour+13*time.Minute)
		n.Follow(state, events(first))
		sleep(window)
		want := []msg{{"Client token “ci” spent its budget", "Its requests are refused until 02:13 (in 2 h 13 min). Its limits: 500 requests per 5h; Settings → Proxy changes them."}}
		if got := view(s.sent()); !slices.Equal(got, want) {
			t.Fatalf("sent %q, want %q", got, want)
		}

		// The event stream resumed and said it again: the same window.
		n.Follow(state, events(first))
		sleep(window)
		if got := len(s.sent()); got != 1 {
			t.Fatalf("sent %d notifications after a replay, want 1", got)
		}

		// Its next window, and another token in the same burst: one
		// notification.
		n.Follow(state, events(spent("0a1b", "ci", 7*time.Hour), spent("9f8e", "", 3*time.Hour)))
		sleep(window)
		want = append(want, msg{"2 client tokens spent their budgets: ci, removed token 9f8e", "ci: refused until 07:00 (in 7 h); 500 requests per 5h.\nremoved token 9f8e: refused until 03:00 (in 3 h); 500 requests per 5h.\nSettings → Proxy changes their limits."})
		if got := view(s.sent()); !slices.Equal(got, want) {
			t.Fatalf("sent %q, want %q", got, want)
		}

		// Its switch off: nothing.
		kinds := config.Default().Notifications
		kinds.TokenBudgetReached = false
		n.Follow(withPrefs(state, true, kinds), events(spent("0a1b", "ci", 12*time.Hour)))
		sleep(window)
		if got := len(s.sent()); got != 2 {
			t.Errorf("sent %d notifications with token_budget_reached off, want 2", got)
		}
		// cooldown_started off does not silence it.
		kinds = config.Default().Notifications
		kinds.CooldownStarted = false
		n.Follow(withPrefs(state, true, kinds), events(spent("0a1b", "ci", 17*time.Hour)))
		sleep(window)
		if got := len(s.sent()); got != 3 {
			t.Errorf("sent %d notifications with only cooldown_started off, want 3", got)
		}
	})
}
