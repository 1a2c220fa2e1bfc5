package proxy

import (
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/account"
)

// TestErrorMarkerAcrossReads splits an error event's marker over two and
// three reads: the account must still rest.
func TestErrorMarkerAcrossReads(t *testing.T) {
	head := "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\n"
	ev := errorEvent + "\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"
	for i := 1; i < len(errorEvent); i++ {
		for _, pieces := range [][]string{
			{head + ev[:i], ev[i:]},
			{head, ev[:i], ev[i:]},
			{head + ev[:i/2], ev[i/2 : i], ev[i:]},
		} {
			t.Run(fmt.Sprintf("%q", pieces[len(pieces)-2]), func(t *testing.T) {
				pool, err := account.NewPool(account.Options{Strategy: "priority"})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(pool.Close)
				a := account.New("a", "", nil, nil)
				pool.SetAccounts([]*account.Account{a})
				h := &Handler{pool: pool, log: slog.New(slog.DiscardHandler), now: time.Now}
				resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}}}
				b := watch(resp, a, h, &request{}, nil, func() {}).(*watchedBody)
				for _, p := range pieces {
					b.scan([]byte(p))
				}
				if !b.seen {
					t.Errorf("the error event in %q was not noticed", pieces)
				}
			})
		}
	}
}
