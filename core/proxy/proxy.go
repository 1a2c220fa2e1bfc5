// Package proxy forwards the Anthropic API to the account pool: it admits
// clients by their client token, buffers the request body, and hands the
// request to an httputil.ReverseProxy whose Transport picks an account,
// swaps in its OAuth token, classifies the answer, and replays the body on
// the next account when one is spent, before the client sees a byte.
package proxy

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maxrouter/maxrouter/core/account"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/openai"
	"github.com/maxrouter/maxrouter/core/token"
	"github.com/maxrouter/maxrouter/core/usage"
	"github.com/maxrouter/maxrouter/core/words"
)

// OAuthBeta is the anthropic-beta flag an OAuth bearer token needs.
const OAuthBeta = "oauth-2025-04-20"

// DefaultVersion is sent as anthropic-version when the client sent none.
const DefaultVersion = "2023-06-01"

// SessionHeader carries Claude Code's session id, the key of session affinity.
const SessionHeader = "X-Claude-Code-Session-Id"

// ShouldRetryHeader tells Anthropic's SDKs (and Claude Code, built on
// them) whether to retry an error answer; with "false" they show the error
// at once instead of retrying it for minutes.
const ShouldRetryHeader = "X-Should-Retry"

// maxClientWait is the retry-after, in seconds, from which Anthropic's
// SDKs no longer wait for it (they honour one under a minute); such a
// recovery is answered with ShouldRetryHeader "false", since their own
// backoff cannot outlast it.
const maxClientWait = 60

// Tokens finds client tokens; *token.Store implements it.
type Tokens interface {
	// Find returns the usable token secret is (see token.Store.Find).
	Find(secret string) (token.Client, error)
}

// Usage receives what each upstream answer says about an account's usage;
// *usage.Recorder implements it. Its methods are called on the request
// path and must be quick and safe for concurrent use.
type Usage interface {
	// Answered records one upstream answer on account: its status (0 for a
	// connection failure) and the utilization of the 5-hour and 7-day
	// windows from its headers (negative when absent).
	Answered(account string, status int, fiveHour, sevenDay float64)
	// ExtraUsage records that an answer on account was billed to paid
	// extra usage (anthropic-ratelimit-unified-overage-in-use: true).
	ExtraUsage(account string)
	// Tokens records the token usage an answer reported, on account and
	// for the client token with the ID client: called once for a 200
	// answer to /v1/messages (JSON or event stream, not compressed) that
	// reported any, when its body ends.
	Tokens(account, client string, t usage.Tokens)
	// Client records one request of the client token with the ID client,
	// once it is authenticated: admitted, or refused because the token
	// spent its budget.
	Client(client string, refused bool)
}

// Spent describes a client token whose budget is spent until Until (see
// Options.Spent).
type Spent struct {
	ID, Label string
	Limits    control.Limits
	Until     time.Time
}

// Options configure a Handler.
type Options struct {
	Pool   *account.Pool // required
	Tokens Tokens        // required
	// Upstream is the Anthropic API base URL (required).
	Upstream string
	// Transport reaches the upstream; nil means a transport tuned for one
	// busy host (see NewTransport).
	Transport http.RoundTripper
	// MaxBody bounds a request body in bytes; 0 means 32 MiB.
	MaxBody int64
	// Cooldown rests an account the upstream says is spent without saying
	// until when; 0 means 60s.
	Cooldown time.Duration
	// BodyTimeout cuts a request whose body stops arriving for this long
	// (408); 0 means DefaultBodyTimeout.
	BodyTimeout time.Duration
	// ResponseTimeout bounds the wait for the upstream's response headers
	// to a request that does not stream, StreamIdleTimeout the wait for
	// those of a streamed request and then every silence in an answer's
	// body. An attempt that times out before its headers moves to the next
	// account (504 once none is left); a body that goes silent is cut, and
	// its account paused briefly. 0 means no bound (the daemon passes the
	// configured ones: 10m and 2m by default).
	ResponseTimeout, StreamIdleTimeout time.Duration
	// Metrics receives counters; nil means a private set.
	Metrics *Metrics
	// Usage receives each answer's usage; nil records nothing.
	Usage Usage
	// Models maps the model names of OpenAI clients to Claude models (the
	// config's [models]); nil means openai.DefaultModels.
	Models map[string]string
	// Spent is told when a client token spends its budget: once per token
	// and window, on the request path, so it must be quick. Nil tells
	// nobody (the proxy logs it either way).
	Spent func(Spent)
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Handler serves /v1/... for clients. Its settings can change while it
// serves (Set*), without dropping requests in flight.
type Handler struct {
	pool            *account.Pool
	tokens          Tokens
	metrics         *Metrics
	usage           Usage // nil: record nothing
	spent           func(Spent)
	log             *slog.Logger
	now             func() time.Time
	upstream        atomic.Pointer[url.URL]
	maxBody         atomic.Int64
	cooldown        atomic.Int64
	bodyIdle        time.Duration
	responseTimeout atomic.Int64 // a time.Duration (SetTimeouts)
	streamIdle      atomic.Int64 // a time.Duration (SetTimeouts)
	models          atomic.Pointer[openai.Models]
	rp              *httputil.ReverseProxy
	rt              *rotator
	bodies          bodyPools
	tails           sync.Pool // *[jsonTailSize]byte: the ends of JSON answers, for their usage
}

// New returns a Handler.
func New(o Options) (*Handler, error) {
	if o.Pool == nil || o.Tokens == nil {
		return nil, errors.New("proxy: Pool and Tokens are required")
	}
	h := &Handler{pool: o.Pool, tokens: o.Tokens, metrics: o.Metrics, usage: o.Usage, spent: o.Spent, log: o.Logger, now: o.Now}
	if h.metrics == nil {
		h.metrics = new(Metrics)
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.log = h.log.With("component", "proxy")
	if h.now == nil {
		h.now = time.Now
	}
	if err := h.SetUpstream(o.Upstream); err != nil {
		return nil, err
	}
	h.SetMaxBody(o.MaxBody)
	h.SetCooldown(o.Cooldown)
	h.bodyIdle = cmp.Or(o.BodyTimeout, DefaultBodyTimeout)
	h.SetTimeouts(o.ResponseTimeout, o.StreamIdleTimeout)
	h.SetModels(o.Models)
	base := o.Transport
	if base == nil {
		base = NewTransport()
	}
	h.rt = &rotator{h: h, base: base}
	h.rp = &httputil.ReverseProxy{
		Rewrite:      h.rewrite,
		Transport:    h.rt,
		ErrorHandler: h.proxyError,
		BufferPool:   new(bufferPool),
		ErrorLog:     slog.NewLogLogger(h.log.Handler(), slog.LevelDebug),
	}
	return h, nil
}

// NewTransport returns the upstream transport: keep-alive connections for
// many concurrent requests to one host, HTTP/2 when offered, and gzip
// handled by the Transport itself for the requests that carry no
// Accept-Encoding (see rewrite); a client's own Accept-Encoding passes
// through untouched.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// SetUpstream changes the upstream base URL.
func (h *Handler) SetUpstream(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("upstream %q is not an http(s) URL", raw)
	}
	h.upstream.Store(u)
	return nil
}

// SetMaxBody changes the request body bound (0 = 32 MiB).
func (h *Handler) SetMaxBody(n int64) {
	if n <= 0 {
		n = 32 << 20
	}
	h.maxBody.Store(n)
}

// SetCooldown changes the fallback cooldown (0 = 60s).
func (h *Handler) SetCooldown(d time.Duration) {
	if d <= 0 {
		d = 60 * time.Second
	}
	h.cooldown.Store(int64(d))
}

// SetTimeouts changes the bounds on an upstream that stops answering (see
// Options.ResponseTimeout); 0 means no bound.
func (h *Handler) SetTimeouts(response, streamIdle time.Duration) {
	h.responseTimeout.Store(int64(max(response, 0)))
	h.streamIdle.Store(int64(max(streamIdle, 0)))
}

// Metrics returns the handler's counters.
func (h *Handler) Metrics() *Metrics { return h.metrics }

// request is what the proxy knows about one client request; it travels to
// the Transport in the context.
type request struct {
	body     *body // nil: none
	family   string
	session  string
	messages bool        // a /v1/messages request: its answer reports token usage
	grant    token.Grant // the client token's admission: its answer's tokens are charged to it
}

type ctxKey struct{}

// ServeHTTP admits the client, buffers the body and forwards the request.
// A request it refuses before reading the body is answered at once, and its
// connection closed (see DropBody).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := h.client(r)
	if err != nil {
		DropBody(w, r)
		writeAuthError(w, err)
		return
	}
	if why := checkPath(r.URL); why != "" {
		DropBody(w, r)
		h.metrics.RouterError(http.StatusBadRequest)
		WriteError(w, http.StatusBadRequest, "invalid_request_error", "MaxRouter: the path "+quotePath(r.URL.EscapedPath())+" is not forwarded: "+why)
		return
	}
	g, ok := h.admit(w, r, c)
	if !ok {
		return
	}
	st := &request{session: r.Header.Get(SessionHeader), messages: r.URL.Path == "/v1/messages", grant: g}
	if r.Body != nil && r.Body != http.NoBody {
		body := h.buffer(w, r)
		if body == nil {
			return
		}
		defer body.release()
		st.body = body
		if len(body.data) > 0 && r.Method == http.MethodPost {
			if !looksJSON(body.data) {
				h.metrics.RouterError(http.StatusBadRequest)
				WriteError(w, http.StatusBadRequest, "invalid_request_error", "request body is not JSON: expected a JSON object")
				return
			}
			st.family = family(body.data)
		}
	}
	h.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, st)))
}

// buffer reads r's body (bounded by max_body_mb, cut when it stops
// arriving) into a buffer the caller releases, or answers the client with
// why it could not and returns nil.
func (h *Handler) buffer(w http.ResponseWriter, r *http.Request) *body {
	src := &stallReader{r: r.Body, rc: http.NewResponseController(w), idle: h.bodyIdle}
	body, status, err := readBody(r, src, h.maxBody.Load(), &h.bodies)
	if err != nil {
		switch {
		case isTimeout(err):
			// The deadline passed: net/http drops what is left.
			status, err = http.StatusRequestTimeout, fmt.Errorf("MaxRouter: the request body stopped arriving for %v", h.bodyIdle)
		case status == http.StatusRequestEntityTooLarge && r.ContentLength < 0:
			DropBody(w, r) // a chunked body: net/http would read on
		}
		h.metrics.RouterError(status)
		WriteError(w, status, errorType(status), err.Error())
		return nil
	}
	src.done()
	return body
}

// Authorize checks the client token in Authorization: Bearer or x-api-key.
// When both are sent, either valid token admits the request. It takes
// nothing from the token's budget.
func (h *Handler) Authorize(r *http.Request) error {
	_, err := h.client(r)
	return err
}

// client finds the client token in Authorization: Bearer or x-api-key;
// when both are sent, the first valid one (the bearer's when both are).
func (h *Handler) client(r *http.Request) (token.Client, error) {
	bearer, key := bearerToken(r.Header.Get("Authorization")), r.Header.Get("X-Api-Key")
	if bearer == "" && key == "" {
		return token.Client{}, errMissingToken
	}
	var firstErr error
	for _, secret := range [2]string{bearer, key} {
		if secret == "" {
			continue
		}
		c, err := h.tokens.Find(secret)
		if err == nil {
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return token.Client{}, firstErr
}

// admit takes one request from the budget of the client token c and
// records it. A token that spent its budget is answered at once, without
// its body being read and without reaching the upstream: 429 in
// Anthropic's error shape (OpenAI's when w translates), naming the token
// and when its window ends, in retry-after (whole seconds, rounded up) and
// the message; with x-should-retry: false when that is a minute or more
// away, which the SDKs would not wait for.
func (h *Handler) admit(w http.ResponseWriter, r *http.Request, c token.Client) (token.Grant, bool) {
	now := h.now()
	g, err := c.Take(now)
	if h.usage != nil {
		h.usage.Client(c.ID(), err != nil)
	}
	if err == nil {
		if g.Reached {
			h.budgetSpent(c, g.Until())
		}
		return g, true
	}
	se, ok := err.(*token.SpentError)
	if !ok { // Take fails only with a SpentError
		h.metrics.RouterError(http.StatusInternalServerError)
		WriteError(w, http.StatusInternalServerError, "api_error", "MaxRouter: "+err.Error())
		return g, false
	}
	if se.Reached {
		h.budgetSpent(c, se.Until)
	}
	DropBody(w, r)
	h.retryLater(w, se.Until, now, words.BudgetSpent(se.Label, se.What, se.Limit, se.Per, se.Until, now))
	return g, false
}

// retryLater answers 429 rate_limit_error with msg and retry-after until
// (whole seconds from now, rounded up, at least one), and x-should-retry:
// false when that is a minute or more away, which the SDKs would not wait
// for.
func (h *Handler) retryLater(w http.ResponseWriter, until, now time.Time, msg string) {
	secs := int64((until.Sub(now) + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	if secs >= maxClientWait {
		w.Header().Set(ShouldRetryHeader, "false")
	}
	h.metrics.RouterError(http.StatusTooManyRequests)
	WriteError(w, http.StatusTooManyRequests, "rate_limit_error", "MaxRouter: "+msg)
}

// budgetSpent tells that the client token c spent its budget until until.
func (h *Handler) budgetSpent(c token.Client, until time.Time) {
	h.log.Info("client token spent its budget; its requests are refused until its window ends",
		"token", c.ID(), "label", c.Label(), "limits", words.Limits(c.Limits()), "until", until)
	if h.spent != nil {
		h.spent(Spent{ID: c.ID(), Label: c.Label(), Limits: c.Limits(), Until: until})
	}
}

func bearerToken(v string) string {
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return strings.TrimSpace(v[7:])
	}
	return ""
}

// errTooLarge is returned for a body over the bound.
var errTooLarge = errors.New("request body too large")

func looksJSON(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

// family finds the request's model family without decoding the body: the
// first "model" key holds it (SDKs and Claude Code put it first).
func family(body []byte) string {
	i := bytes.Index(body, []byte(`"model"`))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(body[i+7:], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return ""
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || rest[0] != '"' {
		return ""
	}
	end := bytes.IndexByte(rest[1:], '"')
	if end < 0 || end > 128 {
		return ""
	}
	m := rest[1 : 1+end]
	for _, f := range [...]string{"opus", "sonnet", "haiku"} {
		if bytes.Contains(m, []byte(f)) {
			return f
		}
	}
	return string(m)
}

// streamKey is the body key that asks for an event stream.
var streamKey = []byte(`"stream"`)

// streams reports whether the body asks for an event stream: a "stream"
// key set to true, found without decoding the body (inside a JSON string
// the quotes would be escaped). Claude Code and the SDKs put it near the
// end of the body; the search is a fast scan all the same.
func streams(body []byte) bool {
	for rest := body; ; {
		i := bytes.Index(rest, streamKey)
		if i < 0 {
			return false
		}
		rest = bytes.TrimLeft(rest[i+len(streamKey):], " \t\r\n")
		if len(rest) > 0 && rest[0] == ':' && bytes.HasPrefix(bytes.TrimLeft(rest[1:], " \t\r\n"), []byte("true")) {
			return true
		}
	}
}

// rewrite builds the upstream request: the client's credentials go, the
// OAuth beta flag is merged in, and everything else passes unchanged.
func (h *Handler) rewrite(pr *httputil.ProxyRequest) {
	pr.SetURL(h.upstream.Load())
	out := pr.Out
	out.Header.Del("Authorization")
	out.Header.Del("X-Api-Key")
	out.Header["Anthropic-Beta"] = mergeBeta(out.Header["Anthropic-Beta"])
	if out.Header.Get("Anthropic-Version") == "" {
		out.Header.Set("Anthropic-Version", DefaultVersion)
	}
	if out.URL.Path == "/v1/messages" {
		// The proxy reads messages as they pass (a stream's `event: error`,
		// the token usage), which a compressed answer hides. Without the
		// client's Accept-Encoding the Transport asks for gzip itself and
		// hands back plain bytes: the upstream hop stays compressed, and the
		// loopback hop to the client had nothing to gain from it.
		out.Header.Del("Accept-Encoding")
	}
}

// mergeBeta returns the anthropic-beta values with OAuthBeta in them.
func mergeBeta(values []string) []string {
	for _, v := range values {
		for f := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(f) == OAuthBeta {
				return values
			}
		}
	}
	if len(values) == 0 || strings.TrimSpace(strings.Join(values, "")) == "" {
		return []string{OAuthBeta}
	}
	return []string{strings.Join(values, ",") + "," + OAuthBeta}
}

// proxyError answers for a request the Transport could not complete.
func (h *Handler) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		ex *account.ExhaustedError
		te *timeoutError
	)
	switch {
	case errors.As(err, &te):
		h.metrics.RouterError(http.StatusGatewayTimeout)
		WriteError(w, http.StatusGatewayTimeout, "timeout_error", "MaxRouter: "+te.Error())
	case errors.As(err, &ex):
		if ex.Until.IsZero() {
			w.Header().Set(ShouldRetryHeader, "false") // nothing comes back by itself
			h.metrics.RouterError(http.StatusServiceUnavailable)
			WriteError(w, http.StatusServiceUnavailable, "api_error", "MaxRouter: "+ex.Error()+" (see `maxrouter accounts`)")
			return
		}
		h.retryLater(w, ex.Until, h.now(), ex.Error())
	case errors.As(err, new(*credError)):
		h.metrics.RouterError(http.StatusServiceUnavailable)
		WriteError(w, http.StatusServiceUnavailable, "api_error", "MaxRouter: "+err.Error())
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; there is nobody to answer.
		h.metrics.RouterError(499)
	default:
		h.log.Warn("upstream unreachable", "err", err)
		h.metrics.RouterError(http.StatusBadGateway)
		WriteError(w, http.StatusBadGateway, "api_error", "MaxRouter: upstream unreachable: "+err.Error())
	}
}

// bufferPool lends ReverseProxy its 32 KiB copy buffers.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[32 << 10]byte); ok {
		return v[:]
	}
	return new([32 << 10]byte)[:]
}

func (b *bufferPool) Put(buf []byte) {
	if cap(buf) == 32<<10 {
		b.p.Put((*[32 << 10]byte)(buf[:32<<10]))
	}
}
