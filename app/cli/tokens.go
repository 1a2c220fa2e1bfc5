package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/maxrouter/maxrouter/core/control"
)

func (a *app) tokensCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tokens",
		Short: "Issue, list and revoke client tokens (la_sk_…)",
		Long: `Client tokens admit Claude Code and SDKs to the proxy: set one as
ANTHROPIC_AUTH_TOKEN. When the daemon runs, changes go through it and take
effect at once; otherwise the token store is changed directly.`,
	}
	var label string
	var ttl time.Duration
	issue := &cobra.Command{
		Use:   "issue --label LABEL [--ttl 720h]",
		Short: "Print a new client token (alone on stdout)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := a.find()
			if err != nil {
				return err
			}
			var is control.Issued
			if t.client != nil {
				is, err = t.client.IssueToken(ctx(), label, ttl)
			} else {
				s, serr := t.store()
				if serr != nil {
					return serr
				}
				is.Secret, is.Token, err = s.Issue(label, ttl)
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, is.Secret)
			exp := "never expires"
			if is.ExpiresAt != nil {
				exp = "expires " + is.ExpiresAt.Local().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(a.stderr, "Issued token %s (%q, %s). It is shown only this once.\n", is.ID, is.Label, exp)
			return nil
		},
	}
	issue.Flags().StringVar(&label, "label", "", "what the token is for, e.g. the machine or tool (required)")
	issue.Flags().DurationVar(&ttl, "ttl", 0, "lifetime, e.g. 720h (default: never expires)")
	issue.MarkFlagRequired("label")

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
			fmt.Fprintln(tw, "ID\tLABEL\tTOKEN\tCREATED\tEXPIRES\tLAST USED\tSTATUS")
			now := time.Now()
			for _, k := range toks {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Label, k.Prefix, k.CreatedAt.Local().Format("2006-01-02"), expires(k), lastUsed(k), tokenStatus(k, now))
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
				for _, row := range [][2]string{
					{"ID", k.ID}, {"Label", k.Label}, {"Token", k.Prefix},
					{"Created", k.CreatedAt.Local().Format("2006-01-02 15:04")},
					{"Expires", expires(k)}, {"Last used", lastUsed(k)}, {"Status", tokenStatus(k, time.Now())},
				} {
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
	cmd.AddCommand(issue, list, show, revoke)
	return cmd
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

func tokenStatus(k control.Token, now time.Time) string {
	switch {
	case k.RevokedAt != nil:
		return "revoked"
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return "expired"
	}
	return "active"
}
