package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/credential"
	"github.com/maxrouter/maxrouter/core/daemon"
	"github.com/maxrouter/maxrouter/core/words"
)

func (a *app) accountsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "accounts",
		Short: "Show the accounts and their state",
		Long: `Show the accounts: their state, plan, email, and how much of their 5-hour and
weekly limits they used, with when each resets (read for every account, idle
ones too). "maxrouter accounts list" is the same.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.listAccounts() },
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "Show the accounts and their state (the same as maxrouter accounts)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return a.listAccounts() },
	}, a.accountsAddCmd(), a.accountsLoginCmd())
	return cmd
}

// listAccounts prints the accounts table, from the daemon when it runs.
func (a *app) listAccounts() error {
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
}

// absDir turns a folder given on the command line into an absolute path
// ("~" expanded, a relative one taken from the working directory).
func absDir(dir string) (string, error) {
	dir = config.ExpandHome(dir, homeDir())
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("folder %q: %w", dir, err)
	}
	return abs, nil
}

func (a *app) accountsAddCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "add NAME",
		Short: "Add a Claude Code login folder as an account",
		Long: `Add an existing Claude Code config folder (one you logged in to with
CLAUDE_CONFIG_DIR=<folder> claude, then /login) as the account NAME. Without
--dir the folder is ~/.claude-NAME. A folder without a login is refused: to
log in from scratch, use "maxrouter accounts login NAME".`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, home := args[0], homeDir()
			if dir == "" {
				dir = "~/.claude-" + name
			}
			abs, err := absDir(dir)
			if err != nil {
				return err
			}
			shown := words.Tilde(abs, home)
			info, err := credential.Inspect(abs)
			if errors.Is(err, credential.ErrNoCredentials) {
				return fmt.Errorf("%s holds no Claude Code login, so it cannot be an account: log in there first (%s), or let MaxRouter do it: maxrouter accounts login %s --dir %s",
					shown, words.LoginCommand(abs, home), name, words.ShellWord(shown))
			}
			if err != nil {
				return err
			}
			if err := a.addAccount(config.Account{Name: name, Dir: shown}, abs); err != nil {
				return err
			}
			plan := words.Plan(info.Subscription, info.RateLimitTier)
			if plan == "" {
				plan = "plan not known yet"
			}
			fmt.Fprintf(a.stdout, "Added account %s (%s, %s).\n", name, shown, plan)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "the Claude Code config folder (default ~/.claude-NAME)")
	return cmd
}

// addAccount adds ac (whose folder is abs) to the configuration: through
// the daemon when it runs, so that it serves at once, else in the file.
func (a *app) addAccount(ac config.Account, abs string) error {
	t, err := a.find()
	if err != nil {
		return err
	}
	home := homeDir()
	edit := func(c *config.Config) error {
		for _, o := range c.Accounts {
			if o.Name == ac.Name {
				return fmt.Errorf("there is an account named %q already", ac.Name)
			}
			if o.Token == "" && filepath.Clean(config.ExpandHome(o.Dir, home)) == abs {
				return fmt.Errorf("%s is account %q already", ac.Dir, o.Name)
			}
		}
		c.Accounts = append(c.Accounts, ac)
		return nil
	}
	if t.client != nil {
		return t.client.UpdateConfig(ctx(), edit)
	}
	cfg := t.cfg
	if err := edit(&cfg); err != nil {
		return err
	}
	return config.Save(t.path, cfg)
}

// Exit statuses of accounts login beyond 0 (logged in).
const (
	loginFailed      exitError = 1
	loginExpired     exitError = 2
	loginInterrupted exitError = 130 // as a shell reports Ctrl-C
)

// loginPoll is how often accounts login asks the daemon about the login.
const loginPoll = 500 * time.Millisecond

func (a *app) accountsLoginCmd() *cobra.Command {
	var dir string
	var noBrowser, manual bool
	cmd := &cobra.Command{
		Use:   "login NAME",
		Short: "Log in with Claude in the browser (adds the account when it is new)",
		Long: `Log in to a Claude subscription as the account NAME: a new account is added
(its login written to --dir, by default <data_dir>/accounts/NAME), an existing
one gets its new login (only its login in the folder changes).

It prints "Open this URL to log in: <url>" on a line of its own, opens the
URL in the browser (unless --no-browser), waits for you to approve (up to 10
minutes), and prints "Logged in as <email> (<plan>)". With --manual the page
shows a code to paste here instead of coming back to this computer: for a
browser on another machine. The daemon runs the login; it must be running.

Ctrl-C cancels the login: the daemon stops waiting for the browser.

Exit status: 0 logged in, 1 the login failed, 2 it was not finished within
10 minutes, 130 interrupted.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := a.find()
			if err != nil {
				return err
			}
			if t.client == nil {
				return errors.New("the MaxRouter daemon is not running, and it is what runs the login: start it (maxrouter serve, or maxrouter service start) and try again")
			}
			req := control.LoginRequest{Account: args[0], Manual: manual}
			if dir != "" {
				if req.Dir, err = absDir(dir); err != nil {
					return err
				}
			}
			l, err := t.client.StartLogin(ctx(), req)
			if err != nil {
				return fmt.Errorf("cannot log in to %s: %w", args[0], err)
			}
			fmt.Fprintf(a.stdout, "Open this URL to log in: %s\n", l.AuthorizeURL)
			if !noBrowser {
				open := a.openURL
				if open == nil {
					open = openBrowser
				}
				if err := open(l.AuthorizeURL); err != nil {
					fmt.Fprintf(a.stderr, "Could not open a browser (%v): open the URL yourself.\n", err)
				}
			}
			ictx, stop := a.interruptible(cmd.Context())
			defer stop()
			var done control.Login
			if manual {
				done, err = a.pasteCode(ictx, t.client, l, cmd.InOrStdin())
			} else {
				fmt.Fprintln(a.stderr, "Waiting for the browser… (Ctrl-C cancels)")
				wctx, cancel := context.WithTimeout(ictx, l.ExpiresAt.Sub(a.now())+30*time.Second)
				defer cancel()
				done, err = t.client.WaitLogin(wctx, l.ID, loginPoll)
				if errors.Is(err, context.DeadlineExceeded) {
					err = nil // the daemon did not say; the clock does
				}
			}
			if ictx.Err() != nil {
				return a.cancelLogin(t.client, l)
			}
			if err != nil {
				return err
			}
			return a.loggedIn(done)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "the Claude Code config folder a new account logs in to (default <data_dir>/accounts/NAME)")
	cmd.Flags().BoolVar(&noBrowser, "no-browser", false, "only print the URL; do not open a browser")
	cmd.Flags().BoolVar(&manual, "manual", false, "paste the code the page shows instead (a browser on another machine)")
	return cmd
}

// interruptible returns a context that Ctrl-C (or SIGTERM) ends, and its
// stop; tests set a.interrupt instead.
func (a *app) interruptible(parent context.Context) (context.Context, context.CancelFunc) {
	if parent == nil {
		parent = context.Background()
	}
	if a.interrupt != nil {
		return a.interrupt(parent)
	}
	return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
}

// cancelLogin has the daemon cancel login l after the command was
// interrupted, and says how it ended: a login that completed meanwhile is
// told as such.
func (a *app) cancelLogin(c *control.Client, l control.Login) error {
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := c.CancelLogin(cctx, l.ID)
	if err == nil && got.Status == control.LoginCompleted {
		return a.loggedIn(got)
	}
	fmt.Fprintln(a.stderr, "Login cancelled.")
	return loginInterrupted
}

// pasteCode reads the code the page of a manual login shows from in and
// hands it to the daemon; a code that does not belong to the login is
// asked for again. It gives up when ictx ends.
func (a *app) pasteCode(ictx context.Context, c *control.Client, l control.Login, in io.Reader) (control.Login, error) {
	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() { // blocks in Read until a line comes, past a cancel
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ictx.Done():
				return
			}
		}
		readErr <- sc.Err()
	}()
	for {
		fmt.Fprint(a.stderr, "Paste the code the page shows after you log in, then press Enter: ")
		var line string
		select {
		case <-ictx.Done():
			fmt.Fprintln(a.stderr)
			return l, ictx.Err()
		case err := <-readErr:
			if err != nil {
				return l, fmt.Errorf("reading the code: %w", err)
			}
			return l, errors.New("no code was pasted (standard input ended)")
		case line = <-lines:
		}
		code := strings.TrimSpace(line)
		if code == "" {
			continue
		}
		done, err := c.LoginCode(ctx(), l.ID, code)
		if errors.Is(err, control.ErrInvalid) {
			fmt.Fprintf(a.stderr, "%v\n", err)
			continue
		}
		return done, err
	}
}

// loggedIn tells how a login ended, and returns its exit status.
func (a *app) loggedIn(l control.Login) error {
	switch l.Status {
	case control.LoginCompleted:
		who := l.Email
		if who == "" {
			who = l.Account
		}
		if plan := words.Plan(l.Subscription, l.RateLimitTier); plan != "" {
			fmt.Fprintf(a.stdout, "Logged in as %s (%s)\n", who, plan)
		} else {
			fmt.Fprintf(a.stdout, "Logged in as %s\n", who)
		}
		if l.Reason != "" {
			fmt.Fprintln(a.stdout, words.Sentence(l.Reason)+".")
		}
		if l.NewAccount {
			fmt.Fprintf(a.stdout, "Added account %s (%s).\n", l.Account, words.Tilde(l.Dir, homeDir()))
		}
		return nil
	case control.LoginFailed:
		fmt.Fprintf(a.stderr, "Login failed: %s\n", l.Reason)
		if !a.now().Before(l.ExpiresAt) {
			return loginExpired
		}
		return loginFailed
	}
	fmt.Fprintln(a.stderr, "Login failed: it was not finished within 10 minutes; start it again")
	return loginExpired
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
				if !info.LoginExpiresAt.IsZero() {
					t := info.LoginExpiresAt
					s.LoginExpiresAt = &t
				}
				if !info.ExpiresAt.IsZero() && now.After(info.ExpiresAt) && !info.CanRefresh {
					s.State, s.Reason = control.StateNeedsLogin, "token expired and cannot be refreshed"
				}
			}
		}
		out = append(out, s)
	}
	return out
}
