package control

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors callers branch on. A Backend returns ErrNotFound and
// ErrInvalid (wrapped or not) to choose the HTTP status; the Client returns
// errors that match them with errors.Is.
var (
	// ErrNotFound means the named account or token does not exist (404).
	ErrNotFound = errors.New("not found")
	// ErrInvalid means the request was refused as invalid (400): a bad
	// token label or TTL, a missing directory, a malformed body.
	ErrInvalid = errors.New("invalid request")
	// ErrUnauthorized means the daemon refused the control secret (401):
	// the client read a different data directory than the daemon uses.
	ErrUnauthorized = errors.New("control secret refused")
	// ErrUnreachable means the daemon could not be reached: it is not
	// running, it went away mid-stream, or it has never run (no secret).
	ErrUnreachable = errors.New("maxrouter daemon not reachable")
	// ErrStale means a configuration change was based on a revision that
	// is no longer current (412): the error is a *StaleError with the
	// current one.
	ErrStale = errors.New("the configuration changed meanwhile")
	// ErrNoRevision means a configuration change did not say which
	// revision it was based on (428).
	ErrNoRevision = errors.New("configuration change without a revision (If-Match)")
)

// StaleError refuses a configuration change based on an old revision. It
// carries the current configuration and revision, so the caller can apply
// its change again on top of them.
type StaleError struct {
	Config   Config
	Revision string
}

// Error says what happened and what to do.
func (e *StaleError) Error() string {
	return "the configuration changed since it was read (it is now at revision " + e.Revision + "): apply the change again on the current one"
}

// Is makes errors.Is(err, ErrStale) match.
func (e *StaleError) Is(target error) bool { return target == ErrStale }

// Error types used in ErrorBody.Error.Type (Anthropic's names).
const (
	errAuthentication = "authentication_error"
	errPermission     = "permission_error"
	errNotFound       = "not_found_error"
	errInvalidRequest = "invalid_request_error"
	errAPI            = "api_error"
)

// APIError is a non-2xx answer of the control API that has no more specific
// Go error (PutConfig's validation errors become *config.ValidationError).
// errors.Is(err, ErrNotFound), ErrUnauthorized and ErrInvalid match it by
// status.
type APIError struct {
	Status  int    // HTTP status code
	Type    string // ErrorBody.Error.Type, e.g. "not_found_error"
	Message string // ErrorBody.Error.Message, for a person
}

// Error returns the message followed by the status and type.
func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.Type == "" {
		return fmt.Sprintf("control API: %s (%d)", msg, e.Status)
	}
	return fmt.Sprintf("control API: %s (%d %s)", msg, e.Status, e.Type)
}

// Is reports whether target is the sentinel error for e's status:
// ErrNotFound for 404, ErrUnauthorized for 401, ErrInvalid for 400,
// ErrNoRevision for 428.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrInvalid:
		return e.Status == http.StatusBadRequest
	case ErrNoRevision:
		return e.Status == http.StatusPreconditionRequired
	}
	return false
}
