package cli

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/maxrouter/maxrouter/core/daemon"
)

func (a *app) serveCmd() *cobra.Command {
	var listen, level string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon (the proxy and the control API) in the foreground",
		Long: `Run the daemon in the foreground: the Anthropic API proxy for Claude Code and
SDKs, and the control API the desktop app and CLI use.

On first run it writes a configuration with every Claude Code login it
finds (~/.claude, ~/.claude-*). SIGHUP re-reads the configuration file;
SIGINT / SIGTERM stop it gracefully.

It runs on one core with a relaxed garbage collector (see README,
Performance); GOMAXPROCS, GOGC and GOMEMLIMIT in the environment override
that.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := a.configPath()
			if err != nil {
				return err
			}
			log := a.logger(level)
			applied := tuneRuntime(os.Getenv)
			log.Debug("runtime settings", applied...)
			d, err := daemon.New(daemon.Options{ConfigPath: path, Version: a.version, Logger: log, Listen: listen})
			if err != nil {
				return err
			}
			if err := d.Listen(); err != nil {
				return err
			}
			if !quiet {
				d.Summary(a.stdout)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			go reloadOnHangup(ctx, d, log)
			return d.Serve(ctx)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "listen on this address instead of the configured one (host:port)")
	cmd.Flags().StringVar(&level, "log-level", "info", "log level: debug, info, warn, error")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "do not print the start-up summary")
	return cmd
}
