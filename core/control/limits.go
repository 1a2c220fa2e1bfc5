package control

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Limits are a client token's budget: how much it may use in each window of
// Per. A request whose token has spent any of them is refused (429) until
// the window ends. The window starts with the token's first request and
// lasts Per; the first request after it ends starts the next one. A zero
// maximum means no limit of that kind; Limits with no maximum are no
// budget at all (Per is then zero too).
type Limits struct {
	// MaxRequests bounds the requests sent with the token in a window
	// (every request it sends through the proxy counts, whatever the
	// answer; refused ones do not).
	MaxRequests int64 `json:"max_requests,omitzero"`
	// MaxTokens bounds the tokens the answers to its requests reported:
	// input, cache writes and output (cache reads are not counted here).
	MaxTokens int64 `json:"max_tokens,omitzero"`
	// MaxCacheReads bounds the cache reads the answers reported; cache
	// reads are cheap and with Claude Code many, so they have their own
	// limit, off unless set.
	MaxCacheReads int64 `json:"max_cache_read_tokens,omitzero"`
	// Per is the window's length (DefaultPer when a maximum is set without
	// one).
	Per Period `json:"per,omitzero"`
}

// DefaultPer is the window of Limits set without one: the length of
// Anthropic's own session window.
const DefaultPer = Period(5 * time.Hour)

// Limited reports whether l sets any maximum.
func (l Limits) Limited() bool {
	return l.MaxRequests > 0 || l.MaxTokens > 0 || l.MaxCacheReads > 0
}

// TokenWindow is what a client token used in its current window.
type TokenWindow struct {
	// Start is when the window started (the first request after the
	// previous one ended), ResetsAt when it ends: Start plus Per.
	Start    time.Time `json:"start"`
	ResetsAt time.Time `json:"resets_at"`
	// Requests counts the requests admitted in the window.
	Requests int64 `json:"requests"`
	// Tokens counts input, cache-write and output tokens, CacheReadTokens
	// the cache reads, as the answers reported them.
	Tokens          int64 `json:"tokens"`
	CacheReadTokens int64 `json:"cache_read_tokens"`
}

// TokenUpdate is the body of PATCH tokens/{id}: what to change of a client
// token. A field left out (nil, false) is kept. A maximum of 0 removes that
// limit; once no maximum is left, the token has no budget (and its window
// is forgotten). ExpiresAt sets a new expiry, NeverExpires removes it
// (not both).
type TokenUpdate struct {
	MaxRequests   *int64     `json:"max_requests,omitempty"`
	MaxTokens     *int64     `json:"max_tokens,omitempty"`
	MaxCacheReads *int64     `json:"max_cache_read_tokens,omitempty"`
	Per           *Period    `json:"per,omitempty"`
	ExpiresAt     *time.Time `json:"expires_at,omitempty"`
	NeverExpires  bool       `json:"never_expires,omitempty"`
}

// Period is the length of a budget window. As text it is a Go duration
// ("5h", "90m") or a number of days ("1d", "7d", "1d12h"); see
// ParsePeriod.
type Period time.Duration

// The bounds of a Period.
const (
	MinPeriod = Period(time.Minute)
	MaxPeriod = Period(366 * 24 * time.Hour)
)

// ParsePeriod reads a window's length: a Go duration ("5h", "90m",
// "1h30m") or whole days, alone or before a Go duration ("1d", "7d",
// "1d12h"). It must be from a minute to 366 days.
func ParsePeriod(s string) (Period, error) {
	in := s
	s = strings.TrimSpace(s)
	var d time.Duration
	days, rest, hasDays := strings.Cut(s, "d")
	if hasDays {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 366 || days == "" || days[0] == '+' || days[0] == '-' {
			return 0, periodError(in)
		}
		d = time.Duration(n) * 24 * time.Hour
		s = rest
	}
	if s != "" || !hasDays {
		v, err := time.ParseDuration(s)
		if err != nil || v < 0 {
			return 0, periodError(in)
		}
		d += v
	}
	switch p := Period(d); {
	case p < MinPeriod:
		return 0, fmt.Errorf("invalid window %q: shorter than a minute", in)
	case p > MaxPeriod:
		return 0, fmt.Errorf("invalid window %q: longer than 366 days", in)
	default:
		return p, nil
	}
}

func periodError(s string) error {
	return fmt.Errorf("invalid window %q: want a duration such as 5h, 90m, 1d or 7d", s)
}

// String writes p as ParsePeriod reads it: "7d" for whole days, "5h",
// "1h30m" otherwise.
func (p Period) String() string {
	d := time.Duration(p)
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// MarshalText implements encoding.TextMarshaler.
func (p Period) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParsePeriod.
func (p *Period) UnmarshalText(b []byte) error {
	v, err := ParsePeriod(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// ErrCount is wrapped by ParseCount's errors.
var ErrCount = errors.New("want a whole number such as 500, 500k or 2M, or none")

// maxCount bounds a count ParseCount accepts (a million billion).
const maxCount = 1_000_000_000_000_000

// ParseCount reads a count as a person writes it: "500", "2,000,000",
// "500k", "2M", "1.5M", "3B" (k: thousand, M: million, B or G: billion;
// case does not matter). "none", "off" and "0" are 0: no limit. A count
// must be whole ("1.5" alone is not) and not negative.
func ParseCount(s string) (int64, error) {
	in := s
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "none", "off", "no", "unlimited":
		return 0, nil
	case "":
		return 0, fmt.Errorf("empty count: %w", ErrCount)
	}
	s = strings.NewReplacer(",", "", "_", "").Replace(s)
	mult := int64(1)
	switch s[len(s)-1] {
	case 'k':
		mult = 1_000
	case 'm':
		mult = 1_000_000
	case 'b', 'g':
		mult = 1_000_000_000
	}
	if mult > 1 {
		s = s[:len(s)-1]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || !digits(whole) || !digits(frac) || len(frac) > 9 {
		return 0, fmt.Errorf("invalid count %q: %w", in, ErrCount)
	}
	var n int64
	if whole != "" {
		w, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || w > maxCount/mult {
			return 0, fmt.Errorf("invalid count %q: more than a million billion", in)
		}
		n = w * mult
	}
	if frac = strings.TrimRight(frac, "0"); frac != "" {
		f, _ := strconv.ParseInt(frac, 10, 64)
		scale := int64(1)
		for range len(frac) {
			scale *= 10
		}
		if mult%scale != 0 {
			return 0, fmt.Errorf("invalid count %q: not a whole number", in)
		}
		n += f * (mult / scale)
	}
	if n > maxCount {
		return 0, fmt.Errorf("invalid count %q: more than a million billion", in)
	}
	return n, nil
}

// digits reports whether s holds only ASCII digits ("" does).
func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Check returns l ready to keep: Per set to DefaultPer when a maximum is
// set without one, and to zero when none is. A negative maximum, or a Per
// outside MinPeriod..MaxPeriod, is an error that names the field (the
// daemon answers it 400).
func (l Limits) Check() (Limits, error) {
	for _, f := range [...]struct {
		name string
		v    int64
	}{{"max_requests", l.MaxRequests}, {"max_tokens", l.MaxTokens}, {"max_cache_read_tokens", l.MaxCacheReads}} {
		if f.v < 0 {
			return l, fmt.Errorf("%s is negative (%d): want a count, or 0 for no limit", f.name, f.v)
		}
	}
	switch {
	case !l.Limited():
		l.Per = 0
	case l.Per == 0:
		l.Per = DefaultPer
	case l.Per < MinPeriod || l.Per > MaxPeriod:
		return l, fmt.Errorf("per %v is not from a minute to 366 days", time.Duration(l.Per))
	}
	return l, nil
}

// Apply returns l with u's changes to the limits (not the expiry), checked
// as Check does. A Per given while no maximum is left is an error: a
// window needs a limit.
func (u TokenUpdate) Apply(l Limits) (Limits, error) {
	for _, f := range [...]struct {
		src *int64
		dst *int64
	}{{u.MaxRequests, &l.MaxRequests}, {u.MaxTokens, &l.MaxTokens}, {u.MaxCacheReads, &l.MaxCacheReads}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if u.Per != nil {
		if !l.Limited() {
			return l, fmt.Errorf("per %v sets the window of limits the token does not have: give max_requests, max_tokens or max_cache_read_tokens too", *u.Per)
		}
		if *u.Per == 0 {
			return l, errors.New("per is 0: want a window from a minute to 366 days")
		}
		l.Per = *u.Per
	}
	return l.Check()
}

// Empty reports whether u changes nothing.
func (u TokenUpdate) Empty() bool { return u == TokenUpdate{} }
