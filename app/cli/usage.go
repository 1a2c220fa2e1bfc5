package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/usage"
	"github.com/maxrouter/maxrouter/core/words"
)

// usageFile is the usage history's file name inside the data directory.
const usageFile = "usage.json"

func (a *app) usageCmd() *cobra.Command {
	var days int
	var by string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "usage",
		Short: "Show each account's (or client token's) usage history",
		Long: `Show what each account did per day (or hour): the answers Anthropic gave,
how many were rate limits (429s) or errors, how many were billed to paid
extra usage (EXTRA), the tokens it reported, and the
highest 5-hour and 7-day utilization it reported. With --by token, what
each client token did instead: the requests it sent, how many were refused
because its budget was spent (REFUSED), and the tokens their answers
reported (--by token,hour for hours). The history keeps 90 days.
When the daemon is not running, its history file is read directly.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if days < 1 {
				return fmt.Errorf("--days wants a whole number from 1 on, got %d", days)
			}
			step, group, err := parseBy(by)
			if err != nil {
				return err
			}
			since := startOfDay(a.now(), days-1)
			u, err := a.usage(since, step, group)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(u)
			}
			if len(u.Buckets) == 0 {
				fmt.Fprintf(a.stdout, "No usage recorded since %s. MaxRouter counts the requests it forwards; send some through it and look again.\n", since.Format("Mon 2006-01-02"))
				return nil
			}
			writeUsage(a.stdout, u, group)
			return nil
		},
	}
	cmd.Flags().IntVar(&days, "days", 7, "how many days to show, today included")
	cmd.Flags().StringVar(&by, "by", control.StepDay, "one line per \"day\" or \"hour\", and per \"account\" or client \"token\" (such as token,hour)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the history as JSON (the control API's GET usage body)")
	return cmd
}

// parseBy reads --by: a step ("day", "hour") and a grouping ("account",
// "token"), either or both, comma-separated.
func parseBy(by string) (step, group string, err error) {
	step, group = control.StepDay, control.UsageByAccount
	var seenStep, seenGroup bool
	for v := range strings.SplitSeq(by, ",") {
		switch v = strings.TrimSpace(v); v {
		case control.StepDay, control.StepHour:
			if seenStep {
				return "", "", fmt.Errorf("--by takes one of \"day\" and \"hour\", got %q", by)
			}
			step, seenStep = v, true
		case control.UsageByAccount, control.UsageByToken:
			if seenGroup {
				return "", "", fmt.Errorf("--by takes one of \"account\" and \"token\", got %q", by)
			}
			group, seenGroup = v, true
		default:
			return "", "", fmt.Errorf("--by wants %q or %q, and %q or %q (such as token,hour), got %q",
				control.StepDay, control.StepHour, control.UsageByAccount, control.UsageByToken, by)
		}
	}
	return step, group, nil
}

// usage asks the daemon for the history from since on, per account or per
// client token (group), or reads the history file when no daemon runs
// (without ever writing it).
func (a *app) usage(since time.Time, step, group string) (control.Usage, error) {
	t, err := a.find()
	if err != nil {
		return control.Usage{}, err
	}
	if t.client != nil {
		u, err := t.client.UsageBy(ctx(), since, step, group)
		if errors.Is(err, control.ErrNotFound) {
			return control.Usage{}, fmt.Errorf("the running daemon (%s) keeps no usage history: restart it with this version", t.status.Version)
		}
		return u, err
	}
	path := filepath.Join(t.cfg.DataDirFor(t.path), usageFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(a.stderr, "The daemon is not running and has kept no usage history yet (no %s).\n", path)
		return control.Usage{Step: step, Since: since}, nil
	}
	rec, err := usage.Open(path, a.now)
	if err != nil {
		return control.Usage{}, err
	}
	fmt.Fprintf(a.stderr, "The daemon is not running; this is the history in %s.\n", path)
	if group == control.UsageByToken {
		u := rec.QueryClients(since, step, time.Local)
		if s, err := t.store(); err == nil {
			u = usage.Labelled(u, s.List())
		}
		return u, nil
	}
	return rec.Query(since, step), nil
}

// startOfDay returns local midnight daysBack days before now's day.
func startOfDay(now time.Time, daysBack int) time.Time {
	now = now.Local()
	return time.Date(now.Year(), now.Month(), now.Day()-daysBack, 0, 0, 0, 0, time.Local)
}

// writeUsage prints u as a table: a line per account (or client token,
// when group is control.UsageByToken) and period, then a total line per
// period.
func writeUsage(w io.Writer, u control.Usage, group string) {
	period, layout := "DAY", "Mon 2006-01-02"
	if u.Step == control.StepHour {
		period, layout = "HOUR", "Mon 2006-01-02 15:00"
	}
	t := accountColumns
	if group == control.UsageByToken {
		t = tokenColumns
	}
	rows := [][]string{append([]string{period}, t.head...)}
	buckets := slices.Clone(u.Buckets)
	slices.SortStableFunc(buckets, func(x, y control.UsageBucket) int { return x.Start.Compare(y.Start) })
	for i := 0; i < len(buckets); {
		j := i
		var sum control.UsageBucket
		for ; j < len(buckets) && buckets[j].Start.Equal(buckets[i].Start); j++ {
			when := ""
			if j == i {
				when = buckets[j].Start.Local().Format(layout)
			}
			rows = append(rows, append([]string{when}, t.row(buckets[j], false)...))
			sum.Add(buckets[j])
		}
		rows = append(rows, append([]string{""}, t.row(sum, true)...))
		i = j
	}
	writeTable(w, rows, 1+t.left)
}

// usageColumns is how a usage table reads after its period column: the
// heads, how many columns are text (the rest are numbers), and a bucket's
// cells (total: the period's total line).
type usageColumns struct {
	head []string
	left int
	row  func(b control.UsageBucket, total bool) []string
}

var accountColumns = usageColumns{
	head: []string{"ACCOUNT", "REQUESTS", "429s", "ERRORS", "EXTRA", "INPUT", "OUTPUT", "CACHE READ", "5H PEAK", "7D PEAK"},
	left: 1,
	row: func(b control.UsageBucket, total bool) []string {
		name, five, seven := b.Account, words.Peak(b.FiveHourPeak), words.Peak(b.SevenDayPeak)
		if total {
			name, five, seven = "total", "", ""
		}
		return []string{name,
			words.Approx(b.Requests), words.Approx(b.RateLimited), words.Approx(b.Errors), words.Approx(b.ExtraUsageRequests),
			words.Approx(b.InputTokens), words.Approx(b.OutputTokens), words.Approx(b.CacheReadTokens),
			five, seven}
	},
}

var tokenColumns = usageColumns{
	head: []string{"TOKEN", "ID", "REQUESTS", "REFUSED", "INPUT", "OUTPUT", "CACHE READ"},
	left: 2,
	row: func(b control.UsageBucket, total bool) []string {
		label, id := or(b.Label, "(unknown)"), b.Token
		if total {
			label, id = "total", ""
		}
		return []string{label, id, words.Approx(b.Requests), words.Approx(b.RateLimited),
			words.Approx(b.InputTokens), words.Approx(b.OutputTokens), words.Approx(b.CacheReadTokens)}
	},
}

// writeTable prints rows in columns two spaces apart: the columns before
// rightFrom aligned left, the others right (numbers). Trailing blanks are
// trimmed.
func writeTable(w io.Writer, rows [][]string, rightFrom int) {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var sb strings.Builder
	for _, r := range rows {
		sb.Reset()
		for i, c := range r {
			if i > 0 {
				sb.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i < rightFrom {
				sb.WriteString(c + pad)
			} else {
				sb.WriteString(pad + c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(sb.String(), " "))
	}
}
