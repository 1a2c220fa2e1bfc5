package anthropictest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The fake's OAuth side: a login (authorize page and authorization-code
// grant with PKCE), the refresh grant, and the usage and profile endpoints,
// on the same server as the API. Point a daemon's authorize_url at
// srv.URL+AuthorizePath and its token_url at srv.URL+TokenPath.

// Paths the fake answers besides the API's.
const (
	AuthorizePath = "/oauth/authorize"
	TokenPath     = "/v1/oauth/token"
	UsagePath     = "/api/oauth/usage"
	ProfilePath   = "/api/oauth/profile"
)

// ClientID is the OAuth client id the fake accepts: Claude Code's.
const ClientID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"

// Identity is whom a fake login belongs to: the authorize endpoint
// approves as it, and the token and profile endpoints describe it.
type Identity struct {
	Email, Name                     string
	AccountUUID                     string
	Organization, OrgUUID           string
	OrganizationType, RateLimitTier string // "claude_max", "default_claude_max_20x"
	// RefreshExpiresIn, when set, is given as the token answer's
	// refresh_token_expires_in: how long the login lasts.
	RefreshExpiresIn time.Duration
}

// DefaultIdentity is whom the authorize endpoint approves as until LoginAs
// says otherwise.
func DefaultIdentity() Identity {
	return Identity{
		Email: "user@example.test", Name: "Test User", AccountUUID: "acct-0001",
		Organization: "Example Org", OrgUUID: "org-0001",
		OrganizationType: "claude_max", RateLimitTier: "default_claude_max_20x",
	}
}

// Usage is what the usage endpoint answers for one token. A nil window is
// answered as null.
type Usage struct {
	FiveHour, SevenDay, SevenDayOpus, SevenDaySonnet *UsageWindow
	Extra                                            *ExtraUsage
}

// UsageWindow is one window of a usage answer.
type UsageWindow struct {
	// Percent is the utilization as the endpoint gives it: 0–100.
	Percent float64
	// ResetsAt is answered as null when zero.
	ResetsAt time.Time
}

// ExtraUsage is the extra_usage object of a usage answer.
type ExtraUsage struct {
	Enabled                            bool
	MonthlyLimit, UsedCredits, Percent *float64
}

// Exchange is one request the token endpoint received, without secrets.
type Exchange struct {
	GrantType   string
	RedirectURI string
	// Err is why it was refused ("" when it was granted).
	Err string
}

// oauth is the Fake's OAuth state; the zero value is ready.
type oauth struct {
	identity *Identity // whom the next approval is for; nil: DefaultIdentity
	deny     string    // the next authorize answer refuses with this error description
	grants   map[string]*grant
	issued   map[string]issuedToken // by access token
	renew    map[string]string      // refresh token → access token
	usage    map[string]Usage       // by access token
	status   map[string]int         // by access token: the usage endpoint answers this status
	calls    map[string]int         // "usage "+token, "profile "+token
	ids      map[string]Identity    // SetIdentity, by access token
	exchange []Exchange
	n        int
}

type grant struct {
	challenge, redirect, state, scope string
	id                                Identity
}

type issuedToken struct {
	id    Identity
	scope string
}

// LoginAs makes the authorize endpoint approve the next logins as id.
func (f *Fake) LoginAs(id Identity) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.oauth.identity = &id
}

// DenyNextLogin makes the next authorize request come back to its redirect
// with error=access_denied and the given description.
func (f *Fake) DenyNextLogin(description string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.oauth.deny = description
}

// SetUsage sets what the usage endpoint answers for token (any token: one
// the fake issued or one a test wrote).
func (f *Fake) SetUsage(token string, u Usage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.oauth.usage == nil {
		f.oauth.usage = map[string]Usage{}
	}
	f.oauth.usage[token] = u
}

// SetUsageStatus makes the usage endpoint answer status (429 with
// retry-after 60, say) for token until set to 0 again.
func (f *Fake) SetUsageStatus(token string, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.oauth.status == nil {
		f.oauth.status = map[string]int{}
	}
	f.oauth.status[token] = status
}

// SetIdentity sets whom the profile endpoint describes for token (one a
// test wrote; the fake knows its own).
func (f *Fake) SetIdentity(token string, id Identity) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.oauth.ids == nil {
		f.oauth.ids = map[string]Identity{}
	}
	f.oauth.ids[token] = id
}

// UsageCalls counts the usage endpoint's requests with token.
func (f *Fake) UsageCalls(token string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.oauth.calls["usage "+token]
}

// ProfileCalls counts the profile endpoint's requests with token.
func (f *Fake) ProfileCalls(token string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.oauth.calls["profile "+token]
}

// Exchanges lists the token endpoint's requests so far.
func (f *Fake) Exchanges() []Exchange {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Exchange(nil), f.oauth.exchange...)
}

// BilledExtra answers like OK, billed to paid extra usage: the answer says
// anthropic-ratelimit-unified-overage-in-use: true.
func BilledExtra(w http.ResponseWriter, r *http.Request, body []byte) {
	WithHeaders(OK,
		"anthropic-ratelimit-unified-overage-in-use", "true",
		"anthropic-ratelimit-unified-overage-status", "allowed",
		"anthropic-ratelimit-unified-overage-disabled-reason", "",
	)(w, r, body)
}

// pasted finds "<code>#<state>" in a manual authorize page.
var pasted = regexp.MustCompile(`<code id="code">([^<]+)</code>`)

// PastedCode returns the "<code>#<state>" the authorize page of a manual
// login shows, or "" when page shows none.
func PastedCode(page string) string {
	m := pasted.FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// Client returns an HTTP client that reaches the fake in memory, without a
// network: for tests inside a testing/synctest bubble.
func (f *Fake) Client() *http.Client { return &http.Client{Transport: memory{f}} }

type memory struct{ h http.Handler }

func (m memory) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	m.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// serveOAuth answers the OAuth paths; it reports false for any other path.
func (f *Fake) serveOAuth(w http.ResponseWriter, r *http.Request) bool {
	switch r.URL.Path {
	case AuthorizePath:
		f.authorize(w, r)
	case TokenPath:
		f.token(w, r)
	case UsagePath:
		f.usage(w, r)
	case ProfilePath:
		f.profile(w, r)
	default:
		return false
	}
	return true
}

func random() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// authorize approves at once: it redirects a loopback redirect_uri with
// the code and state, and shows any other (the manual one) the string to
// paste: "<code>#<state>".
func (f *Fake) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var problems []string
	for k, want := range map[string]string{"code": "true", "response_type": "code", "client_id": ClientID, "code_challenge_method": "S256"} {
		if got := q.Get(k); got != want {
			problems = append(problems, fmt.Sprintf("%s = %q, want %q", k, got, want))
		}
	}
	challenge, state, redirect := q.Get("code_challenge"), q.Get("state"), q.Get("redirect_uri")
	if len(challenge) != 43 || strings.ContainsAny(challenge, "+/=") {
		problems = append(problems, "code_challenge is not a base64url SHA-256 without padding")
	}
	if state == "" || redirect == "" || q.Get("scope") == "" {
		problems = append(problems, "state, redirect_uri and scope are required")
	}
	ru, err := url.Parse(redirect)
	if err != nil || ru.Scheme == "" {
		problems = append(problems, "redirect_uri is not an absolute URL")
	}
	if len(problems) > 0 {
		http.Error(w, "bad authorize request: "+strings.Join(problems, "; "), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	deny := f.oauth.deny
	f.oauth.deny = ""
	id := DefaultIdentity()
	if f.oauth.identity != nil {
		id = *f.oauth.identity
	}
	code := "fakecode-" + random()
	if deny == "" {
		if f.oauth.grants == nil {
			f.oauth.grants = map[string]*grant{}
		}
		f.oauth.grants[code] = &grant{challenge: challenge, redirect: redirect, state: state, scope: q.Get("scope"), id: id}
	}
	f.mu.Unlock()
	back := url.Values{"state": {state}}
	if deny != "" {
		back.Set("error", "access_denied")
		back.Set("error_description", deny)
	} else {
		back.Set("code", code)
	}
	if isLoopback(ru.Hostname()) {
		sep := "?"
		if ru.RawQuery != "" {
			sep = "&"
		}
		http.Redirect(w, r, redirect+sep+back.Encode(), http.StatusFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if deny != "" {
		fmt.Fprintf(w, "<p>Access denied: %s</p>\n", html.EscapeString(deny))
		return
	}
	fmt.Fprintf(w, "<p>Paste this code into the application:</p>\n<code id=\"code\">%s</code>\n", html.EscapeString(code+"#"+state))
}

// tokenAnswer is the token endpoint's answer.
func tokenAnswer(access, refresh, scope string, id Identity) map[string]any {
	a := map[string]any{
		"token_type": "Bearer", "access_token": access, "refresh_token": refresh,
		"expires_in": 28800, "scope": scope,
		"account":      map[string]string{"uuid": id.AccountUUID, "email_address": id.Email},
		"organization": map[string]string{"uuid": id.OrgUUID, "name": id.Organization},
	}
	if id.RefreshExpiresIn > 0 {
		a["refresh_token_expires_in"] = int(id.RefreshExpiresIn.Seconds())
	}
	return a
}

// token answers the authorization-code grant, checking the PKCE verifier
// against the challenge, the redirect_uri and the state, and the refresh
// grant for tokens it issued.
func (f *Fake) token(w http.ResponseWriter, r *http.Request) {
	var req struct {
		GrantType    string `json:"grant_type"`
		Code         string `json:"code"`
		RedirectURI  string `json:"redirect_uri"`
		ClientID     string `json:"client_id"`
		CodeVerifier string `json:"code_verifier"`
		State        string `json:"state"`
		RefreshToken string `json:"refresh_token"`
	}
	err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req)
	f.mu.Lock()
	defer f.mu.Unlock()
	refuse := func(status int, code, desc string) {
		f.oauth.exchange = append(f.oauth.exchange, Exchange{GrantType: req.GrantType, RedirectURI: req.RedirectURI, Err: code + ": " + desc})
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	}
	switch {
	case r.Method != http.MethodPost || err != nil:
		refuse(400, "invalid_request", "want a POSTed JSON body")
		return
	case req.ClientID != ClientID:
		refuse(400, "invalid_client", "unknown client_id")
		return
	}
	f.oauth.n++
	n := strconv.Itoa(f.oauth.n)
	access, refresh := "sk-ant-oat01-fake-login-"+n, "sk-ant-ort01-fake-login-"+n
	if f.oauth.issued == nil {
		f.oauth.issued, f.oauth.renew = map[string]issuedToken{}, map[string]string{}
	}
	switch req.GrantType {
	case "authorization_code":
		g := f.oauth.grants[req.Code]
		sum := sha256.Sum256([]byte(req.CodeVerifier))
		switch {
		case g == nil:
			refuse(400, "invalid_grant", "unknown or used authorization code")
			return
		case req.RedirectURI != g.redirect:
			refuse(400, "invalid_grant", "redirect_uri differs from the authorize request's")
			return
		case req.State != g.state:
			refuse(400, "invalid_grant", "state differs from the authorize request's")
			return
		case len(req.CodeVerifier) < 43 || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
			refuse(400, "invalid_grant", "code_verifier does not match the code_challenge")
			return
		}
		delete(f.oauth.grants, req.Code)
		f.oauth.issued[access] = issuedToken{g.id, g.scope}
		f.oauth.renew[refresh] = access
		f.oauth.exchange = append(f.oauth.exchange, Exchange{GrantType: req.GrantType, RedirectURI: req.RedirectURI})
		writeJSON(w, 200, tokenAnswer(access, refresh, g.scope, g.id))
	case "refresh_token":
		old, ok := f.oauth.renew[req.RefreshToken]
		if !ok {
			refuse(400, "invalid_grant", "unknown or used refresh token")
			return
		}
		delete(f.oauth.renew, req.RefreshToken)
		it := f.oauth.issued[old]
		f.oauth.issued[access] = it
		f.oauth.renew[refresh] = access
		f.oauth.exchange = append(f.oauth.exchange, Exchange{GrantType: req.GrantType})
		writeJSON(w, 200, tokenAnswer(access, refresh, it.scope, it.id))
	default:
		refuse(400, "unsupported_grant_type", "grant_type "+strconv.Quote(req.GrantType))
	}
}

// bearer checks an OAuth API request's headers and returns its token; it
// answers 401 itself (as the real API does) and returns "" when they are
// wrong. f.mu is held.
func (f *Fake) bearer(w http.ResponseWriter, r *http.Request, what string) string {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if f.oauth.calls == nil {
		f.oauth.calls = map[string]int{}
	}
	f.oauth.calls[what+" "+tok]++
	if !ok || tok == "" {
		writeJSON(w, 401, errorBody("authentication_error", "missing bearer token"))
		return ""
	}
	if !strings.Contains(r.Header.Get("anthropic-beta"), "oauth-2025-04-20") {
		writeJSON(w, 401, errorBody("authentication_error", "OAuth authentication is currently not supported."))
		return ""
	}
	return tok
}

// usage answers /api/oauth/usage for the token: SetUsageStatus's status,
// SetUsage's answer, an idle account for a token the fake issued, 403 for
// one issued without user:profile, 401 for any other.
func (f *Fake) usage(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tok := f.bearer(w, r, "usage")
	if tok == "" {
		return
	}
	if st := f.oauth.status[tok]; st != 0 {
		if st == http.StatusTooManyRequests {
			w.Header().Set("retry-after", "60")
		}
		writeJSON(w, st, errorBody("rate_limit_error", fmt.Sprintf("fake usage endpoint set to answer %d", st)))
		return
	}
	it, issued := f.oauth.issued[tok]
	if issued && !strings.Contains(it.scope, "user:profile") {
		writeJSON(w, 403, errorBody("permission_error", "OAuth token does not meet scope requirement user:profile"))
		return
	}
	u, ok := f.oauth.usage[tok]
	if !ok && !issued {
		writeJSON(w, 401, errorBody("authentication_error", "invalid bearer token"))
		return
	}
	if !ok {
		u = Usage{FiveHour: &UsageWindow{}, SevenDay: &UsageWindow{}}
	}
	win := func(uw *UsageWindow) any {
		if uw == nil {
			return nil
		}
		var at any
		if !uw.ResetsAt.IsZero() {
			at = uw.ResetsAt.UTC().Format("2006-01-02T15:04:05.000000-07:00")
		}
		return map[string]any{"utilization": uw.Percent, "resets_at": at}
	}
	extra := map[string]any{"is_enabled": false, "monthly_limit": nil, "used_credits": nil, "utilization": nil}
	if e := u.Extra; e != nil {
		extra = map[string]any{"is_enabled": e.Enabled, "monthly_limit": e.MonthlyLimit, "used_credits": e.UsedCredits, "utilization": e.Percent}
	}
	writeJSON(w, 200, map[string]any{
		"five_hour": win(u.FiveHour), "seven_day": win(u.SevenDay),
		"seven_day_oauth_apps": nil, "seven_day_opus": win(u.SevenDayOpus), "seven_day_sonnet": win(u.SevenDaySonnet),
		"iguana_necktie": nil, "extra_usage": extra,
	})
}

// profile answers /api/oauth/profile for a token the fake issued or one
// given an identity with SetIdentity; 401 for any other.
func (f *Fake) profile(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tok := f.bearer(w, r, "profile")
	if tok == "" {
		return
	}
	id, ok := f.oauth.ids[tok]
	if !ok {
		var it issuedToken
		it, ok = f.oauth.issued[tok]
		id = it.id
	}
	if !ok {
		writeJSON(w, 401, errorBody("authentication_error", "invalid bearer token"))
		return
	}
	writeJSON(w, 200, map[string]any{
		"account": map[string]any{
			"uuid": id.AccountUUID, "email": id.Email, "display_name": id.Name, "full_name": id.Name,
			"has_claude_max": strings.Contains(id.OrganizationType, "max"), "has_claude_pro": strings.Contains(id.OrganizationType, "pro"),
		},
		"organization": map[string]any{
			"uuid": id.OrgUUID, "name": id.Organization, "organization_type": id.OrganizationType,
			"rate_limit_tier": id.RateLimitTier, "billing_type": "stripe_subscription",
		},
	})
}
