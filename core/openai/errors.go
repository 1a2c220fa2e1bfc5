package openai

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// RequestError is a request that cannot be translated: a parameter
// Anthropic cannot honour, or one that is malformed. It is answered with
// Status (400 when 0) in OpenAI's error shape.
type RequestError struct {
	Status  int    // 0: 400
	Type    string // "": invalid_request_error
	Code    string // OpenAI's error code, "" for none
	Param   string // the parameter at fault ("messages[2].content"), "" for none
	Message string
}

func (e *RequestError) Error() string {
	if e.Param != "" {
		return e.Param + ": " + e.Message
	}
	return e.Message
}

// StatusCode is the HTTP status to answer with.
func (e *RequestError) StatusCode() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}

// Body is the error in OpenAI's shape.
func (e *RequestError) Body() []byte {
	typ := e.Type
	if typ == "" {
		typ = "invalid_request_error"
	}
	return errorBody(e.Error(), typ, e.Code, e.Param)
}

func bad(param, format string, args ...any) *RequestError {
	return &RequestError{Param: param, Message: fmt.Sprintf(format, args...)}
}

// ErrorBody is OpenAI's error shape:
// {"error":{"message","type","param","code"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inner object of ErrorBody; Param and Code are null
// when empty.
type ErrorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func errorBody(msg, typ, code, param string) []byte {
	d := ErrorDetail{Message: msg, Type: typ}
	if code != "" {
		d.Code = &code
	}
	if param != "" {
		d.Param = &param
	}
	b, _ := json.Marshal(ErrorBody{d})
	return b
}

// codes gives the OpenAI error code for Anthropic's error types that have
// an OpenAI counterpart.
var codes = map[string]string{
	"authentication_error": "invalid_api_key",
	"permission_error":     "permission_denied",
	"not_found_error":      "not_found",
	"rate_limit_error":     "rate_limit_exceeded",
	"request_too_large":    "request_too_large",
	"overloaded_error":     "overloaded",
	"timeout_error":        "timeout",
}

// Error translates an error answer in Anthropic's shape
// ({"type":"error","error":{"type","message"}}) into OpenAI's, keeping
// Anthropic's error type as the type and adding OpenAI's code where one
// matches (rate_limit_error: rate_limit_exceeded, authentication_error:
// invalid_api_key, …). A body in another shape becomes an api_error
// carrying it as the message (up to 1 KB), or naming the status.
func Error(status int, anthropic []byte) []byte {
	var in struct {
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(anthropic, &in) == nil && in.Error.Message != "" {
		typ := in.Error.Type
		if typ == "" {
			typ = "api_error"
		}
		return errorBody(in.Error.Message, typ, codes[typ], "")
	}
	msg := string(anthropic)
	if len(msg) > 1024 {
		msg = msg[:1024] + "…"
	}
	if msg == "" || !json.Valid(anthropic) && !printable(msg) {
		msg = "upstream answered " + http.StatusText(status)
	}
	return errorBody(msg, "api_error", "", "")
}

func printable(s string) bool {
	for _, r := range s {
		if r < ' ' && r != '\n' && r != '\t' && r != '\r' {
			return false
		}
	}
	return true
}
