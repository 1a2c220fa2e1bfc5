//go:build !headless

package desktop

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/maxrouter/maxrouter/app/live"
	"github.com/maxrouter/maxrouter/app/settings"
	"github.com/maxrouter/maxrouter/app/setup"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
)

// daemonAPI is what the desktop app needs from the daemon: what the live
// model reads, what the settings window and the setup change, and the
// calls behind the tray menu's actions.
type daemonAPI interface {
	live.Daemon
	settings.Daemon
	setup.ClaudeDaemon
	UpdateConfig(ctx context.Context, edit func(*control.Config) error) error
	Pause(ctx context.Context) error
	Resume(ctx context.Context) error
}

var (
	_ daemonAPI = (*control.Client)(nil)
	_ daemonAPI = (*lazyDaemon)(nil)
)

// lazyDaemon is a control API client that finds the daemon when it is
// needed: it reads the configuration and the control secret on the first
// call, and again after the daemon could not be reached or refused the
// secret. So the app can start before the daemon ever ran (there is no
// secret yet), and follows a daemon that moved to another port.
type lazyDaemon struct {
	configPath string

	mu sync.Mutex
	c  *control.Client // nil until found, and after it failed
}

// client returns the current client, finding the daemon when there is none.
func (l *lazyDaemon) client() (*control.Client, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.c != nil {
		return l.c, nil
	}
	cfg, err := config.Load(l.configPath)
	if err != nil {
		return nil, err
	}
	c, err := control.ClientFor(cfg, l.configPath)
	if err != nil {
		return nil, err
	}
	l.c = c
	return c, nil
}

// check forgets the client after an error that may mean the daemon moved or
// restarted with another secret, and returns err.
func (l *lazyDaemon) check(c *control.Client, err error) error {
	if errors.Is(err, control.ErrUnreachable) || errors.Is(err, control.ErrUnauthorized) {
		l.mu.Lock()
		if l.c == c {
			l.c = nil
		}
		l.mu.Unlock()
	}
	return err
}

// BaseURL implements daemonAPI: the client's address,
// or the one the configuration names when the daemon was not found yet.
func (l *lazyDaemon) BaseURL() string {
	l.mu.Lock()
	c := l.c
	l.mu.Unlock()
	if c != nil {
		return c.BaseURL()
	}
	listen := config.Default().Listen
	if cfg, err := config.Load(l.configPath); err == nil {
		listen = cfg.Listen
	}
	return control.BaseURL(listen)
}

// Status implements daemonAPI: who is answering, and whether routing is
// paused.
func (l *lazyDaemon) Status(ctx context.Context) (control.Status, error) {
	c, err := l.client()
	if err != nil {
		return control.Status{}, err
	}
	st, err := c.Status(ctx)
	return st, l.check(c, err)
}

// Accounts implements daemonAPI.
func (l *lazyDaemon) Accounts(ctx context.Context) ([]control.Account, error) {
	c, err := l.client()
	if err != nil {
		return nil, err
	}
	a, err := c.Accounts(ctx)
	return a, l.check(c, err)
}

// Events implements daemonAPI.
func (l *lazyDaemon) Events(ctx context.Context, after string, fn func(control.Event)) error {
	c, err := l.client()
	if err != nil {
		return err
	}
	return l.check(c, c.Events(ctx, after, fn))
}

// Config implements daemonAPI.
func (l *lazyDaemon) Config(ctx context.Context) (control.Config, string, error) {
	c, err := l.client()
	if err != nil {
		return control.Config{}, "", err
	}
	cfg, rev, err := c.Config(ctx)
	return cfg, rev, l.check(c, err)
}

// PutConfig implements daemonAPI.
func (l *lazyDaemon) PutConfig(ctx context.Context, cfg control.Config, rev string) (string, error) {
	c, err := l.client()
	if err != nil {
		return "", err
	}
	next, err := c.PutConfig(ctx, cfg, rev)
	return next, l.check(c, err)
}

// UpdateConfig implements daemonAPI.
func (l *lazyDaemon) UpdateConfig(ctx context.Context, edit func(*control.Config) error) error {
	c, err := l.client()
	if err != nil {
		return err
	}
	return l.check(c, c.UpdateConfig(ctx, edit))
}

// ResetAccount implements settings.Daemon.
func (l *lazyDaemon) ResetAccount(ctx context.Context, name string) error {
	c, err := l.client()
	if err != nil {
		return err
	}
	return l.check(c, c.ResetAccount(ctx, name))
}

// CheckDir implements settings.Daemon.
func (l *lazyDaemon) CheckDir(ctx context.Context, dir string) (control.DirCheck, error) {
	c, err := l.client()
	if err != nil {
		return control.DirCheck{}, err
	}
	dc, err := c.CheckDir(ctx, dir)
	return dc, l.check(c, err)
}

// Tokens implements daemonAPI.
func (l *lazyDaemon) Tokens(ctx context.Context) ([]control.Token, error) {
	c, err := l.client()
	if err != nil {
		return nil, err
	}
	t, err := c.Tokens(ctx)
	return t, l.check(c, err)
}

// IssueToken implements daemonAPI.
func (l *lazyDaemon) IssueToken(ctx context.Context, label string, ttl time.Duration) (control.Issued, error) {
	c, err := l.client()
	if err != nil {
		return control.Issued{}, err
	}
	is, err := c.IssueToken(ctx, label, ttl)
	return is, l.check(c, err)
}

// IssueTokenWith implements settings.Daemon.
func (l *lazyDaemon) IssueTokenWith(ctx context.Context, req control.IssueRequest) (control.Issued, error) {
	c, err := l.client()
	if err != nil {
		return control.Issued{}, err
	}
	is, err := c.IssueTokenWith(ctx, req)
	return is, l.check(c, err)
}

// UpdateToken implements settings.Daemon.
func (l *lazyDaemon) UpdateToken(ctx context.Context, id string, u control.TokenUpdate) (control.Token, error) {
	c, err := l.client()
	if err != nil {
		return control.Token{}, err
	}
	t, err := c.UpdateToken(ctx, id, u)
	return t, l.check(c, err)
}

// RevokeToken implements settings.Daemon.
func (l *lazyDaemon) RevokeToken(ctx context.Context, id string) error {
	c, err := l.client()
	if err != nil {
		return err
	}
	return l.check(c, c.RevokeToken(ctx, id))
}

// UsageBy implements settings.Daemon.
func (l *lazyDaemon) UsageBy(ctx context.Context, since time.Time, step, by string) (control.Usage, error) {
	c, err := l.client()
	if err != nil {
		return control.Usage{}, err
	}
	u, err := c.UsageBy(ctx, since, step, by)
	return u, l.check(c, err)
}

// Pause implements daemonAPI.
func (l *lazyDaemon) Pause(ctx context.Context) error {
	c, err := l.client()
	if err != nil {
		return err
	}
	return l.check(c, c.Pause(ctx))
}

// Resume implements daemonAPI.
func (l *lazyDaemon) Resume(ctx context.Context) error {
	c, err := l.client()
	if err != nil {
		return err
	}
	return l.check(c, c.Resume(ctx))
}

// StartLogin implements settings.Daemon.
func (l *lazyDaemon) StartLogin(ctx context.Context, req control.LoginRequest) (control.Login, error) {
	c, err := l.client()
	if err != nil {
		return control.Login{}, err
	}
	lg, err := c.StartLogin(ctx, req)
	return lg, l.check(c, err)
}

// Login implements settings.Daemon.
func (l *lazyDaemon) Login(ctx context.Context, id string) (control.Login, error) {
	c, err := l.client()
	if err != nil {
		return control.Login{}, err
	}
	lg, err := c.Login(ctx, id)
	return lg, l.check(c, err)
}

// LoginCode implements settings.Daemon.
func (l *lazyDaemon) LoginCode(ctx context.Context, id, code string) (control.Login, error) {
	c, err := l.client()
	if err != nil {
		return control.Login{}, err
	}
	lg, err := c.LoginCode(ctx, id, code)
	return lg, l.check(c, err)
}

// CancelLogin implements settings.Daemon.
func (l *lazyDaemon) CancelLogin(ctx context.Context, id string) (control.Login, error) {
	c, err := l.client()
	if err != nil {
		return control.Login{}, err
	}
	lg, err := c.CancelLogin(ctx, id)
	return lg, l.check(c, err)
}
