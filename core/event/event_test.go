package event

import (
	"encoding/json"
	"testing"
	"time"
)

func TestBus(t *testing.T) {
	var b Bus
	ch1, cancel1 := b.Subscribe(1)
	ch2, cancel2 := b.Subscribe(4)
	defer cancel2()
	e := Event{Type: CooldownStarted, Account: "work", At: time.Unix(1, 0)}
	b.Publish(e)
	b.Publish(Event{Type: CooldownEnded, Account: "work"})
	if got := <-ch1; got.Type != CooldownStarted || got.Account != "work" {
		t.Errorf("first subscriber got %+v, want %+v", got, e)
	}
	if got := <-ch2; got.Type != CooldownStarted {
		t.Errorf("second subscriber got %v, want %v", got.Type, CooldownStarted)
	}
	if got := <-ch2; got.Type != CooldownEnded {
		t.Errorf("second subscriber got %v, want %v", got.Type, CooldownEnded)
	}
	if got := b.Dropped(); got != 1 {
		t.Errorf("Dropped() = %d, want 1 (full first subscriber)", got)
	}
	cancel1()
	cancel1() // idempotent
	if _, ok := <-ch1; ok {
		t.Error("channel still open after cancel")
	}
	b.Publish(e) // must not panic on the cancelled subscriber
}

func TestWireShape(t *testing.T) {
	at := time.Date(2025, 3, 1, 14, 32, 0, 0, time.UTC)
	until := at.Add(time.Hour)
	for _, c := range []struct {
		name string
		e    Event
		want string
	}{
		{"paused", Event{Type: Paused, At: at}, `{"type":"paused","at":"2025-03-01T14:32:00Z"}`},
		{"resumed", Event{Type: Resumed, At: at}, `{"type":"resumed","at":"2025-03-01T14:32:00Z"}`},
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
