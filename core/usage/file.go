package usage

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// fileVersion is the version of the file format this package writes.
const fileVersion = 1

// file is the content of usage.json (see the package comment).
type file struct {
	Version int               `json:"version"`
	Hours   []json.RawMessage `json:"hours"`
	Tokens  []json.RawMessage `json:"tokens,omitempty"` // the client tokens' hours
}

// entry is one hour of one account (or client token), to be written.
type entry struct {
	Start   time.Time // UTC
	Account string    // or the client token's ID
	c       counters
}

// wireEntry is entry as JSON; the names are control.UsageBucket's.
type wireEntry struct {
	Start               time.Time `json:"start"`
	Account             string    `json:"account,omitempty"`
	Token               string    `json:"token,omitempty"`
	Requests            int64     `json:"requests,omitempty"`
	RateLimited         int64     `json:"rate_limited,omitempty"`
	Errors              int64     `json:"errors,omitempty"`
	ExtraUsageRequests  int64     `json:"extra_usage_requests,omitempty"`
	InputTokens         int64     `json:"input_tokens,omitempty"`
	OutputTokens        int64     `json:"output_tokens,omitempty"`
	CacheReadTokens     int64     `json:"cache_read_input_tokens,omitempty"`
	CacheCreationTokens int64     `json:"cache_creation_input_tokens,omitempty"`
	FiveHourPeak        *float64  `json:"five_hour_peak,omitempty"`
	SevenDayPeak        *float64  `json:"seven_day_peak,omitempty"`
}

// encode renders the accounts' hours and the client tokens' as the file's
// content, one line per hour, each list ordered by start and name; the
// client tokens' list is left out when it is empty.
func encode(entries, clients []entry) ([]byte, error) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `{"version":%d,"hours":[`, fileVersion)
	if err := encodeList(&buf, entries, false); err != nil {
		return nil, err
	}
	if len(clients) > 0 {
		buf.WriteString("\n],\"tokens\":[")
		if err := encodeList(&buf, clients, true); err != nil {
			return nil, err
		}
	}
	buf.WriteString("\n]}\n")
	return buf.Bytes(), nil
}

// encodeList writes entries sorted, a line each; clients says they are the
// client tokens'.
func encodeList(buf *bytes.Buffer, entries []entry, clients bool) error {
	slices.SortFunc(entries, func(a, b entry) int {
		return cmp.Or(a.Start.Compare(b.Start), strings.Compare(a.Account, b.Account))
	})
	for i, e := range entries {
		b := bucket(e.Start, e.Account, &e.c)
		w := wireEntry{
			Start: e.Start, Account: e.Account,
			Requests: b.Requests, RateLimited: b.RateLimited, Errors: b.Errors, ExtraUsageRequests: b.ExtraUsageRequests,
			InputTokens: b.InputTokens, OutputTokens: b.OutputTokens,
			CacheReadTokens: b.CacheReadTokens, CacheCreationTokens: b.CacheCreationTokens,
			FiveHourPeak: b.FiveHourPeak, SevenDayPeak: b.SevenDayPeak,
		}
		if clients {
			w.Token, w.Account = e.Account, ""
		}
		line, err := json.Marshal(w)
		if err != nil {
			return err
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
		buf.Write(line)
	}
	return nil
}

// load reads the file's content into r, which is empty. Two elements for
// the same hour and account (or token) are summed.
func (r *Recorder) load(data []byte) error {
	var f file
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	if f.Version != fileVersion {
		return fmt.Errorf("version %d, want %d", f.Version, fileVersion)
	}
	if err := loadList(&r.accounts, f.Hours, "hours", false); err != nil {
		return err
	}
	return loadList(&r.clients, f.Tokens, "tokens", true)
}

// loadList reads the elements of list (the file's member called name)
// into t: the client tokens' when clients is set.
func loadList(t *table, list []json.RawMessage, name string, clients bool) error {
	for i, raw := range list {
		var w wireEntry
		if err := json.Unmarshal(raw, &w); err != nil {
			return fmt.Errorf("%s[%d]: %w", name, i, err)
		}
		who := w.Account
		switch {
		case clients && w.Token == "":
			return fmt.Errorf("%s[%d]: no token", name, i)
		case clients:
			who = w.Token
		case w.Account == "":
			return fmt.Errorf("%s[%d]: no account", name, i)
		}
		if w.Start.IsZero() {
			return fmt.Errorf("%s[%d]: no start", name, i)
		}
		if min(w.Requests, w.RateLimited, w.Errors, w.ExtraUsageRequests, w.InputTokens, w.OutputTokens, w.CacheReadTokens, w.CacheCreationTokens) < 0 {
			return fmt.Errorf("%s[%d]: a negative count", name, i)
		}
		c := &counters{
			requests: w.Requests, rateLimited: w.RateLimited, errors: w.Errors, extra: w.ExtraUsageRequests,
			input: w.InputTokens, output: w.OutputTokens, cacheRead: w.CacheReadTokens, cacheCreation: w.CacheCreationTokens,
			fiveHour: -1, sevenDay: -1,
		}
		if w.FiveHourPeak != nil {
			raise(&c.fiveHour, *w.FiveHourPeak)
		}
		if w.SevenDayPeak != nil {
			raise(&c.sevenDay, *w.SevenDayPeak)
		}
		k := key{hourOf(w.Start), who}
		if old := t.hours[k]; old != nil {
			old.add(c)
		} else {
			t.hours[k] = c
		}
	}
	return nil
}
