package control

import (
	"time"

	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/event"
)

// Account states, as reported in Account.State.
const (
	StateAvailable  = "available"
	StateCooling    = "cooling"
	StateNeedsLogin = "needs_login"
	StateError      = "error"
	StateDisabled   = "disabled"
)

// Account is a snapshot of one account, as served by GET accounts (and the
// seed-compatible GET /v1/accounts).
type Account struct {
	Name  string `json:"name"`
	Dir   string `json:"dir"`
	State string `json:"state"`
	// CooldownUntil is when a cooling account comes back (null otherwise).
	CooldownUntil *time.Time `json:"cooldown_until"`
	// Reason says why the account is not available, in words for a person
	// ("5-hour limit", "refresh token rejected: log in again", for an
	// account in the error state what failed).
	Reason    string `json:"reason"`
	LastError string `json:"last_error"`
	// RetryAt is when an account in the error state is tried again by
	// itself (null otherwise, and for an error only a change of its
	// credentials can end, such as an unreadable file).
	RetryAt *time.Time `json:"retry_at,omitempty"`
	// Requests counts requests sent upstream on this account since start.
	Requests int64  `json:"requests"`
	FiveHour Window `json:"five_hour"`
	SevenDay Window `json:"seven_day"`
	// TokenExpiresAt is when the current access token expires (null for
	// long-lived tokens or when unknown).
	TokenExpiresAt *time.Time `json:"token_expires_at"`
	// Subscription is the plan read from the credentials ("max", "pro"),
	// RateLimitTier the tier ("default_claude_max_20x"); empty when unknown.
	Subscription  string `json:"subscription,omitempty"`
	RateLimitTier string `json:"rate_limit_tier,omitempty"`
	// ModelCooldowns lists model families blocked while the account is
	// otherwise available (the per-model 7-day bucket).
	ModelCooldowns map[string]time.Time `json:"model_cooldowns,omitempty"`
	// Email and Organization say whose login the account holds (from a
	// login through the daemon or from /api/oauth/profile); "" until known.
	Email        string `json:"email,omitempty"`
	Organization string `json:"organization,omitempty"`
	// LoginExpiresAt is when the login itself ends, after which only a new
	// login helps (refreshTokenExpiresAt of the credentials); null when the
	// credentials do not say.
	LoginExpiresAt *time.Time `json:"login_expires_at,omitempty"`
	// SevenDayModels are the per-model weekly windows by model family
	// ("opus", "sonnet"), as /api/oauth/usage reports them.
	SevenDayModels map[string]Window `json:"seven_day_models,omitempty"`
	// ExtraUsage is the account's paid extra usage as /api/oauth/usage
	// reports it; null until read.
	ExtraUsage *ExtraUsage `json:"extra_usage,omitempty"`
	// BillingExtra is true while the upstream bills the account's answers
	// to paid extra usage: an answer said so (overage-in-use), no answer
	// since said otherwise, and the window it came in has not reset.
	// BillingExtraSince is when it started (null when not billing extra).
	BillingExtra      bool       `json:"billing_extra"`
	BillingExtraSince *time.Time `json:"billing_extra_since,omitempty"`
	// Quota says how the daemon reads the account's usage from
	// /api/oauth/usage (see config quota_poll); null while it does not.
	Quota *Quota `json:"quota,omitempty"`
}

// ExtraUsage is the paid extra usage set up for an account.
type ExtraUsage struct {
	Enabled bool `json:"enabled"`
	// MonthlyLimit and UsedCredits are in the upstream's credits; null
	// when it gives none.
	MonthlyLimit *float64 `json:"monthly_limit"`
	UsedCredits  *float64 `json:"used_credits"`
	// Utilization is the fraction of the monthly limit used; null when
	// unknown.
	Utilization *float64 `json:"utilization"`
}

// Quota is how the daemon reads an account's usage from /api/oauth/usage.
type Quota struct {
	// CheckedAt is when the usage was last read (null before the first
	// successful read).
	CheckedAt *time.Time `json:"checked_at,omitempty"`
	// Skipped says why the usage is not read at all ("" when it is): a
	// token without the user:profile scope, such as a setup token, cannot
	// read it.
	Skipped string `json:"skipped,omitempty"`
	// Error is why the last read failed ("" after a success).
	Error string `json:"error,omitempty"`
	// NextAt is when the next read is due: quota_poll after a success,
	// longer after failures (the wait doubles, up to an hour).
	NextAt *time.Time `json:"next_at,omitempty"`
}

// Window is the state of one rate-limit window, learnt from response
// headers or read from /api/oauth/usage, whichever is newer.
type Window struct {
	// Utilization is a fraction of the window used (may exceed 1).
	Utilization float64 `json:"utilization"`
	// ResetsAt is when the window resets (null when not yet known, or when
	// the window has not started: nothing was used in it).
	ResetsAt *time.Time `json:"resets_at"`
	// AsOf is when the reading was taken (null when nothing is known).
	AsOf *time.Time `json:"as_of,omitempty"`
}

// Accounts is the body of GET accounts and GET /v1/accounts.
type Accounts struct {
	Accounts []Account `json:"accounts"`
}

// Status is the body of GET status: who is answering and where, and
// whether routing is paused.
type Status struct {
	Version   string    `json:"version"`
	Listen    string    `json:"listen"`
	PID       int       `json:"pid"`
	StartedAt time.Time `json:"started_at"`
	Config    string    `json:"config"` // path of the config file the daemon owns
	// Paused is true while routing is paused (POST pause): proxied requests
	// get 503 until POST resume. A restarted daemon is never paused.
	Paused bool `json:"paused"`
	// LastEventID is the ID of the latest event published: a client that
	// reads the state it cares about after Status, then follows the event
	// stream after this ID, misses no change.
	LastEventID string `json:"last_event_id"`
}

// Token describes a client token; the secret itself is never part of it.
type Token struct {
	ID        string     `json:"id"`
	Label     string     `json:"label"`
	Prefix    string     `json:"prefix"` // first characters, for recognising a token ("la_sk_3f9a…")
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at"` // null = never
	RevokedAt *time.Time `json:"revoked_at"` // null = active
	// LastUsedAt is when the token last admitted a request (to the second,
	// saved about once a minute); null = never.
	LastUsedAt *time.Time `json:"last_used_at"`
	// Limits are the token's budget (its fields are left out when no
	// maximum is set).
	Limits
	// Window is what the token used in its current budget window; null
	// when it has no limits, or no window is open (none was, or the last
	// one ended and no request came since).
	Window *TokenWindow `json:"window"`
}

// Tokens is the body of GET tokens.
type Tokens struct {
	Tokens []Token `json:"tokens"`
}

// IssueRequest is the body of POST tokens. TTL is a Go duration string; ""
// means the token does not expire. The Limits fields give it a budget.
type IssueRequest struct {
	Label string `json:"label"`
	TTL   string `json:"ttl,omitempty"`
	Limits
}

// Issued is the answer to POST tokens: the only time the secret is shown.
type Issued struct {
	Token
	Secret string `json:"token"`
}

// DirCheck is the answer to POST accounts/check: what a credential
// directory holds, for the settings window's "Add account" dialog.
type DirCheck struct {
	Dir           string     `json:"dir"`
	Found         bool       `json:"found"`          // a credential file with a token was found
	File          string     `json:"file,omitempty"` // which file
	Subscription  string     `json:"subscription,omitempty"`
	RateLimitTier string     `json:"rate_limit_tier,omitempty"`
	ExpiresAt     *time.Time `json:"expires_at,omitempty"`
	CanRefresh    bool       `json:"can_refresh"`
	// LoginExpiresAt is when the login itself ends (Claude Code's
	// refreshTokenExpiresAt); nil when the file does not say.
	LoginExpiresAt *time.Time `json:"login_expires_at,omitempty"`
	Problem        string     `json:"problem,omitempty"` // why not usable, for a person
}

// Event is one change on the event stream (GET events): an account or pool
// change (`event: account`), routing paused or resumed (`event: routing`)
// or a configuration change (`event: config`). Client.Events also hands
// out an Event of type EventReset when the stream said events were lost.
type Event = event.Event

// EventReset is the type of the Event Client.Events hands out for
// `event: reset`: events were lost, re-read everything.
const EventReset event.Type = event.StreamReset

// Config is the body of GET/PUT config.
type Config = config.Config

// FieldError names one invalid configuration value, for inline display.
type FieldError = config.FieldError

// ErrorBody is the shape of every error answer (Anthropic's error shape,
// plus the fields that failed validation on PUT config, and the current
// configuration and revision when a PUT config was stale).
type ErrorBody struct {
	Type     string       `json:"type"` // always "error"
	Error    ErrorDetail  `json:"error"`
	Field    []FieldError `json:"fields,omitempty"`
	Config   *Config      `json:"config,omitempty"`
	Revision string       `json:"revision,omitempty"`
}

// ErrorDetail is the inner object of ErrorBody.
type ErrorDetail struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// Usage steps, as asked for in GET usage?step=.
const (
	StepHour = "hour"
	StepDay  = "day"
)

// UsageRetention is how far back the daemon keeps usage history. GET usage
// moves an older since forward to now minus UsageRetention.
const UsageRetention = 90 * 24 * time.Hour

// UsageBucket is what one account, or one client token, did in one hour
// or day (local time).
type UsageBucket struct {
	// Start is the start of the hour or the local day.
	Start time.Time `json:"start"`
	// Account names the account of an account's bucket; Token is the ID
	// and Label the label of a client token's bucket (UsageByToken), the
	// label "" when the token is no longer in the store.
	Account string `json:"account,omitempty"`
	Token   string `json:"token,omitempty"`
	Label   string `json:"label,omitempty"`
	// Requests counts answers the upstream gave on this account (failovers
	// included: one client request may count on two accounts); for a
	// client token, the requests it sent that were admitted.
	Requests int64 `json:"requests"`
	// RateLimited counts 429 and 529 answers; Errors counts other 4xx/5xx
	// answers and connection failures. For a client token, RateLimited
	// counts its requests refused because its budget was spent, and Errors
	// is 0.
	RateLimited int64 `json:"rate_limited"`
	Errors      int64 `json:"errors"`
	// ExtraUsageRequests counts answers billed to paid extra usage
	// (overage-in-use).
	ExtraUsageRequests int64 `json:"extra_usage_requests"`
	// Token counts, from the usage the upstream reports in its answers
	// (uncompressed JSON and event streams).
	InputTokens         int64 `json:"input_tokens"`
	OutputTokens        int64 `json:"output_tokens"`
	CacheReadTokens     int64 `json:"cache_read_input_tokens"`
	CacheCreationTokens int64 `json:"cache_creation_input_tokens"`
	// FiveHourPeak and SevenDayPeak are the highest utilization of the
	// 5-hour and 7-day windows the upstream reported in the bucket (a
	// fraction, may exceed 1); null when it reported none.
	FiveHourPeak *float64 `json:"five_hour_peak"`
	SevenDayPeak *float64 `json:"seven_day_peak"`
}

// Add adds o's counts to b (the peaks are left as they are): for totals
// over buckets.
func (b *UsageBucket) Add(o UsageBucket) {
	b.Requests += o.Requests
	b.RateLimited += o.RateLimited
	b.Errors += o.Errors
	b.ExtraUsageRequests += o.ExtraUsageRequests
	b.InputTokens += o.InputTokens
	b.OutputTokens += o.OutputTokens
	b.CacheReadTokens += o.CacheReadTokens
	b.CacheCreationTokens += o.CacheCreationTokens
}

// What GET usage?by= groups the buckets by.
const (
	UsageByAccount = "account"
	UsageByToken   = "token"
)

// Usage is the body of GET usage: buckets ordered by Start, then Account
// (or Token). Buckets in which an account or token did nothing are left
// out.
type Usage struct {
	Step    string        `json:"step"`
	Since   time.Time     `json:"since"`
	Buckets []UsageBucket `json:"buckets"`
}
