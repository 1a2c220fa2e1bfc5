// Package event defines the events the daemon publishes (account and pool
// changes, configuration changes, routing paused and resumed, client
// tokens that spent their budget) and a small in-process bus that keeps
// the latest of them, so that a subscriber that went away (the tray's
// event stream, after a reconnect) can resume where it left off.
package event

import (
	"strconv"
	"strings"
	"sync"
	"time"
)

// Type names what happened to an account, to the pool, to the
// configuration or to routing.
type Type string

// The event types of the control API (see README, "Control API").
const (
	CooldownStarted Type = "cooldown_started" // an account stopped taking requests until Until
	CooldownEnded   Type = "cooldown_ended"   // an account takes requests again
	NeedsLogin      Type = "needs_login"      // the account's login is dead; the user must log in again
	LoginCompleted  Type = "login_completed"  // an account that needed a login has a working one again, or a login through the daemon succeeded (Email says as whom; Reason notes a change of email)
	LoginFailed     Type = "login_failed"     // a login through the daemon failed or expired (Reason says why)
	BillingExtra    Type = "billing_extra"    // the upstream bills the account's answers to paid extra usage; sent once per account per window, Until is when that window resets (when known)
	Error           Type = "error"            // the account cannot be used for a reason other than a limit (Reason says which); tried again at Until
	ErrorCleared    Type = "error_cleared"    // an account that was failing works again
	Refreshed       Type = "refreshed"        // the account's access token was refreshed
	AllExhausted    Type = "all_exhausted"    // no enabled account can take a request; Until is the soonest recovery
	Recovered       Type = "recovered"        // the pool is usable again after AllExhausted
	Paused          Type = "paused"           // the user paused routing: proxied requests get 503 until Resumed
	Resumed         Type = "resumed"          // routing resumed after Paused
	ConfigChanged   Type = "config_changed"   // the configuration changed; Revision is the new one
	Stopping        Type = "stopping"         // the daemon is stopping on purpose (asked to by a signal or its service manager)
	// TokenBudgetReached: a client token spent its budget (Token is its ID,
	// Label its label, Reason which limit, such as "500 requests per 5h");
	// its requests are refused until Until, when its window ends. Sent
	// once per token and window.
	TokenBudgetReached Type = "token_budget_reached"
)

// Stream names, the SSE `event:` field each type is sent under.
const (
	StreamAccount = "account" // account and pool events
	StreamRouting = "routing" // Paused, Resumed
	StreamConfig  = "config"  // ConfigChanged
	StreamDaemon  = "daemon"  // Stopping
	StreamToken   = "token"   // TokenBudgetReached
	StreamReset   = "reset"   // events were lost: re-read everything (no data)
)

// Stream is the SSE event name e is sent under.
func (t Type) Stream() string {
	switch t {
	case Paused, Resumed:
		return StreamRouting
	case ConfigChanged:
		return StreamConfig
	case Stopping:
		return StreamDaemon
	case TokenBudgetReached:
		return StreamToken
	}
	return StreamAccount
}

// Event is one change, as sent on the control API's event stream.
type Event struct {
	// ID is set by the Bus when the event is published: the SSE `id:`
	// that resumes the stream after it (Last-Event-ID). It is not part of
	// the JSON data.
	ID      string     `json:"-"`
	Type    Type       `json:"type"`
	Account string     `json:"account,omitempty"`
	Until   *time.Time `json:"until,omitempty"`
	Reason  string     `json:"reason,omitempty"`
	// Window is the rate-limit window behind a cooldown: "five_hour",
	// "seven_day", "seven_day_opus" (model-scoped) or "" when none applies.
	Window string `json:"window,omitempty"`
	// Model is set when a cooldown blocks only one model family.
	Model string `json:"model,omitempty"`
	// Revision is the configuration's new revision (ConfigChanged).
	Revision string `json:"revision,omitempty"`
	// Email is the login's email address (LoginCompleted, LoginFailed),
	// when known.
	Email string `json:"email,omitempty"`
	// Token and Label are a client token's ID and label
	// (TokenBudgetReached).
	Token string `json:"token,omitempty"`
	Label string `json:"label,omitempty"`

	At time.Time `json:"at"`
}

// Keep is how many of the latest events a Bus keeps for subscribers that
// resume.
const Keep = 512

// Bus fans events out to subscribers and keeps the latest Keep of them.
// Publish never blocks: each subscriber reads at its own pace from the
// kept events, and one that falls more than Keep events behind is told to
// start over (Sub.Next reports lost). The zero value is ready to use.
type Bus struct {
	mu    sync.Mutex
	epoch string // tells this bus's ids from another run's
	next  uint64 // sequence number of the next event, from 1
	ring  [Keep]Event
	subs  map[*Sub]struct{}
	moved chan struct{} // closed and replaced when subs changes; nil until asked for
}

func (b *Bus) init() {
	if b.epoch == "" {
		b.epoch = strconv.FormatInt(time.Now().UnixNano(), 36)
		b.next = 1
	}
}

// Publish numbers e, keeps it and wakes every subscriber.
func (b *Bus) Publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.init()
	seq := b.next
	b.next++
	e.ID = b.epoch + "-" + strconv.FormatUint(seq, 10)
	b.ring[seq%Keep] = e
	for s := range b.subs {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// LastID is the ID of the latest event published: subscribing after it
// receives every event published from now on, even those published before
// the subscription is made. Before the first event it names the start.
func (b *Bus) LastID() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.init()
	return b.epoch + "-" + strconv.FormatUint(b.next-1, 10)
}

// Sub is one subscriber's place in the Bus. Wait on Ready, then call Next.
type Sub struct {
	b    *Bus
	wake chan struct{}
	pos  uint64 // sequence number of the next event to hand out
	lost bool   // events were lost before pos: say so on the next Next
}

// Subscribe returns a subscriber that receives the events published after
// the one with ID after. With after "" it receives the events published
// from now on. When after names an event this Bus no longer keeps, or one
// of another run, the first Next reports lost (and the subscriber goes on
// from now). Close it when done.
func (b *Bus) Subscribe(after string) *Sub {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.init()
	s := &Sub{b: b, wake: make(chan struct{}, 1), pos: b.next}
	if after != "" {
		epoch, num, _ := strings.Cut(after, "-")
		seq, err := strconv.ParseUint(num, 10, 64)
		switch {
		case err != nil || epoch != b.epoch || seq >= b.next:
			s.lost = true
		case b.next-seq-1 > Keep:
			s.lost = true
		default:
			s.pos = seq + 1
		}
	}
	if s.lost || s.pos < b.next {
		s.wake <- struct{}{}
	}
	if b.subs == nil {
		b.subs = map[*Sub]struct{}{}
	}
	b.subs[s] = struct{}{}
	b.movedLocked()
	return s
}

// Ready receives a value when Next has something to say. It is closed by
// Close: a receive that reports !ok means the subscription ended.
func (s *Sub) Ready() <-chan struct{} { return s.wake }

// Next returns the events published since the last call, oldest first. lost
// reports that events were lost before them (the subscriber resumed after
// an event the Bus no longer keeps, or fell more than Keep events behind):
// whoever follows the events should re-read the state they describe.
func (s *Sub) Next() (events []Event, lost bool) {
	b := s.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.next-s.pos > Keep {
		s.lost = true
		s.pos = b.next - Keep
	}
	for ; s.pos < b.next; s.pos++ {
		events = append(events, b.ring[s.pos%Keep])
	}
	lost, s.lost = s.lost, false
	return events, lost
}

// Close ends the subscription and closes Ready's channel. It is
// idempotent and may be called from any goroutine (to end a stream that
// follows s).
func (s *Sub) Close() {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	if _, ok := s.b.subs[s]; ok {
		delete(s.b.subs, s)
		close(s.wake)
		s.b.movedLocked()
	}
}

// Subscribers counts the open subscriptions, and returns a channel that is
// closed when that number changes next (for tests that wait for a stream
// to open or close).
func (b *Bus) Subscribers() (int, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.moved == nil {
		b.moved = make(chan struct{})
	}
	return len(b.subs), b.moved
}

// movedLocked wakes whoever waits for the subscribers to change; b.mu is
// held.
func (b *Bus) movedLocked() {
	if b.moved != nil {
		close(b.moved)
		b.moved = nil
	}
}

// CloseAll ends every open subscription, as Close does.
func (b *Bus) CloseAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		delete(b.subs, s)
		close(s.wake)
	}
	b.movedLocked()
}
