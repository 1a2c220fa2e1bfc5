package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/maxrouter/maxrouter/app/service"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/credential"
)

// check is one doctor line.
type check struct {
	level int // 0 ok, 1 warning, 2 problem
	text  string
}

func (a *app) doctorCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check the configuration, credential directories, port and service",
		Long: `Check what MaxRouter needs: a configuration that parses, credential
directories with a usable login, the port, the daemon and the service.
It exits with status 1 when it finds a problem (warnings do not count).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			checks := a.doctor()
			problems := 0
			for _, c := range checks {
				mark := [...]string{"ok  ", "warn", "FAIL"}[c.level]
				fmt.Fprintf(a.stdout, "[%s] %s\n", mark, c.text)
				if c.level == 2 {
					problems++
				}
			}
			if problems > 0 {
				fmt.Fprintf(a.stdout, "\n%d problem(s) found.\n", problems)
				return exitError(1)
			}
			fmt.Fprintln(a.stdout, "\nNo problems found.")
			return nil
		},
	}
}

func (a *app) doctor() []check {
	var out []check
	add := func(level int, format string, args ...any) {
		out = append(out, check{level, fmt.Sprintf(format, args...)})
	}
	path, err := a.configPath()
	if err != nil {
		add(2, "configuration: %v", err)
		return out
	}
	cfg, err := config.Load(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		add(1, "configuration: %s does not exist yet; `maxrouter serve` creates it", path)
		cfg = config.Default()
	case err != nil:
		add(2, "configuration: %v", err)
		return out
	default:
		add(0, "configuration: %s", path)
	}
	if env, err := config.ApplyEnv(cfg, os.Getenv); err != nil {
		add(2, "environment overrides: %v", err)
	} else {
		cfg = env
	}

	usable := 0
	home := homeDir()
	for _, ac := range cfg.Accounts {
		name := fmt.Sprintf("account %q", ac.Name)
		if !ac.IsEnabled() {
			add(0, "%s: disabled", name)
			continue
		}
		if ac.Token != "" {
			add(0, "%s: long-lived token from the config", name)
			usable++
			continue
		}
		info, err := credential.Inspect(config.ExpandHome(ac.Dir, home))
		switch {
		case errors.Is(err, credential.ErrNoCredentials):
			add(2, "%s: no Claude Code login in %s; run `CLAUDE_CONFIG_DIR=%s claude` and /login", name, ac.Dir, ac.Dir)
		case err != nil:
			add(2, "%s: %v", name, err)
		case !info.ExpiresAt.IsZero() && time.Now().After(info.ExpiresAt) && !info.CanRefresh:
			add(2, "%s: the token in %s expired and cannot be refreshed; log in again", name, info.Path)
		default:
			plan := info.Subscription
			if plan == "" {
				plan = "unknown plan"
			}
			refresh := "refreshable"
			if !info.CanRefresh {
				refresh = "no refresh token"
			}
			add(0, "%s: %s (%s, %s)", name, info.Path, plan, refresh)
			usable++
		}
	}
	if len(cfg.Accounts) == 0 {
		add(1, "accounts: none configured; log in with Claude Code (`claude`, /login) and run `maxrouter serve`, or add [[account]] entries")
	} else if usable == 0 {
		add(2, "accounts: none of the %d accounts is usable", len(cfg.Accounts))
	}

	t, err := a.find()
	switch {
	case err != nil:
		add(2, "daemon: %v", err)
	case t.client != nil:
		add(0, "daemon: running (pid %d, version %s) on %s", t.status.PID, t.status.Version, t.status.Listen)
		if accts, err := t.client.Accounts(ctx()); err == nil {
			n := 0
			for _, ac := range accts {
				if ac.State == control.StateAvailable {
					n++
				}
			}
			add(0, "daemon: %d of %d accounts available now", n, len(accts))
		}
	default:
		if ln, err := net.Listen("tcp", cfg.Listen); err != nil {
			add(2, "port: %s is taken by another program; change \"listen\" in %s", cfg.Listen, path)
		} else {
			ln.Close()
			add(1, "daemon: not running; %s is free (start it with `maxrouter service start` or `maxrouter serve`)", cfg.Listen)
		}
	}

	if m, err := service.New(service.Options{ConfigPath: path}); err != nil {
		add(1, "service: %v", err)
	} else if !m.Usable() {
		add(1, "service: no per-user service manager here; `maxrouter service start` runs the daemon in the background instead")
	} else if st, err := m.Status(); err != nil {
		add(1, "service: %v", err)
	} else {
		add(0, "service: %s", st)
	}
	return out
}

func homeDir() string {
	h, _ := os.UserHomeDir()
	return h
}
