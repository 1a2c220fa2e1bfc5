package event

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// drain returns what s has to say now, without waiting.
func drain(t *testing.T, s *Sub) ([]Event, bool) {
	t.Helper()
	select {
	case <-s.Ready():
	default:
		return nil, false
	}
	return s.Next()
}

func types(es []Event) string {
	out := ""
	for _, e := range es {
		out += string(e.Type) + "/" + e.Account + " "
	}
	return out
}

func TestBusFansOutInOrder(t *testing.T) {
	var b Bus
	s1, s2 := b.Subscribe(""), b.Subscribe("")
	defer s1.Close()
	defer s2.Close()
	if es, lost := drain(t, s1); es != nil || lost {
		t.Fatalf("new subscriber got %v (lost %t), want nothing", es, lost)
	}
	b.Publish(Event{Type: CooldownStarted, Account: "work"})
	b.Publish(Event{Type: CooldownEnded, Account: "work"})
	for i, s := range []*Sub{s1, s2} {
		es, lost := drain(t, s)
		if got, want := types(es), "cooldown_started/work cooldown_ended/work "; got != want || lost {
			t.Errorf("subscriber %d got %q (lost %t), want %q", i, got, lost, want)
		}
	}
	if es, _ := drain(t, s1); es != nil {
		t.Errorf("second read got %v, want nothing new", es)
	}
}

func TestBusResumesAfterLastEventID(t *testing.T) {
	var b Bus
	for i := range 5 {
		b.Publish(Event{Type: Refreshed, Account: fmt.Sprint(i)})
	}
	s := b.Subscribe("")
	defer s.Close()
	b.Publish(Event{Type: Refreshed, Account: "5"})
	es, _ := drain(t, s)
	if len(es) != 1 {
		t.Fatalf("got %d events, want 1", len(es))
	}
	mid := es[0].ID
	b.Publish(Event{Type: Refreshed, Account: "6"})
	b.Publish(Event{Type: Refreshed, Account: "7"})

	r := b.Subscribe(mid)
	defer r.Close()
	es, lost := drain(t, r)
	if got, want := types(es), "refreshed/6 refreshed/7 "; got != want || lost {
		t.Errorf("resumed after %s: got %q (lost %t), want %q", mid, got, lost, want)
	}
	if got, want := b.LastID(), es[1].ID; got != want {
		t.Errorf("LastID() = %q, want %q", got, want)
	}
}

func TestBusLastIDBeforeAnyEvent(t *testing.T) {
	var b Bus
	start := b.LastID()
	b.Publish(Event{Type: Refreshed, Account: "first"})
	s := b.Subscribe(start)
	defer s.Close()
	es, lost := drain(t, s)
	if lost || len(es) != 1 || es[0].Account != "first" {
		t.Errorf("subscribed after the start: got %q (lost %t), want the first event", types(es), lost)
	}
}

func TestBusSaysWhenEventsAreGone(t *testing.T) {
	var b Bus
	b.Publish(Event{Type: Refreshed, Account: "first"})
	old := b.LastID()
	for range Keep + 1 {
		b.Publish(Event{Type: Refreshed})
	}
	for _, c := range []struct{ name, after string }{
		{"too old", old},
		{"another run", "zzz-3"},
		{"from the future", old[:len(old)-1] + "99999"},
		{"garbage", "not an id"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := b.Subscribe(c.after)
			defer s.Close()
			es, lost := drain(t, s)
			if !lost || len(es) != 0 {
				t.Errorf("Subscribe(%q): got %d events, lost %t; want none and lost", c.after, len(es), lost)
			}
			b.Publish(Event{Type: Recovered})
			es, lost = drain(t, s)
			if lost || len(es) != 1 || es[0].Type != Recovered {
				t.Errorf("after the reset: got %q (lost %t), want the new event alone", types(es), lost)
			}
		})
	}
}

func TestBusSlowSubscriberStartsOver(t *testing.T) {
	var b Bus
	s := b.Subscribe("")
	defer s.Close()
	for i := range Keep + 10 {
		b.Publish(Event{Type: Refreshed, Account: fmt.Sprint(i)})
	}
	es, lost := drain(t, s)
	if !lost {
		t.Error("a subscriber that fell behind by more than Keep was not told")
	}
	if len(es) != Keep || es[0].Account != "10" || es[Keep-1].Account != fmt.Sprint(Keep+9) {
		t.Errorf("got %d events from %q, want the last %d", len(es), es[0].Account, Keep)
	}
}

func TestBusClosedSubscriberIsDropped(t *testing.T) {
	var b Bus
	s := b.Subscribe("")
	s.Close()
	s.Close() // idempotent
	b.Publish(Event{Type: Refreshed})
	if len(b.subs) != 0 {
		t.Errorf("%d subscribers after Close, want 0", len(b.subs))
	}
}

func TestStreamNames(t *testing.T) {
	for typ, want := range map[Type]string{
		CooldownStarted: StreamAccount, Error: StreamAccount, LoginCompleted: StreamAccount,
		Paused: StreamRouting, Resumed: StreamRouting, ConfigChanged: StreamConfig, Stopping: StreamDaemon,
	} {
		if got := typ.Stream(); got != want {
			t.Errorf("%s.Stream() = %q, want %q", typ, got, want)
		}
	}
}

func TestWireShape(t *testing.T) {
	at := time.Date(2025, 3, 1, 14, 32, 0, 0, time.UTC)
	until := at.Add(time.Hour)
	for _, c := range []struct {
		name string
		e    Event
		want string
	}{
		{"paused", Event{ID: "x-1", Type: Paused, At: at}, `{"type":"paused","at":"2025-03-01T14:32:00Z"}`},
		{"resumed", Event{Type: Resumed, At: at}, `{"type":"resumed","at":"2025-03-01T14:32:00Z"}`},
		{"config", Event{Type: ConfigChanged, Revision: "ab12", At: at}, `{"type":"config_changed","revision":"ab12","at":"2025-03-01T14:32:00Z"}`},
		{"cooldown", Event{Type: CooldownStarted, Account: "work", Until: &until, Reason: "5-hour limit", Window: "five_hour", At: at},
			`{"type":"cooldown_started","account":"work","until":"2025-03-01T15:32:00Z","reason":"5-hour limit","window":"five_hour","at":"2025-03-01T14:32:00Z"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			data, err := json.Marshal(c.e)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(data); got != c.want {
				t.Errorf("json = %s, want %s", got, c.want)
			}
		})
	}
}
