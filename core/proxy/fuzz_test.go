package proxy

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/account"
)

// chunks splits data into pieces whose sizes cuts gives in turn (1 to 64
// bytes each; no cuts: one piece), as reads of a body would.
func chunks(data, cuts []byte) [][]byte {
	if len(cuts) == 0 {
		return [][]byte{data}
	}
	var out [][]byte
	for i := 0; len(data) > 0; i++ {
		n := min(int(cuts[i%len(cuts)])%64+1, len(data))
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}

// streamSeeds are event streams for the stream fuzzers: a real one, ones
// that end in an error event, and ones built to trip a line reader.
func streamSeeds() [][]byte {
	real := bytes.Join(realEvents(3), nil)
	errEv := func(typ string) []byte {
		return []byte("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"" + typ + "\",\"message\":\"x\"}}\n\n")
	}
	return [][]byte{
		real,
		append(bytes.Join(realEvents(1), nil), errEv("rate_limit_error")...),
		append(bytes.Join(realEvents(1), nil), errEv("overloaded_error")...),
		errEv("invalid_request_error"),
		bytes.ReplaceAll(real, []byte("\n"), []byte("\r\n")),
		[]byte("event: error\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":9223372036854775807}}\n\n"),
		[]byte("event: message_start\ndata: {\"usage\":{\"input_tokens\":-1,\"output_tokens\":1e309}}\n\n"),
		[]byte("event: message_start\ndata: {\"usage\":{\"usage\":{\"input_tokens\":3}},\"usage\":null}\n\n"),
		[]byte("event: message_start\ndata: {\"message\":{\"usage\":{\"input_tokens\":3,\"output_tokens\":\"Inf\"}}}\n\n"),
		[]byte("event: message_start\ndata: {\"usage\":{\"input_tokens\":3\n\nevent: message_stop\ndata: {}\n\n"),
		[]byte("\r\revent:message_start\rdata:{\"usage\":{}}\n\n\n"),
		[]byte("event: ping\ndata: " + string(bytes.Repeat([]byte("x"), 4096)) + "\n\n"),
		[]byte("event: err"),
	}
}

// FuzzSSETokens checks that the token usage read from an event stream
// does not depend on how the stream was split into reads (for lines up
// to maxCarry, which a split stream carries and a whole one need not).
func FuzzSSETokens(f *testing.F) {
	for _, s := range streamSeeds() {
		f.Add(s, []byte{0})
		f.Add(s, []byte{5, 0, 63, 1})
		f.Add(s, []byte(nil))
	}
	f.Fuzz(func(t *testing.T, stream, cuts []byte) {
		for line := range bytes.SplitSeq(stream, []byte("\n")) {
			if len(line) > maxCarry {
				t.Skip()
			}
		}
		var whole, split sseTokens
		whole.feed(stream)
		for _, c := range chunks(stream, cuts) {
			split.feed(c)
		}
		wt, wok, werr := whole.result()
		st, sok, serr := split.result()
		if wt != st || wok != sok || (werr == nil) != (serr == nil) {
			t.Errorf("split into reads: %+v %v %v; whole: %+v %v %v", st, sok, serr, wt, wok, werr)
		}
	})
}

// FuzzErrorScanner checks the `event: error` scanner on streams split
// into reads: it never sees an error the whole stream does not hold, and
// it sees the first error event whenever no read ends between its marker
// and its error type.
func FuzzErrorScanner(f *testing.F) {
	for _, s := range streamSeeds() {
		f.Add(s, []byte{0})
		f.Add(s, []byte{7, 3, 1})
	}
	// Quiet: a fuzz worker that writes much to stderr stalls.
	pool, err := account.NewPool(account.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(pool.Close)
	a := account.New("a", "", nil, nil)
	pool.SetAccounts([]*account.Account{a})
	h := &Handler{pool: pool, log: slog.New(slog.DiscardHandler), now: time.Now}
	scan := func(pieces [][]byte) bool {
		b := &watchedBody{h: h, a: a, sse: true}
		for _, p := range pieces {
			if !b.seen {
				b.scan(p)
			}
		}
		return b.seen
	}
	f.Fuzz(func(t *testing.T, stream, cuts []byte) {
		pieces := chunks(stream, cuts)
		whole, split := scan([][]byte{stream}), scan(pieces)
		if split && !whole {
			t.Fatalf("split into reads the scanner saw an error the whole stream does not hold")
		}
		i := bytes.Index(stream, errorMarker)
		if i < 0 || !whole {
			return
		}
		end := -1
		for _, typ := range [...]string{"rate_limit_error", "overloaded_error"} {
			if j := bytes.Index(stream[i:], []byte(typ)); j >= 0 && (end < 0 || i+j+len(typ) < end) {
				end = i + j + len(typ)
			}
		}
		cut := 0
		for _, p := range pieces[:len(pieces)-1] {
			if cut += len(p); cut > i && cut < end {
				return // a read ends inside the event: it may be missed
			}
		}
		if !split {
			t.Errorf("the error event at %d, read whole, was missed", i)
		}
	})
}
