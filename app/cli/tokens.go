package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/words"
)

func (a *app) tokensCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tokens",
		Short: "Issue, list, limit and revoke client tokens (la_sk_…)",
		Long: `Client tokens admit Claude Code and SDKs to the proxy: set one as
ANTHROPIC_AUTH_TOKEN. When the daemon runs, changes go through it and take
effect at once; otherwise the token store is changed directly.

A token can have a budget: at most --max-requests requests and
--max-tokens tokens (input, cache writes and output; cache reads have their
own --max-cache-reads) in each window of --per (5h, 1d, 7d, any duration;
default 5h). A window starts with the token's first request and ends --per
later; once the token has spent its budget, its requests are refused (429,
saying until when) until the window ends. Counts take forms such as 500,
500k, 2M or 1.5M.`,
	}
	var label, ttl string
	var lf limitFlags
	issue := &cobra.Command{
		Use:   "issue --label LABEL [--ttl 720h] [--max-requests N] [--max-tokens N] [--max-cache-reads N] [--per 5h]",
		Short: "Print a new client token (alone on stdout)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			life, err := parseTTL(ttl, false)
			if err != nil {
				return err
			}
			limits, err := lf.limits()
			if err != nil {
				return err
			}
			t, err := a.find()
			if err != nil {
				return err
			}
			var is control.Issued
			if t.client != nil {
				req := control.IssueRequest{Label: label, Limits: limits}
				if life > 0 {
					req.TTL = life.String()
				}
				is, err = t.client.IssueTokenWith(ctx(), req)
			} else {
				s, serr := t.store()
				if serr != nil {
					return serr
				}
				is.Secret, is.Token, err = s.IssueWithLimits(label, life, limits)
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, is.Secret)
			exp := "never expires"
			if is.ExpiresAt != nil {
				exp = "expires " + is.ExpiresAt.Local().Format("2006-01-02 15:04")
			}
			lim := ""
			if is.Limited() {
				lim = ", " + words.Limits(is.Limits)
			}
			fmt.Fprintf(a.stderr, "Issued token %s (%q, %s%s). It is shown only this once.\n", is.ID, is.Label, exp, lim)
			return nil
		},
	}
	issue.Flags().StringVar(&label, "label", "", "what the token is for, e.g. the machine or tool (required)")
	issue.Flags().StringVar(&ttl, "ttl", "", "lifetime, e.g. 720h or 30d (default: never expires)")
	lf.add(issue, "no limit")
	issue.MarkFlagRequired("label")

	var none bool
	var lttl string
	var ul limitFlags
	limit := &cobra.Command{
		Use:   "limit ID [--max-requests N|none] [--max-tokens N|none] [--max-cache-reads N|none] [--per 5h] [--ttl 30d|never] [--none]",
		Short: "Change a client token's limits or expiry",
		Long: `Change a client token's budget or lifetime. Only the flags given change:
--max-tokens 3M keeps the other limits. "none" (or 0) removes one limit,
--none removes them all (the token is then unlimited, and its window
forgotten); --ttl sets the expiry that long from now, --ttl never removes it.
Changed limits apply to the token's next request; the window in progress
keeps what it counted, and ends --per after it started.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := ul.update(cmd)
			if err != nil {
				return err
			}
			if none {
				if ul.any(cmd) {
					return errors.New("--none removes every limit: give it alone, or name the limits to keep")
				}
				var zero int64
				u.MaxRequests, u.MaxTokens, u.MaxCacheReads = &zero, &zero, &zero
			}
			if cmd.Flags().Changed("ttl") {
				life, err := parseTTL(lttl, true)
				if err != nil {
					return err
				}
				if life == 0 {
					u.NeverExpires = true
				} else {
					exp := a.now().Add(life)
					u.ExpiresAt = &exp
				}
			}
			if u.Empty() {
				return errors.New("nothing to change: give --max-requests, --max-tokens, --max-cache-reads, --per, --ttl or --none")
			}
			t, err := a.find()
			if err != nil {
				return err
			}
			var tok control.Token
			if t.client != nil {
				tok, err = t.client.UpdateToken(ctx(), args[0], u)
			} else {
				s, serr := t.store()
				if serr != nil {
					return serr
				}
				tok, err = s.Update(args[0], u)
			}
			if err != nil {
				return fmt.Errorf("changing %s: %w (see `maxrouter tokens list`)", args[0], err)
			}
			fmt.Fprintf(a.stderr, "Token %s (%q): %s; expires %s.\n", tok.ID, tok.Label, words.Limits(tok.Limits), expires(tok))
			return nil
		},
	}
	ul.add(limit, `"none" removes the limit`)
	limit.Flags().BoolVar(&none, "none", false, "remove every limit")
	limit.Flags().StringVar(&lttl, "ttl", "", `expire this long from now, e.g. 720h or 30d; "never" removes the expiry`)

	list := &cobra.Command{
		Use:   "list",
		Short: "List client tokens",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			toks, err := a.tokens()
			if err != nil {
				return err
			}
			if len(toks) == 0 {
				fmt.Fprintln(a.stdout, "No client tokens yet. Create one: maxrouter tokens issue --label laptop")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tLABEL\tTOKEN\tCREATED\tEXPIRES\tLAST USED\tLIMITS\tTHIS WINDOW\tSTATUS")
			now := a.now().Local()
			for _, k := range toks {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Label, k.Prefix, k.CreatedAt.Local().Format("2006-01-02"), expires(k), lastUsed(k),
					limitsOf(k), or(words.TokenUse(k, now), "–"), words.TokenStatus(k, now))
			}
			return tw.Flush()
		},
	}
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one client token: label, created, expires, last used (never the secret)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			toks, err := a.tokens()
			if err != nil {
				return err
			}
			for _, k := range toks {
				if k.ID != args[0] {
					continue
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
				now := a.now().Local()
				rows := [][2]string{
					{"ID", k.ID}, {"Label", k.Label}, {"Token", k.Prefix},
					{"Created", k.CreatedAt.Local().Format("2006-01-02 15:04")},
					{"Expires", expires(k)}, {"Last used", lastUsed(k)}, {"Limits", words.Limits(k.Limits)},
				}
				if use := words.TokenUse(k, now); use != "" {
					rows = append(rows, [2]string{"This window", use})
				}
				rows = append(rows, [2]string{"Status", words.TokenStatus(k, now)})
				for _, row := range rows {
					fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
				}
				return tw.Flush()
			}
			return fmt.Errorf("no client token has the ID %q (see `maxrouter tokens list`)", args[0])
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a client token",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := a.find()
			if err != nil {
				return err
			}
			if t.client != nil {
				err = t.client.RevokeToken(ctx(), args[0])
			} else {
				s, serr := t.store()
				if serr != nil {
					return serr
				}
				err = s.Revoke(args[0])
			}
			if err != nil {
				return fmt.Errorf("revoking %s: %w (see `maxrouter tokens list`)", args[0], err)
			}
			fmt.Fprintf(a.stderr, "Revoked %s.\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(issue, list, show, limit, revoke)
	return cmd
}

// limitFlags are the flags that set a client token's limits, as typed.
type limitFlags struct {
	requests, tokens, cacheReads, per string
}

// add defines the flags on cmd; zero says what a count of 0 means.
func (l *limitFlags) add(cmd *cobra.Command, zero string) {
	f := cmd.Flags()
	f.StringVar(&l.requests, "max-requests", "", "requests per window, e.g. 500 ("+zero+")")
	f.StringVar(&l.tokens, "max-tokens", "", "tokens per window: input, cache writes and output, e.g. 2M ("+zero+")")
	f.StringVar(&l.cacheReads, "max-cache-reads", "", "cache-read tokens per window, e.g. 50M ("+zero+")")
	f.StringVar(&l.per, "per", "", "the window, e.g. 5h, 1d or 7d (default 5h)")
}

// names are the flags of limitFlags.
var limitNames = [...]string{"max-requests", "max-tokens", "max-cache-reads", "per"}

// any reports whether cmd was given any of the flags.
func (l *limitFlags) any(cmd *cobra.Command) bool {
	for _, n := range limitNames {
		if cmd.Flags().Changed(n) {
			return true
		}
	}
	return false
}

// limits reads the flags into Limits; a flag not given is no limit.
func (l *limitFlags) limits() (control.Limits, error) {
	var out control.Limits
	for _, f := range [...]struct {
		name, v string
		dst     *int64
	}{{"max-requests", l.requests, &out.MaxRequests}, {"max-tokens", l.tokens, &out.MaxTokens}, {"max-cache-reads", l.cacheReads, &out.MaxCacheReads}} {
		if f.v == "" {
			continue
		}
		n, err := control.ParseCount(f.v)
		if err != nil {
			return out, fmt.Errorf("--%s: %w", f.name, err)
		}
		*f.dst = n
	}
	if l.per != "" {
		p, err := control.ParsePeriod(l.per)
		if err != nil {
			return out, fmt.Errorf("--per: %w", err)
		}
		if !out.Limited() {
			return out, errors.New("--per sets the window of limits: give --max-requests, --max-tokens or --max-cache-reads too")
		}
		out.Per = p
	}
	return out, nil
}

// update reads the flags cmd was given into a TokenUpdate.
func (l *limitFlags) update(cmd *cobra.Command) (control.TokenUpdate, error) {
	var u control.TokenUpdate
	for _, f := range [...]struct {
		name, v string
		dst     **int64
	}{{"max-requests", l.requests, &u.MaxRequests}, {"max-tokens", l.tokens, &u.MaxTokens}, {"max-cache-reads", l.cacheReads, &u.MaxCacheReads}} {
		if !cmd.Flags().Changed(f.name) {
			continue
		}
		n, err := control.ParseCount(f.v)
		if err != nil {
			return u, fmt.Errorf("--%s: %w", f.name, err)
		}
		*f.dst = &n
	}
	if cmd.Flags().Changed("per") {
		p, err := control.ParsePeriod(l.per)
		if err != nil {
			return u, fmt.Errorf("--per: %w", err)
		}
		u.Per = &p
	}
	return u, nil
}

// parseTTL reads a lifetime: a Go duration ("720h") or days ("30d",
// "1d12h"); "0" is none (never expires), and so is "" unless never is
// set, when "never" is none too.
func parseTTL(s string, never bool) (time.Duration, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "" && never:
		return 0, errors.New(`--ttl wants a lifetime such as 720h or 30d, or "never"`)
	case s == "", s == "0", never && strings.EqualFold(s, "never"):
		return 0, nil
	}
	var d time.Duration
	rest := s
	if days, r, ok := strings.Cut(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100*366 || days == "" || days[0] == '+' {
			return 0, fmt.Errorf("--ttl: invalid lifetime %q: want a duration such as 720h or 30d", s)
		}
		d, rest = time.Duration(n)*24*time.Hour, r
	}
	if rest != "" || d == 0 {
		v, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("--ttl: invalid lifetime %q: want a duration such as 720h or 30d", s)
		}
		d += v
	}
	if d <= 0 {
		return 0, fmt.Errorf("--ttl: invalid lifetime %q: want a positive duration", s)
	}
	return d, nil
}

// limitsOf writes k's limits for a table, "–" for none.
func limitsOf(k control.Token) string {
	if !k.Limited() {
		return "–"
	}
	return words.Limits(k.Limits)
}

// or is s, or alt when s is "".
func or(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// tokens lists the client tokens, from the daemon when it runs, from the
// store otherwise.
func (a *app) tokens() ([]control.Token, error) {
	t, err := a.find()
	if err != nil {
		return nil, err
	}
	return t.tokens()
}

func (t *target) tokens() ([]control.Token, error) {
	if t.client != nil {
		return t.client.Tokens(ctx())
	}
	s, err := t.store()
	if err != nil {
		return nil, err
	}
	return s.List(), nil
}

func lastUsed(k control.Token) string {
	if k.LastUsedAt == nil {
		return "never"
	}
	return k.LastUsedAt.Local().Format("2006-01-02 15:04")
}

func expires(k control.Token) string {
	if k.ExpiresAt == nil {
		return "never"
	}
	return k.ExpiresAt.Local().Format("2006-01-02 15:04")
}
