package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/credential"
	"github.com/maxrouter/maxrouter/core/daemon"
	"github.com/maxrouter/maxrouter/core/words"
)

func (a *app) accountsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "accounts",
		Short: "Show the accounts and their state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := a.find()
			if err != nil {
				return err
			}
			now := time.Now()
			if t.client != nil {
				accts, err := t.client.Accounts(ctx())
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "MaxRouter %s on %s\n\n", t.status.Version, t.status.Listen)
				daemon.WriteAccounts(a.stdout, accts, now, homeDir())
				return nil
			}
			if !t.exists {
				fmt.Fprintf(a.stdout, "No configuration yet (%s). `maxrouter serve` creates it with the Claude Code logins it finds.\n", t.path)
				return nil
			}
			fmt.Fprintf(a.stdout, "The daemon is not running; this is what the credential files say.\n\n")
			daemon.WriteAccounts(a.stdout, offline(t.cfg, now), now, homeDir())
			return nil
		},
	}
}

// offline describes the configured accounts from their files alone.
func offline(cfg config.Config, now time.Time) []control.Account {
	home := homeDir()
	var out []control.Account
	for _, ac := range cfg.Accounts {
		s := control.Account{Name: ac.Name, Dir: ac.Dir, State: control.StateAvailable}
		switch {
		case !ac.IsEnabled():
			s.State = control.StateDisabled
		case ac.Token != "":
			s.Dir = words.TokenDir
		default:
			info, err := credential.Inspect(config.ExpandHome(ac.Dir, home))
			switch {
			case errors.Is(err, credential.ErrNoCredentials):
				s.State, s.Reason = control.StateNeedsLogin, "no login found: run "+words.LoginCommand(ac.Dir, home)
			case err != nil:
				s.State, s.Reason = control.StateError, err.Error()
			default:
				s.Subscription = info.Subscription
				if !info.ExpiresAt.IsZero() && now.After(info.ExpiresAt) && !info.CanRefresh {
					s.State, s.Reason = control.StateNeedsLogin, "token expired and cannot be refreshed"
				}
			}
		}
		out = append(out, s)
	}
	return out
}
