package quota

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// MaxBackoff bounds the wait after failed reads: it doubles with each
// failure in a row, from twice the interval, up to MaxBackoff (or the
// interval, when that is longer).
const MaxBackoff = time.Hour

// tokenWait is how soon an account that had no usable token (it was being
// refreshed) is tried again, unless the interval is shorter.
const tokenWait = time.Minute

// readTimeout bounds one read (usage and profile).
const readTimeout = 30 * time.Second

// NoScope is the Skipped reason of an account whose token may not read
// its usage.
const NoScope = "its token cannot read the usage (no user:profile scope, as with a setup token)"

// Account is one account the Poller reads.
type Account struct {
	Name string
	// Token returns the access token to read with, and false when there is
	// no usable one now (it is being refreshed): the account is tried
	// again in a minute.
	Token func() (string, bool)
	// Skip says why the account is not read at all ("" to read it): its
	// token lacks the scope the endpoint needs (NoScope).
	Skip string
	// Profile asks for the profile too (whose login it is, not yet known).
	Profile bool
}

// Result is the outcome of one read, or of a decision not to read.
type Result struct {
	// At is when the read was sent: what it says is at least that new.
	At time.Time
	// Usage is what was read; nil when the read failed or was skipped.
	Usage *Usage
	// Profile is nil unless it was asked for and read.
	Profile *Profile
	// Err is why the read failed.
	Err error
	// Skipped says why the account is not read (see Account.Skip).
	Skipped string
	// Next is when the next read is due; zero when the account is skipped.
	Next time.Time
}

// Options configure a Poller. Every function is required except Logger.
type Options struct {
	// HTTPClient reaches the upstream; nil means http.DefaultClient (each
	// read is bounded to 30s anyway).
	HTTPClient *http.Client
	// Upstream returns the API's base URL ("https://api.anthropic.com").
	Upstream func() string
	// Interval returns how often each account is read; 0 stops reading.
	Interval func() time.Duration
	// Accounts returns the accounts to read now.
	Accounts func() []Account
	// Record is told the outcome of every read, and once when an account
	// starts to be skipped. It is called from the Poller's goroutine, one
	// call at a time, and must not block.
	Record func(name string, r Result)
	// Logger; nil discards.
	Logger *slog.Logger
}

// Poller reads every account's usage at start and then every interval:
// at most one read per account at a time, and after failures (a 429, a
// 5xx, no answer) a wait that doubles up to MaxBackoff. Create it with
// New and run Serve.
type Poller struct {
	o    Options
	log  *slog.Logger
	kick chan struct{}
}

// New returns a Poller.
func New(o Options) *Poller {
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Poller{o: o, log: log.With("component", "quota"), kick: make(chan struct{}, 1)}
}

// Kick makes the Poller look at the accounts and the interval again now:
// a new account is read at once.
func (p *Poller) Kick() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// track is what the Poller knows of one account.
type track struct {
	last      time.Time     // when the last read was sent; zero before the first
	fails     int           // failures in a row
	after     time.Duration // the last failure's retry-after
	forbidden bool          // the last read was refused (403)
	notBefore time.Time     // no usable token: not before this
	busy      bool          // a read runs
	skipped   string        // the skip reason last recorded
}

// due is when the account is to be read next.
func (t *track) due(interval time.Duration) time.Time {
	var at time.Time
	switch {
	case t.last.IsZero():
	case t.forbidden:
		at = t.last.Add(max(MaxBackoff, interval))
	case t.fails > 0:
		wait := interval
		for i := 0; i < t.fails && wait < max(MaxBackoff, interval); i++ {
			wait *= 2
		}
		wait = max(min(wait, max(MaxBackoff, interval)), t.after)
		at = t.last.Add(wait)
	default:
		at = t.last.Add(interval)
	}
	if t.notBefore.After(at) {
		at = t.notBefore
	}
	return at
}

// read is a finished read of one account.
type read struct {
	name string
	r    Result
}

// Serve reads the accounts until ctx ends, and returns nil once the reads
// under way have ended.
func (p *Poller) Serve(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	done := make(chan read)
	tracks := map[string]*track{}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		interval := p.o.Interval()
		now := time.Now()
		var next time.Time
		if interval > 0 {
			seen := map[string]bool{}
			for _, a := range p.o.Accounts() {
				seen[a.Name] = true
				t := tracks[a.Name]
				if t == nil {
					t = &track{}
					tracks[a.Name] = t
				}
				if t.busy {
					continue
				}
				if a.Skip != "" {
					if t.skipped != a.Skip {
						t.skipped = a.Skip
						p.o.Record(a.Name, Result{At: now, Skipped: a.Skip})
					}
					continue
				}
				t.skipped = ""
				if due := t.due(interval); now.Before(due) {
					if next.IsZero() || due.Before(next) {
						next = due
					}
					continue
				}
				tok, ok := a.Token()
				if !ok {
					t.notBefore = now.Add(min(tokenWait, interval))
					if next.IsZero() || t.notBefore.Before(next) {
						next = t.notBefore
					}
					continue
				}
				t.busy = true
				wg.Go(func() {
					r := p.read(ctx, a, tok)
					select {
					case done <- read{a.Name, r}:
					case <-ctx.Done():
					}
				})
			}
			for name, t := range tracks {
				if !seen[name] && !t.busy {
					delete(tracks, name)
				}
			}
		}
		if !next.IsZero() {
			timer.Reset(time.Until(next))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.kick:
		case <-timer.C:
		case d := <-done:
			if t := tracks[d.name]; t != nil {
				t.busy = false
				t.note(d.r)
				d.r.Next = t.due(interval)
			}
			if d.r.Err != nil {
				p.log.Info("could not read an account's usage", "account", d.name, "err", d.r.Err, "next", d.r.Next)
			}
			p.o.Record(d.name, d.r)
		}
		timer.Stop()
	}
}

// note records the outcome of a read.
func (t *track) note(r Result) {
	t.last, t.notBefore, t.after = r.At, time.Time{}, 0
	t.forbidden = r.Skipped != ""
	if r.Err == nil || t.forbidden {
		t.fails = 0
		return
	}
	t.fails++
	var se *StatusError
	if errors.As(r.Err, &se) {
		t.after = se.RetryAfter
	}
}

// read reads one account's usage, and its profile when asked for.
func (p *Poller) read(ctx context.Context, a Account, tok string) Result {
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	r := Result{At: time.Now()}
	base := p.o.Upstream()
	u, err := FetchUsage(ctx, p.o.HTTPClient, base, tok)
	switch {
	case errors.Is(err, ErrForbidden):
		r.Skipped = NoScope
		return r
	case err != nil:
		r.Err = err
		return r
	}
	r.Usage = &u
	if a.Profile {
		if pr, err := FetchProfile(ctx, p.o.HTTPClient, base, tok); err == nil {
			r.Profile = &pr
		} else {
			p.log.Debug("could not read an account's profile", "account", a.Name, "err", err)
		}
	}
	return r
}
