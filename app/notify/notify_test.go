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

	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/event"
)

// fakeSender records what it is asked to show.
type fakeSender struct {
	mu  sync.Mutex
	got []Message
	err error
}

func (f *fakeSender) Send(title, body string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, Message{title, body})
	return f.err
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

const window = 100 * time.Millisecond

func TestBurstIsOneNotification(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &fakeSender{}
		n := New(s, Options{Window: window, Location: time.UTC})
		serve(t, n)
		t0 := time.Now()
		accounts := []control.Account{
			cooling("a", t0.Add(3*time.Hour)), cooling("b", t0.Add(2*time.Hour)), cooling("c", t0.Add(4*time.Hour)),
			acct("work", "", control.StateAvailable),
		}
		for i, name := range []string{"a", "b", "c"} {
			n.Handle(event.Event{Type: event.CooldownStarted, Account: name, Window: "five_hour", Until: accounts[i].CooldownUntil}, accounts)
			time.Sleep(window / 4) // virtual time: the burst spans 3/4 of the window
		}
		synctest.Wait()
		if got := s.sent(); len(got) != 0 {
			t.Fatalf("sent %q before the window closed, want nothing yet", got)
		}
		time.Sleep(window/4 - time.Nanosecond)
		synctest.Wait()
		if got := s.sent(); len(got) != 0 {
			t.Fatalf("sent %q a nanosecond before the window closed, want nothing yet", got)
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		want := []Message{{"3 accounts hit their limits: a, b, c", "The first comes back at 02:00 (b). Requests now go to work."}}
		if got := s.sent(); !slices.Equal(got, want) {
			t.Fatalf("sent %q, want %q", got, want)
		}

		// The next event starts a new burst.
		n.Handle(event.Event{Type: event.CooldownEnded, Account: "b"}, nil)
		time.Sleep(window)
		synctest.Wait()
		if got, want := s.titles(), []string{want[0].Title, "b is available again"}; !slices.Equal(got, want) {
			t.Errorf("sent %q, want %q", got, want)
		}
	})
}

func TestServeFlushesOnExit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &fakeSender{}
		n := New(s, Options{Window: time.Hour})
		cancel := serve(t, n)
		n.Handle(event.Event{Type: event.NeedsLogin, Account: "side"}, []control.Account{acct("side", "~/.claude-side", control.StateNeedsLogin)})
		synctest.Wait()
		cancel()
		synctest.Wait()
		want := []Message{{"side needs a new login", "Run: CLAUDE_CONFIG_DIR=~/.claude-side claude /login"}}
		if got := s.sent(); !slices.Equal(got, want) {
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
	// Times are offsets from the start of the test; each batch is handled
	// and then announced before the next.
	type ev struct {
		typ     event.Type
		account string
		until   time.Duration // 0 = none
		at      time.Duration // event time; -1 = unset (stamped by Handle)
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
			want:    []string{"p is rate limited"},
		},
		{
			name:    "same cooldown announced again later",
			batches: [][]ev{{{event.CooldownStarted, "p", time.Hour, 0}}, {{event.CooldownStarted, "p", time.Hour, -1}}},
			want:    []string{"p is rate limited"},
		},
		{
			name:    "same cooldown twice in one burst",
			batches: [][]ev{{{event.CooldownStarted, "p", time.Hour, 0}, {event.CooldownStarted, "p", time.Hour, -1}}},
			want:    []string{"p is rate limited"},
		},
		{
			name:    "cooldown extended",
			batches: [][]ev{{{event.CooldownStarted, "p", time.Hour, -1}}, {{event.CooldownStarted, "p", 2 * time.Hour, -1}}},
			want:    []string{"p is rate limited", "p is rate limited"},
		},
		{
			name: "replay of older history after the account came back",
			batches: [][]ev{
				{{event.CooldownStarted, "p", time.Hour, 0}},
				{{event.CooldownEnded, "p", 0, -1}},
				{{event.CooldownStarted, "p", time.Hour, 0}}, // the stream reconnected and replays
			},
			want: []string{"p is rate limited", "p is available again"},
		},
		{
			name: "reset by hand, then the same limit again",
			batches: [][]ev{
				{{event.CooldownStarted, "p", time.Hour, -1}},
				{{event.CooldownEnded, "p", 0, -1}},
				{{event.CooldownStarted, "p", time.Hour, -1}},
			},
			want: []string{"p is rate limited", "p is available again", "p is rate limited"},
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
			name: "needs login once until a refresh works",
			batches: [][]ev{
				{{event.NeedsLogin, "s", 0, -1}}, {{event.NeedsLogin, "s", 0, -1}},
				{{event.Refreshed, "s", 0, -1}}, {{event.NeedsLogin, "s", 0, -1}},
			},
			want: []string{"s needs a new login", "s needs a new login"},
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
			want: []string{"p is rate limited"}, // all_exhausted off: the cooldown is told instead
		},
		{
			name:    "master switch off",
			prefs:   &prefs{false, on},
			batches: [][]ev{{{event.CooldownStarted, "p", time.Hour, -1}}, {{event.NeedsLogin, "s", 0, -1}}, {{event.AllExhausted, "", 0, -1}}},
			want:    nil,
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
			want: []string{"p is rate limited"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &fakeSender{}
				n := New(s, Options{Window: window})
				if tt.prefs != nil {
					n.SetPrefs(tt.prefs.notify, tt.prefs.kinds)
				}
				serve(t, n)
				t0 := time.Now()
				for _, b := range tt.batches {
					for _, e := range b {
						x := event.Event{Type: e.typ, Account: e.account}
						if e.until != 0 {
							x.Until = ptr(t0.Add(e.until))
						}
						if e.at != -1 {
							x.At = t0.Add(e.at)
						}
						n.Handle(x, nil)
					}
					time.Sleep(window) // virtual time
					synctest.Wait()
				}
				if got := s.titles(); !slices.Equal(got, tt.want) {
					t.Errorf("sent %q, want %q", got, tt.want)
				}
			})
		})
	}
}

func TestHomeIsShortened(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &fakeSender{}
		n := New(s, Options{Window: window, Home: "/home/u"})
		serve(t, n)
		n.Handle(event.Event{Type: event.NeedsLogin, Account: "side"}, []control.Account{
			acct("side", "/home/u/.claude-side", control.StateNeedsLogin), acct("work", "/home/u/.claude", control.StateAvailable),
			acct("other", "/home/user2/.claude", control.StateAvailable),
		})
		n.Handle(event.Event{Type: event.NeedsLogin, Account: "work"}, nil)
		n.Handle(event.Event{Type: event.NeedsLogin, Account: "other"}, nil)
		time.Sleep(window)
		synctest.Wait()
		want := []Message{{"3 accounts need a new login: side, work, other",
			"side: CLAUDE_CONFIG_DIR=~/.claude-side claude /login\nwork: claude /login\nother: CLAUDE_CONFIG_DIR=/home/user2/.claude claude /login"}}
		if got := s.sent(); !slices.Equal(got, want) {
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
		n.Handle(event.Event{Type: event.NeedsLogin, Account: "a"}, nil)
		time.Sleep(window)
		synctest.Wait()
		n.Handle(event.Event{Type: event.NeedsLogin, Account: "b"}, nil)
		time.Sleep(window)
		synctest.Wait()
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
