package settings

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
)

func TestFromConfig(t *testing.T) {
	cfg := fixtureConfig()
	cfg.Accounts[0].Enabled = ptr(false)
	d := fromConfig(cfg)
	want := draft{
		Strategy: "round-robin", Cooldown: "60s", Affinity: true, Port: "8787", Notify: true,
		Kinds: [numKinds]bool{true, true, true, true, true, true},
		Accounts: []draftAccount{
			{Orig: "work", Name: "work", Dir: "~/.claude-work"},
			{Orig: "personal", Name: "personal", Dir: "~/.claude-personal", Enabled: true},
			{Orig: "side", Name: "side", Dir: "~/.claude-side", Enabled: true},
			{Orig: "team", Name: "team", Dir: "~/.claude-team", Enabled: true},
		},
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("fromConfig =\n%+v\nwant\n%+v", d, want)
	}
	if !d.equal(fromConfig(cfg)) {
		t.Error("a draft differs from itself")
	}
}

// rebase keeps what the person edited and takes everything else from the
// daemon's new configuration.
func TestRebase(t *testing.T) {
	old := fixtureConfig()
	tests := []struct {
		name  string
		edit  func(*draft)          // what the person did
		other func(*control.Config) // what changed elsewhere
		want  func(*draft)          // the expected draft, from the new config's
	}{
		{"no edit: follow", func(*draft) {}, func(c *control.Config) {
			c.Strategy = "priority"
			c.Accounts = c.Accounts[1:]
		}, func(*draft) {}},
		{"edited field kept, others follow", func(d *draft) { d.Cooldown = "5m" },
			func(c *control.Config) { c.Strategy = "priority" },
			func(d *draft) { d.Cooldown = "5m" }},
		{"both changed the same field: the edit wins", func(d *draft) { d.Strategy = "headroom" },
			func(c *control.Config) { c.Strategy = "priority" },
			func(d *draft) { d.Strategy = "headroom" }},
		{"an edit equal to the new value is no longer an edit", func(d *draft) { d.Strategy = "priority" },
			func(c *control.Config) { c.Strategy = "priority" },
			func(*draft) {}},
		{"rename kept, account added elsewhere appears", func(d *draft) { d.Accounts[2].Name = "spare" },
			func(c *control.Config) {
				c.Accounts = append(c.Accounts, config.Account{Name: "extra", Dir: "~/.claude-extra"})
			},
			func(d *draft) { d.Accounts[2].Name = "spare" }},
		{"switch kept, other account switched elsewhere", func(d *draft) { d.Accounts[0].Enabled = false },
			func(c *control.Config) { c.Accounts[3].Enabled = ptr(false) },
			func(d *draft) { d.Accounts[0].Enabled = false }},
		{"removal kept, account gone elsewhere goes", func(d *draft) {
			d.Accounts = slices.Delete(d.Accounts, 1, 2)
			d.Removed = []string{"personal"}
		}, func(c *control.Config) { c.Accounts = slices.Delete(c.Accounts, 3, 4) },
			func(d *draft) {
				d.Accounts = slices.Delete(d.Accounts, 1, 2)
				d.Removed = []string{"personal"}
			}},
		{"removed here and elsewhere", func(d *draft) {
			d.Accounts = slices.Delete(d.Accounts, 1, 2)
			d.Removed = []string{"personal"}
		}, func(c *control.Config) { c.Accounts = slices.Delete(c.Accounts, 1, 2) },
			func(*draft) {}},
		{"order kept, account added elsewhere after", func(d *draft) {
			d.Accounts[0], d.Accounts[1] = d.Accounts[1], d.Accounts[0]
		}, func(c *control.Config) {
			c.Accounts = append(c.Accounts, config.Account{Name: "extra", Dir: "~/.claude-extra"})
		},
			func(d *draft) { d.Accounts[0], d.Accounts[1] = d.Accounts[1], d.Accounts[0] }},
		{"order follows when not moved here", func(d *draft) { d.Accounts[3].Name = "crew" },
			func(c *control.Config) { c.Accounts[0], c.Accounts[3] = c.Accounts[3], c.Accounts[0] },
			func(d *draft) { d.Accounts[0].Name = "crew" }},
		{"added here stays last", func(d *draft) {
			d.Accounts = append(d.Accounts, draftAccount{Name: "new", Dir: "~/.claude-new", Enabled: true})
		}, func(c *control.Config) { c.Accounts = c.Accounts[:3] },
			func(d *draft) {
				d.Accounts = append(d.Accounts, draftAccount{Name: "new", Dir: "~/.claude-new", Enabled: true})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := fromConfig(old)
			tt.edit(&cur)
			next := fixtureConfig()
			next.Accounts = slices.Clone(next.Accounts)
			tt.other(&next)
			want := fromConfig(next)
			tt.want(&want)
			if got := rebase(cur, fromConfig(old), fromConfig(next)); !reflect.DeepEqual(got, want) {
				t.Errorf("rebase =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

// config sends only the edited fields, put onto the latest configuration.
func TestDraftConfig(t *testing.T) {
	base := fixtureConfig()
	base.Listen = "0.0.0.0:8787"
	base.Upstream = "http://127.0.0.1:9/x"
	base.Accounts = append(base.Accounts, config.Account{Name: "ci", Token: "sk-ant-oat01-…abcd"})

	t.Run("no edit", func(t *testing.T) {
		got, errs := fromConfig(base).config(base)
		if len(errs) != 0 || !reflect.DeepEqual(got, base) {
			t.Errorf("config = %+v, %v; want base back", got, errs)
		}
	})
	t.Run("edits", func(t *testing.T) {
		d := fromConfig(base)
		d.Strategy, d.Cooldown, d.Port, d.Affinity = "headroom", "2m", "9000", false
		d.Kinds[1] = false
		d.Accounts[1].Enabled = false // personal, explicitly enabled before
		d.Accounts[2].Name = "spare"
		d.Accounts = append(d.Accounts, draftAccount{Name: "new", Dir: "~/.claude-new", Enabled: true})
		d.Accounts = slices.Delete(d.Accounts, 3, 4) // team
		d.Removed = []string{"team"}
		got, errs := d.config(base)
		if len(errs) != 0 {
			t.Fatal(errs)
		}
		want := base
		want.Strategy = "headroom"
		want.Cooldown = config.Duration(2 * time.Minute)
		want.Listen = "0.0.0.0:9000"
		want.SessionAffinity = false
		want.Notifications.CooldownEnded = false
		want.Accounts = []config.Account{
			{Name: "work", Dir: "~/.claude-work"},
			{Name: "personal", Dir: "~/.claude-personal", Enabled: ptr(false)},
			{Name: "spare", Dir: "~/.claude-side"},
			{Name: "ci", Token: "sk-ant-oat01-…abcd"},
			{Name: "new", Dir: "~/.claude-new"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("config =\n%+v\nwant\n%+v", got, want)
		}
		if base.Accounts[1].Enabled == nil || !*base.Accounts[1].Enabled || base.Accounts[2].Name != "side" {
			t.Error("config changed base")
		}
	})
	t.Run("only edited fields are checked", func(t *testing.T) {
		odd := base
		odd.Cooldown = 0 // whatever the daemon holds is not the window's to refuse
		d := fromConfig(odd)
		d.Port = "70000"
		_, errs := d.config(odd)
		if len(errs) != 1 || errs[0].Field != "listen" {
			t.Errorf("errors = %+v, want one for listen", errs)
		}
	})
}
