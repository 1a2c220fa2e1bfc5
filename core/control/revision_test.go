package control_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/control/controltest"
	"github.com/maxrouter/maxrouter/core/event"
)

// A change made elsewhere between a read and a write is never overwritten:
// the write is refused with the current configuration.
func TestPutConfigNeedsTheCurrentRevision(t *testing.T) {
	b := &controltest.Backend{ConfigValue: config.Default()}
	c, _ := controltest.NewServer(t, b)
	ctx := context.Background()

	mine, rev, err := c.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The tray switches the strategy meanwhile.
	theirs := config.Default()
	theirs.Strategy = "priority"
	b.SetConfig(theirs)

	mine.Cooldown = config.Duration(2 * time.Minute)
	_, err = c.PutConfig(ctx, mine, rev)
	var stale *control.StaleError
	if !errors.As(err, &stale) || !errors.Is(err, control.ErrStale) {
		t.Fatalf("PutConfig on an old revision = %v, want a *StaleError", err)
	}
	if stale.Config.Strategy != "priority" || stale.Revision == rev || stale.Revision == "" {
		t.Errorf("StaleError carries strategy %q at %q, want the current priority at a new revision (was %q)", stale.Config.Strategy, stale.Revision, rev)
	}
	if got, _ := b.Config(); got.Strategy != "priority" || got.Cooldown != theirs.Cooldown {
		t.Errorf("config after the refused put = %+v, want the other change kept", got)
	}

	// UpdateConfig re-applies an edit on top of the current one.
	edits := 0
	err = c.UpdateConfig(ctx, func(cfg *control.Config) error {
		if edits++; edits == 1 {
			b.SetConfig(theirs) // yet another change comes in between
		}
		cfg.Cooldown = config.Duration(2 * time.Minute)
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateConfig: %v", err)
	}
	if edits != 2 {
		t.Errorf("UpdateConfig edited %d times, want 2 (once more after the change in between)", edits)
	}
	if got, _ := b.Config(); got.Strategy != "priority" || got.Cooldown != config.Duration(2*time.Minute) {
		t.Errorf("after UpdateConfig: strategy %q cooldown %v, want priority and 2m", got.Strategy, got.Cooldown)
	}
}

func TestPutConfigRevisionOnTheWire(t *testing.T) {
	b := &controltest.Backend{ConfigValue: config.Default()}
	hs, _ := rawServer(t, b)
	url := hs.URL + "/control/v1/config"

	resp, _ := do(t, "GET", url, "", "Bearer "+testSecret, "")
	tag := resp.Header.Get("ETag")
	if !strings.HasPrefix(tag, `"`) || len(tag) < 3 {
		t.Fatalf("GET config ETag = %q, want a quoted revision", tag)
	}
	body, _ := json.Marshal(config.Default())

	put := func(ifMatch string) (*http.Response, []byte) {
		req, _ := http.NewRequest("PUT", url, strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+testSecret)
		if ifMatch != "" {
			req.Header.Set("If-Match", ifMatch)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var data []byte
		data, _ = readAll(resp)
		return resp, data
	}
	if resp, data := put(""); resp.StatusCode != http.StatusPreconditionRequired || !strings.Contains(string(data), "If-Match") {
		t.Errorf("PUT without If-Match = %d %s, want 428 naming If-Match", resp.StatusCode, data)
	}
	if resp, data := put(`"not-the-revision"`); resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("PUT with a stale If-Match = %d %s, want 412", resp.StatusCode, data)
	} else {
		var eb control.ErrorBody
		if err := json.Unmarshal(data, &eb); err != nil || eb.Config == nil || eb.Revision == "" || `"`+eb.Revision+`"` != resp.Header.Get("ETag") {
			t.Errorf("412 body = %s (ETag %s), want the current config and revision", data, resp.Header.Get("ETag"))
		}
	}
	resp, data := put(tag)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PUT with the current If-Match = %d %s, want 204", resp.StatusCode, data)
	}
	if next := resp.Header.Get("ETag"); next == tag || next == "" {
		t.Errorf("ETag after the put = %q, want a new revision (was %q)", next, tag)
	}
	if resp, data := put("*"); resp.StatusCode != http.StatusNoContent {
		t.Errorf("PUT with If-Match * = %d %s, want 204", resp.StatusCode, data)
	}
}

// A client that reconnects with the last event ID it saw gets what it
// missed; one that missed too much is told to start over.
func TestEventsResume(t *testing.T) {
	b := &controltest.Backend{}
	c, _ := controltest.NewServer(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	b.Publish(control.Event{Type: event.CooldownStarted, Account: "seen"})
	seen := b.LastID()
	b.Publish(control.Event{Type: event.CooldownEnded, Account: "missed"})
	b.Publish(control.Event{Type: event.Paused})
	b.Publish(control.Event{Type: event.ConfigChanged, Revision: "r2"})

	got := collect(ctx, t, c, seen, 3)
	if got[0].Type != event.CooldownEnded || got[1].Type != event.Paused || got[2].Type != event.ConfigChanged || got[2].Revision != "r2" {
		t.Errorf("resumed events = %+v, want the three missed, in order", got)
	}
	if got[2].ID != b.LastID() {
		t.Errorf("last ID = %q, want %q", got[2].ID, b.LastID())
	}

	for range event.Keep {
		b.Publish(control.Event{Type: event.Refreshed})
	}
	if got := collect(ctx, t, c, seen, 1); got[0].Type != control.EventReset {
		t.Errorf("resuming after a lost event: first = %+v, want a reset", got[0])
	}
	if got := collect(ctx, t, c, "another-run-5", 1); got[0].Type != control.EventReset {
		t.Errorf("resuming after another daemon's event: first = %+v, want a reset", got[0])
	}
}

// collect reads the first n events of a stream resumed after after.
func collect(ctx context.Context, t *testing.T, c *control.Client, after string, n int) []control.Event {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var got []control.Event
	err := c.Events(ctx, after, func(e control.Event) {
		got = append(got, e)
		if len(got) == n {
			cancel()
		}
	})
	if len(got) < n {
		t.Fatalf("Events after %q: got %d events (%v), want %d", after, len(got), err, n)
	}
	return got
}

func readAll(resp *http.Response) ([]byte, error) { return io.ReadAll(resp.Body) }
