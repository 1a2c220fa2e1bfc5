package daemon

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/maxrouter/maxrouter/core/account"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/credential"
	"github.com/maxrouter/maxrouter/core/event"
	"github.com/maxrouter/maxrouter/core/token"
)

// The Daemon is the control API's Backend.
var _ control.Backend = (*Daemon)(nil)

// Status implements control.Backend.
func (d *Daemon) Status() control.Status {
	return control.Status{Version: d.o.Version, Listen: d.Addr(), PID: os.Getpid(), StartedAt: d.started, Config: d.o.ConfigPath, Paused: d.paused.Load()}
}

// Pause implements control.Backend: proxied requests get 503 until Resume;
// requests in flight finish. A change is published as a paused event.
// Pausing lasts until Resume or the daemon's end: a restart resumes.
func (d *Daemon) Pause() error {
	d.pauseMu.Lock()
	defer d.pauseMu.Unlock()
	if d.paused.CompareAndSwap(false, true) {
		d.log.Info("routing paused: proxied requests get 503 until resumed")
		d.bus.Publish(event.Event{Type: event.Paused, At: time.Now()})
	}
	return nil
}

// Resume implements control.Backend: requests are routed again. A change is
// published as a resumed event.
func (d *Daemon) Resume() error {
	d.pauseMu.Lock()
	defer d.pauseMu.Unlock()
	if d.paused.CompareAndSwap(true, false) {
		d.log.Info("routing resumed")
		d.bus.Publish(event.Event{Type: event.Resumed, At: time.Now()})
	}
	return nil
}

// Accounts implements control.Backend.
func (d *Daemon) Accounts() []control.Account { return d.pool.Snapshots() }

// Subscribe implements control.Backend.
func (d *Daemon) Subscribe() (<-chan control.Event, func()) { return d.bus.Subscribe(64) }

// Config implements control.Backend: the file's configuration (without the
// environment overrides), tokens masked.
func (d *Daemon) Config() control.Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.file.Redacted()
}

// PutConfig implements control.Backend: validate, save, apply. Nothing is
// saved or applied when any value is invalid or the new address cannot be
// bound.
func (d *Daemon) PutConfig(next control.Config) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	next = config.MergeSecrets(next, d.file)
	if err := next.Validate(); err != nil {
		return err
	}
	if next.DataDir != d.file.DataDir {
		return &config.ValidationError{Fields: []config.FieldError{{Field: "data_dir", Message: "can only be changed in the file while the daemon is stopped"}}}
	}
	eff, err := d.effective(next)
	if err != nil {
		return &config.ValidationError{Fields: []config.FieldError{{Field: "environment", Message: err.Error()}}}
	}
	var ln = d.ln
	rebind := d.ln != nil && eff.Listen != d.eff.Listen
	if rebind {
		if ln, err = listen(eff.Listen, d.o.ConfigPath); err != nil {
			return &config.ValidationError{Fields: []config.FieldError{{Field: "listen", Message: err.Error()}}}
		}
	}
	if err := config.Save(d.o.ConfigPath, next); err != nil {
		if rebind {
			ln.Close()
		}
		return err
	}
	d.file = next
	d.applyLocked(eff)
	if rebind {
		old := d.ln
		d.ln = ln
		go d.serveOn(ln, d.errc)
		old.Close() // connections already open on it finish normally
		d.log.Info("listening on a new address", "addr", ln.Addr().String())
	}
	d.log.Info("configuration applied", "accounts", len(eff.Accounts), "strategy", eff.Strategy)
	return nil
}

// Reload re-reads the configuration file (after a hand edit) and applies it.
func (d *Daemon) Reload() error {
	file, err := config.Load(d.o.ConfigPath)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	eff, err := d.effective(file)
	if err != nil {
		return err
	}
	if eff.Listen != d.eff.Listen || eff.DataDir != d.eff.DataDir {
		d.log.Warn("listen and data_dir changes made by hand take effect after a restart")
		eff.Listen, eff.DataDir = d.eff.Listen, d.eff.DataDir
	}
	d.file = file
	d.applyLocked(eff)
	d.log.Info("configuration reloaded", "accounts", len(eff.Accounts))
	return nil
}

// ResetAccount implements control.Backend: it ends the account's cooldown
// and, when it needed a login or was failing, reads its credentials again.
func (d *Daemon) ResetAccount(name string) error {
	if err := d.pool.Reset(name); err != nil {
		if errors.Is(err, account.ErrUnknown) {
			return fmt.Errorf("%w: account %q", control.ErrNotFound, name)
		}
		return err
	}
	d.mu.Lock()
	e := d.entries[name]
	d.mu.Unlock()
	if e != nil && e.dir != "" {
		if st := e.acct.Snapshot(time.Now()).State; st == control.StateNeedsLogin || st == control.StateError {
			d.reload(e, true)
		}
	}
	return nil
}

// CheckDir implements control.Backend.
func (d *Daemon) CheckDir(dir string) control.DirCheck {
	out := control.DirCheck{Dir: dir}
	info, err := credential.Inspect(config.ExpandHome(dir, d.o.Home))
	if err != nil {
		out.Problem = err.Error()
		if errors.Is(err, credential.ErrNoCredentials) {
			out.Problem = "no Claude Code login found here: run `CLAUDE_CONFIG_DIR=" + dir + " claude` and /login first"
		}
		return out
	}
	out.Found, out.File = true, info.Path
	out.Subscription, out.RateLimitTier, out.CanRefresh = info.Subscription, info.RateLimitTier, info.CanRefresh
	if !info.ExpiresAt.IsZero() {
		t := info.ExpiresAt
		out.ExpiresAt = &t
		if time.Now().After(t) && !info.CanRefresh {
			out.Problem = "the token has expired and there is no refresh token: log in again"
		}
	}
	return out
}

// Tokens implements control.Backend.
func (d *Daemon) Tokens() []control.Token { return d.tokens.List() }

// IssueToken implements control.Backend.
func (d *Daemon) IssueToken(label string, ttl time.Duration) (control.Issued, error) {
	secret, info, err := d.tokens.Issue(label, ttl)
	if err != nil {
		if errors.Is(err, token.ErrInvalid) {
			return control.Issued{}, fmt.Errorf("%w: %v", control.ErrInvalid, err)
		}
		return control.Issued{}, err
	}
	return control.Issued{Token: info, Secret: secret}, nil
}

// Usage implements control.Backend: the history kept in
// <data_dir>/usage.json, in hours or in days of the local time zone.
func (d *Daemon) Usage(since time.Time, step string) control.Usage {
	return d.usage.Query(since, step)
}

// RevokeToken implements control.Backend.
func (d *Daemon) RevokeToken(id string) error {
	if err := d.tokens.Revoke(id); err != nil {
		if errors.Is(err, token.ErrNotFound) {
			return fmt.Errorf("%w: token %q", control.ErrNotFound, id)
		}
		return err
	}
	return nil
}
