package settings

import (
	"slices"
	"time"

	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
)

// The window's edits, as pure data. A draft is what the fields hold; the
// draft of the daemon's configuration (fromConfig) is what they would
// hold untouched. A field whose value differs from the daemon's is being
// edited: a new configuration from the daemon (rebase) replaces every
// other field, and Apply (draft.config) sends only the edited ones, put
// onto the latest configuration.

// draft is the part of a configuration the window edits, as its fields
// hold it: numbers as typed, the strategy as its config value.
type draft struct {
	Strategy string
	Cooldown string // as typed: "60s"
	Affinity bool
	Port     string // as typed: "8787"
	Notify   bool
	Kinds    [numKinds]bool // per kind, in the order of notifyKinds
	Accounts []draftAccount
	// Removed names the daemon's accounts the person removed (by their
	// name in the daemon's configuration).
	Removed []string
}

// draftAccount is one account row of a draft.
type draftAccount struct {
	// Orig is the account's name in the daemon's configuration; "" for an
	// account added in the window.
	Orig    string
	Name    string
	Dir     string
	Token   string // redacted as the daemon shows it; the window never edits it
	Enabled bool
}

// fromConfig is the draft of cfg: what the fields show with no edit.
func fromConfig(cfg control.Config) draft {
	d := draft{
		Strategy: cfg.Strategy,
		Cooldown: durationInput(time.Duration(cfg.Cooldown)),
		Affinity: cfg.SessionAffinity,
		Port:     listenPort(cfg.Listen),
		Notify:   cfg.Notify,
		Kinds:    kindValues(cfg.Notifications),
	}
	for _, a := range cfg.Accounts {
		d.Accounts = append(d.Accounts, draftAccount{Orig: a.Name, Name: a.Name, Dir: a.Dir, Token: a.Token, Enabled: a.IsEnabled()})
	}
	return d
}

func (d draft) equal(o draft) bool {
	return d.Strategy == o.Strategy && d.Cooldown == o.Cooldown && d.Affinity == o.Affinity &&
		d.Port == o.Port && d.Notify == o.Notify && d.Kinds == o.Kinds &&
		slices.Equal(d.Accounts, o.Accounts) && slices.Equal(d.Removed, o.Removed)
}

// accountsEdited reports whether the account list of d differs from that
// of base's draft (an account added, removed, renamed, moved, switched).
func (d draft) accountsEdited(base draft) bool {
	return len(d.Removed) > 0 || !slices.Equal(d.Accounts, base.Accounts)
}

// pick is the value of a field after a rebase: the edit when cur differs
// from what the daemon had (was), otherwise the daemon's new value.
func pick[T comparable](cur, was, fresh T) T {
	if cur != was {
		return cur
	}
	return fresh
}

// rebase moves the edits of cur, made on was (the draft of the daemon's
// configuration they started from), onto fresh (the draft of its new
// configuration): every field the person edited keeps the edit, every
// other field shows fresh's value. Accounts merge row by row: an account
// gone from the daemon's configuration goes (with any edit to it), one
// added there appears, a rename or switch made in the window stays, and
// the order follows the daemon unless the person moved a row.
func rebase(cur, was, fresh draft) draft {
	out := draft{
		Strategy: pick(cur.Strategy, was.Strategy, fresh.Strategy),
		Cooldown: pick(cur.Cooldown, was.Cooldown, fresh.Cooldown),
		Affinity: pick(cur.Affinity, was.Affinity, fresh.Affinity),
		Port:     pick(cur.Port, was.Port, fresh.Port),
		Notify:   pick(cur.Notify, was.Notify, fresh.Notify),
	}
	for i := range out.Kinds {
		out.Kinds[i] = pick(cur.Kinds[i], was.Kinds[i], fresh.Kinds[i])
	}
	if !cur.accountsEdited(was) {
		out.Accounts = slices.Clone(fresh.Accounts)
		return out
	}
	out.Accounts, out.Removed = rebaseAccounts(cur, was, fresh)
	return out
}

// rebaseAccounts merges the account rows of cur (edited on was) with the
// daemon's new rows fresh.
func rebaseAccounts(cur, was, fresh draft) ([]draftAccount, []string) {
	find := func(rows []draftAccount, orig string) (draftAccount, bool) {
		for _, r := range rows {
			if r.Orig == orig {
				return r, true
			}
		}
		return draftAccount{}, false
	}
	var removed []string
	for _, name := range cur.Removed {
		if _, ok := find(fresh.Accounts, name); ok {
			removed = append(removed, name)
		}
	}
	// Each row still in the daemon's configuration, with its edits.
	kept := map[string]draftAccount{}
	var added []draftAccount // rows added in the window
	var order []string       // the window's order of the daemon's accounts
	for _, r := range cur.Accounts {
		if r.Orig == "" {
			added = append(added, r)
			continue
		}
		n, ok := find(fresh.Accounts, r.Orig)
		if !ok {
			continue // removed (or renamed) elsewhere
		}
		o, _ := find(was.Accounts, r.Orig)
		n.Name = pick(r.Name, o.Name, n.Name)
		n.Enabled = pick(r.Enabled, o.Enabled, n.Enabled)
		kept[r.Orig] = n
		order = append(order, r.Orig)
	}
	var wasOrder []string
	for _, r := range was.Accounts {
		if !slices.Contains(cur.Removed, r.Orig) {
			wasOrder = append(wasOrder, r.Orig)
		}
	}
	moved := !slices.Equal(order, filter(wasOrder, kept))
	var out []draftAccount
	if moved {
		for _, name := range order {
			out = append(out, kept[name])
		}
	}
	for _, n := range fresh.Accounts {
		if slices.Contains(removed, n.Orig) || (moved && slices.Contains(order, n.Orig)) {
			continue
		}
		if k, ok := kept[n.Orig]; ok {
			n = k
		}
		out = append(out, n)
	}
	return append(out, added...), removed
}

// filter keeps the names that are keys of m, in order.
func filter(names []string, m map[string]draftAccount) []string {
	var out []string
	for _, n := range names {
		if _, ok := m[n]; ok {
			out = append(out, n)
		}
	}
	return out
}

// config returns base with the draft's edits put in: only the fields
// whose value differs from base's draft change, everything else is sent
// back as base has it. Values the window can check itself (port,
// cooldown) and that do not parse are returned as field errors.
func (d draft) config(base control.Config) (control.Config, []config.FieldError) {
	was := fromConfig(base)
	c := base
	var errs []config.FieldError
	if d.Strategy != was.Strategy {
		c.Strategy = d.Strategy
	}
	if d.Cooldown != was.Cooldown {
		v, msg := parseCooldown(d.Cooldown)
		if msg != "" {
			errs = append(errs, config.FieldError{Field: "cooldown", Message: msg})
		}
		c.Cooldown = config.Duration(v)
	}
	if d.Port != was.Port {
		v, msg := parsePort(d.Port)
		if msg != "" {
			errs = append(errs, config.FieldError{Field: "listen", Message: msg})
		}
		c.Listen = withPort(base.Listen, v)
	}
	if d.Affinity != was.Affinity {
		c.SessionAffinity = d.Affinity
	}
	if d.Notify != was.Notify {
		c.Notify = d.Notify
	}
	kinds := kindValues(base.Notifications)
	for i := range kinds {
		if d.Kinds[i] != was.Kinds[i] {
			kinds[i] = d.Kinds[i]
		}
	}
	c.Notifications = withKinds(base.Notifications, kinds)
	if d.accountsEdited(was) {
		c.Accounts = make([]config.Account, 0, len(d.Accounts))
		for _, r := range d.Accounts {
			a, ok := base.Account(r.Orig)
			if r.Orig == "" || !ok {
				a = config.Account{Dir: r.Dir, Token: r.Token}
			}
			a.Name = r.Name
			if r.Enabled != a.IsEnabled() {
				a.Enabled = nil // the default: enabled
				if !r.Enabled {
					a.Enabled = new(false)
				}
			} else if a.Enabled != nil {
				a.Enabled = new(*a.Enabled)
			}
			c.Accounts = append(c.Accounts, a)
		}
	} else {
		c.Accounts = slices.Clone(base.Accounts)
	}
	return c, errs
}
