// Package controltest provides an in-memory control.Backend and a test
// server around it, for tests of code that talks to the daemon through
// control.Client (the desktop app, the CLI).
package controltest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/event"
)

// Backend is an in-memory control.Backend. Set its fields before the
// server starts, or later while holding its lock (b.Lock() … b.Unlock())
// or through the Set methods. Calls are recorded in PutConfigs, Resets,
// Checks, Issues, Revokes, Usages and Pauses; read them once the client call
// returned (or under the lock). The zero value is ready to use.
type Backend struct {
	sync.Mutex

	// StatusValue is what Status returns; Pause and Resume set its Paused.
	StatusValue control.Status
	// AccountList is what Accounts returns; ResetAccount answers
	// control.ErrNotFound for a name not in it.
	AccountList []control.Account
	// ConfigValue is what Config returns; a successful PutConfig replaces it.
	ConfigValue control.Config
	// TokenList is what Tokens returns; IssueToken appends to it and
	// RevokeToken marks its entries revoked.
	TokenList []control.Token
	// DirChecks is what CheckDir returns per directory; a directory not in
	// it has no credentials.
	DirChecks map[string]control.DirCheck
	// UsageValue is what Usage returns, with Step and Since set to the
	// call's when they are empty; by client token it returns
	// TokenUsageValue instead, once that has buckets.
	UsageValue, TokenUsageValue control.Usage

	// PutConfigErr, when set, is returned by PutConfig (which then keeps
	// ConfigValue). Use a *config.ValidationError to test field errors.
	PutConfigErr error
	// ResetErr, when set, is returned by ResetAccount.
	ResetErr error
	// IssueErr, when set, is returned by IssueToken.
	IssueErr error
	// PauseErr, when set, is returned by Pause and Resume (which then
	// change nothing).
	PauseErr error
	// Now is the clock for issued tokens; nil means time.Now.
	Now func() time.Time

	// PutConfigs records every configuration PutConfig received.
	PutConfigs []control.Config
	// Resets records every account name ResetAccount received.
	Resets []string
	// Checks records every directory CheckDir received.
	Checks []string
	// Issues records every IssueToken call.
	Issues []IssueCall
	// Updates records every UpdateToken call.
	Updates []UpdateCall
	// Revokes records every token ID RevokeToken received.
	Revokes []string
	// Pauses records every Pause (true) and Resume (false) call, in order.
	Pauses []bool
	// Usages records every Usage call.
	Usages []UsageCall

	// Revision is the configuration's revision: Config returns it, and
	// PutConfig refuses another one with a *control.StateError. SetConfig
	// and every successful PutConfig change it.
	Revision string

	bus event.Bus

	logins // StartLogin, Login, LoginCode (logins.go)
}

// IssueCall is one recorded IssueToken call.
type IssueCall struct {
	Label  string
	TTL    time.Duration
	Limits control.Limits
}

// UpdateCall is one recorded UpdateToken call.
type UpdateCall struct {
	ID     string
	Update control.TokenUpdate
}

// UsageCall is one recorded Usage call.
type UsageCall struct {
	Since time.Time
	Step  string
	By    string
}

var _ control.Backend = (*Backend)(nil)

// Status returns StatusValue, with LastEventID set to the latest event's
// when it is empty.
func (b *Backend) Status() control.Status {
	b.Lock()
	defer b.Unlock()
	st := b.StatusValue
	if st.LastEventID == "" {
		st.LastEventID = b.bus.LastID()
	}
	return st
}

// Accounts returns a copy of AccountList.
func (b *Backend) Accounts() []control.Account {
	b.Lock()
	defer b.Unlock()
	return slices.Clone(b.AccountList)
}

// SetAccounts replaces AccountList.
func (b *Backend) SetAccounts(accounts []control.Account) {
	b.Lock()
	defer b.Unlock()
	b.AccountList = slices.Clone(accounts)
}

// Config returns ConfigValue and Revision.
func (b *Backend) Config() (control.Config, string) {
	b.Lock()
	defer b.Unlock()
	if b.Revision == "" {
		b.bumpLocked()
	}
	return b.ConfigValue, b.Revision
}

// revisions numbers the revisions of every Backend, so that two backends
// (two daemons, to a client) never share one.
var revisions atomic.Int64

// bumpLocked makes a new revision; b is locked.
func (b *Backend) bumpLocked() {
	b.Revision = fmt.Sprintf("rev-%d", revisions.Add(1))
}

// SetConfig replaces ConfigValue, as a change made elsewhere would: the
// revision changes and a config_changed event is published.
func (b *Backend) SetConfig(cfg control.Config) {
	b.Lock()
	defer b.Unlock()
	b.ConfigValue = cfg
	b.changedLocked()
}

// changedLocked makes a new revision and announces it; b is locked.
func (b *Backend) changedLocked() {
	b.bumpLocked()
	b.bus.Publish(control.Event{Type: event.ConfigChanged, Revision: b.Revision, At: b.now().UTC()})
}

// PutConfig records cfg; it returns a *control.StaleError when revision
// is not the current one, PutConfigErr when set, and otherwise stores cfg
// as ConfigValue under a new revision (publishing config_changed).
func (b *Backend) PutConfig(cfg control.Config, revision string) error {
	b.Lock()
	defer b.Unlock()
	b.PutConfigs = append(b.PutConfigs, cfg)
	if b.Revision == "" {
		b.bumpLocked()
	}
	if revision != b.Revision {
		return &control.StaleError{Config: b.ConfigValue, Revision: b.Revision}
	}
	if b.PutConfigErr != nil {
		return b.PutConfigErr
	}
	b.ConfigValue = cfg
	b.changedLocked()
	return nil
}

// ResetAccount records name; it returns ResetErr when set, and
// control.ErrNotFound for a name not in AccountList.
func (b *Backend) ResetAccount(name string) error {
	b.Lock()
	defer b.Unlock()
	b.Resets = append(b.Resets, name)
	if b.ResetErr != nil {
		return b.ResetErr
	}
	for _, a := range b.AccountList {
		if a.Name == name {
			return nil
		}
	}
	return fmt.Errorf("no account named %q: %w", name, control.ErrNotFound)
}

// CheckDir records dir and returns DirChecks[dir], or a DirCheck saying no
// credentials were found.
func (b *Backend) CheckDir(dir string) control.DirCheck {
	b.Lock()
	defer b.Unlock()
	b.Checks = append(b.Checks, dir)
	if dc, ok := b.DirChecks[dir]; ok {
		return dc
	}
	return control.DirCheck{Dir: dir, Problem: "no Claude Code credentials in this directory"}
}

// Tokens returns a copy of TokenList.
func (b *Backend) Tokens() []control.Token {
	b.Lock()
	defer b.Unlock()
	return slices.Clone(b.TokenList)
}

// IssueToken records the call; it returns IssueErr when set, an error
// wrapping control.ErrInvalid for an empty label, and otherwise appends a
// token "tok-N" to TokenList and returns it with the secret "la_sk_test-N".
// Limits are checked as the daemon does (control.Limits.Check).
func (b *Backend) IssueToken(label string, ttl time.Duration, limits control.Limits) (control.Issued, error) {
	b.Lock()
	defer b.Unlock()
	b.Issues = append(b.Issues, IssueCall{Label: label, TTL: ttl, Limits: limits})
	if b.IssueErr != nil {
		return control.Issued{}, b.IssueErr
	}
	if label == "" {
		return control.Issued{}, fmt.Errorf("%w: a token needs a label", control.ErrInvalid)
	}
	limits, err := limits.Check()
	if err != nil {
		return control.Issued{}, fmt.Errorf("%w: %v", control.ErrInvalid, err)
	}
	now := b.now
	n := len(b.TokenList) + 1
	tok := control.Token{
		ID:        fmt.Sprintf("tok-%d", n),
		Label:     label,
		Prefix:    "la_sk_test",
		CreatedAt: now().UTC(),
		Limits:    limits,
	}
	if ttl > 0 {
		exp := tok.CreatedAt.Add(ttl)
		tok.ExpiresAt = &exp
	}
	b.TokenList = append(b.TokenList, tok)
	return control.Issued{Token: tok, Secret: fmt.Sprintf("la_sk_test-%d", n)}, nil
}

// RevokeToken records id and marks that token revoked; an ID not in
// TokenList (or already revoked) gives control.ErrNotFound.
func (b *Backend) RevokeToken(id string) error {
	b.Lock()
	defer b.Unlock()
	b.Revokes = append(b.Revokes, id)
	now := b.now
	for i, t := range b.TokenList {
		if t.ID == id && t.RevokedAt == nil {
			at := now().UTC()
			b.TokenList[i].RevokedAt = &at
			return nil
		}
	}
	return fmt.Errorf("no active token %q: %w", id, control.ErrNotFound)
}

// UpdateToken records the call and applies u to the token in TokenList
// as the daemon does; an unknown ID gives control.ErrNotFound, a bad
// update an error wrapping control.ErrInvalid.
func (b *Backend) UpdateToken(id string, u control.TokenUpdate) (control.Token, error) {
	b.Lock()
	defer b.Unlock()
	b.Updates = append(b.Updates, UpdateCall{ID: id, Update: u})
	i := slices.IndexFunc(b.TokenList, func(t control.Token) bool { return t.ID == id })
	if i < 0 {
		return control.Token{}, fmt.Errorf("no token %q: %w", id, control.ErrNotFound)
	}
	t := b.TokenList[i]
	l, err := u.Apply(t.Limits)
	if err != nil {
		return control.Token{}, fmt.Errorf("%w: %v", control.ErrInvalid, err)
	}
	switch {
	case u.NeverExpires && u.ExpiresAt != nil:
		return control.Token{}, fmt.Errorf("%w: expires_at and never_expires together", control.ErrInvalid)
	case u.NeverExpires:
		t.ExpiresAt = nil
	case u.ExpiresAt != nil:
		exp := *u.ExpiresAt
		t.ExpiresAt = &exp
	}
	t.Limits = l
	if !l.Limited() {
		t.Window = nil
	}
	b.TokenList[i] = t
	return t, nil
}

// Usage records the call and returns UsageValue (a copy), or
// TokenUsageValue by control.UsageByToken once that has buckets, with Step
// and Since set to the call's when they are empty.
func (b *Backend) Usage(since time.Time, step, by string) control.Usage {
	b.Lock()
	defer b.Unlock()
	b.Usages = append(b.Usages, UsageCall{Since: since, Step: step, By: by})
	u := b.UsageValue
	if by == control.UsageByToken && b.TokenUsageValue.Buckets != nil {
		u = b.TokenUsageValue
	}
	u.Buckets = slices.Clone(u.Buckets)
	if u.Step == "" {
		u.Step = step
	}
	if u.Since.IsZero() {
		u.Since = since
	}
	return u
}

// SetUsage replaces UsageValue.
func (b *Backend) SetUsage(u control.Usage) {
	b.Lock()
	defer b.Unlock()
	b.UsageValue = u
}

// Pause records the call; it returns PauseErr when set, and otherwise sets
// StatusValue.Paused and, when that changed, publishes a paused event as
// the daemon does.
func (b *Backend) Pause() error { return b.setPaused(true) }

// Resume records the call; it returns PauseErr when set, and otherwise
// clears StatusValue.Paused and, when that changed, publishes a resumed
// event as the daemon does.
func (b *Backend) Resume() error { return b.setPaused(false) }

// SetPaused sets StatusValue.Paused without publishing an event or
// recording a call (a daemon found paused, a lost event).
func (b *Backend) SetPaused(paused bool) {
	b.Lock()
	defer b.Unlock()
	b.StatusValue.Paused = paused
}

func (b *Backend) setPaused(paused bool) error {
	b.Lock()
	defer b.Unlock()
	b.Pauses = append(b.Pauses, paused)
	if b.PauseErr != nil {
		return b.PauseErr
	}
	if b.StatusValue.Paused == paused {
		return nil
	}
	b.StatusValue.Paused = paused
	e := control.Event{Type: event.Resumed, At: b.now().UTC()}
	if paused {
		e.Type = event.Paused
	}
	b.bus.Publish(e)
	return nil
}

// now reads the Now clock, time.Now when nil; b is locked.
func (b *Backend) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// Subscribe follows the events published after after ("" from now on),
// as event.Bus.Subscribe does.
func (b *Backend) Subscribe(after string) *event.Sub { return b.bus.Subscribe(after) }

// Publish publishes e to the open event streams (and keeps it for streams
// that resume).
func (b *Backend) Publish(e control.Event) { b.bus.Publish(e) }

// LastID is the ID of the latest event published.
func (b *Backend) LastID() string { return b.bus.LastID() }

// Subscribers returns how many subscriptions (open event streams) exist.
func (b *Backend) Subscribers() int {
	n, _ := b.bus.Subscribers()
	return n
}

// CloseStreams ends every subscription, which ends the open event streams
// as a daemon does when it stops.
func (b *Backend) CloseStreams() { b.bus.CloseAll() }

// WaitSubscribers waits until exactly n subscriptions exist, failing t
// after 10 seconds. Use it after starting Client.Events and before
// Publish: a stream receives only events published after it subscribed.
func (b *Backend) WaitSubscribers(t testing.TB, n int) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		got, changed := b.bus.Subscribers()
		if got == n {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("event subscribers = %d, want %d (after 10s)", got, n)
		}
	}
}

// NewServer serves b's control API on a loopback httptest server with a
// random secret and returns a client for it and the server; both are
// closed when the test ends. Closing the server (srv.Close) ends open event
// streams first, like a daemon shutting down, so Client.Events returns an
// error wrapping control.ErrUnreachable.
func NewServer(t testing.TB, b *Backend) (*control.Client, *httptest.Server) {
	t.Helper()
	buf := make([]byte, 16)
	rand.Read(buf)
	secret := hex.EncodeToString(buf)
	srv := control.NewServer(b, secret, slog.New(slog.DiscardHandler))
	hs := httptest.NewUnstartedServer(srv)
	hs.Listener = &closeHook{Listener: hs.Listener, onClose: srv.Close}
	hs.Start()
	t.Cleanup(hs.Close)
	return control.NewClient(hs.URL, secret), hs
}

// closeHook runs onClose when the listener closes (httptest.Server.Close
// closes it first, then waits for requests; event streams must end).
type closeHook struct {
	net.Listener
	once    sync.Once
	onClose func()
}

func (l *closeHook) Close() error {
	l.once.Do(l.onClose)
	return l.Listener.Close()
}
