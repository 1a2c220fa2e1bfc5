package control_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
)

func TestParseCount(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"500", 500},
		{" 500 ", 500},
		{"0", 0},
		{"none", 0},
		{"None", 0},
		{"off", 0},
		{"500k", 500_000},
		{"500K", 500_000},
		{"2M", 2_000_000},
		{"2m", 2_000_000},
		{"1.5M", 1_500_000},
		{"1.25k", 1_250},
		{"0.5k", 500},
		{".5k", 500},
		{"3B", 3_000_000_000},
		{"3G", 3_000_000_000},
		{"2,000,000", 2_000_000},
		{"2_000", 2_000},
		{"1.000000M", 1_000_000},
		{"1000000000000000", 1_000_000_000_000_000},
	}
	for _, tt := range tests {
		got, err := control.ParseCount(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseCount(%q) = %d, %v, want %d", tt.in, got, err, tt.want)
		}
	}
	bad := []struct{ in, wantMsg string }{
		{"", "empty"},
		{"2X", `"2X"`},
		{"-5", `"-5"`},
		{"1.5", "not a whole number"},
		{"1.2345k", "not a whole number"},
		{"k", `"k"`},
		{"1e6", `"1e6"`},
		{"2 M", `"2 M"`},
		{"1.2.3", `"1.2.3"`},
		{"9999999999999999999", "million billion"},
		{"2000000000B", "million billion"},
	}
	for _, tt := range bad {
		got, err := control.ParseCount(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
			t.Errorf("ParseCount(%q) = %d, %v, want an error mentioning %s", tt.in, got, err, tt.wantMsg)
		}
	}
	if _, err := control.ParseCount("2X"); !errors.Is(err, control.ErrCount) || !strings.Contains(err.Error(), "500k or 2M") {
		t.Errorf("ParseCount(2X) error %v does not say what a count looks like", err)
	}
}

func TestParsePeriod(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		str  string
	}{
		{"5h", 5 * time.Hour, "5h"},
		{"1d", 24 * time.Hour, "1d"},
		{"7d", 7 * 24 * time.Hour, "7d"},
		{"90m", 90 * time.Minute, "1h30m"},
		{"1h30m", 90 * time.Minute, "1h30m"},
		{"1d12h", 36 * time.Hour, "36h"},
		{"48h", 48 * time.Hour, "2d"},
		{"1m", time.Minute, "1m"},
		{"90s", 90 * time.Second, "1m30s"},
		{"366d", 366 * 24 * time.Hour, "366d"},
	}
	for _, tt := range tests {
		got, err := control.ParsePeriod(tt.in)
		if err != nil || time.Duration(got) != tt.want {
			t.Errorf("ParsePeriod(%q) = %v, %v, want %v", tt.in, time.Duration(got), err, tt.want)
			continue
		}
		if s := got.String(); s != tt.str {
			t.Errorf("Period(%v).String() = %q, want %q", tt.want, s, tt.str)
		}
		if back, err := control.ParsePeriod(got.String()); err != nil || back != got {
			t.Errorf("ParsePeriod(%q) = %v, %v: String does not read back", got.String(), back, err)
		}
	}
	bad := []struct{ in, wantMsg string }{
		{"", "want a duration"},
		{"5", "want a duration"},
		{"5x", "want a duration"},
		{"d", "want a duration"},
		{"-1d", "want a duration"},
		{"-5h", "want a duration"},
		{"1dd", "want a duration"},
		{"30s", "shorter than a minute"},
		{"0", "shorter than a minute"},
		{"367d", "want a duration"},
		{"366d1h", "longer than 366 days"},
		{"9000h", "longer than 366 days"},
	}
	for _, tt := range bad {
		got, err := control.ParsePeriod(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.wantMsg) || !strings.Contains(err.Error(), `"`+tt.in+`"`) {
			t.Errorf("ParsePeriod(%q) = %v, %v, want an error naming it and saying %q", tt.in, got, err, tt.wantMsg)
		}
	}
}

func TestLimitsJSON(t *testing.T) {
	is := control.IssueRequest{Label: "ci", Limits: control.Limits{MaxRequests: 500, MaxTokens: 2_000_000, Per: control.Period(5 * time.Hour)}}
	data, err := json.Marshal(is)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(data), `{"label":"ci","max_requests":500,"max_tokens":2000000,"per":"5h"}`; got != want {
		t.Errorf("IssueRequest JSON = %s, want %s", got, want)
	}
	var back control.IssueRequest
	if err := json.Unmarshal([]byte(`{"label":"ci","max_cache_read_tokens":9,"per":"7d"}`), &back); err != nil {
		t.Fatal(err)
	}
	if back.MaxCacheReads != 9 || back.Per != control.Period(7*24*time.Hour) {
		t.Errorf("decoded %+v, want 9 cache reads per 7d", back)
	}
	if err := json.Unmarshal([]byte(`{"label":"ci","per":"5 hours"}`), &back); err == nil || !strings.Contains(err.Error(), `"5 hours"`) {
		t.Errorf("decoding per \"5 hours\": %v, want an error naming it", err)
	}
	// A token without limits says nothing of them.
	data, _ = json.Marshal(control.Token{ID: "a"})
	for _, k := range []string{"max_requests", "max_tokens", "per"} {
		if strings.Contains(string(data), k) {
			t.Errorf("token without limits has %s: %s", k, data)
		}
	}
	if !strings.Contains(string(data), `"window":null`) {
		t.Errorf("token JSON %s lacks \"window\":null", data)
	}
}

func TestLimitsCheckAndApply(t *testing.T) {
	h5 := control.Period(5 * time.Hour)
	d1 := control.Period(24 * time.Hour)
	n := func(v int64) *int64 { return &v }
	p := func(v control.Period) *control.Period { return &v }
	checks := []struct {
		name    string
		in      control.Limits
		want    control.Limits
		wantErr string
	}{
		{"none", control.Limits{}, control.Limits{}, ""},
		{"default window", control.Limits{MaxRequests: 5}, control.Limits{MaxRequests: 5, Per: h5}, ""},
		{"window without a limit is dropped", control.Limits{Per: d1}, control.Limits{}, ""},
		{"kept", control.Limits{MaxTokens: 9, Per: d1}, control.Limits{MaxTokens: 9, Per: d1}, ""},
		{"negative", control.Limits{MaxTokens: -1}, control.Limits{}, "max_tokens is negative"},
		{"short window", control.Limits{MaxTokens: 1, Per: control.Period(time.Second)}, control.Limits{}, "from a minute"},
	}
	for _, tt := range checks {
		got, err := tt.in.Check()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: Check = %+v, %v, want error %q", tt.name, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: Check = %+v, %v, want %+v", tt.name, got, err, tt.want)
		}
	}

	base := control.Limits{MaxRequests: 500, MaxTokens: 2_000_000, Per: h5}
	applies := []struct {
		name    string
		u       control.TokenUpdate
		want    control.Limits
		wantErr string
	}{
		{"nothing", control.TokenUpdate{}, base, ""},
		{"one limit", control.TokenUpdate{MaxTokens: n(3_000_000)}, control.Limits{MaxRequests: 500, MaxTokens: 3_000_000, Per: h5}, ""},
		{"remove one", control.TokenUpdate{MaxRequests: n(0)}, control.Limits{MaxTokens: 2_000_000, Per: h5}, ""},
		{"remove all", control.TokenUpdate{MaxRequests: n(0), MaxTokens: n(0)}, control.Limits{}, ""},
		{"window", control.TokenUpdate{Per: p(d1)}, control.Limits{MaxRequests: 500, MaxTokens: 2_000_000, Per: d1}, ""},
		{"cache reads", control.TokenUpdate{MaxCacheReads: n(50_000_000)}, control.Limits{MaxRequests: 500, MaxTokens: 2_000_000, MaxCacheReads: 50_000_000, Per: h5}, ""},
		{"window of nothing", control.TokenUpdate{MaxRequests: n(0), MaxTokens: n(0), Per: p(d1)}, control.Limits{}, "does not have"},
		{"window zero", control.TokenUpdate{Per: p(0)}, control.Limits{}, "per is 0"},
		{"negative", control.TokenUpdate{MaxRequests: n(-2)}, control.Limits{}, "max_requests is negative"},
	}
	for _, tt := range applies {
		got, err := tt.u.Apply(base)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: Apply = %+v, %v, want error %q", tt.name, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: Apply = %+v, %v, want %+v", tt.name, got, err, tt.want)
		}
	}
	// From no limits at all, a maximum alone gets the default window.
	if got, err := (control.TokenUpdate{MaxRequests: n(10)}).Apply(control.Limits{}); err != nil || got != (control.Limits{MaxRequests: 10, Per: control.DefaultPer}) {
		t.Errorf("Apply on no limits = %+v, %v, want 10 requests per 5h", got, err)
	}
}
