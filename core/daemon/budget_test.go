package daemon

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/event"
	"github.com/maxrouter/maxrouter/core/wait"
)

// restart starts a new daemon over h's home, configuration and data
// directory (h's must have stopped), in front of the same fake.
func (h *harness) restart(t *testing.T) *harness {
	t.Helper()
	n := &harness{home: h.home, cfg: h.cfg, fake: h.fake, up: h.up}
	env := map[string]string{"UPSTREAM_BASE_URL": h.up.URL}
	var err error
	n.d, err = New(Options{
		ConfigPath: h.cfg, Home: h.home, Version: "test",
		Getenv: func(k string) string { return env[k] },
		Logger: slog.New(slog.DiscardHandler), Listen: "127.0.0.1:0",
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := n.d.Listen(); err != nil {
		t.Fatal(err)
	}
	n.base = "http://" + n.d.Addr()
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel, n.done = cancel, make(chan error, 1)
	go func() { n.done <- n.d.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-n.done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	secret, err := os.ReadFile(filepath.Join(filepath.Dir(h.cfg), "control.secret"))
	if err != nil {
		t.Fatal(err)
	}
	n.client = control.NewClient(n.base, strings.TrimSpace(string(secret)))
	return n
}

// message posts a message with secret and returns the status and the error
// message of a refusal.
func (h *harness) message(t *testing.T, secret string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", h.base+"/v1/messages", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var eb control.ErrorBody
	json.Unmarshal(data, &eb)
	return resp.StatusCode, eb.Error.Message
}

// tokenOf is the token with the given ID as the daemon lists it.
func (h *harness) tokenOf(t *testing.T, id string) control.Token {
	t.Helper()
	list, err := h.client.Tokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range list {
		if k.ID == id {
			return k
		}
	}
	t.Fatalf("no token %s in %+v", id, list)
	return control.Token{}
}

// TestTokenBudget: a token issued with limits through the control API is
// refused once it spent them, the event stream says so once, the token
// list and the usage history by token show its use, new limits apply at
// once, and a restart keeps the window's counts.
func TestTokenBudget(t *testing.T) {
	h := start(t, func(h *harness) {
		writeCreds(t, filepath.Join(h.home, ".claude"), tok("main"), "r", time.Now().Add(8*time.Hour))
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan control.Event, 16)
	go h.client.Events(ctx, "", func(e control.Event) {
		if e.Type == event.TokenBudgetReached {
			events <- e
		}
	})
	wait.For(t, "the event stream", func() bool { n, _ := h.d.bus.Subscribers(); return n == 1 })

	is, err := h.client.IssueTokenWith(ctx, control.IssueRequest{Label: "ci", Limits: control.Limits{MaxRequests: 2, Per: control.Period(5 * time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if code, msg := h.message(t, is.Secret); code != 200 {
			t.Fatalf("request %d: %d %s", i+1, code, msg)
		}
	}
	code, msg := h.message(t, is.Secret)
	if code != 429 || !strings.Contains(msg, `client token "ci" has used its 2 requests per 5h`) {
		t.Errorf("third request: %d %q, want 429 naming the token and its limit", code, msg)
	}
	if got := len(h.fake.Received()); got != 2 {
		t.Errorf("upstream saw %d requests, want 2", got)
	}
	select {
	case e := <-events:
		if e.Token != is.ID || e.Label != "ci" || e.Until == nil || e.Reason != "2 requests per 5h" {
			t.Errorf("event = %+v, want token_budget_reached of ci with until and the limits", e)
		}
		if w := h.tokenOf(t, is.ID).Window; w == nil || !e.Until.Equal(w.ResetsAt) {
			t.Errorf("event until %v, want the window's end (%+v)", e.Until, w)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no token_budget_reached event")
	}
	h.message(t, is.Secret) // refused again: no second event
	if w := h.tokenOf(t, is.ID).Window; w == nil || w.Requests != 2 {
		t.Errorf("window = %+v, want 2 requests", w)
	}

	u, err := h.client.UsageBy(ctx, time.Time{}, control.StepDay, control.UsageByToken)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Buckets) != 1 || u.Buckets[0].Token != is.ID || u.Buckets[0].Label != "ci" || u.Buckets[0].Requests != 2 || u.Buckets[0].RateLimited != 2 || u.Buckets[0].InputTokens != 20 {
		t.Errorf("usage by token = %+v, want ci: 2 requests, 2 refused, 20 input tokens", u.Buckets)
	}
	if acct, _ := h.client.Usage(ctx, time.Time{}, control.StepDay); len(acct.Buckets) != 1 || acct.Buckets[0].Account != "default" || acct.Buckets[0].Token != "" {
		t.Errorf("usage by account = %+v, want the account alone", acct.Buckets)
	}

	// More room: at once.
	three := int64(3)
	if _, err := h.client.UpdateToken(ctx, is.ID, control.TokenUpdate{MaxRequests: &three}); err != nil {
		t.Fatal(err)
	}
	if code, msg := h.message(t, is.Secret); code != 200 {
		t.Errorf("after raising the limit: %d %s", code, msg)
	}
	if code, _ := h.message(t, is.Secret); code != 429 {
		t.Errorf("fourth request: %d, want 429", code)
	}
	select {
	case e := <-events:
		if e.Reason != "3 requests per 5h" {
			t.Errorf("second event = %+v, want the raised limit spent", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no token_budget_reached event after the raised limit was spent")
	}

	// A restart keeps the window: still refused, with the same end.
	before := h.tokenOf(t, is.ID).Window
	cancel()
	h.stop(t)
	h2 := h.restart(t)
	if code, _ := h2.message(t, is.Secret); code != 429 {
		t.Errorf("after a restart: %d, want 429", code)
	}
	after := h2.tokenOf(t, is.ID)
	if w := after.Window; w == nil || w.Requests != 3 || !w.ResetsAt.Equal(before.ResetsAt) || after.MaxRequests != 3 {
		t.Errorf("after a restart, window = %+v (limits %+v), want 3 requests until %v", w, after.Limits, before.ResetsAt)
	}
	u, _ = h2.client.UsageBy(context.Background(), time.Time{}, control.StepDay, control.UsageByToken)
	if len(u.Buckets) != 1 || u.Buckets[0].Requests != 3 || u.Buckets[0].RateLimited != 4 {
		t.Errorf("usage by token after a restart = %+v, want 3 requests, 4 refused", u.Buckets)
	}
}
