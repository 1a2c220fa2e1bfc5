package event

import (
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
