package notify

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/event"
)

// zone is UTC+2, so that a time written in UTC would be visibly wrong.
var zone = time.FixedZone("test", 2*60*60)

// at is a time on 2025-03-12 (a Wednesday) in zone.
func at(hour, min int) time.Time { return time.Date(2025, 3, 12, hour, min, 0, 0, zone) }

func ptr(t time.Time) *time.Time { return &t }

// msg is what a person reads of a Message.
type msg struct{ Title, Body string }

func view(ms []Message) []msg {
	out := []msg{}
	for _, m := range ms {
		out = append(out, msg{m.Title, m.Body})
	}
	return out
}

func acct(name, dir, state string) control.Account {
	return control.Account{Name: name, Dir: dir, State: state}
}

func cooling(name string, until time.Time) control.Account {
	a := acct(name, "~/.claude-"+name, control.StateCooling)
	a.CooldownUntil = &until
	return a
}

func TestCompose(t *testing.T) {
	now := at(12, 0)
	back := at(14, 32)
	started := func(name, window string, until time.Time) event.Event {
		return event.Event{Type: event.CooldownStarted, Account: name, Window: window, Until: ptr(until), At: now}
	}
	ended := func(name string) event.Event {
		return event.Event{Type: event.CooldownEnded, Account: name, At: now}
	}
	work, side := acct("work", "~/.claude", control.StateAvailable), acct("side", "~/.claude-side", control.StateAvailable)
	three := []control.Account{work, cooling("personal", back), side}

	tests := []struct {
		name     string
		events   []event.Event
		accounts []control.Account
		want     []msg
	}{
		{
			name:     "5-hour limit",
			events:   []event.Event{started("personal", "five_hour", back)},
			accounts: three,
			want:     []msg{{"personal hit its 5-hour limit", "Back at 14:32. Requests now go to work and side."}},
		},
		{
			name:     "time is written in the location",
			events:   []event.Event{started("personal", "five_hour", back.UTC())},
			accounts: three,
			want:     []msg{{"personal hit its 5-hour limit", "Back at 14:32. Requests now go to work and side."}},
		},
		{
			name:     "weekly limit tomorrow",
			events:   []event.Event{started("personal", "seven_day", back.AddDate(0, 0, 1))},
			accounts: three,
			want:     []msg{{"personal hit its weekly limit", "Back tomorrow at 14:32. Requests now go to work and side."}},
		},
		{
			name:     "weekly limit in four days names the day",
			events:   []event.Event{started("personal", "seven_day", at(9, 0).AddDate(0, 0, 4))},
			accounts: three,
			want:     []msg{{"personal hit its weekly limit", "Back on Sunday at 09:00. Requests now go to work and side."}},
		},
		{
			name:     "a week away gets a date",
			events:   []event.Event{started("personal", "seven_day", at(9, 0).AddDate(0, 0, 7))},
			accounts: three,
			want:     []msg{{"personal hit its weekly limit", "Back on 19 Mar at 09:00. Requests now go to work and side."}},
		},
		{
			name: "weekly Opus limit",
			events: []event.Event{{Type: event.CooldownStarted, Account: "personal", Window: "seven_day_oi", Model: "opus",
				Until: ptr(back), At: now}},
			accounts: []control.Account{work, acct("personal", "~/.claude-personal", control.StateAvailable),
				{Name: "side", State: control.StateAvailable, ModelCooldowns: map[string]time.Time{"opus": back}}},
			want: []msg{{"personal hit its weekly Opus limit", "Back at 14:32. Opus requests now go to work."}},
		},
		{
			name:     "model named by the window",
			events:   []event.Event{started("personal", "seven_day_sonnet", back)},
			accounts: three,
			want:     []msg{{"personal hit its weekly Sonnet limit", "Back at 14:32. Sonnet requests now go to work and side."}},
		},
		{
			name: "unknown model family",
			events: []event.Event{{Type: event.CooldownStarted, Account: "personal", Window: "seven_day_oi", Model: "mythos",
				Until: ptr(back), At: now}},
			accounts: []control.Account{cooling("personal", back)},
			want:     []msg{{"personal hit its weekly mythos limit", "Back at 14:32. No other account is available for mythos."}},
		},
		{
			name:     "model window without a model",
			events:   []event.Event{started("personal", "seven_day_oi", back)},
			accounts: three,
			want:     []msg{{"personal hit its weekly model limit", "Back at 14:32. Requests now go to work and side."}},
		},
		{
			name:     "no window: rate limited",
			events:   []event.Event{started("personal", "", back)},
			accounts: three,
			want:     []msg{{"personal hit its rate limit", "Back at 14:32. Requests now go to work and side."}},
		},
		{
			name:     "no window: the reason says it",
			events:   []event.Event{{Type: event.CooldownStarted, Account: "personal", Reason: "usage limit", Until: ptr(back), At: now}},
			accounts: three,
			want:     []msg{{"personal hit its usage limit", "Back at 14:32. Requests now go to work and side."}},
		},
		{
			name:     "no window: other reason",
			events:   []event.Event{{Type: event.CooldownStarted, Account: "personal", Reason: "overloaded", At: now}},
			accounts: three,
			want:     []msg{{"personal is overloaded", "Requests now go to work and side."}},
		},
		{
			name:     "no other account available",
			events:   []event.Event{started("personal", "five_hour", back)},
			accounts: []control.Account{cooling("personal", back), cooling("work", at(16, 0)), acct("side", "", control.StateDisabled)},
			want:     []msg{{"personal hit its 5-hour limit", "Back at 14:32. No other account is available."}},
		},
		{
			name: "three accounts in one burst",
			events: []event.Event{
				started("a", "five_hour", at(15, 0)), started("b", "five_hour", back), started("c", "seven_day", at(18, 0)),
			},
			accounts: []control.Account{cooling("a", at(15, 0)), cooling("b", back), cooling("c", at(18, 0)), work},
			want:     []msg{{"3 accounts hit their limits: a, b, c", "The first comes back at 14:32 (b). Requests now go to work."}},
		},
		{
			name:     "two accounts in one burst",
			events:   []event.Event{started("a", "five_hour", at(15, 0)), started("b", "five_hour", back)},
			accounts: []control.Account{cooling("a", at(15, 0)), cooling("b", back)},
			want:     []msg{{"a and b hit their limits", "The first comes back at 14:32 (b). No other account is available."}},
		},
		{
			name:     "started then ended cancels out",
			events:   []event.Event{started("personal", "five_hour", back), ended("personal")},
			accounts: three,
			want:     []msg{},
		},
		{
			name:     "ended then started again is a new cooldown",
			events:   []event.Event{ended("personal"), started("personal", "seven_day", back)},
			accounts: three,
			want:     []msg{{"personal hit its weekly limit", "Back at 14:32. Requests now go to work and side."}},
		},
		{
			name:     "cooldown ended",
			events:   []event.Event{ended("personal")},
			accounts: []control.Account{work, acct("personal", "", control.StateAvailable), cooling("side", back)},
			want:     []msg{{"personal is available again", "2 of 3 accounts are available."}},
		},
		{
			name:     "cooldown ended, all available",
			events:   []event.Event{ended("personal")},
			accounts: []control.Account{work, acct("personal", "", control.StateAvailable)},
			want:     []msg{{"personal is available again", "All 2 accounts are available."}},
		},
		{
			name:   "cooldown ended without snapshot",
			events: []event.Event{ended("personal")},
			want:   []msg{{"personal is available again", ""}},
		},
		{
			name:   "model cooldown ended",
			events: []event.Event{{Type: event.CooldownEnded, Account: "personal", Model: "opus", At: now}},
			want:   []msg{{"personal can use Opus again", ""}},
		},
		{
			name:     "several ended",
			events:   []event.Event{ended("a"), ended("b"), ended("c")},
			accounts: []control.Account{acct("a", "", control.StateAvailable), acct("b", "", control.StateAvailable), acct("c", "", control.StateAvailable)},
			want:     []msg{{"3 accounts are available again: a, b, c", "All 3 accounts are available."}},
		},
		{
			name:     "needs login",
			events:   []event.Event{{Type: event.NeedsLogin, Account: "side", Reason: "refresh token rejected", At: now}},
			accounts: three,
			want:     []msg{{"side needs a new login", "Log in again from Settings, or run: CLAUDE_CONFIG_DIR=~/.claude-side claude /login"}},
		},
		{
			name:     "needs login, default directory",
			events:   []event.Event{{Type: event.NeedsLogin, Account: "work", At: now}},
			accounts: three,
			want:     []msg{{"work needs a new login", "Log in again from Settings, or run: claude /login"}},
		},
		{
			name:     "needs login, directory with a space",
			events:   []event.Event{{Type: event.NeedsLogin, Account: "odd", At: now}},
			accounts: []control.Account{acct("odd", "~/Claude Odd", control.StateNeedsLogin)},
			want:     []msg{{"odd needs a new login", "Log in again from Settings, or run: CLAUDE_CONFIG_DIR=~/'Claude Odd' claude /login"}},
		},
		{
			name:     "needs login, token account",
			events:   []event.Event{{Type: event.NeedsLogin, Account: "ci", At: now}},
			accounts: []control.Account{acct("ci", "", control.StateNeedsLogin)},
			want:     []msg{{"ci needs a new login", "Run: claude setup-token, then paste the new token in Settings."}},
		},
		{
			name:     "needs login, two accounts",
			events:   []event.Event{{Type: event.NeedsLogin, Account: "side", At: now}, {Type: event.NeedsLogin, Account: "work", At: now}},
			accounts: three,
			want: []msg{{"side and work need a new login",
				"side: CLAUDE_CONFIG_DIR=~/.claude-side claude /login\nwork: claude /login"}},
		},
		{
			name:     "all exhausted, until from the event",
			events:   []event.Event{{Type: event.AllExhausted, Account: "work", Until: ptr(back), At: now}},
			accounts: []control.Account{cooling("work", back), cooling("personal", at(16, 0))},
			want:     []msg{{"All accounts are at their limit", "The first comes back at 14:32 (work)."}},
		},
		{
			name:     "all exhausted, until from the snapshot",
			events:   []event.Event{{Type: event.AllExhausted, At: now}},
			accounts: []control.Account{cooling("personal", at(16, 0)), cooling("work", back)},
			want:     []msg{{"All accounts are at their limit", "The first comes back at 14:32 (work)."}},
		},
		{
			name:     "all exhausted, account from the snapshot",
			events:   []event.Event{{Type: event.AllExhausted, Until: ptr(back), At: now}},
			accounts: []control.Account{cooling("personal", at(16, 0)), cooling("work", back)},
			want:     []msg{{"All accounts are at their limit", "The first comes back at 14:32 (work)."}},
		},
		{
			name:     "all exhausted, nobody comes back by itself",
			events:   []event.Event{{Type: event.AllExhausted, At: now}},
			accounts: []control.Account{acct("side", "~/.claude-side", control.StateNeedsLogin)},
			want:     []msg{{"All accounts are at their limit", "No account can take requests right now."}},
		},
		{
			name: "all exhausted supersedes the cooldowns of its burst",
			events: []event.Event{
				started("work", "five_hour", back), started("personal", "seven_day", at(16, 0)),
				{Type: event.AllExhausted, Account: "work", Until: ptr(back), At: now},
			},
			accounts: []control.Account{cooling("work", back), cooling("personal", at(16, 0))},
			want:     []msg{{"All accounts are at their limit", "The first comes back at 14:32 (work)."}},
		},
		{
			name:     "all exhausted then recovered cancels out",
			events:   []event.Event{{Type: event.AllExhausted, At: now}, {Type: event.Recovered, At: now}},
			accounts: three,
			want:     []msg{},
		},
		{
			name:     "recovered with the account that came back",
			events:   []event.Event{ended("personal"), {Type: event.Recovered, At: now}},
			accounts: []control.Account{cooling("work", back), acct("personal", "", control.StateAvailable)},
			want:     []msg{{"MaxRouter is routing again", "personal is available again."}},
		},
		{
			name:     "recovered alone",
			events:   []event.Event{{Type: event.Recovered, At: now}},
			accounts: []control.Account{cooling("work", back), acct("personal", "", control.StateAvailable)},
			want:     []msg{{"MaxRouter is routing again", "Requests go to personal."}},
		},
		{
			name:     "refreshed says nothing",
			events:   []event.Event{{Type: event.Refreshed, Account: "work", At: now}},
			accounts: three,
			want:     []msg{},
		},
		{
			name: "mixed burst: one message per kind, in order of importance",
			events: []event.Event{
				ended("side"), {Type: event.NeedsLogin, Account: "work", At: now}, started("personal", "five_hour", back),
			},
			accounts: []control.Account{acct("work", "~/.claude", control.StateNeedsLogin), cooling("personal", back), side},
			want: []msg{
				{"personal hit its 5-hour limit", "Back at 14:32. Requests now go to side."},
				{"work needs a new login", "Log in again from Settings, or run: claude /login"},
				{"side is available again", "1 of 3 accounts is available."},
			},
		},
		{
			name:     "needs login, directory under home",
			events:   []event.Event{{Type: event.NeedsLogin, Account: "side", At: now}},
			accounts: []control.Account{acct("side", "/home/u/.claude-side", control.StateNeedsLogin)},
			want:     []msg{{"side needs a new login", "Log in again from Settings, or run: CLAUDE_CONFIG_DIR=~/.claude-side claude /login"}},
		},
		{
			name:     "login completed",
			events:   []event.Event{{Type: event.LoginCompleted, Account: "side", At: now}},
			accounts: three,
			want:     []msg{{"side is logged in again", "2 of 3 accounts are available."}},
		},
		{
			name:     "needs login then logged in again cancels out",
			events:   []event.Event{{Type: event.NeedsLogin, Account: "side", At: now}, {Type: event.LoginCompleted, Account: "side", At: now}},
			accounts: three,
			want:     []msg{},
		},
		{
			name: "error with a retry",
			events: []event.Event{{Type: event.Error, Account: "side", Reason: "refreshing token: connection refused.",
				Until: ptr(at(12, 5)), At: now}},
			accounts: []control.Account{work, cooling("personal", back), acct("side", "~/.claude-side", control.StateError)},
			want:     []msg{{"side can't be used", "Refreshing token: connection refused. Trying again at 12:05. Requests now go to work."}},
		},
		{
			name:     "error without a retry",
			events:   []event.Event{{Type: event.Error, Account: "side", Reason: "credentials file unreadable", At: now}},
			accounts: []control.Account{acct("side", "~/.claude-side", control.StateError)},
			want:     []msg{{"side can't be used", "Credentials file unreadable. It is tried again when its credentials change. No other account is available."}},
		},
		{
			name: "a long error is shortened to one line",
			events: []event.Event{{Type: event.Error, Account: "side", Reason: "token endpoint said:\n" + strings.Repeat("x", 200),
				Until: ptr(at(12, 5)), At: now}},
			want: []msg{{"side can't be used", "Token endpoint said: " + strings.Repeat("x", 120-len("token endpoint said: ")-1) + "…. Trying again at 12:05. No other account is available."}},
		},
		{
			name: "two accounts failing",
			events: []event.Event{
				{Type: event.Error, Account: "a", Reason: "connection refused", Until: ptr(at(12, 5)), At: now},
				{Type: event.Error, Account: "b", Reason: "server error", Until: ptr(at(12, 5)), At: now},
			},
			accounts: []control.Account{acct("a", "", control.StateError), acct("b", "", control.StateError), work},
			want:     []msg{{"a and b can't be used", "a: Connection refused.\nb: Server error.\nRequests now go to work."}},
		},
		{
			name:     "error cleared",
			events:   []event.Event{{Type: event.ErrorCleared, Account: "side", At: now}},
			accounts: []control.Account{work, side},
			want:     []msg{{"side works again", "All 2 accounts are available."}},
		},
		{
			name:     "error then cleared cancels out",
			events:   []event.Event{{Type: event.Error, Account: "side", At: now}, {Type: event.ErrorCleared, Account: "side", At: now}},
			accounts: three,
			want:     []msg{},
		},
		{
			name: "good news of every kind is one message",
			events: []event.Event{
				ended("a"), {Type: event.ErrorCleared, Account: "b", At: now}, {Type: event.LoginCompleted, Account: "c", At: now},
			},
			accounts: []control.Account{acct("a", "", control.StateAvailable), acct("b", "", control.StateAvailable), acct("c", "", control.StateAvailable)},
			want:     []msg{{"3 accounts are available again: a, b, c", "c is logged in again. All 3 accounts are available."}},
		},
		{
			name:     "an account and a model family back",
			events:   []event.Event{ended("a"), {Type: event.CooldownEnded, Account: "b", Model: "opus", At: now}},
			accounts: []control.Account{acct("a", "", control.StateAvailable), acct("b", "", control.StateAvailable)},
			want:     []msg{{"a is available again", "b can use Opus again. All 2 accounts are available."}},
		},
		{
			name: "model families back",
			events: []event.Event{
				{Type: event.CooldownEnded, Account: "a", Model: "opus", At: now}, {Type: event.CooldownEnded, Account: "b", Model: "opus", At: now},
			},
			want: []msg{{"a can use Opus again", "b can use Opus again."}},
		},
		{
			name:     "recovered by a login",
			events:   []event.Event{{Type: event.LoginCompleted, Account: "side", At: now}, {Type: event.Recovered, At: now}},
			accounts: []control.Account{cooling("work", back), side},
			want:     []msg{{"MaxRouter is routing again", "side is logged in again."}},
		},
		{
			name: "recovered, good news and bad news",
			events: []event.Event{
				ended("work"), {Type: event.Recovered, At: now}, {Type: event.LoginCompleted, Account: "side", At: now},
				started("personal", "five_hour", back),
			},
			accounts: []control.Account{work, cooling("personal", back), side},
			want: []msg{
				{"personal hit its 5-hour limit", "Back at 14:32. Requests now go to work and side."},
				{"MaxRouter is routing again", "work is available again. side is logged in again."},
			},
		},
		{
			name: "logged in again as another email",
			events: []event.Event{{Type: event.LoginCompleted, Account: "side", Email: "bob@example.com",
				Reason: "logged in as bob@example.com; the account was ana@example.com", At: now}},
			accounts: []control.Account{work, side},
			want:     []msg{{"side is logged in again", "Logged in as bob@example.com; the account was ana@example.com. All 2 accounts are available."}},
		},
		{
			name:     "logged in again, email from the event, plan from the snapshot",
			events:   []event.Event{{Type: event.LoginCompleted, Account: "side", Email: "ana@example.com", At: now}},
			accounts: []control.Account{work, {Name: "side", State: control.StateAvailable, Subscription: "pro"}},
			want:     []msg{{"side is logged in again", "Logged in as ana@example.com (Pro). All 2 accounts are available."}},
		},
		{
			name:   "an account added by a login is not logged in again",
			events: []event.Event{{Type: accountAdded, Account: "new", Email: "ana@example.com", At: now}},
			accounts: []control.Account{work, side, {Name: "new", State: control.StateAvailable, Email: "ana@example.com",
				Subscription: "max", RateLimitTier: "default_claude_max_20x"}},
			want: []msg{{"new was added", "Logged in as ana@example.com (Max 20x). It takes requests now. All 3 accounts are available."}},
		},
		{
			name: "two accounts added",
			events: []event.Event{
				{Type: accountAdded, Account: "a", Email: "a@example.com", At: now}, {Type: accountAdded, Account: "b", At: now},
			},
			accounts: []control.Account{acct("a", "", control.StateAvailable), acct("b", "", control.StateAvailable)},
			want:     []msg{{"a and b were added", "a: Logged in as a@example.com. All 2 accounts are available."}},
		},
		{
			name:     "an account added beside one back",
			events:   []event.Event{ended("work"), {Type: accountAdded, Account: "new", Email: "ana@example.com", At: now}},
			accounts: []control.Account{work, acct("new", "", control.StateAvailable)},
			want:     []msg{{"work is available again", "new was added: logged in as ana@example.com. All 2 accounts are available."}},
		},
		{
			name:     "a login failed",
			events:   []event.Event{{Type: event.LoginFailed, Account: "new", Reason: "the login was not finished within 10 minutes", At: now}},
			accounts: three,
			want:     []msg{{"Logging in to new failed", "The login was not finished within 10 minutes. Try again from Settings."}},
		},
		{
			name: "a login that failed and then worked is told as working",
			events: []event.Event{
				{Type: event.LoginFailed, Account: "side", Reason: "state mismatch", At: now}, {Type: event.LoginCompleted, Account: "side", At: now},
			},
			accounts: []control.Account{work, side},
			want:     []msg{{"side is logged in again", "All 2 accounts are available."}},
		},
		{
			name:     "billing extra usage",
			events:   []event.Event{{Type: event.BillingExtra, Account: "work", Until: ptr(back), Reason: "overage in use", At: now}},
			accounts: []control.Account{work, side},
			want: []msg{{"work is billing extra usage",
				"Anthropic bills its answers to paid extra usage until its limit resets at 14:32. Requests go to side while they have room."}},
		},
		{
			name:     "billing extra usage with no other account",
			events:   []event.Event{{Type: event.BillingExtra, Account: "work", At: now}},
			accounts: []control.Account{work, cooling("personal", back)},
			want: []msg{{"work is billing extra usage",
				"Anthropic bills its answers to paid extra usage. No other account has room, so requests still go to it."}},
		},
		{
			name:     "a login about to end",
			events:   []event.Event{{Type: loginEnding, Account: "work", Until: ptr(at(15, 0).AddDate(0, 0, 2)), At: now}},
			accounts: three,
			want:     []msg{{"work's login expires in 2 days", "After Fri 15:00 it needs a new login. Log in again now to keep it working."}},
		},
		{
			name: "two logins about to end",
			events: []event.Event{
				{Type: loginEnding, Account: "work", Until: ptr(at(15, 0).AddDate(0, 0, 2)), At: now},
				{Type: loginEnding, Account: "side", Until: ptr(at(18, 0)), At: now},
			},
			accounts: three,
			want: []msg{{"2 logins expire soon: work, side",
				"work: login expires in 2 days.\nside: login expires in 6 h.\nLog in again from Settings to keep them working."}},
		},
		{
			name: "config, routing and daemon events say nothing",
			events: []event.Event{
				{Type: event.ConfigChanged, Revision: "r2", At: now}, {Type: event.Paused, At: now}, {Type: event.Resumed, At: now},
				{Type: event.Stopping, At: now}, {Type: control.EventReset},
			},
			accounts: three,
			want:     []msg{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := view(Compose(tt.events, tt.accounts, zone, "/home/u"))
			if !slices.Equal(got, tt.want) {
				t.Errorf("Compose() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReduceIsIdempotent(t *testing.T) {
	now := at(12, 0)
	events := []event.Event{
		{Type: event.CooldownStarted, Account: "a", At: now},
		{Type: event.CooldownEnded, Account: "b", At: now},
		{Type: event.CooldownEnded, Account: "a", At: now},
		{Type: event.Refreshed, Account: "c", At: now},
		{Type: event.CooldownStarted, Account: "b", Until: ptr(now), At: now},
	}
	once := reduce(events)
	if len(once) != 1 || once[0].Account != "b" || once[0].Type != event.CooldownStarted {
		t.Fatalf("reduce() = %+v, want b's cooldown_started alone", once)
	}
	twice := reduce(once)
	if len(twice) != len(once) || twice[0] != once[0] {
		t.Errorf("reduce(reduce()) = %+v, want %+v", twice, once)
	}
}

// TestComposeSaysWhatMessagesAreAbout checks what the Notifier reads of a
// message: its kind and accounts.
func TestComposeSaysWhatMessagesAreAbout(t *testing.T) {
	now := at(12, 0)
	got := Compose([]event.Event{
		{Type: event.AllExhausted, At: now},
		{Type: event.CooldownStarted, Account: "a", At: now},
		{Type: event.Error, Account: "b", At: now},
		{Type: event.NeedsLogin, Account: "c", At: now},
		{Type: event.NeedsLogin, Account: "d", At: now},
		{Type: event.CooldownEnded, Account: "e", At: now},
	}, nil, zone, "")
	type about struct {
		kind     kind
		accounts []string
	}
	want := []about{{kindExhausted, nil}, {kindError, []string{"b"}}, {kindLogin, []string{"c", "d"}}, {kindBack, []string{"e"}}}
	if len(got) != len(want) {
		t.Fatalf("Compose() = %q, want %d messages", view(got), len(want))
	}
	for i, m := range got {
		if m.kind != want[i].kind || !slices.Equal(m.accounts, want[i].accounts) {
			t.Errorf("message %d (%q): about %v %q, want %v %q", i, m.Title, m.kind, m.accounts, want[i].kind, want[i].accounts)
		}
		if m.Urgent || m.Actions != nil {
			t.Errorf("message %d (%q): urgent %v, actions %v; want neither (the Notifier decides)", i, m.Title, m.Urgent, m.Actions)
		}
	}
}

// TestComposeBillingAllowed: with extra_usage = "allow" an account billing
// extra usage keeps taking requests, and the message says so.
func TestComposeBillingAllowed(t *testing.T) {
	c := composer{accounts: []control.Account{acct("work", "", control.StateAvailable), acct("side", "", control.StateAvailable)}, loc: zone, allowExtra: true}
	got := view(c.compose([]event.Event{{Type: event.BillingExtra, Account: "work", At: at(12, 0)}}))
	want := []msg{{"work is billing extra usage", `Anthropic bills its answers to paid extra usage. Requests still go to it as to any other account (extra_usage = "allow").`}}
	if !slices.Equal(got, want) {
		t.Errorf("compose() = %q, want %q", got, want)
	}
}
