package anthropictest

import (
	"net/http"
	"time"
)

// Replies for an upstream that stops answering, and for answers with
// headers a real one never sends.

// StallMidStream streams a 200 whose first event (message_start) arrives,
// and then nothing more until the client goes away.
func StallMidStream(w http.ResponseWriter, r *http.Request, _ []byte) {
	f := fakeOf(r.Context())
	limitHeaders(w.Header(), f.now(), "allowed", 0.25, 0.1)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_fake01\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5\",\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n"))
	w.(http.Flusher).Flush()
	<-r.Context().Done()
}

// Delayed answers with reply after d (or not at all if the client goes
// away first): a non-streamed message that takes a while to write.
func Delayed(d time.Duration, reply Reply) Reply {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		select {
		case <-time.After(d):
			reply(w, r, body)
		case <-r.Context().Done():
		}
	}
}

// WithHeaders answers with reply, the headers kv (name, value, …) set
// over the ones it sets itself.
func WithHeaders(reply Reply, kv ...string) Reply {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		reply(&headerWriter{ResponseWriter: w, kv: kv}, r, body)
	}
}

// headerWriter sets its headers when the answer starts.
type headerWriter struct {
	http.ResponseWriter
	kv      []string
	started bool
}

func (h *headerWriter) WriteHeader(code int) {
	if !h.started {
		h.started = true
		for i := 0; i+1 < len(h.kv); i += 2 {
			h.Header().Set(h.kv[i], h.kv[i+1])
		}
	}
	h.ResponseWriter.WriteHeader(code)
}

func (h *headerWriter) Write(b []byte) (int, error) {
	if !h.started {
		h.WriteHeader(http.StatusOK)
	}
	return h.ResponseWriter.Write(b)
}

func (h *headerWriter) Flush() {
	if f, ok := h.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
