package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/maxrouter/maxrouter/app/setup"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/token"
)

func (a *app) setupCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Point clients at MaxRouter",
	}
	var undo bool
	claude := &cobra.Command{
		Use:   "claude [--undo]",
		Short: "Point Claude Code at MaxRouter in its user settings",
		Long: `Write env.ANTHROPIC_BASE_URL and env.ANTHROPIC_AUTH_TOKEN (a client token
issued for this computer) into Claude Code's user settings,
$CLAUDE_CONFIG_DIR/settings.json or ~/.claude/settings.json, keeping every
other key, after a timestamped backup next to it. Running it again changes
nothing. With --undo the backup is restored (or, when the file changed
since, just those two keys are removed) and the token is revoked.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.claudeSetup()
			if err != nil {
				return err
			}
			if undo {
				res, err := c.Undo(ctx())
				if err != nil {
					return err
				}
				switch {
				case res.Restored != "":
					fmt.Fprintf(a.stdout, "Restored %s from %s.\n", res.Settings, res.Restored)
				case res.KeysRemoved:
					fmt.Fprintf(a.stdout, "Removed %s and %s from %s (it changed since the setup; the backup %s is kept).\n", setup.BaseURLKey, setup.AuthTokenKey, res.Settings, res.Backup)
				default:
					fmt.Fprintf(a.stdout, "Removed %s (there was none before the setup).\n", res.Settings)
				}
				fmt.Fprintf(a.stdout, "Revoked the client token %s. Claude Code no longer goes through MaxRouter.\n", res.Revoked)
				return nil
			}
			res, err := c.Apply(ctx())
			if err != nil {
				return err
			}
			if !res.Changed {
				fmt.Fprintf(a.stdout, "Claude Code goes through MaxRouter already (%s, token %s); nothing changed.\n", res.Settings, res.Token.ID)
				return nil
			}
			fmt.Fprintf(a.stdout, "Claude Code now goes through MaxRouter at %s: wrote %s and %s (client token %s, %q) into %s.\n",
				c.Daemon.BaseURL(), setup.BaseURLKey, setup.AuthTokenKey, res.Token.ID, res.Token.Label, res.Settings)
			if res.Backup != "" {
				fmt.Fprintf(a.stdout, "The file as it was is saved as %s.\n", res.Backup)
			}
			fmt.Fprintln(a.stdout, "Start a new claude session to use it; `maxrouter setup claude --undo` takes it back.")
			return nil
		},
	}
	claude.Flags().BoolVar(&undo, "undo", false, "restore the settings as they were and revoke the token")
	cmd.AddCommand(claude)
	return cmd
}

// claudeSetup is the Claude Code setup for this configuration: through
// the daemon when it runs, on the token store otherwise.
func (a *app) claudeSetup() (*setup.Claude, error) {
	t, err := a.find()
	if err != nil {
		return nil, err
	}
	var d setup.ClaudeDaemon
	if t.client != nil {
		d = t.client
	} else {
		s, err := t.store()
		if err != nil {
			return nil, err
		}
		d = &storeDaemon{s: s, base: control.BaseURL(t.cfg.Listen)}
	}
	return &setup.Claude{
		Daemon:    d,
		StateFile: filepath.Join(t.cfg.DataDirFor(t.path), setup.ClaudeStateFile),
		Logger:    a.logger("warn"),
	}, nil
}

// storeDaemon does what the Claude Code setup asks of the daemon on the
// token store itself, while no daemon runs (the daemon reads the store
// when it starts, and follows its changes).
type storeDaemon struct {
	s    *token.Store
	base string
}

func (d *storeDaemon) BaseURL() string { return d.base }

func (d *storeDaemon) Tokens(context.Context) ([]control.Token, error) { return d.s.List(), nil }

func (d *storeDaemon) IssueToken(_ context.Context, label string, ttl time.Duration) (control.Issued, error) {
	secret, info, err := d.s.Issue(label, ttl)
	return control.Issued{Token: info, Secret: secret}, err
}

func (d *storeDaemon) RevokeToken(_ context.Context, id string) error {
	err := d.s.Revoke(id)
	if err != nil && errors.Is(err, token.ErrNotFound) {
		return fmt.Errorf("%w: %v", control.ErrNotFound, err)
	}
	return err
}
