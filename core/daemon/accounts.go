package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/maxrouter/maxrouter/core/account"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/credential"
	"github.com/maxrouter/maxrouter/core/event"
	"github.com/maxrouter/maxrouter/core/login"
	"github.com/maxrouter/maxrouter/core/quota"
	"github.com/maxrouter/maxrouter/core/words"
)

// The account lifecycle the daemon runs itself: logins (core/login) and
// the quota read for every account (core/quota).

// newLogins returns the daemon's login manager.
func (d *Daemon) newLogins() *login.Manager {
	return login.New(login.Options{
		Resolve: d.resolveLogin,
		Store:   d.storeLogin,
		Failed: func(t login.Target, reason string) {
			d.bus.Publish(event.Event{Type: event.LoginFailed, Account: t.Account, Reason: reason, At: time.Now()})
		},
		Endpoints: func() (string, string) {
			d.mu.Lock()
			defer d.mu.Unlock()
			return d.eff.AuthorizeURL, d.eff.TokenURL
		},
		HTTPClient: d.o.HTTPClient,
		Logger:     d.o.Logger,
	})
}

// StartLogin implements control.Backend.
func (d *Daemon) StartLogin(req control.LoginRequest) (control.Login, error) {
	return d.logins.Start(req)
}

// Login implements control.Backend.
func (d *Daemon) Login(id string) (control.Login, error) { return d.logins.Get(id) }

// LoginCode implements control.Backend.
func (d *Daemon) LoginCode(ctx context.Context, id, code string) (control.Login, error) {
	return d.logins.Code(ctx, id, code)
}

// CancelLogin implements control.Backend.
func (d *Daemon) CancelLogin(id string) (control.Login, error) { return d.logins.Cancel(id) }

// resolveLogin says where a login goes: an existing account logs in to
// its own directory; a new one to req.Dir, or <data_dir>/accounts/<name>.
func (d *Daemon) resolveLogin(req control.LoginRequest) (login.Target, error) {
	name := strings.TrimSpace(req.Account)
	d.mu.Lock()
	defer d.mu.Unlock()
	// The accounts in force: the environment may add some or move one.
	for _, ac := range d.eff.Accounts {
		if ac.Name != name {
			continue
		}
		if ac.Token != "" {
			return login.Target{}, fmt.Errorf("%w: account %q is a token from `claude setup-token`, not a login folder: remove it first, or log in under another name", control.ErrInvalid, name)
		}
		dir := d.expand(ac.Dir)
		if req.Dir != "" && d.expand(req.Dir) != dir {
			return login.Target{}, fmt.Errorf("%w: account %q logs in to %s: leave out the folder, or choose another name", control.ErrInvalid, name, words.Tilde(ac.Dir, d.o.Home))
		}
		return login.Target{Account: name, Dir: dir}, nil
	}
	probe := config.Default()
	probe.Accounts = []config.Account{{Name: name, Dir: "~/probe"}}
	if req.Dir != "" {
		probe.Accounts[0].Dir = req.Dir
	}
	var ve *config.ValidationError
	if err := probe.Validate(); errors.As(err, &ve) {
		msg := ve.Fields[0].Message
		if strings.HasSuffix(ve.Fields[0].Field, ".dir") {
			msg = "folder: " + msg
		}
		return login.Target{}, fmt.Errorf("%w: %s", control.ErrInvalid, msg)
	}
	dir := filepath.Join(d.dataDir, "accounts", name)
	if req.Dir != "" {
		dir = d.expand(req.Dir)
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	for _, ac := range d.eff.Accounts {
		if ac.Token == "" && d.expand(ac.Dir) == dir {
			return login.Target{}, fmt.Errorf("%w: %s is account %q's folder already: log in to %q instead", control.ErrInvalid, words.Tilde(dir, d.o.Home), ac.Name, ac.Name)
		}
	}
	return login.Target{Account: name, Dir: dir, New: true}, nil
}

// expand turns a configured directory into a clean absolute path.
func (d *Daemon) expand(dir string) string {
	return filepath.Clean(config.ExpandHome(dir, d.o.Home))
}

// storeLogin writes a login's pair to its directory in Claude Code's
// shape, and adds its account (through the configuration, as any change)
// or puts the existing one back into rotation with it. The profile says
// the plan; the token answer (or the profile) whose login it is.
func (d *Daemon) storeLogin(ctx context.Context, t login.Target, tok login.Tokens) (login.Outcome, error) {
	out := login.Outcome{Email: tok.Email, Organization: tok.Organization}
	prof, err := quota.FetchProfile(ctx, d.apiClient(), d.upstream(), tok.Access)
	if err == nil {
		out.Subscription, out.RateLimitTier = prof.Subscription(), prof.RateLimitTier
		if out.Email == "" {
			out.Email = prof.Email
		}
		if out.Organization == "" {
			out.Organization = prof.Organization
		}
	} else {
		d.log.Info("could not read the new login's profile; its plan shows once Claude Code or a refresh says it", "account", t.Account, "err", err)
	}
	pair := credential.Login{
		Access: tok.Access, Refresh: tok.Refresh, ExpiresAt: tok.ExpiresAt, RefreshExpiresAt: tok.RefreshExpiresAt,
		Scopes: tok.Scopes, Subscription: out.Subscription, RateLimitTier: out.RateLimitTier,
	}
	if t.New {
		err = d.addLogin(t, pair, out)
	} else {
		out.Note, err = d.relogin(t, pair, out)
	}
	if err != nil {
		return login.Outcome{}, err
	}
	d.quota.Kick()
	return out, nil
}

// addLogin writes a new account's login and adds the account.
func (d *Daemon) addLogin(t login.Target, pair credential.Login, out login.Outcome) error {
	if _, err := credential.WriteLogin(t.Dir, pair); err != nil {
		return err
	}
	err := d.changeConfig(func(c *config.Config) error {
		for _, ac := range c.Accounts {
			if ac.Name == t.Account {
				return fmt.Errorf("account %q was added meanwhile: log in to it again", t.Account)
			}
		}
		c.Accounts = append(c.Accounts, config.Account{Name: t.Account, Dir: words.Tilde(t.Dir, d.o.Home)})
		return nil
	})
	if err != nil {
		return fmt.Errorf("adding account %q (its login is in %s): %w", t.Account, t.Dir, err)
	}
	d.mu.Lock()
	e := d.entries[t.Account]
	d.mu.Unlock()
	if e == nil {
		return fmt.Errorf("account %q was removed meanwhile", t.Account)
	}
	d.log.Info("account added by a login", "account", t.Account, "dir", t.Dir)
	d.pool.LoggedIn(e.acct.Load(), nil, out.Email, out.Organization, "")
	return nil
}

// relogin writes an existing account's new login (only its claudeAiOauth
// changes) and puts the account back into rotation with it. The note says
// when the login is another email than the account had.
func (d *Daemon) relogin(t login.Target, pair credential.Login, out login.Outcome) (string, error) {
	d.mu.Lock()
	e := d.entries[t.Account]
	d.mu.Unlock()
	if e == nil || filepath.Clean(e.dir) != t.Dir {
		return "", fmt.Errorf("account %q was removed or moved meanwhile", t.Account)
	}
	acct := e.acct.Load()
	was := acct.Email()
	d.pool.ExpectLogin(acct)
	cred, err := d.adopt(e, pair)
	if err != nil {
		d.pool.LoginAbandoned(acct)
		return "", err
	}
	note := ""
	if was != "" && out.Email != "" && !strings.EqualFold(was, out.Email) {
		note = fmt.Sprintf("logged in as %s; the account was %s", out.Email, was)
	}
	d.pool.LoggedIn(acct, cred, out.Email, out.Organization, note)
	return note, nil
}

// adopt writes pair to e's directory and returns e's credentials holding
// it.
func (d *Daemon) adopt(e *entry, pair credential.Login) (account.Credential, error) {
	if _, err := credential.WriteLogin(e.dir, pair); err != nil {
		return nil, err
	}
	d.mu.Lock()
	src, opts := e.src, d.credOptions()
	d.mu.Unlock()
	if src != nil {
		if err := src.Reload(); err != nil {
			return nil, err
		}
		return src, nil
	}
	opts.OnRefresh = d.onRefresh(e)
	s, err := credential.Open(e.dir, opts)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	e.src = s
	d.mu.Unlock()
	return s, nil
}

// changeConfig applies edit to the configuration through the same path as
// PutConfig: a hand edit is applied first, the result validated, saved,
// applied and announced with its new revision.
func (d *Daemon) changeConfig(edit func(*config.Config) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.reloadEditedLocked(); err != nil {
		return err
	}
	next := d.file
	next.Accounts = append([]config.Account(nil), d.file.Accounts...)
	if err := edit(&next); err != nil {
		return err
	}
	return d.commitLocked(next)
}

// upstream is the API's base URL now.
func (d *Daemon) upstream() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.TrimRight(d.eff.Upstream, "/")
}

// apiClient reaches the upstream's OAuth API (usage, profile).
func (d *Daemon) apiClient() *http.Client {
	if d.o.Transport != nil {
		return &http.Client{Transport: d.o.Transport}
	}
	return http.DefaultClient
}

// newPoller returns the poller that reads every account's quota.
func (d *Daemon) newPoller() *quota.Poller {
	return quota.New(quota.Options{
		HTTPClient: d.apiClient(),
		Upstream:   d.upstream,
		Interval: func() time.Duration {
			d.mu.Lock()
			defer d.mu.Unlock()
			return time.Duration(d.eff.QuotaPoll)
		},
		Accounts: d.quotaAccounts,
		Record: func(name string, r quota.Result) {
			d.mu.Lock()
			e := d.entries[name]
			d.mu.Unlock()
			if e != nil {
				d.pool.Quota(e.acct.Load(), r)
			}
		},
		Logger: d.o.Logger,
	})
}

// quotaAccounts are the accounts whose quota is read: enabled, with
// credentials that have not died. A token without the user:profile scope
// (a setup token) is skipped, and says so.
func (d *Daemon) quotaAccounts() []quota.Account {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	var out []quota.Account
	for _, ac := range d.eff.Accounts {
		e := d.entries[ac.Name]
		if e == nil || !ac.IsEnabled() {
			continue
		}
		a := e.acct.Load()
		cred := a.Credential()
		if cred == nil || a.Snapshot(now).State == control.StateNeedsLogin {
			continue
		}
		qa := quota.Account{Name: ac.Name, Profile: a.Email() == ""}
		if info := cred.Info(); info.Static || (info.Scopes != "" && !credential.HasScope(info.Scopes, credential.ProfileScope)) {
			qa.Skip = quota.NoScope
		}
		qa.Token = func() (string, bool) {
			tok, _, usable := cred.Peek()
			return tok.Access, usable && tok.Access != ""
		}
		out = append(out, qa)
	}
	return out
}
