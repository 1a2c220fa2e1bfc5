package daemon

import (
	"fmt"
	"io"
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
	base := control.BaseURL(addr)
	fmt.Fprintf(w, "MaxRouter %s listening on %s\n", d.o.Version, base)
	note := ""
	if d.created {
		note = " (created just now)"
	}
	fmt.Fprintf(w, "Config: %s%s\n", d.o.ConfigPath, note)
	snaps := d.pool.Snapshots()
	if len(snaps) == 0 {
		fmt.Fprintf(w, "\nNo accounts yet. Log in to a Claude subscription (a browser page opens):\n"+
			"  maxrouter accounts login work\n"+
			"or add a folder Claude Code is logged in to:\n"+
			"  maxrouter accounts add work --dir ~/.claude-work\n"+
			"(the accounts are kept in %s)\n", d.o.ConfigPath)
	} else {
		fmt.Fprintf(w, "\nAccounts (%s):\n", d.pool.Strategy())
		WriteAccounts(w, snaps, time.Now(), d.o.Home)
	}
	fmt.Fprintf(w, "\nPoint Claude Code at it (in its settings.json; --undo takes it back):\n")
	fmt.Fprintf(w, "  maxrouter setup claude\n")
	fmt.Fprintf(w, "or, for one shell:\n")
	fmt.Fprintf(w, "  export ANTHROPIC_BASE_URL=%s\n", base)
	fmt.Fprintf(w, "  export ANTHROPIC_AUTH_TOKEN=$(maxrouter tokens issue --label \"$(hostname)\")\n\n")
}

// WriteAccounts writes accounts as an aligned table: name, state with when
// it comes back (and what else to know: extra usage billed, a login about
// to end), plan, email, 5-hour and 7-day use with their resets, directory
// (home as "~").
func WriteAccounts(w io.Writer, accounts []control.Account, now time.Time, home string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tSTATE\tPLAN\tEMAIL\t5H\t7D\tDIRECTORY")
	for _, a := range accounts {
		state := strings.Join(append([]string{words.Brief(a, now, home)}, words.Notes(a, now)...), " · ")
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Name, state,
			orDash(words.Plan(a.Subscription, a.RateLimitTier)), orDash(a.Email),
			orDash(words.Window(a.FiveHour, now)), orDash(words.Window(a.SevenDay, now)), words.Tilde(a.Dir, home))
	}
	tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
