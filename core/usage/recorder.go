package usage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/store"
)

// FlushInterval is how often Serve writes the history when it changed.
const FlushInterval = time.Minute

// ErrCorrupt means the history file exists but cannot be understood (not
// JSON, an unknown version, a bucket without an account or start).
var ErrCorrupt = errors.New("corrupt usage history")

// hourSeconds is the length of a bucket.
const hourSeconds = 3600

// counters is what one account did in one hour.
type counters struct {
	requests, rateLimited, errors           int64
	input, output, cacheRead, cacheCreation int64
	extra                                   int64 // answers billed to extra usage
	// fiveHour and sevenDay are the highest utilization reported, -1 when
	// none was.
	fiveHour, sevenDay float64
}

func newCounters() *counters { return &counters{fiveHour: -1, sevenDay: -1} }

// empty reports whether c counts nothing.
func (c *counters) empty() bool {
	return c.requests == 0 && c.rateLimited == 0 && c.errors == 0 && c.extra == 0 &&
		c.input == 0 && c.output == 0 && c.cacheRead == 0 && c.cacheCreation == 0 &&
		c.fiveHour < 0 && c.sevenDay < 0
}

// add sums o into c, keeping the higher peaks.
func (c *counters) add(o *counters) {
	c.requests += o.requests
	c.rateLimited += o.rateLimited
	c.errors += o.errors
	c.input += o.input
	c.output += o.output
	c.cacheRead += o.cacheRead
	c.cacheCreation += o.cacheCreation
	c.extra += o.extra
	c.fiveHour = max(c.fiveHour, o.fiveHour)
	c.sevenDay = max(c.sevenDay, o.sevenDay)
}

// raise sets *p to v when v is a reported utilization above it.
func raise(p *float64, v float64) {
	if v >= 0 && v <= math.MaxFloat64 && v > *p { // not NaN, not +Inf
		*p = v
	}
}

// key names one account's (or client token's) bucket.
type key struct {
	start   int64  // Unix seconds of the bucket's start
	account string // or the client token's ID, in Recorder.clients
}

// table is the history of one kind of name: accounts, or client tokens.
type table struct {
	cur   map[string]*counters // the current hour's counters by name, also in hours
	hours map[key]*counters
}

func newTable() table { return table{cur: map[string]*counters{}, hours: map[key]*counters{}} }

// Recorder is the usage history of every account and of every client
// token. It implements proxy.Usage. Its methods are safe for concurrent
// use. Create it with Open (or Replace), run Serve to save it.
type Recorder struct {
	// Log receives failures to save and the renaming of a corrupt file;
	// nil discards them. Set it before Serve.
	Log *slog.Logger

	path string
	now  func() time.Time

	mu       sync.Mutex
	hour     int64 // the current hour: the latest that was recorded
	accounts table
	clients  table // by client token ID
	dirty    bool  // changed since the last write

	flushMu sync.Mutex // serializes writes of the file
	aside   bool       // rename the file at path before the first write; guarded by flushMu
	memory  bool       // never write the file (see Memory)
}

// Open loads the history from path. A missing file is an empty history. A
// file that cannot be parsed gives an error wrapping ErrCorrupt that names
// it, and is left untouched (see Replace). now is the clock; nil means
// time.Now. Open first removes the temp files that writes killed before
// their rename left (store.Clean): at most a minute of history that was
// never in the file.
func Open(path string, now func() time.Time) (*Recorder, error) {
	store.Clean(path) // best effort: a leftover is only clutter
	r := newRecorder(path, now)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if err := r.load(data); err != nil {
		return nil, fmt.Errorf("reading %s: %w: %v", path, ErrCorrupt, err)
	}
	return r, nil
}

// Replace returns a Recorder with an empty history that replaces the file
// at path, for when Open found it corrupt: the file stays as it is until
// the first write, which renames it to <path>.corrupt-<UTC time, such as
// 20261126T095900Z> first (and logs that); when path is a symbolic link,
// the file it points to is renamed and the link kept. now is the clock; nil means
// time.Now.
func Replace(path string, now func() time.Time) *Recorder {
	r := newRecorder(path, now)
	r.aside = true
	return r
}

// Memory returns a Recorder with an empty history that is kept in memory
// only, for when the file at path exists but cannot be read (its
// permissions, say): the history is served as usual, and the file, which
// may be fine, is never touched. now is the clock; nil means time.Now.
func Memory(path string, now func() time.Time) *Recorder {
	r := newRecorder(path, now)
	r.memory = true
	return r
}

func newRecorder(path string, now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	return &Recorder{path: path, now: now, accounts: newTable(), clients: newTable()}
}

// hourOf returns the Unix seconds of the start of t's hour.
func hourOf(t time.Time) int64 {
	s := t.Unix()
	return s - ((s%hourSeconds)+hourSeconds)%hourSeconds
}

// countersLocked returns account's counters for the hour starting at h,
// creating them when needed; r.mu is held.
func (r *Recorder) countersLocked(account string, h int64) *counters {
	return r.inLocked(&r.accounts, account, h)
}

// inLocked returns name's counters in t for the hour starting at h,
// creating them when needed; r.mu is held.
func (r *Recorder) inLocked(t *table, name string, h int64) *counters {
	switch {
	case h == r.hour:
		if c := t.cur[name]; c != nil {
			return c // the common case
		}
	case h > r.hour: // a new hour
		r.hour = h
		clear(r.accounts.cur)
		clear(r.clients.cur)
	default: // an answer timed before a later one recorded already
		k := key{h, name}
		if c := t.hours[k]; c != nil {
			return c
		}
		k.account = strings.Clone(name)
		c := newCounters()
		t.hours[k] = c
		return c
	}
	k := key{h, strings.Clone(name)}
	c := t.hours[k] // loaded from the file
	if c == nil {
		c = newCounters()
		t.hours[k] = c
	}
	t.cur[k.account] = c
	return c
}

// Answered records one upstream answer on account: its status (0 for a
// connection failure) and the utilization of the 5-hour and 7-day windows
// from its headers (negative when absent). 429 and 529 count as rate
// limits; 0 and other statuses from 400 up as errors.
func (r *Recorder) Answered(account string, status int, fiveHour, sevenDay float64) {
	h := hourOf(r.now())
	r.mu.Lock()
	c := r.countersLocked(account, h)
	c.requests++
	switch {
	case status == 429 || status == 529:
		c.rateLimited++
	case status >= 400 || status == 0:
		c.errors++
	}
	raise(&c.fiveHour, fiveHour)
	raise(&c.sevenDay, sevenDay)
	r.dirty = true
	r.mu.Unlock()
}

// ExtraUsage records that an answer on account was billed to paid extra
// usage (it said overage-in-use); Answered counts the answer itself.
func (r *Recorder) ExtraUsage(account string) {
	h := hourOf(r.now())
	r.mu.Lock()
	r.countersLocked(account, h).extra++
	r.dirty = true
	r.mu.Unlock()
}

// Tokens adds the token usage an answer on account reported, to the
// account and to the client token with the ID client ("" for none) that
// sent the request.
func (r *Recorder) Tokens(account, client string, t Tokens) {
	if t == (Tokens{}) {
		return
	}
	h := hourOf(r.now())
	r.mu.Lock()
	r.countersLocked(account, h).addTokens(t)
	if client != "" {
		r.inLocked(&r.clients, client, h).addTokens(t)
	}
	r.dirty = true
	r.mu.Unlock()
}

func (c *counters) addTokens(t Tokens) {
	c.input += t.Input
	c.output += t.Output
	c.cacheRead += t.CacheRead
	c.cacheCreation += t.CacheCreation
}

// Client records one request of the client token with the ID client:
// admitted, or refused because the token had spent its budget.
func (r *Recorder) Client(client string, refused bool) {
	h := hourOf(r.now())
	r.mu.Lock()
	c := r.inLocked(&r.clients, client, h)
	if refused {
		c.rateLimited++
	} else {
		c.requests++
	}
	r.dirty = true
	r.mu.Unlock()
}

// Query returns the history from since on, in buckets of step with local
// days in time.Local; see QueryIn.
func (r *Recorder) Query(since time.Time, step string) control.Usage {
	return r.QueryIn(since, step, time.Local)
}

// QueryIn returns the history from since on, in buckets of step:
// control.StepHour gives each recorded hour, from the hour holding since;
// control.StepDay sums the hours into the days of loc (an hour belongs to
// the day its start falls on), from the day holding since, with the
// highest peaks of the day. Starts are in loc. Buckets are ordered by
// start, then account; buckets in which an account did nothing are left
// out. Another step gives no buckets: callers check it first.
func (r *Recorder) QueryIn(since time.Time, step string, loc *time.Location) control.Usage {
	return r.query(&r.accounts, since, step, loc)
}

// QueryClients is QueryIn for the client tokens: a bucket per token (its
// ID in Token, the Label left for the caller to fill), ordered by start,
// then ID. A token's Requests are its admitted requests, its RateLimited
// those refused because its budget was spent.
func (r *Recorder) QueryClients(since time.Time, step string, loc *time.Location) control.Usage {
	u := r.query(&r.clients, since, step, loc)
	for i := range u.Buckets {
		b := &u.Buckets[i]
		b.Token, b.Account = b.Account, ""
	}
	return u
}

// query is QueryIn over t.
func (r *Recorder) query(t *table, since time.Time, step string, loc *time.Location) control.Usage {
	u := control.Usage{Step: step, Since: since, Buckets: []control.UsageBucket{}}
	var from int64
	switch step {
	case control.StepHour:
		from = hourOf(since)
	case control.StepDay:
		from = dayOf(since, loc).Unix()
	default:
		return u
	}
	type row struct {
		key
		c counters
	}
	r.mu.Lock()
	rows := make([]row, 0, len(t.hours))
	for k, c := range t.hours {
		if k.start >= from && !c.empty() {
			rows = append(rows, row{k, *c})
		}
	}
	r.mu.Unlock()

	if step == control.StepDay {
		days := make(map[key]*counters)
		for _, rw := range rows {
			k := key{dayOf(time.Unix(rw.start, 0), loc).Unix(), rw.account}
			d := days[k]
			if d == nil {
				d = newCounters()
				days[k] = d
			}
			d.add(&rw.c)
		}
		rows = rows[:0]
		for k, c := range days {
			rows = append(rows, row{k, *c})
		}
	}
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(cmp.Compare(a.start, b.start), strings.Compare(a.account, b.account))
	})
	for _, rw := range rows {
		u.Buckets = append(u.Buckets, bucket(time.Unix(rw.start, 0).In(loc), rw.account, &rw.c))
	}
	return u
}

// dayOf returns the midnight that starts t's day in loc.
func dayOf(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// bucket converts counters to the wire type.
func bucket(start time.Time, account string, c *counters) control.UsageBucket {
	b := control.UsageBucket{
		Start: start, Account: account,
		Requests: c.requests, RateLimited: c.rateLimited, Errors: c.errors, ExtraUsageRequests: c.extra,
		InputTokens: c.input, OutputTokens: c.output, CacheReadTokens: c.cacheRead, CacheCreationTokens: c.cacheCreation,
	}
	if c.fiveHour >= 0 {
		v := c.fiveHour
		b.FiveHourPeak = &v
	}
	if c.sevenDay >= 0 {
		v := c.sevenDay
		b.SevenDayPeak = &v
	}
	return b
}

// Flush drops the hours that ended more than control.UsageRetention ago
// and writes the history to its file when it changed since the last write.
// A Recorder made by Replace first renames the corrupt file it replaces.
func (r *Recorder) Flush() error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	if r.memory {
		return nil
	}
	now := r.now()
	cutoff := now.Add(-control.UsageRetention).Unix()
	r.mu.Lock()
	for _, t := range [...]*table{&r.accounts, &r.clients} {
		for k := range t.hours {
			if k.start+hourSeconds <= cutoff {
				delete(t.hours, k)
				r.dirty = true
			}
		}
	}
	if r.hour+hourSeconds <= cutoff { // its counters may be gone
		r.hour = 0
		clear(r.accounts.cur)
		clear(r.clients.cur)
	}
	if !r.dirty {
		r.mu.Unlock()
		return nil
	}
	entries, clients := r.accounts.entries(), r.clients.entries()
	r.dirty = false
	r.mu.Unlock()

	err := r.write(entries, clients, now)
	if err != nil {
		r.mu.Lock()
		r.dirty = true
		r.mu.Unlock()
	}
	return err
}

// entries are t's hours that count anything, to be written.
func (t *table) entries() []entry {
	out := make([]entry, 0, len(t.hours))
	for k, c := range t.hours {
		if !c.empty() {
			out = append(out, entry{Start: time.Unix(k.start, 0).UTC(), Account: k.account, c: *c})
		}
	}
	return out
}

// write stores the hours of the accounts and of the client tokens in the
// file, first moving a corrupt one aside.
func (r *Recorder) write(entries, clients []entry, now time.Time) error {
	if r.aside {
		// When the file is a symbolic link, its target is moved aside and
		// the link kept: the new file is written where it points.
		target, err := store.Target(r.path)
		if err != nil {
			return fmt.Errorf("moving the corrupt %s aside: %w", r.path, err)
		}
		aside := target + ".corrupt-" + now.UTC().Format("20060102T150405Z")
		switch err := os.Rename(target, aside); {
		case err == nil:
			r.logger().Warn("moved the corrupt usage history aside; starting a new one", "file", r.path, "kept", aside)
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("moving the corrupt %s aside: %w", r.path, err)
		}
		r.aside = false
	}
	data, err := encode(entries, clients)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", r.path, err)
	}
	return store.WriteFile(r.path, data, 0o600)
}

// Serve writes the history every FlushInterval when it changed, and once
// more when ctx ends; it returns the error of that last write. Failures
// before are logged, and tried again at the next interval.
func (r *Recorder) Serve(ctx context.Context) error {
	t := time.NewTicker(FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return r.Flush()
		case <-t.C:
			if err := r.Flush(); err != nil {
				r.logger().Warn("cannot save the usage history; trying again in a minute", "err", err)
			}
		}
	}
}

func (r *Recorder) logger() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log.With("component", "usage")
}
