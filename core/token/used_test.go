package token

import (
	"os"
	"strings"
	"testing"
	"time"
)

// lastUsed is the LastUsedAt of token id in s, zero for never.
func lastUsed(t *testing.T, s *Store, id string) time.Time {
	t.Helper()
	for _, info := range s.List() {
		if info.ID == id {
			if info.LastUsedAt == nil {
				return time.Time{}
			}
			return *info.LastUsedAt
		}
	}
	t.Fatalf("no token %s", id)
	return time.Time{}
}

func TestLastUsed(t *testing.T) {
	s, c, path := openTemp(t)
	secret, info := issue(t, s, "laptop", 0)
	if got := lastUsed(t, s, info.ID); !got.IsZero() {
		t.Fatalf("a new token was last used at %v, want never", got)
	}
	if err := s.Flush(); err != nil { // nothing to save yet
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); strings.Contains(string(data), "last_used_at") {
		t.Errorf("file has a last use before any:\n%s", data)
	}

	c.advance(time.Minute)
	used := c.now().Truncate(time.Second)
	if _, err := s.Check(secret); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(t, s, info.ID); !got.Equal(used) {
		t.Errorf("last used = %v, want %v", got, used)
	}
	// A failed check is no use.
	if _, err := s.Check(secret + "x"); err == nil {
		t.Fatal("a wrong secret passed")
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(path, c.now)
	if err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(t, again, info.ID); !got.Equal(used) {
		t.Errorf("after reopening, last used = %v, want the saved %v", got, used)
	}

	// Another writer saves an older time meanwhile; a reload keeps the later one.
	c.advance(time.Minute)
	later := c.now().Truncate(time.Second)
	s.Check(secret)
	if err := again.Flush(); err != nil { // nothing changed in again: writes nothing
		t.Fatal(err)
	}
	if _, _, err := again.Issue("other", 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(t, s, info.ID); !got.Equal(later) {
		t.Errorf("after a reload, last used = %v, want the later %v", got, later)
	}
	// A revoked token keeps its last use.
	if err := s.Revoke(info.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	third, _ := Open(path, c.now)
	if got := lastUsed(t, third, info.ID); !got.Equal(later) || len(third.List()) != 2 {
		t.Errorf("revoked and saved: last used %v (of %d tokens), want %v of 2", got, len(third.List()), later)
	}
}
