package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/maxrouter/maxrouter/app/service"
)

func (a *app) serviceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "service",
		Short: "Install and control the daemon as a per-user OS service",
		Long: `Install and control ` + "`maxrouter serve`" + ` as a per-user service: a systemd
user unit on Linux, a LaunchAgent on macOS, a per-user logon entry on
Windows. Where no user service manager works (containers, no systemd user
session), start runs the daemon as a detached background process instead.`,
	}
	manager := func() (*service.Manager, error) {
		path, err := a.configPath()
		if err != nil {
			return nil, err
		}
		return service.New(service.Options{ConfigPath: path, Logger: a.logger("info")})
	}
	verb := func(use, short string, run func(m *service.Manager) error) *cobra.Command {
		return &cobra.Command{
			Use: use, Short: short, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				m, err := manager()
				if err != nil {
					return err
				}
				return run(m)
			},
		}
	}
	cmd.AddCommand(
		verb("install", "Install the service (starts at login)", func(m *service.Manager) error {
			if !m.Usable() {
				return errors.New("no per-user service manager works here; use `maxrouter service start` to run the daemon in the background")
			}
			if err := m.Install(); err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, "Installed. Start it now with: maxrouter service start")
			return nil
		}),
		verb("uninstall", "Remove the service (your config and tokens stay)", func(m *service.Manager) error {
			if err := m.Uninstall(); err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, "Uninstalled.")
			return nil
		}),
		verb("start", "Start the daemon", func(m *service.Manager) error {
			if !m.Usable() {
				pid, err := m.StartDetached()
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "No service manager here: started `maxrouter serve` in the background (pid %d, log %s).\n", pid, m.LogPath())
				return nil
			}
			if st, _ := m.Status(); st == service.NotInstalled {
				if err := m.Install(); err != nil {
					return err
				}
			}
			if err := m.Start(); err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, "Started.")
			return nil
		}),
		verb("stop", "Stop the daemon", func(m *service.Manager) error {
			if !m.Usable() {
				if err := m.StopDetached(); err != nil {
					return err
				}
			} else if err := m.Stop(); err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, "Stopped.")
			return nil
		}),
		verb("restart", "Restart the daemon", func(m *service.Manager) error {
			if !m.Usable() {
				if err := m.StopDetached(); err != nil && !errors.Is(err, service.ErrNotRunning) {
					return err
				}
				pid, err := m.StartDetached()
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "Restarted in the background (pid %d).\n", pid)
				return nil
			}
			if err := m.Restart(); err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, "Restarted.")
			return nil
		}),
		verb("status", "Say whether the service is installed and running", func(m *service.Manager) error {
			if !m.Usable() {
				fmt.Fprintln(a.stdout, "no per-user service manager here (background mode)")
				return nil
			}
			st, err := m.Status()
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, st)
			return nil
		}),
	)
	return cmd
}
