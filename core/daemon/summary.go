package daemon

import (
	"fmt"
	"io"
	"net"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/words"
)

// Summary writes what a person starting the daemon needs to know: where it
// listens, the accounts and their state, and how to point Claude Code at
// it. It never prints a secret.
func (d *Daemon) Summary(w io.Writer) {
	addr := d.Addr()
	base := "http://" + clientAddr(addr)
	fmt.Fprintf(w, "MaxRouter %s listening on %s\n", d.o.Version, base)
	note := ""
	if d.created {
		note = " (created just now)"
	}
	fmt.Fprintf(w, "Config: %s%s\n", d.o.ConfigPath, note)
	snaps := d.pool.Snapshots()
	if len(snaps) == 0 {
		fmt.Fprintf(w, "\nNo accounts yet. Log in with Claude Code (`claude`, then /login), or add a\n"+
			"directory to %s:\n  [[account]]\n  name = \"work\"\n  dir  = \"~/.claude-work\"\n", d.o.ConfigPath)
	} else {
		fmt.Fprintf(w, "\nAccounts (%s):\n", d.pool.Strategy())
		WriteAccounts(w, snaps, time.Now())
	}
	fmt.Fprintf(w, "\nPoint Claude Code at it:\n")
	fmt.Fprintf(w, "  export ANTHROPIC_BASE_URL=%s\n", base)
	fmt.Fprintf(w, "  export ANTHROPIC_AUTH_TOKEN=$(maxrouter tokens issue --label \"$(hostname)\")\n\n")
}

// clientAddr turns a listen address into one a client can dial.
func clientAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// WriteAccounts writes accounts as an aligned table: name, state with when
// it comes back, plan, 5-hour and 7-day use, directory.
func WriteAccounts(w io.Writer, accounts []control.Account, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tSTATE\tPLAN\t5H\t7D\tDIRECTORY")
	for _, a := range accounts {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", a.Name, StateText(a, now), orDash(words.Plan(a.Subscription, a.RateLimitTier)), pct(a.FiveHour), pct(a.SevenDay), a.Dir)
	}
	tw.Flush()
}

// StateText says an account's state in words: "available",
// "cooling until 14:32 (5-hour limit)", "needs login: …".
func StateText(a control.Account, now time.Time) string {
	switch a.State {
	case control.StateCooling:
		s := "cooling"
		if a.CooldownUntil != nil {
			s += " until " + clock(*a.CooldownUntil, now)
		}
		if a.Reason != "" {
			s += " (" + a.Reason + ")"
		}
		return s
	case control.StateNeedsLogin, control.StateError:
		if a.Reason != "" {
			return strings.ReplaceAll(a.State, "_", " ") + ": " + a.Reason
		}
	}
	return strings.ReplaceAll(a.State, "_", " ")
}

func clock(t, now time.Time) string {
	t = t.Local()
	if y1, m1, d1 := t.Date(); func() bool { y2, m2, d2 := now.Local().Date(); return y1 == y2 && m1 == m2 && d1 == d2 }() {
		return t.Format("15:04")
	}
	return t.Format("Mon 15:04")
}

func pct(w control.Window) string {
	if w.ResetsAt == nil && w.Utilization == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", w.Utilization*100)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
