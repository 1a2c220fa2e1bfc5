package proxy

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/token"
)

var errMissingToken = errors.New("missing client token: send a MaxRouter client token (la_sk_…) as ANTHROPIC_AUTH_TOKEN; create one with `maxrouter tokens issue --label NAME`")

// WriteError answers in Anthropic's error shape:
// {"type":"error","error":{"type":typ,"message":msg}}.
func WriteError(w http.ResponseWriter, status int, typ, msg string) {
	body, _ := json.Marshal(control.ErrorBody{Type: "error", Error: control.ErrorDetail{Type: typ, Message: msg}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(body)
}

func errorType(status int) string {
	switch status {
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case http.StatusBadRequest:
		return "invalid_request_error"
	}
	return "api_error"
}

// writeAuthError answers a client whose token does not admit it: 401 for a
// missing or unknown token, 403 for one that expired or was revoked.
func writeAuthError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, token.ErrExpired):
		WriteError(w, http.StatusForbidden, "permission_error", "client token expired: issue a new one with `maxrouter tokens issue --label NAME`")
	case errors.Is(err, token.ErrRevoked):
		WriteError(w, http.StatusForbidden, "permission_error", "client token revoked: issue a new one with `maxrouter tokens issue --label NAME`")
	case errors.Is(err, errMissingToken):
		WriteError(w, http.StatusUnauthorized, "authentication_error", err.Error())
	default:
		WriteError(w, http.StatusUnauthorized, "authentication_error", "invalid client token: it is not one this MaxRouter issued (`maxrouter tokens list`)")
	}
}
