package account

import (
	"strings"
	"testing"
)

// TestSessionIDCostIsBounded: the affinity map keeps what a client sends,
// so one session id must not cost more than a UUID-sized key (the fault
// run sent 300 ids of 900 KB and the daemon grew by 270 MB).
func TestSessionIDCostIsBounded(t *testing.T) {
	p, _, _ := newPool(t, "round-robin", "a", "b")
	p.SetAffinity(true)
	for i := range 300 {
		id := strings.Repeat(string(rune('a'+i%26)), 900<<10)
		if _, err := p.Pick(&Request{Session: id}); err != nil {
			t.Fatal(err)
		}
	}
	uuid := "5b1c0d6e-3f1a-4c7e-9a57-2d8f61b4c0aa"
	first := pickNames(t, p, &Request{Session: uuid}, 1)[0]
	for _, got := range pickNames(t, p, &Request{Session: uuid}, 3) {
		if got != first {
			t.Fatalf("a UUID session moved from %s to %s: affinity lost", first, got)
		}
	}
	p.sessions.mu.Lock()
	defer p.sessions.mu.Unlock()
	kept := 0
	for id := range p.sessions.m {
		kept += len(id)
	}
	if kept > maxSessionID {
		t.Errorf("the affinity map holds %d bytes of session ids after 300 long ones and a UUID, want at most %d", kept, maxSessionID)
	}
}
