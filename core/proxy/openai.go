package proxy

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/maxrouter/maxrouter/core/openai"
)

// The paths of OpenAI's API that the proxy translates.
const (
	ChatPath      = "/v1/chat/completions"
	ResponsesPath = "/v1/responses"
	ModelsPath    = "/v1/models"
)

// maxAnswer bounds an answer that is translated whole (one that is not
// streamed): Anthropic's largest messages are a few hundred KB.
const maxAnswer = 64 << 20

// SetModels changes the model names OpenAI clients may use (the config's
// [models]); nil means openai.DefaultModels.
func (h *Handler) SetModels(m map[string]string) {
	om := openai.Models(m)
	h.models.Store(&om)
}

func (h *Handler) modelMap() openai.Models { return *h.models.Load() }

// IsOpenAI reports whether r is for OpenAI's API: POST /v1/chat/completions
// or /v1/responses, or GET /v1/models without anthropic-version (which
// Anthropic's SDKs and Claude Code always send).
func IsOpenAI(r *http.Request) bool {
	switch r.URL.Path {
	case ChatPath, ResponsesPath:
		return true
	case ModelsPath:
		return r.Method == http.MethodGet && r.Header.Get("Anthropic-Version") == ""
	}
	return false
}

// WriteErrorFor answers like WriteError, in OpenAI's error shape when r is
// for OpenAI's API (see IsOpenAI).
func WriteErrorFor(w http.ResponseWriter, r *http.Request, status int, typ, msg string) {
	if IsOpenAI(r) {
		w = &openaiWriter{w: w}
		defer w.(*openaiWriter).finish()
	}
	WriteError(w, status, typ, msg)
}

// ServeOpenAI serves OpenAI's API (see IsOpenAI) on the accounts: the
// client is admitted by its client token like any other, the request is
// translated to /v1/messages (or /v1/models) and goes through the same
// Transport as Anthropic's own traffic (strategy, failover before the
// first byte, cooldowns, usage history, metrics), and the answer is
// translated back: an event stream event by event as it arrives, a JSON
// answer whole. Every error is answered in OpenAI's shape with the status
// it would have had.
func (h *Handler) ServeOpenAI(w http.ResponseWriter, r *http.Request) {
	ow := &openaiWriter{w: w, h: h, created: h.now()}
	defer ow.finish()
	c, err := h.client(r)
	if err != nil {
		DropBody(w, r)
		writeAuthError(ow, err)
		return
	}
	g, ok := h.admit(ow, r, c)
	if !ok {
		return
	}
	if r.URL.Path == ModelsPath {
		ow.kind = kindModels
		out := outbound(r, ModelsPath, "limit=1000", 0)
		h.rp.ServeHTTP(ow, out.WithContext(context.WithValue(r.Context(), ctxKey{}, &request{grant: g})))
		return
	}
	if r.Method != http.MethodPost {
		DropBody(w, r)
		w.Header().Set("Allow", http.MethodPost)
		ow.fail(&openai.RequestError{Status: http.StatusMethodNotAllowed, Message: r.Method + " " + r.URL.Path + " is not available: MaxRouter translates POST only"})
		return
	}
	var in *body
	if r.Body != nil && r.Body != http.NoBody {
		if in = h.buffer(ow, r); in == nil {
			return
		}
	}
	var data []byte
	if in != nil {
		data = in.data
	}
	var tr openai.Request
	if r.URL.Path == ResponsesPath {
		ow.kind = kindResponses
		tr, err = openai.ResponsesRequest(data, h.modelMap())
	} else {
		ow.kind = kindChat
		tr, err = openai.ChatRequest(data, h.modelMap())
	}
	if in != nil {
		in.release() // translated: the client's bytes are no longer needed
	}
	if err != nil {
		re, ok := err.(*openai.RequestError)
		if !ok {
			re = &openai.RequestError{Message: err.Error()}
		}
		ow.fail(re)
		return
	}
	ow.req = tr
	st := &request{body: &body{data: tr.Body}, family: family(tr.Body), messages: true, grant: g}
	st.body.refs.Store(1)
	out := outbound(r, "/v1/messages", "", int64(len(tr.Body)))
	h.rp.ServeHTTP(ow, out.WithContext(context.WithValue(r.Context(), ctxKey{}, st)))
}

// outbound is r made into an Anthropic request for path: OpenAI's own
// headers go (the rest passes as for any client), and the Transport is
// left to ask for a compressed answer itself, so that the proxy reads it
// plain.
func outbound(r *http.Request, path, query string, length int64) *http.Request {
	out := r.Clone(r.Context())
	out.URL.Path, out.URL.RawPath, out.URL.RawQuery = path, "", query
	out.Body, out.ContentLength = http.NoBody, length
	out.Header.Del("Accept-Encoding")
	out.Header.Del("Content-Length")
	for k := range out.Header {
		if strings.HasPrefix(k, "Openai-") {
			delete(out.Header, k)
		}
	}
	return out
}

// The kinds of OpenAI request.
type openaiKind uint8

const (
	kindChat openaiKind = iota
	kindResponses
	kindModels
)

// openaiWriter is the ResponseWriter the proxy answers an OpenAI request
// through: it translates a 200 event stream as it is written, and holds
// any other answer (a JSON message, the model list, an error of the
// upstream or of the proxy itself) to translate it whole when the proxy
// is done (finish).
type openaiWriter struct {
	w       http.ResponseWriter
	h       *Handler // nil: errors only (WriteErrorFor)
	kind    openaiKind
	req     openai.Request
	created time.Time
	status  int           // 0 until WriteHeader
	stream  openai.Stream // nil: the answer is held in buf
	buf     []byte
	over    bool   // buf went past maxAnswer
	out     []byte // a stream's translation, reused
}

func (o *openaiWriter) Header() http.Header { return o.w.Header() }

func (o *openaiWriter) WriteHeader(code int) {
	if o.status != 0 || code < 200 {
		return // 1xx: nothing a translated answer can pass on
	}
	o.status = code
	hd := o.w.Header()
	if code == http.StatusOK && o.h != nil && o.kind != kindModels && o.req.Stream &&
		strings.HasPrefix(hd.Get("Content-Type"), "text/event-stream") && hd.Get("Content-Encoding") == "" {
		if o.kind == kindResponses {
			o.stream = openai.NewResponsesStream(o.req, o.created)
		} else {
			o.stream = openai.NewChatStream(o.req, o.created)
		}
		hd.Del("Content-Length")
		o.w.WriteHeader(code)
	}
}

func (o *openaiWriter) Write(p []byte) (int, error) {
	if o.status == 0 {
		o.WriteHeader(http.StatusOK)
	}
	if o.stream != nil {
		o.out = o.stream.Translate(o.out[:0], p)
		if len(o.out) > 0 {
			if _, err := o.w.Write(o.out); err != nil {
				return 0, err
			}
		}
		return len(p), nil
	}
	if len(o.buf)+len(p) > maxAnswer {
		o.over = true
		return len(p), nil
	}
	o.buf = append(o.buf, p...)
	return len(p), nil
}

// Unwrap gives http.ResponseController the client's writer (the body's
// read deadline is set on its connection).
func (o *openaiWriter) Unwrap() http.ResponseWriter { return o.w }

// Flush passes a stream's flush on; a held answer is written by finish.
func (o *openaiWriter) Flush() {
	if o.stream != nil {
		http.NewResponseController(o.w).Flush()
	}
}

// fail answers with a request that could not be translated.
func (o *openaiWriter) fail(re *openai.RequestError) {
	if o.h != nil {
		o.h.metrics.RouterError(re.StatusCode())
	}
	o.send(re.StatusCode(), re.Body())
}

// finish translates and writes a held answer.
func (o *openaiWriter) finish() {
	if o.stream != nil || o.status == 0 {
		return // streamed already, or nothing to answer (the client left)
	}
	status, in := o.status, o.buf
	o.status = 0
	hd := o.w.Header()
	switch {
	case o.over:
		o.send(http.StatusBadGateway, openai.Error(0, []byte("MaxRouter: the upstream answer is too large to translate")))
	case hd.Get("Content-Encoding") != "" && hd.Get("Content-Encoding") != "identity":
		o.send(http.StatusBadGateway, openai.Error(0, []byte("MaxRouter: the upstream answer came compressed ("+hd.Get("Content-Encoding")+") and cannot be translated")))
	case status != http.StatusOK || o.h == nil:
		o.send(status, openai.Error(status, in))
	default:
		var (
			out []byte
			err error
		)
		switch o.kind {
		case kindModels:
			out, err = openai.ModelList(in, o.h.modelMap())
		case kindResponses:
			out, err = openai.ResponsesAnswer(in, o.req, o.created)
		default:
			out, err = openai.ChatAnswer(in, o.created)
		}
		if err != nil {
			o.h.log.Warn("cannot translate the upstream answer", "path", "/v1/messages", "err", err)
			o.send(http.StatusBadGateway, openai.Error(0, []byte("MaxRouter: "+err.Error())))
			return
		}
		o.send(http.StatusOK, out)
	}
}

// send writes a whole answer.
func (o *openaiWriter) send(status int, body []byte) {
	hd := o.w.Header()
	hd.Del("Content-Encoding")
	hd.Set("Content-Type", "application/json")
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	o.w.WriteHeader(status)
	o.w.Write(body)
}
