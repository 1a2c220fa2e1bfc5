// Package event defines the events the daemon publishes (account and pool
// changes, routing paused and resumed) and a small in-process bus that fans
// them out to subscribers (the control API's SSE stream, logs, tests).
package event

import (
	"sync"
	"time"
)

// Type names what happened to an account, to the pool or to routing.
type Type string

// The event types of the control API (see docs/architecture.md).
const (
	CooldownStarted Type = "cooldown_started" // an account stopped taking requests until Until
	CooldownEnded   Type = "cooldown_ended"   // an account takes requests again
	NeedsLogin      Type = "needs_login"      // the account's login is dead; the user must log in again
	Refreshed       Type = "refreshed"        // the account's access token was refreshed
	AllExhausted    Type = "all_exhausted"    // no enabled account can take a request; Until is the soonest recovery
	Recovered       Type = "recovered"        // the pool is usable again after AllExhausted
	Paused          Type = "paused"           // the user paused routing: proxied requests get 503 until Resumed
	Resumed         Type = "resumed"          // routing resumed after Paused
)

// Event is one change, as sent on the control API's event stream.
type Event struct {
	Type    Type       `json:"type"`
	Account string     `json:"account,omitempty"`
	Until   *time.Time `json:"until,omitempty"`
	Reason  string     `json:"reason,omitempty"`
	// Window is the rate-limit window behind a cooldown: "five_hour",
	// "seven_day", "seven_day_opus" (model-scoped) or "" when none applies.
	Window string `json:"window,omitempty"`
	// Model is set when a cooldown blocks only one model family.
	Model string    `json:"model,omitempty"`
	At    time.Time `json:"at"`
}

// Bus fans events out to subscribers. Publish never blocks: a subscriber
// that does not keep up loses events (and counts them) rather than stalling
// the proxy. The zero value is ready to use.
type Bus struct {
	mu      sync.Mutex
	subs    map[chan Event]struct{}
	dropped uint64
}

// Publish sends e to every subscriber that has room for it.
func (b *Bus) Publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- e:
		default:
			b.dropped++
		}
	}
}

// Subscribe returns a channel receiving events published from now on, with
// room for buf pending events, and a function that ends the subscription
// and closes the channel.
func (b *Bus) Subscribe(buf int) (<-chan Event, func()) {
	ch := make(chan Event, buf)
	b.mu.Lock()
	if b.subs == nil {
		b.subs = make(map[chan Event]struct{})
	}
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, ch)
			b.mu.Unlock()
			close(ch)
		})
	}
}

// Dropped reports how many events were lost by slow subscribers.
func (b *Bus) Dropped() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped
}
