// Package config defines MaxRouter's configuration: the TOML file the daemon
// reads and owns, its defaults, validation and the environment overrides of
// the original router.
//
// Load and Parse read the file (errors name the file, line and key), Save
// writes it atomically with mode 0600, and LoadOrCreate makes the first one
// from Default and the Claude Code directories Discover finds. Redacted and
// MergeSecrets keep account tokens out of what the control API serves.
package config

import (
	"fmt"
	"time"

	"github.com/maxrouter/maxrouter/core/openai"
)

// Config is the whole configuration file. Every field has a default (see
// Default); the TOML keys are the contract documented in docs/architecture.md.
// The JSON form is what the control API's GET/PUT config carries.
type Config struct {
	// Listen is the proxy's address. Default "127.0.0.1:8787" (loopback only).
	Listen string `toml:"listen" json:"listen"`
	// Upstream is the Anthropic API base URL. Default "https://api.anthropic.com".
	Upstream string `toml:"upstream" json:"upstream"`
	// TokenURL is the OAuth token endpoint used to refresh access tokens.
	// Default "https://platform.claude.com/v1/oauth/token".
	TokenURL string `toml:"token_url" json:"token_url"`
	// AuthorizeURL is the OAuth authorization page a login opens in the
	// browser. Default "https://claude.ai/oauth/authorize".
	AuthorizeURL string `toml:"authorize_url" json:"authorize_url"`
	// Strategy picks an account per request: "round-robin" (default),
	// "priority", "least-used" or "headroom". The file may also spell them
	// as the original router did ("rr", "prio", "lru", "round_robin", …);
	// Parse reads those as the names above.
	Strategy string `toml:"strategy" json:"strategy"`
	// Cooldown is how long an account rests when the upstream says it is
	// spent but gives no reset time. Default 60s.
	Cooldown Duration `toml:"cooldown" json:"cooldown"`
	// Notify turns desktop notifications on or off as a whole. Default true.
	Notify bool `toml:"notify" json:"notify"`
	// DataDir holds the token store, usage history and control secret.
	// Default "" = the config file's directory.
	DataDir string `toml:"data_dir" json:"data_dir"`
	// SessionAffinity keeps requests of one Claude Code session on one
	// account while it is available (keeps the prompt cache warm). Default true.
	SessionAffinity bool `toml:"session_affinity" json:"session_affinity"`
	// MaxBodyMB bounds a request body, which is buffered so it can be
	// replayed on another account. Default 32.
	MaxBodyMB int `toml:"max_body_mb" json:"max_body_mb"`
	// RefreshBefore is how long before expiry an access token is refreshed.
	// Default 5m.
	RefreshBefore Duration `toml:"refresh_before" json:"refresh_before"`
	// ResponseTimeout is how long a request that does not stream waits for
	// the upstream's answer to start: Anthropic answers such a request only
	// once the whole message is written, which can take minutes (its SDKs
	// wait 10). Then the request moves to the next account. 0 = no bound.
	// Default 10m.
	ResponseTimeout Duration `toml:"response_timeout" json:"response_timeout"`
	// StreamIdleTimeout is how long a streamed request waits for the
	// upstream's answer to start, and then how long the answer may go
	// silent: Anthropic starts a stream at once and sends ping events while
	// the model works. Before the first byte reaches the client the request
	// moves to the next account; after it the stream is cut. 0 = no bound.
	// Default 2m.
	StreamIdleTimeout Duration `toml:"stream_idle_timeout" json:"stream_idle_timeout"`
	// QuotaPoll is how often each enabled account's usage is read from
	// <upstream>/api/oauth/usage, so that accounts that served no request
	// show their quota too; the first read is at start. 0 = never; else at
	// least 1m. Default 5m.
	QuotaPoll Duration `toml:"quota_poll" json:"quota_poll"`
	// ExtraUsage says whether an account whose answers are billed to paid
	// extra usage is picked like the others ("allow") or only when no other
	// enabled account is within its included limits ("avoid", the default).
	ExtraUsage string `toml:"extra_usage" json:"extra_usage"`
	// Notifications switches each kind of desktop notification. All default true.
	Notifications Notifications `toml:"notifications" json:"notifications"`
	// Models maps the model names OpenAI clients send (to
	// /v1/chat/completions, /v1/responses) to Claude models; claude-* names
	// need no entry. A [models] table in the file replaces the defaults
	// (openai.DefaultModels: small OpenAI models to Haiku, large ones to
	// Sonnet, reasoning models to Opus); without one, or nil, the defaults
	// apply.
	Models map[string]string `toml:"models,omitempty" json:"models,omitempty"`
	// Accounts is the pool, in priority order.
	Accounts []Account `toml:"account" json:"accounts"`
}

// Notifications switches desktop notifications per event kind.
type Notifications struct {
	CooldownStarted bool `toml:"cooldown_started" json:"cooldown_started"` // default true
	CooldownEnded   bool `toml:"cooldown_ended" json:"cooldown_ended"`     // default true
	NeedsLogin      bool `toml:"needs_login" json:"needs_login"`           // default true
	AllExhausted    bool `toml:"all_exhausted" json:"all_exhausted"`       // default true
	// BillingExtra: an account's answers are billed to paid extra usage.
	// Default true.
	BillingExtra bool `toml:"billing_extra" json:"billing_extra"`
	// TokenBudgetReached: a client token spent its budget. Default true.
	TokenBudgetReached bool `toml:"token_budget_reached" json:"token_budget_reached"`
}

// Account is one subscription: a Claude Code config directory, or a
// long-lived token from `claude setup-token`.
type Account struct {
	// Name identifies the account in logs, the tray and the control API.
	// Required, unique.
	Name string `toml:"name" json:"name"`
	// Dir is a Claude Code config directory ("~" is expanded). Exactly one
	// of Dir and Token is set.
	Dir string `toml:"dir,omitempty" json:"dir,omitempty"`
	// Token is a long-lived OAuth token (sk-ant-oat01-…) given directly.
	Token string `toml:"token,omitempty" json:"token,omitempty"`
	// Enabled takes the account out of rotation when false. Default true.
	Enabled *bool `toml:"enabled,omitempty" json:"enabled,omitempty"`
}

// IsEnabled reports whether the account takes part in routing (default true).
func (a Account) IsEnabled() bool { return a.Enabled == nil || *a.Enabled }

// Strategies lists the valid values of Config.Strategy.
var Strategies = []string{"round-robin", "priority", "least-used", "headroom"}

// Values of Config.ExtraUsage.
const (
	ExtraAvoid = "avoid"
	ExtraAllow = "allow"
)

// MinQuotaPoll is the shortest QuotaPoll other than 0: the usage endpoint
// is itself rate-limited.
const MinQuotaPoll = time.Minute

// Default returns a configuration with every default set and no accounts.
func Default() Config {
	return Config{
		Listen:          "127.0.0.1:8787",
		Upstream:        "https://api.anthropic.com",
		TokenURL:        "https://platform.claude.com/v1/oauth/token",
		AuthorizeURL:    "https://claude.ai/oauth/authorize",
		Strategy:        "round-robin",
		Cooldown:        Duration(60 * time.Second),
		Notify:          true,
		SessionAffinity: true,
		MaxBodyMB:       32,
		RefreshBefore:   Duration(5 * time.Minute),
		Notifications: Notifications{
			CooldownStarted: true, CooldownEnded: true, NeedsLogin: true, AllExhausted: true,
			BillingExtra: true, TokenBudgetReached: true,
		},
		Models: openai.DefaultModels(),

		ResponseTimeout:   Duration(10 * time.Minute),
		StreamIdleTimeout: Duration(2 * time.Minute),
		QuotaPoll:         Duration(5 * time.Minute),
		ExtraUsage:        ExtraAvoid,
	}
}

// Duration is a time.Duration written as a Go duration string ("60s",
// "1m30s") in TOML and JSON.
type Duration time.Duration

// String formats d like time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q (want e.g. \"60s\" or \"5m\")", b)
	}
	*d = Duration(v)
	return nil
}

// FieldError names one invalid configuration value, for inline display in
// the settings window and in CLI messages.
type FieldError struct {
	Field   string `json:"field"` // "strategy", "listen", "accounts[1].dir"
	Message string `json:"message"`
}
