package control_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/control/controltest"
)

// berlin is Europe/Berlin, or a fixed +01:00 zone when the time zone
// database is missing (the defaults tested here do not cross a DST change).
func berlin(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return time.FixedZone("CET", 3600)
	}
	return loc
}

// usageServer serves b with testSecret, a fixed clock and time zone.
func usageServer(t *testing.T, b control.Backend, now time.Time, loc *time.Location) *httptest.Server {
	t.Helper()
	srv := control.NewServer(b, testSecret, slog.New(slog.DiscardHandler))
	srv.Now = func() time.Time { return now }
	srv.Location = loc
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
	})
	return hs
}

func TestUsageParams(t *testing.T) {
	loc := berlin(t)
	now := time.Date(2026, 11, 26, 10, 30, 0, 0, loc)
	weekStart := time.Date(2026, 11, 20, 0, 0, 0, 0, loc)
	tests := []struct {
		name      string
		query     string
		wantSince time.Time
		wantStep  string
	}{
		{"defaults", "", weekStart, control.StepDay},
		{"hour, default since", "?step=hour", weekStart, control.StepHour},
		{"day", "?step=day&since=2026-11-25T00:00:00Z", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), control.StepDay},
		{"offset", "?since=2026-11-25T06:00:00%2B01:00", time.Date(2026, 11, 25, 5, 0, 0, 0, time.UTC), control.StepDay},
		{"fraction", "?step=hour&since=2026-11-26T09:15:30.5Z", time.Date(2026, 11, 26, 9, 15, 30, 5e8, time.UTC), control.StepHour},
		{"oldest kept", "?since=2026-08-28T09:30:00Z", now.Add(-control.UsageRetention), control.StepDay},
		{"older is clamped", "?since=2000-01-01T00:00:00Z", now.Add(-control.UsageRetention), control.StepDay},
		{"future", "?since=2027-01-01T00:00:00Z", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), control.StepDay},
		{"empty values", "?since=&step=", weekStart, control.StepDay},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &controltest.Backend{}
			hs := usageServer(t, b, now, loc)
			resp, data := do(t, "GET", hs.URL+"/control/v1/usage"+tt.query, "", "Bearer "+testSecret, "")
			if resp.StatusCode != 200 {
				t.Fatalf("status = %d, want 200 (%s)", resp.StatusCode, data)
			}
			if len(b.Usages) != 1 {
				t.Fatalf("backend calls = %+v, want one", b.Usages)
			}
			if got := b.Usages[0]; !got.Since.Equal(tt.wantSince) || got.Step != tt.wantStep {
				t.Errorf("backend got since %v step %q, want %v %q", got.Since, got.Step, tt.wantSince, tt.wantStep)
			}
			if !strings.Contains(string(data), `"buckets":[]`) {
				t.Errorf("answer %s has no empty bucket list", data)
			}
		})
	}
}

func TestUsageBadParams(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 30, 0, 0, time.UTC)
	tests := []struct {
		name, query string
		wantStatus  int
		wantType    string
		wantMsg     []string
		auth        string
	}{
		{"unknown step", "?step=week", 400, "invalid_request_error", []string{"step", `"week"`, `"hour"`, `"day"`}, ""},
		{"step case", "?step=Day", 400, "invalid_request_error", []string{"step", `"Day"`}, ""},
		{"unknown by", "?by=model", 400, "invalid_request_error", []string{"by", `"model"`, `"account"`, `"token"`}, ""},
		{"since not a time", "?since=yesterday", 400, "invalid_request_error", []string{"since", `"yesterday"`, "RFC 3339"}, ""},
		{"since a date", "?since=2026-11-20", 400, "invalid_request_error", []string{"since", "2026-11-20"}, ""},
		{"since plus unencoded", "?since=2026-11-25T06:00:00+01:00", 400, "invalid_request_error", []string{"since"}, ""},
		{"no secret", "", 401, "authentication_error", []string{"control secret"}, "-"},
		{"wrong secret", "?step=hour", 401, "authentication_error", []string{"control secret"}, "Bearer nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &controltest.Backend{}
			hs := usageServer(t, b, now, time.UTC)
			auth := "Bearer " + testSecret
			if tt.auth == "-" {
				auth = ""
			} else if tt.auth != "" {
				auth = tt.auth
			}
			resp, data := do(t, "GET", hs.URL+"/control/v1/usage"+tt.query, "", auth, "")
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tt.wantStatus, data)
			}
			eb := errorBody(t, data)
			if eb.Error.Type != tt.wantType {
				t.Errorf("error type = %q, want %q", eb.Error.Type, tt.wantType)
			}
			for _, w := range tt.wantMsg {
				if !strings.Contains(eb.Error.Message, w) {
					t.Errorf("message %q does not mention %s", eb.Error.Message, w)
				}
			}
			if len(b.Usages) != 0 {
				t.Errorf("backend was called: %+v", b.Usages)
			}
		})
	}
}

func TestClientUsage(t *testing.T) {
	start := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	want := control.Usage{
		Step:  control.StepHour,
		Since: start,
		Buckets: []control.UsageBucket{
			{Start: start, Account: "personal", Requests: 3, RateLimited: 1, Errors: 1,
				InputTokens: 10, OutputTokens: 20, CacheReadTokens: 30, CacheCreationTokens: 40,
				FiveHourPeak: ptr(0.5), SevenDayPeak: ptr(1.25)},
			{Start: start, Account: "work", Requests: 1},
		},
	}
	b := &controltest.Backend{UsageValue: want}
	c, _ := controltest.NewServer(t, b)
	ctx := context.Background()

	since := time.Date(2026, 11, 25, 15, 4, 5, 6e8, time.FixedZone("", 2*3600))
	got, err := c.Usage(ctx, since, control.StepHour)
	if err != nil {
		t.Fatal(err)
	}
	if !usageEqual(got, want) {
		t.Errorf("Usage = %+v, want %+v", got, want)
	}
	if calls := b.Usages; len(calls) != 1 || !calls[0].Since.Equal(since) || calls[0].Step != control.StepHour {
		t.Errorf("backend calls = %+v, want one with since %v, step hour", calls, since)
	}

	// No since and no step: the daemon's defaults (local days this week).
	b.SetUsage(control.Usage{})
	before := time.Now()
	got, err = c.Usage(ctx, time.Time{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Step != control.StepDay || got.Buckets == nil || len(got.Buckets) != 0 {
		t.Errorf("Usage with defaults = %+v, want step day and no buckets", got)
	}
	// Six local days back to midnight: 6 to 7 days of 24 h, one hour less
	// or more across a daylight-saving change.
	if d := before.Sub(got.Since); d < 6*24*time.Hour-time.Hour || d > 8*24*time.Hour {
		t.Errorf("default since %v is %v before now, want six to seven days", got.Since, d)
	}

	_, err = c.Usage(ctx, since, "week")
	var ae *control.APIError
	if !errors.Is(err, control.ErrInvalid) || !errors.As(err, &ae) || !strings.Contains(ae.Message, "step") {
		t.Errorf("Usage with step week: err = %v, want ErrInvalid naming step", err)
	}
	if n := len(b.Usages); n != 2 {
		t.Errorf("backend calls = %d, want 2 (the bad step refused before)", n)
	}
}

func TestClientUsageByToken(t *testing.T) {
	start := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	want := control.Usage{Step: control.StepDay, Since: start, Buckets: []control.UsageBucket{
		{Start: start, Token: "0a1b", Label: "ci", Requests: 500, RateLimited: 12, InputTokens: 10, OutputTokens: 20},
	}}
	b := &controltest.Backend{UsageValue: want}
	hs := usageServer(t, b, start, time.UTC)
	c := control.NewClient(hs.URL, testSecret)
	got, err := c.UsageBy(context.Background(), start, control.StepDay, control.UsageByToken)
	if err != nil {
		t.Fatal(err)
	}
	if !usageEqual(got, want) {
		t.Errorf("UsageBy token = %+v, want %+v", got, want)
	}
	if calls := b.Usages; len(calls) != 1 || calls[0].By != control.UsageByToken {
		t.Errorf("backend calls = %+v, want one by token", calls)
	}
	// Without by: per account.
	resp, data := do(t, "GET", hs.URL+"/control/v1/usage", "", "Bearer "+testSecret, "")
	if resp.StatusCode != 200 || b.Usages[1].By != control.UsageByAccount {
		t.Errorf("GET usage = %d %s, backend asked by %q, want 200 by account", resp.StatusCode, data, b.Usages[1].By)
	}
	// A token's bucket has no account; an account's has no token.
	if !strings.Contains(string(data), `"token":"0a1b","label":"ci"`) || strings.Contains(string(data), `"account"`) {
		t.Errorf("token bucket JSON %s, want token and label without account", data)
	}
}

// usageEqual compares two Usage values, times by instant.
func usageEqual(a, b control.Usage) bool {
	norm := func(u control.Usage) control.Usage {
		u.Since = u.Since.UTC()
		u.Buckets = append([]control.UsageBucket(nil), u.Buckets...)
		for i := range u.Buckets {
			u.Buckets[i].Start = u.Buckets[i].Start.UTC()
		}
		return u
	}
	return reflect.DeepEqual(norm(a), norm(b))
}
