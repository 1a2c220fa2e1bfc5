package daemon

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/maxrouter/maxrouter/core/account"
	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/credential"
	"github.com/maxrouter/maxrouter/core/event"
	"github.com/maxrouter/maxrouter/core/proxy"
	"github.com/maxrouter/maxrouter/core/token"
	"github.com/maxrouter/maxrouter/core/usage"
	"github.com/maxrouter/maxrouter/core/words"
)

// The Daemon is the control API's Backend.
var _ control.Backend = (*Daemon)(nil)

// Status implements control.Backend.
func (d *Daemon) Status() control.Status {
	return control.Status{Version: d.o.Version, Listen: d.Addr(), PID: os.Getpid(), StartedAt: d.started, Config: d.o.ConfigPath, Paused: d.paused.Load(), LastEventID: d.bus.LastID()}
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
func (d *Daemon) Subscribe(after string) *event.Sub { return d.bus.Subscribe(after) }

// Config implements control.Backend: the file's configuration (without the
// environment overrides), tokens masked, and its revision.
func (d *Daemon) Config() (control.Config, string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.file.Redacted(), d.rev
}

// revision names a configuration: a hash of everything in it, secrets
// included (the hash reveals none of them). Equal configurations have the
// same revision, so a client holding one never overwrites anything by
// sending its change back.
func revision(c config.Config) string {
	if len(c.Accounts) == 0 {
		c.Accounts = nil // none is none, however it was spelled
	}
	data, _ := json.Marshal(c)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

// setFileLocked makes file the configuration the daemon holds and, when
// it differs from the one before, announces its new revision. d.mu is held.
func (d *Daemon) setFileLocked(file config.Config) {
	d.file = file
	rev := revision(file)
	if rev == d.rev {
		return
	}
	d.rev = rev
	d.bus.Publish(event.Event{Type: event.ConfigChanged, Revision: rev, At: time.Now()})
}

// PutConfig implements control.Backend: validate, save, apply, when rev is
// the current revision. A file edited by hand and not yet reloaded is
// reloaded first, so that the change is refused as stale rather than
// overwriting the edit; a hand edit that does not parse refuses the change
// until it is fixed. Nothing is saved or applied when any value is invalid
// or the new address cannot be bound.
func (d *Daemon) PutConfig(next control.Config, rev string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.reloadEditedLocked(); err != nil {
		return err
	}
	if rev != d.rev {
		return &control.StaleError{Config: d.file.Redacted(), Revision: d.rev}
	}
	return d.commitLocked(config.MergeSecrets(next, d.file))
}

// commitLocked validates, saves, applies and announces next (see
// PutConfig). d.mu is held.
func (d *Daemon) commitLocked(next config.Config) error {
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
	d.applyLocked(eff)
	d.setFileLocked(next)
	d.noteDiskLocked()
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
	if err := d.applyFileLocked(file); err != nil {
		return err
	}
	d.noteDiskLocked()
	return nil
}

// applyFileLocked applies file, read from the configuration file after a
// hand edit. d.mu is held.
func (d *Daemon) applyFileLocked(file config.Config) error {
	eff, err := d.effective(file)
	if err != nil {
		return err
	}
	if eff.Listen != d.eff.Listen || eff.DataDir != d.eff.DataDir {
		d.log.Warn("listen and data_dir changes made by hand take effect after a restart")
		eff.Listen, eff.DataDir = d.eff.Listen, d.eff.DataDir
	}
	d.applyLocked(eff)
	d.setFileLocked(file)
	d.log.Info("configuration reloaded", "accounts", len(eff.Accounts), "revision", d.rev)
	return nil
}

// reloadEditedLocked applies the configuration file when it was edited by
// hand since the daemon last read or wrote it, and refuses (with an error
// wrapping control.ErrInvalid) when that edit cannot be read. A missing
// file is no edit: the next save writes it again. d.mu is held.
func (d *Daemon) reloadEditedLocked() error {
	data, err := os.ReadFile(d.o.ConfigPath)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && sha256.Sum256(data) == d.disk) {
		return nil
	}
	var disk config.Config
	if err == nil {
		disk, err = config.Parse(data, d.o.ConfigPath)
	}
	if err != nil {
		return fmt.Errorf("%w: %s was changed by hand and cannot be read, so saving would lose that change: fix it (or undo it) first: %v", control.ErrInvalid, d.o.ConfigPath, err)
	}
	d.log.Info("the configuration file was edited by hand; applying it first", "file", d.o.ConfigPath)
	if err := d.applyFileLocked(disk); err != nil {
		return fmt.Errorf("%w: %s was changed by hand and cannot be applied: %v", control.ErrInvalid, d.o.ConfigPath, err)
	}
	d.disk = sha256.Sum256(data)
	return nil
}

// noteDiskLocked remembers what the configuration file holds now (just
// read or written by the daemon), to tell a later hand edit. d.mu is held.
func (d *Daemon) noteDiskLocked() {
	data, err := os.ReadFile(d.o.ConfigPath)
	if err != nil {
		d.disk = [sha256.Size]byte{}
		return
	}
	d.disk = sha256.Sum256(data)
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
		if st := e.acct.Load().Snapshot(time.Now()).State; st == control.StateNeedsLogin || st == control.StateError {
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
	now := time.Now()
	if !info.LoginExpiresAt.IsZero() {
		t := info.LoginExpiresAt
		out.LoginExpiresAt = &t
	}
	if !info.ExpiresAt.IsZero() {
		t := info.ExpiresAt
		out.ExpiresAt = &t
		switch {
		case now.After(t) && !info.CanRefresh:
			out.Problem = "the token has expired and there is no refresh token: log in again"
		case now.After(t) && out.LoginExpiresAt != nil && now.After(*out.LoginExpiresAt):
			out.Problem = "the login has ended: log in again"
		}
	}
	return out
}

// Tokens implements control.Backend.
func (d *Daemon) Tokens() []control.Token { return d.tokens.List() }

// IssueToken implements control.Backend.
func (d *Daemon) IssueToken(label string, ttl time.Duration, limits control.Limits) (control.Issued, error) {
	secret, info, err := d.tokens.IssueWithLimits(label, ttl, limits)
	if err != nil {
		return control.Issued{}, tokenError(err)
	}
	return control.Issued{Token: info, Secret: secret}, nil
}

// UpdateToken implements control.Backend: the new limits apply to the
// token's next request; its requests in flight are not touched.
func (d *Daemon) UpdateToken(id string, u control.TokenUpdate) (control.Token, error) {
	info, err := d.tokens.Update(id, u)
	if err != nil {
		return control.Token{}, tokenError(err)
	}
	return info, nil
}

// tokenError is err, from the token store, as the control API answers it.
func tokenError(err error) error {
	switch {
	case errors.Is(err, token.ErrInvalid):
		return fmt.Errorf("%w: %v", control.ErrInvalid, err)
	case errors.Is(err, token.ErrNotFound):
		return fmt.Errorf("%w: %v", control.ErrNotFound, err)
	}
	return err
}

// Usage implements control.Backend: the history kept in
// <data_dir>/usage.json, in hours or in days of the local time zone, per
// account or per client token (each bucket with the token's label).
func (d *Daemon) Usage(since time.Time, step, by string) control.Usage {
	if by == control.UsageByToken {
		return usage.Labelled(d.usage.QueryClients(since, step, time.Local), d.tokens.List())
	}
	return d.usage.Query(since, step)
}

// budgetSpent announces a client token that spent its budget.
func (d *Daemon) budgetSpent(s proxy.Spent) {
	until := s.Until
	d.bus.Publish(event.Event{Type: event.TokenBudgetReached, Token: s.ID, Label: s.Label, Until: &until, Reason: words.Limits(s.Limits), At: time.Now()})
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
