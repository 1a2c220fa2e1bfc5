package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/event"
)

// callTimeout bounds a call other than Events whose context has no deadline.
const callTimeout = 30 * time.Second

// maxAnswer bounds an answer body the client reads.
const maxAnswer = 8 << 20

// Client talks to a running daemon's control API. It is safe for
// concurrent use. Errors wrap ErrUnreachable when the daemon cannot be
// reached; an error answer is a *config.ValidationError when it lists
// invalid fields (PutConfig) and an *APIError otherwise.
type Client struct {
	base   string // "http://127.0.0.1:8787", no trailing slash
	host   string // Host header to send, "" for the base URL's
	secret string
	hc     *http.Client
}

// NewClient returns a client for the daemon at baseURL (such as
// "http://127.0.0.1:8787") authenticating with secret.
func NewClient(baseURL, secret string) *Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil // the daemon is local; never route through HTTP_PROXY
	return &Client{
		base:   strings.TrimRight(baseURL, "/"),
		secret: secret,
		hc:     &http.Client{Transport: t},
	}
}

// ClientFor returns a client for the daemon that serves cfg, which was read
// from configPath: the address is cfg.Listen (an unspecified host such as
// 0.0.0.0 or :: becomes 127.0.0.1) and the secret is read from
// cfg.DataDirFor(configPath)/control.secret. A missing secret file gives an
// error wrapping ErrUnreachable: the daemon has not run yet.
func ClientFor(cfg Config, configPath string) (*Client, error) {
	host, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("control API address from listen %q: %w", cfg.Listen, err)
	}
	var hostHeader string
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	} else if !IsLoopbackHost(host) {
		// The daemon listens on one non-loopback address only; reach it
		// there but still name localhost, which the server requires.
		hostHeader = net.JoinHostPort("localhost", port)
	}
	secret, err := readSecret(SecretPath(cfg.DataDirFor(configPath)))
	if err != nil {
		return nil, err
	}
	c := NewClient("http://"+net.JoinHostPort(host, port), secret)
	c.host = hostHeader
	return c, nil
}

// BaseURL returns the daemon's address, such as "http://127.0.0.1:8787".
func (c *Client) BaseURL() string { return c.base }

// Status returns who is answering: version, listen address, PID, config file.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	err := c.call(ctx, http.MethodGet, "status", nil, http.StatusOK, &st)
	return st, err
}

// Accounts returns a snapshot of every account.
func (c *Client) Accounts(ctx context.Context) ([]Account, error) {
	var a Accounts
	err := c.call(ctx, http.MethodGet, "accounts", nil, http.StatusOK, &a)
	return a.Accounts, err
}

// Config returns the daemon's configuration, with secrets redacted, and
// its revision (to pass to PutConfig).
func (c *Client) Config(ctx context.Context) (Config, string, error) {
	var cfg Config
	h, err := c.do(ctx, http.MethodGet, "config", nil, nil, http.StatusOK, &cfg)
	return cfg, unquote(h.Get("ETag")), err
}

// PutConfig replaces the daemon's configuration, which must still be at
// revision (as Config returned it), and returns the new revision. When the
// configuration changed meanwhile the error is a *StaleError holding the
// current one (errors.Is ErrStale); when the daemon finds invalid values it
// is a *config.ValidationError listing them.
func (c *Client) PutConfig(ctx context.Context, cfg Config, revision string) (string, error) {
	h, err := c.do(ctx, http.MethodPut, "config", cfg, http.Header{"If-Match": {etag(revision)}}, http.StatusNoContent, nil)
	return unquote(h.Get("ETag")), err
}

// maxUpdates bounds how often UpdateConfig tries again when the
// configuration keeps changing under it.
const maxUpdates = 5

// UpdateConfig changes the daemon's configuration with edit: it reads the
// configuration, lets edit change it, and writes it back based on the
// revision read. When another change came in between, it does it again on
// the new configuration (a few times at most), so edit must only change
// what it means to change. An edit error is returned as it is, and nothing
// is written.
func (c *Client) UpdateConfig(ctx context.Context, edit func(*Config) error) error {
	cfg, rev, err := c.Config(ctx)
	for range maxUpdates {
		if err != nil {
			return err
		}
		if err := edit(&cfg); err != nil {
			return err
		}
		_, err = c.PutConfig(ctx, cfg, rev)
		var stale *StaleError
		if !errors.As(err, &stale) {
			return err
		}
		cfg, rev, err = stale.Config, stale.Revision, nil
	}
	return fmt.Errorf("the configuration kept changing while it was updated (%d tries): %w", maxUpdates, ErrStale)
}

// ResetAccount clears an account's cooldown and error state. An unknown
// name gives an error matching ErrNotFound.
func (c *Client) ResetAccount(ctx context.Context, name string) error {
	return c.call(ctx, http.MethodPost, "accounts/"+url.PathEscape(name)+"/reset", nil, http.StatusNoContent, nil)
}

// CheckDir asks the daemon what the credential directory dir holds.
func (c *Client) CheckDir(ctx context.Context, dir string) (DirCheck, error) {
	var dc DirCheck
	err := c.call(ctx, http.MethodPost, "accounts/check", CheckRequest{Dir: dir}, http.StatusOK, &dc)
	return dc, err
}

// Tokens lists the client tokens (never their secrets).
func (c *Client) Tokens(ctx context.Context) ([]Token, error) {
	var t Tokens
	err := c.call(ctx, http.MethodGet, "tokens", nil, http.StatusOK, &t)
	return t.Tokens, err
}

// IssueToken makes a client token labelled label that expires after ttl (0:
// never). The answer holds the token's secret, shown this once.
func (c *Client) IssueToken(ctx context.Context, label string, ttl time.Duration) (Issued, error) {
	req := IssueRequest{Label: label}
	if ttl != 0 {
		req.TTL = ttl.String()
	}
	var is Issued
	err := c.call(ctx, http.MethodPost, "tokens", req, http.StatusCreated, &is)
	return is, err
}

// IssueTokenWith makes a client token as req says: label, lifetime and
// limits. The answer holds the token's secret, shown this once.
func (c *Client) IssueTokenWith(ctx context.Context, req IssueRequest) (Issued, error) {
	var is Issued
	err := c.call(ctx, http.MethodPost, "tokens", req, http.StatusCreated, &is)
	return is, err
}

// UpdateToken changes the limits or the expiry of the client token with
// the given ID (see TokenUpdate) and returns the token as it is now. An
// unknown ID gives an error matching ErrNotFound, a bad value one matching
// ErrInvalid.
func (c *Client) UpdateToken(ctx context.Context, id string, u TokenUpdate) (Token, error) {
	var t Token
	err := c.call(ctx, http.MethodPatch, "tokens/"+url.PathEscape(id), u, http.StatusOK, &t)
	return t, err
}

// RevokeToken revokes the client token with the given ID. An unknown ID
// gives an error matching ErrNotFound.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	return c.call(ctx, http.MethodDelete, "tokens/"+url.PathEscape(id), nil, http.StatusNoContent, nil)
}

// Usage returns the usage history from since on, in buckets of step
// (StepHour or StepDay). A zero since or an empty step leaves the choice to
// the daemon: local days from midnight six days ago. A step the daemon does
// not know gives an error matching ErrInvalid.
func (c *Client) Usage(ctx context.Context, since time.Time, step string) (Usage, error) {
	return c.UsageBy(ctx, since, step, "")
}

// UsageBy is Usage per account (by UsageByAccount, or "") or per client
// token (UsageByToken): each token's bucket has its ID and label.
func (c *Client) UsageBy(ctx context.Context, since time.Time, step, by string) (Usage, error) {
	q := url.Values{}
	if by != "" {
		q.Set("by", by)
	}
	if !since.IsZero() {
		q.Set("since", since.Format(time.RFC3339Nano))
	}
	if step != "" {
		q.Set("step", step)
	}
	path := "usage"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var u Usage
	err := c.call(ctx, http.MethodGet, path, nil, http.StatusOK, &u)
	return u, err
}

// Pause stops the daemon's routing: proxied requests get 503 until Resume.
// Pausing a paused daemon is not an error.
func (c *Client) Pause(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, "pause", nil, http.StatusNoContent, nil)
}

// Resume makes the daemon route requests again after Pause. Resuming a
// daemon that is not paused is not an error.
func (c *Client) Resume(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, "resume", nil, http.StatusNoContent, nil)
}

// Events follows the daemon's event stream, calling fn for each event in
// order, from the goroutine that called Events: account and pool changes,
// routing paused and resumed, configuration changes, client tokens that
// spent their budget, each with its ID set.
// With after set to the ID of the last event seen, the stream resumes after
// it; when the daemon no longer has those events (or restarted), fn first
// gets an Event of type EventReset: re-read everything. Events blocks until
// ctx ends (returning ctx.Err()) or the stream breaks or the daemon ends it
// (returning an error wrapping ErrUnreachable); an error answer is returned
// as for the other calls. The caller reconnects, passing the last ID seen.
func (c *Client) Events(ctx context.Context, after string, fn func(Event)) error {
	req, err := c.newRequest(ctx, http.MethodGet, "events", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	if after != "" {
		req.Header.Set("Last-Event-ID", after)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return c.unreachable(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return answerError(resp)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return fmt.Errorf("event stream from %s has content type %q, not text/event-stream", c.base, mt)
	}
	err = readEvents(resp.Body, fn)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: event stream from %s ended", ErrUnreachable, c.base)
}

// readEvents parses Server-Sent Events from r, calling fn for each event of
// a stream it knows (account, routing, config, daemon, token; reset as an
// EventReset);
// other event names are skipped. It returns nil at the end of the stream,
// an error wrapping ErrUnreachable when reading fails, and a decoding error
// for an event it cannot parse.
func readEvents(r io.Reader, fn func(Event)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxAnswer)
	var (
		typ  string
		id   string
		data strings.Builder
		has  bool // a data line was seen since the last dispatch
	)
	for sc.Scan() {
		line := sc.Text()
		if line == "" { // dispatch
			switch {
			case typ == event.StreamReset:
				fn(Event{Type: EventReset})
			case has && (typ == event.StreamAccount || typ == event.StreamRouting || typ == event.StreamConfig || typ == event.StreamDaemon || typ == event.StreamToken):
				var e Event
				if err := json.Unmarshal([]byte(strings.TrimSuffix(data.String(), "\n")), &e); err != nil {
					return fmt.Errorf("decoding %s event: %w", typ, err)
				}
				e.ID = id
				fn(e)
			}
			typ, id, has = "", "", false
			data.Reset()
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue // comment, such as the keep-alive ping
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			typ = value
		case "id":
			id = value
		case "data":
			data.WriteString(value)
			data.WriteByte('\n')
			has = true
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%w: reading event stream: %w", ErrUnreachable, err)
	}
	return nil
}

// call sends a request with an optional JSON body and decodes a JSON answer
// with status want into out (when out is not nil).
func (c *Client) call(ctx context.Context, method, path string, body any, want int, out any) error {
	_, err := c.do(ctx, method, path, body, nil, want, out)
	return err
}

// do is call with extra request headers; it returns the answer's headers
// (empty when there was no answer).
func (c *Client) do(ctx context.Context, method, path string, body any, header http.Header, want int, out any) (http.Header, error) {
	none := http.Header{}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, callTimeout)
		defer cancel()
	}
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return none, fmt.Errorf("encoding %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := c.newRequest(ctx, method, path, rd)
	if err != nil {
		return none, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return none, fmt.Errorf("%s %s: %w", method, path, err)
		}
		return none, c.unreachable(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		if resp.StatusCode/100 == 2 {
			return resp.Header, fmt.Errorf("%s %s: unexpected status %d, want %d", method, path, resp.StatusCode, want)
		}
		return resp.Header, answerError(resp)
	}
	if out == nil {
		return resp.Header, nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAnswer)).Decode(out); err != nil {
		if ctx.Err() == nil && !isSyntaxError(err) {
			return resp.Header, c.unreachable(err)
		}
		return resp.Header, fmt.Errorf("decoding answer to %s %s: %w", method, path, err)
	}
	return resp.Header, nil
}

// newRequest builds an authenticated request for path under Prefix.
func (c *Client) newRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+Prefix+path, body)
	if err != nil {
		return nil, fmt.Errorf("control API request: %w", err)
	}
	if c.host != "" {
		req.Host = c.host
	}
	req.Header.Set("Authorization", "Bearer "+c.secret)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// unreachable wraps a transport error.
func (c *Client) unreachable(err error) error {
	return fmt.Errorf("%w at %s: %w", ErrUnreachable, c.base, err)
}

// isSyntaxError reports whether err comes from malformed JSON rather than
// from reading.
func isSyntaxError(err error) bool {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	return errors.As(err, &se) || errors.As(err, &te)
}

// answerError turns an error answer into an *APIError, or into a
// *config.ValidationError when it lists invalid fields.
func answerError(resp *http.Response) error {
	ae := &APIError{Status: resp.StatusCode}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body ErrorBody
	if err := json.Unmarshal(data, &body); err == nil && body.Type == "error" {
		ae.Type = body.Error.Type
		ae.Message = body.Error.Message
		switch {
		case len(body.Field) > 0:
			return &config.ValidationError{Fields: body.Field}
		case resp.StatusCode == http.StatusPreconditionFailed && body.Config != nil:
			return &StaleError{Config: *body.Config, Revision: body.Revision}
		}
		return ae
	}
	// Not our error shape: something else answers on this port.
	ae.Message = strings.TrimSpace(string(data))
	if len(ae.Message) > 200 {
		ae.Message = ae.Message[:200] + "…"
	}
	if ae.Message == "" {
		ae.Message = http.StatusText(resp.StatusCode)
	}
	return ae
}
