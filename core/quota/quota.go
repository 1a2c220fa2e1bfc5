// Package quota reads what Anthropic's OAuth API says about an account
// without sending it a message: its usage of the 5-hour and weekly windows
// and of paid extra usage (GET /api/oauth/usage), and whose login it is
// (GET /api/oauth/profile). A Poller reads the usage of every account at
// start and then at an interval, so that accounts that served no request
// show their quota too.
//
// The usage endpoint gives utilization as a percentage (0–100); this
// package hands it out as a fraction, as the rate-limit headers give it.
package quota

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Paths of the endpoints, under the upstream's base URL.
const (
	UsagePath   = "/api/oauth/usage"
	ProfilePath = "/api/oauth/profile"
)

// oauthBeta is the anthropic-beta value OAuth tokens need.
const oauthBeta = "oauth-2025-04-20"

// maxAnswer bounds an answer body.
const maxAnswer = 1 << 20

// Window is one usage window.
type Window struct {
	// Utilization is the fraction of the window used (may exceed 1).
	Utilization float64
	// ResetsAt is when the window resets; zero when it has not started
	// (nothing was used in it yet).
	ResetsAt time.Time
}

// Extra is the paid extra usage set up for an account.
type Extra struct {
	Enabled bool
	// MonthlyLimit and UsedCredits are in the endpoint's credits, nil
	// when it gives none; Utilization is a fraction, nil when unknown.
	MonthlyLimit, UsedCredits, Utilization *float64
}

// Usage is what the usage endpoint says about an account.
type Usage struct {
	// FiveHour and SevenDay are nil when the answer has none.
	FiveHour, SevenDay *Window
	// Models are the per-model weekly windows by model family ("opus",
	// "sonnet"); nil when there is none.
	Models map[string]Window
	// Extra is nil when the answer does not say.
	Extra *Extra
}

// families are the model families whose weekly windows (seven_day_<family>)
// are read; other buckets are ignored.
var families = []string{"opus", "sonnet", "haiku"}

// ParseUsage reads the usage endpoint's answer. Unknown buckets and values
// that cannot be real (a utilization that is not a finite number from 0 to
// 10000 percent) are left out.
func ParseUsage(data []byte) (Usage, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return Usage{}, fmt.Errorf("reading the usage answer: %w", err)
	}
	var u Usage
	u.FiveHour = parseWindow(raw["five_hour"])
	u.SevenDay = parseWindow(raw["seven_day"])
	for _, f := range families {
		if w := parseWindow(raw["seven_day_"+f]); w != nil {
			if u.Models == nil {
				u.Models = map[string]Window{}
			}
			u.Models[f] = *w
		}
	}
	if v := raw["extra_usage"]; len(v) > 0 && string(v) != "null" {
		var e struct {
			Enabled      bool     `json:"is_enabled"`
			MonthlyLimit *float64 `json:"monthly_limit"`
			UsedCredits  *float64 `json:"used_credits"`
			Utilization  *float64 `json:"utilization"`
		}
		if json.Unmarshal(v, &e) == nil {
			u.Extra = &Extra{Enabled: e.Enabled, MonthlyLimit: finite(e.MonthlyLimit), UsedCredits: finite(e.UsedCredits)}
			if p := percent(e.Utilization); p != nil {
				u.Extra.Utilization = p
			}
		}
	}
	return u, nil
}

// parseWindow reads {"utilization": 24.0, "resets_at": "…"}; nil when v is
// null, not such an object, or without a usable utilization.
func parseWindow(v json.RawMessage) *Window {
	if len(v) == 0 || string(v) == "null" {
		return nil
	}
	var w struct {
		Utilization *float64 `json:"utilization"`
		ResetsAt    *string  `json:"resets_at"`
	}
	if json.Unmarshal(v, &w) != nil {
		return nil
	}
	u := percent(w.Utilization)
	if u == nil {
		return nil
	}
	out := &Window{Utilization: *u}
	if w.ResetsAt != nil {
		if t, err := time.Parse(time.RFC3339Nano, *w.ResetsAt); err == nil {
			out.ResetsAt = t
		}
	}
	return out
}

// percent turns a percentage into a fraction; nil for nil or a value that
// cannot be real.
func percent(p *float64) *float64 {
	if p == nil || math.IsNaN(*p) || *p < 0 || *p > 10000 {
		return nil
	}
	f := *p / 100
	return &f
}

// finite returns v unless it is NaN or infinite.
func finite(v *float64) *float64 {
	if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
		return nil
	}
	return v
}

// Profile is what the profile endpoint says about a login.
type Profile struct {
	Email        string
	Name         string // display name
	Organization string
	// OrganizationType is the plan as the endpoint names it
	// ("claude_max"); see Subscription.
	OrganizationType string
	RateLimitTier    string // "default_claude_max_20x"
	hasMax, hasPro   bool
}

// Subscription is the plan in the terms of Claude Code's credential file
// ("max", "pro", "team", "enterprise"), or "" when the profile does not
// say.
func (p Profile) Subscription() string {
	if t, ok := strings.CutPrefix(p.OrganizationType, "claude_"); ok && t != "" {
		return t
	}
	switch {
	case p.hasMax:
		return "max"
	case p.hasPro:
		return "pro"
	}
	return ""
}

// ParseProfile reads the profile endpoint's answer.
func ParseProfile(data []byte) (Profile, error) {
	var w struct {
		Account struct {
			Email        string `json:"email"`
			EmailAddress string `json:"email_address"`
			DisplayName  string `json:"display_name"`
			FullName     string `json:"full_name"`
			HasMax       bool   `json:"has_claude_max"`
			HasPro       bool   `json:"has_claude_pro"`
		} `json:"account"`
		Organization struct {
			Name          string `json:"name"`
			Type          string `json:"organization_type"`
			RateLimitTier string `json:"rate_limit_tier"`
		} `json:"organization"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return Profile{}, fmt.Errorf("reading the profile answer: %w", err)
	}
	p := Profile{
		Email: w.Account.Email, Name: w.Account.DisplayName,
		Organization: w.Organization.Name, OrganizationType: w.Organization.Type, RateLimitTier: w.Organization.RateLimitTier,
		hasMax: w.Account.HasMax, hasPro: w.Account.HasPro,
	}
	if p.Email == "" {
		p.Email = w.Account.EmailAddress
	}
	if p.Name == "" {
		p.Name = w.Account.FullName
	}
	return p, nil
}

// StatusError is an answer other than 200 from the usage or profile
// endpoint.
type StatusError struct {
	Status int
	// RetryAfter is the answer's retry-after, 0 when it gave none.
	RetryAfter time.Duration
	// Message is the error message of the answer's body, shortened.
	Message string
}

// Error says what the endpoint answered.
func (e *StatusError) Error() string {
	s := "the usage endpoint answered " + strconv.Itoa(e.Status) + " " + http.StatusText(e.Status)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// ErrForbidden matches a StatusError for 403: the token may not read the
// endpoint (it lacks the user:profile scope).
var ErrForbidden = errors.New("forbidden")

// Is makes errors.Is(err, ErrForbidden) match a 403.
func (e *StatusError) Is(target error) bool {
	return target == ErrForbidden && e.Status == http.StatusForbidden
}

// FetchUsage reads the usage of the account whose access token is token
// from the API at base (such as "https://api.anthropic.com").
func FetchUsage(ctx context.Context, hc *http.Client, base, token string) (Usage, error) {
	data, err := get(ctx, hc, base+UsagePath, token)
	if err != nil {
		return Usage{}, err
	}
	return ParseUsage(data)
}

// FetchProfile reads whose login token is from the API at base.
func FetchProfile(ctx context.Context, hc *http.Client, base, token string) (Profile, error) {
	data, err := get(ctx, hc, base+ProfilePath, token)
	if err != nil {
		return Profile{}, err
	}
	return ParseProfile(data)
}

// get fetches url with token as an OAuth bearer token and returns the body
// of a 200 answer.
func get(ctx context.Context, hc *http.Client, url, token string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("anthropic-beta", oauthBeta)
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("reading the answer of %s: %w", req.URL.Path, err)
	}
	if resp.StatusCode != http.StatusOK {
		e := &StatusError{Status: resp.StatusCode, Message: message(data)}
		if n, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && n > 0 {
			e.RetryAfter = min(time.Duration(n)*time.Second, MaxBackoff)
		}
		return nil, e
	}
	return data, nil
}

// message is the message of an Anthropic error body, shortened; "" for
// another body.
func message(data []byte) string {
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &e) != nil {
		return ""
	}
	m := strings.Join(strings.Fields(e.Error.Message), " ")
	if len(m) > 200 {
		m = m[:200] + "…"
	}
	return m
}
