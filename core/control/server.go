package control

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/event"
)

// Prefix is the path under which the control API lives. The daemon mounts
// the Server there: mux.Handle(control.Prefix, srv).
const Prefix = "/control/v1/"

// maxBody bounds a request body.
const maxBody = 1 << 20

// DefaultPingInterval is how often an idle event stream carries a `: ping`
// comment, so that dead connections are noticed.
const DefaultPingInterval = 15 * time.Second

// Backend is what the daemon gives the Server: the state it reports and the
// changes it applies. Methods are called from concurrent requests.
type Backend interface {
	// Status says who is answering.
	Status() Status
	// Accounts returns a snapshot of every configured account.
	Accounts() []Account
	// Subscribe follows the events published after the one with ID after
	// ("" from now on), as event.Bus.Subscribe does. The server closes the
	// subscription when the stream ends.
	Subscribe(after string) *event.Sub
	// Config returns the configuration, with secrets already redacted, and
	// its revision: an opaque string that changes whenever the
	// configuration does.
	Config() (Config, string)
	// PutConfig validates, stores and applies cfg when revision is the
	// current one; otherwise it returns a *StaleError and changes nothing.
	// A *config.ValidationError answers 400 with its fields.
	PutConfig(cfg Config, revision string) error
	// ResetAccount clears the account's cooldown and error state. An error
	// wrapping ErrNotFound answers 404.
	ResetAccount(name string) error
	// CheckDir reports what a credential directory holds.
	CheckDir(dir string) DirCheck
	// Tokens lists the client tokens, revoked and expired ones included.
	Tokens() []Token
	// IssueToken makes a client token with the given limits (none when
	// zero); ttl 0 means it never expires. An error wrapping ErrInvalid (or
	// a *config.ValidationError) answers 400.
	IssueToken(label string, ttl time.Duration, limits Limits) (Issued, error)
	// UpdateToken changes a client token's limits or expiry (see
	// TokenUpdate) and returns it changed. An error wrapping ErrNotFound
	// answers 404, one wrapping ErrInvalid 400.
	UpdateToken(id string, u TokenUpdate) (Token, error)
	// RevokeToken revokes a client token by ID. An error wrapping
	// ErrNotFound answers 404.
	RevokeToken(id string) error
	// Usage returns the usage history from since on, in buckets of step
	// (StepHour or StepDay), per account or per client token (by is
	// UsageByAccount or UsageByToken).
	Usage(since time.Time, step, by string) Usage
	// Pause stops routing: proxied requests get 503 until Resume. Pausing
	// a paused daemon does nothing. Status reports it as Paused.
	Pause() error
	// Resume routes requests again after Pause. Resuming a daemon that is
	// not paused does nothing.
	Resume() error
	// StartLogin starts a login (see LoginRequest) and returns it pending,
	// with its authorize URL. An error wrapping ErrInvalid answers 400.
	StartLogin(req LoginRequest) (Login, error)
	// Login returns a login by ID. An error wrapping ErrNotFound answers
	// 404.
	Login(id string) (Login, error)
	// LoginCode completes a manual login with the pasted "<code>#<state>"
	// and returns it completed or failed. A code that does not belong to
	// it (an error wrapping ErrInvalid) answers 400 and leaves it pending.
	LoginCode(ctx context.Context, id, code string) (Login, error)
	// CancelLogin ends a pending login its starter no longer waits for,
	// as failed, and returns it as it stands then (a login that is over
	// stays as it ended). An error wrapping ErrNotFound answers 404.
	CancelLogin(id string) (Login, error)
}

// CheckRequest is the body of POST accounts/check.
type CheckRequest struct {
	Dir string `json:"dir"`
}

// Server answers the control API (paths under Prefix) from a Backend. Each
// request needs a loopback Host header (else 403) and the control secret as
// a bearer token (else 401). Create it with NewServer; set fields before
// serving.
type Server struct {
	// PingInterval is how often an event stream sends a `: ping` comment.
	// Default DefaultPingInterval.
	PingInterval time.Duration
	// Now is the clock for GET usage's default and oldest since. Default
	// time.Now.
	Now func() time.Time
	// Location is the time zone of GET usage's local days. Default
	// time.Local.
	Location *time.Location

	b      Backend
	secret string
	log    *slog.Logger
	mux    *http.ServeMux

	closeOnce sync.Once
	done      chan struct{} // closed by Close
}

// NewServer returns a Server for b that accepts requests carrying secret. A
// nil log discards log output.
func NewServer(b Backend, secret string, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		PingInterval: DefaultPingInterval,
		b:            b,
		secret:       secret,
		log:          log.With("component", "control"),
		mux:          http.NewServeMux(),
		done:         make(chan struct{}),
	}
	s.mux.HandleFunc("GET "+Prefix+"status", s.handleStatus)
	s.mux.HandleFunc("GET "+Prefix+"accounts", s.handleAccounts)
	s.mux.HandleFunc("POST "+Prefix+"accounts/check", s.handleCheck)
	s.mux.HandleFunc("POST "+Prefix+"accounts/{name}/reset", s.handleReset)
	s.mux.HandleFunc("GET "+Prefix+"events", s.handleEvents)
	s.mux.HandleFunc("GET "+Prefix+"config", s.handleGetConfig)
	s.mux.HandleFunc("PUT "+Prefix+"config", s.handlePutConfig)
	s.mux.HandleFunc("GET "+Prefix+"tokens", s.handleTokens)
	s.mux.HandleFunc("POST "+Prefix+"tokens", s.handleIssue)
	s.mux.HandleFunc("PATCH "+Prefix+"tokens/{id}", s.handleUpdate)
	s.mux.HandleFunc("DELETE "+Prefix+"tokens/{id}", s.handleRevoke)
	s.mux.HandleFunc("GET "+Prefix+"usage", s.handleUsage)
	s.mux.HandleFunc("POST "+Prefix+"pause", s.handlePause)
	s.mux.HandleFunc("POST "+Prefix+"resume", s.handleResume)
	s.loginRoutes()
	return s
}

// Close ends every open event stream and refuses new ones (503), so that an
// http.Server can shut down: register it with RegisterOnShutdown. Other
// endpoints keep answering. Event streams also end with the request's
// context (an http.Server's BaseContext) and when the Backend closes the
// subscription channel.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.done) })
}

// ServeHTTP checks the Host header and the secret, then answers the
// endpoint. Unknown paths answer 404 and known paths with another method
// 405 (with Allow), both as ErrorBody.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !IsLoopbackHost(r.Host) {
		s.log.Warn("refused request with non-loopback Host", "host", r.Host, "remote", r.RemoteAddr, "path", r.URL.Path)
		writeError(w, http.StatusForbidden, errPermission, "the control API answers only requests addressed to localhost", nil)
		return
	}
	if !s.authorized(r) {
		s.log.Warn("refused request without the control secret", "remote", r.RemoteAddr, "path", r.URL.Path)
		w.Header().Set("WWW-Authenticate", `Bearer realm="maxrouter control"`)
		writeError(w, http.StatusUnauthorized, errAuthentication, "missing or wrong control secret (Authorization: Bearer <content of control.secret>)", nil)
		return
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.notRouted(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// authorized compares the bearer token with the secret in constant time.
func (s *Server) authorized(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || s.secret == "" {
		return false
	}
	token = strings.TrimSpace(token)
	return subtle.ConstantTimeCompare([]byte(token), []byte(s.secret)) == 1
}

// notRouted answers a request no pattern matches: 405 when the path exists
// with other methods, else 404.
func (s *Server) notRouted(w http.ResponseWriter, r *http.Request) {
	h, _ := s.mux.Handler(r)
	rec := &statusRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	if rec.status == http.StatusMethodNotAllowed {
		allow := rec.header.Get("Allow")
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, errInvalidRequest,
			fmt.Sprintf("method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, allow), nil)
		return
	}
	writeError(w, http.StatusNotFound, errNotFound, fmt.Sprintf("no control API endpoint %s %s", r.Method, r.URL.Path), nil)
}

// statusRecorder captures what ServeMux's own 404/405 handlers answer.
type statusRecorder struct {
	header http.Header
	status int
}

func (r *statusRecorder) Header() http.Header { return r.header }

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return len(b), nil
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.b.Status())
}

func (s *Server) handleAccounts(w http.ResponseWriter, r *http.Request) {
	accounts := s.b.Accounts()
	if accounts == nil {
		accounts = []Account{}
	}
	writeJSON(w, http.StatusOK, Accounts{Accounts: accounts})
}

func (s *Server) handleCheck(w http.ResponseWriter, r *http.Request) {
	var req CheckRequest
	if !s.decode(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.Dir) == "" {
		writeError(w, http.StatusBadRequest, errInvalidRequest, `"dir" is required`, nil)
		return
	}
	writeJSON(w, http.StatusOK, s.b.CheckDir(req.Dir))
}

func (s *Server) handleReset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := s.b.ResetAccount(name); err != nil {
		s.backendError(w, r, err)
		return
	}
	s.log.Info("account reset", "account", name)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleGetConfig(w http.ResponseWriter, r *http.Request) {
	cfg, rev := s.b.Config()
	w.Header().Set("ETag", etag(rev))
	writeJSON(w, http.StatusOK, cfg)
}

// handlePutConfig replaces the configuration when If-Match names its
// current revision: 204 with the new revision's ETag, 412 with the current
// configuration and revision when it does not, 428 without If-Match.
func (s *Server) handlePutConfig(w http.ResponseWriter, r *http.Request) {
	var cfg Config
	if !s.decode(w, r, &cfg) {
		return
	}
	match := r.Header.Get("If-Match")
	if match == "" {
		writeError(w, http.StatusPreconditionRequired, errInvalidRequest,
			"PUT config needs If-Match with the ETag of the GET config it is based on, so that changes made meanwhile are not overwritten", nil)
		return
	}
	rev := unquote(match)
	if match == "*" {
		_, rev = s.b.Config()
	}
	if err := s.b.PutConfig(cfg, rev); err != nil {
		var stale *StaleError
		if errors.As(err, &stale) {
			w.Header().Set("ETag", etag(stale.Revision))
			writeErrorBody(w, http.StatusPreconditionFailed, ErrorBody{
				Type:     "error",
				Error:    ErrorDetail{Type: errInvalidRequest, Message: stale.Error()},
				Config:   &stale.Config,
				Revision: stale.Revision,
			})
			return
		}
		s.backendError(w, r, err)
		return
	}
	_, now := s.b.Config()
	w.Header().Set("ETag", etag(now))
	s.log.Info("configuration replaced", "revision", now)
	w.WriteHeader(http.StatusNoContent)
}

// etag quotes a revision as an HTTP entity tag.
func etag(rev string) string { return `"` + rev + `"` }

// unquote reads a revision back from an entity tag (weak or strong).
func unquote(tag string) string {
	tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
	return strings.Trim(tag, `"`)
}

func (s *Server) handleTokens(w http.ResponseWriter, r *http.Request) {
	tokens := s.b.Tokens()
	if tokens == nil {
		tokens = []Token{}
	}
	writeJSON(w, http.StatusOK, Tokens{Tokens: tokens})
}

func (s *Server) handleIssue(w http.ResponseWriter, r *http.Request) {
	var req IssueRequest
	if !s.decode(w, r, &req) {
		return
	}
	var ttl time.Duration
	if req.TTL != "" {
		d, err := time.ParseDuration(req.TTL)
		if err != nil || d < 0 {
			writeError(w, http.StatusBadRequest, errInvalidRequest,
				fmt.Sprintf("invalid ttl %q: want a positive Go duration such as \"720h\", or none", req.TTL), nil)
			return
		}
		ttl = d
	}
	issued, err := s.b.IssueToken(req.Label, ttl, req.Limits)
	if err != nil {
		s.backendError(w, r, err)
		return
	}
	s.log.Info("client token issued", "id", issued.ID, "label", issued.Label, "limited", issued.Limited())
	writeJSON(w, http.StatusCreated, issued)
}

// handleUpdate changes a client token's limits or expiry: 200 with the
// token as it is now.
func (s *Server) handleUpdate(w http.ResponseWriter, r *http.Request) {
	var u TokenUpdate
	if !s.decode(w, r, &u) {
		return
	}
	id := r.PathValue("id")
	tok, err := s.b.UpdateToken(id, u)
	if err != nil {
		s.backendError(w, r, err)
		return
	}
	s.log.Info("client token changed", "id", id, "label", tok.Label)
	writeJSON(w, http.StatusOK, tok)
}

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.b.RevokeToken(id); err != nil {
		s.backendError(w, r, err)
		return
	}
	s.log.Info("client token revoked", "id", id)
	w.WriteHeader(http.StatusNoContent)
}

// usageDays is how many local days GET usage covers without since: today
// and the six days before.
const usageDays = 7

// handleUsage answers GET usage?since=RFC3339&step=hour|day&by=account|token.
// Without step the buckets are local days; without since the history
// starts at local midnight six days ago (seven buckets of a day with
// today's); without by they are per account. A since older than
// UsageRetention is moved forward to now minus UsageRetention.
func (s *Server) handleUsage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	by := q.Get("by")
	switch by {
	case "":
		by = UsageByAccount
	case UsageByAccount, UsageByToken:
	default:
		writeError(w, http.StatusBadRequest, errInvalidRequest,
			fmt.Sprintf("invalid by %q: want %q or %q", by, UsageByAccount, UsageByToken), nil)
		return
	}
	step := q.Get("step")
	switch step {
	case "":
		step = StepDay
	case StepHour, StepDay:
	default:
		writeError(w, http.StatusBadRequest, errInvalidRequest,
			fmt.Sprintf("invalid step %q: want %q or %q", step, StepHour, StepDay), nil)
		return
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	loc := s.Location
	if loc == nil {
		loc = time.Local
	}
	t := now().In(loc)
	var since time.Time
	if v := q.Get("since"); v != "" {
		var err error
		if since, err = time.Parse(time.RFC3339, v); err != nil {
			writeError(w, http.StatusBadRequest, errInvalidRequest,
				fmt.Sprintf("invalid since %q: want an RFC 3339 time such as %s", v, t.Truncate(time.Second).Format(time.RFC3339)), nil)
			return
		}
	} else {
		since = time.Date(t.Year(), t.Month(), t.Day()-(usageDays-1), 0, 0, 0, 0, loc)
	}
	if oldest := t.Add(-UsageRetention); since.Before(oldest) {
		since = oldest
	}
	u := s.b.Usage(since, step, by)
	if u.Buckets == nil {
		u.Buckets = []UsageBucket{}
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) handlePause(w http.ResponseWriter, r *http.Request) {
	if err := s.b.Pause(); err != nil {
		s.backendError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleResume(w http.ResponseWriter, r *http.Request) {
	if err := s.b.Resume(); err != nil {
		s.backendError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleEvents streams events as Server-Sent Events until the client goes,
// the request context ends or the Server is closed. Each event carries its
// id; a client that sends Last-Event-ID gets the events after it first, or
// one `event: reset` when they are no longer kept.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	select {
	case <-s.done:
		writeError(w, http.StatusServiceUnavailable, errAPI, "the daemon is shutting down", nil)
		return
	default:
	}
	// Subscribe before answering: events published once the client has
	// the response headers reach it.
	sub := s.b.Subscribe(r.Header.Get("Last-Event-ID"))
	defer sub.Close()

	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives any server WriteTimeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if err := rc.Flush(); err != nil {
		s.log.Error("event stream cannot flush", "err", err)
		return
	}
	interval := s.PingInterval
	if interval <= 0 {
		interval = DefaultPingInterval
	}
	ping := time.NewTicker(interval)
	defer ping.Stop()
	s.log.Debug("event stream opened", "remote", r.RemoteAddr)
	defer s.log.Debug("event stream closed", "remote", r.RemoteAddr)
	var buf bytes.Buffer
	// write sends what sub has to say now; it reports whether the client
	// is still there.
	write := func() bool {
		buf.Reset()
		events, lost := sub.Next()
		if lost {
			buf.WriteString("event: " + event.StreamReset + "\ndata: {}\n\n")
		}
		for _, e := range events {
			data, err := json.Marshal(e)
			if err != nil {
				s.log.Error("encoding event", "err", err)
				continue
			}
			fmt.Fprintf(&buf, "id: %s\nevent: %s\ndata: %s\n\n", e.ID, e.Type.Stream(), data)
		}
		if buf.Len() == 0 {
			return true
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			write() // the last words, such as the daemon stopping
			return
		case _, ok := <-sub.Ready():
			if !ok {
				return // the backend ended the subscription
			}
			if !write() {
				return // the client went away
			}
		case <-ping.C:
			if _, err := io.WriteString(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}

// decode reads a JSON request body into v, answering 400 (or 413) itself
// when it cannot.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("unexpected data after the JSON value")
		}
	}
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, errInvalidRequest,
			fmt.Sprintf("request body larger than %d bytes", tooBig.Limit), nil)
	case errors.Is(err, io.EOF):
		writeError(w, http.StatusBadRequest, errInvalidRequest, "request body is empty, want JSON", nil)
	default:
		writeError(w, http.StatusBadRequest, errInvalidRequest, "request body is not valid JSON: "+err.Error(), nil)
	}
	return false
}

// backendError answers a Backend error: 400 for validation problems, 404
// for ErrNotFound, 500 otherwise.
func (s *Server) backendError(w http.ResponseWriter, r *http.Request, err error) {
	var verr *config.ValidationError
	switch {
	case errors.As(err, &verr):
		writeError(w, http.StatusBadRequest, errInvalidRequest, err.Error(), verr.Fields)
	case errors.Is(err, ErrInvalid):
		writeError(w, http.StatusBadRequest, errInvalidRequest, err.Error(), nil)
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, errNotFound, err.Error(), nil)
	default:
		s.log.Error("control request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, errAPI, err.Error(), nil)
	}
}

// writeJSON answers v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, errAPI, "encoding answer: "+err.Error(), nil)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}

// writeError answers an ErrorBody.
func writeError(w http.ResponseWriter, status int, typ, msg string, fields []FieldError) {
	writeErrorBody(w, status, ErrorBody{
		Type:  "error",
		Error: ErrorDetail{Type: typ, Message: msg},
		Field: fields,
	})
}

// writeErrorBody answers body with status.
func writeErrorBody(w http.ResponseWriter, status int, body ErrorBody) {
	data, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}
