// Package cli is MaxRouter's command line: it parses the verb and hands off
// to the daemon (core/daemon), the control API client (core/control), the
// service manager (app/service) or the desktop app (app/desktop).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/maxrouter/maxrouter/core/config"
)

// Env names the environment variable that sets --config.
const Env = "MAXROUTER_CONFIG"

// Main runs the command line with args (without the program name) and
// returns the process exit code.
func Main(args []string, version string) int {
	root := NewRoot(version, os.Stdout, os.Stderr)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		var ex exitError
		if errors.As(err, &ex) {
			return int(ex)
		}
		fmt.Fprintln(os.Stderr, "maxrouter:", err)
		return 1
	}
	return 0
}

// exitError ends the program with a code after the command printed why.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// app holds what every verb shares.
type app struct {
	version    string
	configFlag string
	stdout     io.Writer
	stderr     io.Writer
	now        func() time.Time
	// openURL opens a URL in a browser; nil means the desktop's browser.
	openURL func(string) error
	// interrupt returns a context the person interrupting the command
	// ends; nil means Ctrl-C and SIGTERM.
	interrupt func(context.Context) (context.Context, context.CancelFunc)
}

// configPath resolves --config, then MAXROUTER_CONFIG, then the default.
func (a *app) configPath() (string, error) {
	if a.configFlag != "" {
		return a.configFlag, nil
	}
	if p := os.Getenv(Env); p != "" {
		return p, nil
	}
	return config.DefaultPath()
}

// NewRoot builds the command tree.
func NewRoot(version string, stdout, stderr io.Writer) *cobra.Command {
	return newRoot(&app{version: version, stdout: stdout, stderr: stderr, now: time.Now})
}

// newRoot builds the command tree around a (tests set its clock).
func newRoot(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "maxrouter",
		Short: "Use several Claude subscriptions from one workstation",
		Long: `MaxRouter runs a local proxy for the Anthropic API that spreads Claude Code's
requests over several Claude subscriptions (Pro / Max logins) and moves on
to another account when one hits its limit.

With no command it starts the desktop app (tray icon and settings window).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       a.version,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := a.configPath()
			if err != nil {
				return err
			}
			return runDesktop(path, a.version, a.logger("info"))
		},
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.PersistentFlags().StringVar(&a.configFlag, "config", "", "configuration file (default: $"+Env+" or "+defaultPathHint()+")")
	root.AddCommand(a.serveCmd(), a.tokensCmd(), a.accountsCmd(), a.usageCmd(), a.doctorCmd(), a.versionCmd(), a.serviceCmd(), a.setupCmd())
	return root
}

func defaultPathHint() string {
	p, err := config.DefaultPath()
	if err != nil {
		return "the user config directory"
	}
	if home, err := os.UserHomeDir(); err == nil && strings.HasPrefix(p, home) {
		return "~" + strings.TrimPrefix(p, home)
	}
	return p
}

// logger writes readable logs to stderr.
func (a *app) logger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: l}))
}

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(a.stdout, "maxrouter %s\n", a.version)
			return nil
		},
	}
}

// ctx is the context of a short CLI call.
func ctx() context.Context { return context.Background() }
