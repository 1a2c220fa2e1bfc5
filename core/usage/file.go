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
}

// entry is one hour of one account, to be written.
type entry struct {
	Start   time.Time // UTC
	Account string
	c       counters
}

// wireEntry is entry as JSON; the names are control.UsageBucket's.
type wireEntry struct {
	Start               time.Time `json:"start"`
	Account             string    `json:"account"`
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

// encode renders entries as the file's content, one line per hour, ordered
// by start and account.
func encode(entries []entry) ([]byte, error) {
	slices.SortFunc(entries, func(a, b entry) int {
		return cmp.Or(a.Start.Compare(b.Start), strings.Compare(a.Account, b.Account))
	})
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `{"version":%d,"hours":[`, fileVersion)
	for i, e := range entries {
		b := bucket(e.Start, e.Account, &e.c)
		line, err := json.Marshal(wireEntry{
			Start: e.Start, Account: e.Account,
			Requests: b.Requests, RateLimited: b.RateLimited, Errors: b.Errors, ExtraUsageRequests: b.ExtraUsageRequests,
			InputTokens: b.InputTokens, OutputTokens: b.OutputTokens,
			CacheReadTokens: b.CacheReadTokens, CacheCreationTokens: b.CacheCreationTokens,
			FiveHourPeak: b.FiveHourPeak, SevenDayPeak: b.SevenDayPeak,
		})
		if err != nil {
			return nil, err
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
		buf.Write(line)
	}
	buf.WriteString("\n]}\n")
	return buf.Bytes(), nil
}

// load reads the file's content into r, which is empty. Two elements for
// the same hour and account are summed.
func (r *Recorder) load(data []byte) error {
	var f file
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	if f.Version != fileVersion {
		return fmt.Errorf("version %d, want %d", f.Version, fileVersion)
	}
	for i, raw := range f.Hours {
		var w wireEntry
		if err := json.Unmarshal(raw, &w); err != nil {
			return fmt.Errorf("hours[%d]: %w", i, err)
		}
		if w.Account == "" {
			return fmt.Errorf("hours[%d]: no account", i)
		}
		if w.Start.IsZero() {
			return fmt.Errorf("hours[%d]: no start", i)
		}
		if min(w.Requests, w.RateLimited, w.Errors, w.ExtraUsageRequests, w.InputTokens, w.OutputTokens, w.CacheReadTokens, w.CacheCreationTokens) < 0 {
			return fmt.Errorf("hours[%d]: a negative count", i)
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
		k := key{hourOf(w.Start), w.Account}
		if old := r.hours[k]; old != nil {
			old.add(c)
		} else {
			r.hours[k] = c
		}
	}
	return nil
}
