package token

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a fake clock, safe for concurrent use.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func openTemp(t *testing.T) (*Store, *clock, string) {
	t.Helper()
	c := newClock()
	path := filepath.Join(t.TempDir(), "tokens.json")
	s, err := Open(path, c.now)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s, c, path
}

func issue(t *testing.T, s *Store, label string, ttl time.Duration) (string, Info) {
	t.Helper()
	secret, info, err := s.Issue(label, ttl)
	if err != nil {
		t.Fatalf("Issue(%q, %v): %v", label, ttl, err)
	}
	return secret, info
}

func TestIssueCheck(t *testing.T) {
	s, c, _ := openTemp(t)
	secret, info := issue(t, s, "  laptop  ", 0)

	if !strings.HasPrefix(secret, "la_sk_") {
		t.Errorf("secret %.10s… lacks the la_sk_ prefix", secret)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(secret, "la_sk_"))
	if err != nil || len(raw) != 32 {
		t.Errorf("secret body decodes to %d bytes (err %v), want 32", len(raw), err)
	}
	if id, err := hex.DecodeString(info.ID); err != nil || len(id) != 8 {
		t.Errorf("ID = %q, want 16 hex digits", info.ID)
	}
	if got, want := info.Prefix, secret[:10]+"…"; got != want {
		t.Errorf("Prefix = %q, want %q", got, want)
	}
	if got, want := info.Label, "laptop"; got != want {
		t.Errorf("Label = %q, want %q", got, want)
	}
	if !info.CreatedAt.Equal(c.now()) {
		t.Errorf("CreatedAt = %v, want %v", info.CreatedAt, c.now())
	}
	if info.ExpiresAt != nil || info.RevokedAt != nil {
		t.Errorf("ExpiresAt, RevokedAt = %v, %v; want nil, nil", info.ExpiresAt, info.RevokedAt)
	}

	c.advance(100 * 365 * 24 * time.Hour) // ttl 0 never expires
	got, err := s.Check(secret)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if got.ID != info.ID || got.Label != info.Label {
		t.Errorf("Check = %+v, want %+v", got, info)
	}

	other, _ := issue(t, s, "desktop", 0)
	if other == secret {
		t.Fatal("two issued secrets are equal")
	}
	if got, err := s.Check(other); err != nil || got.Label != "desktop" {
		t.Errorf("Check(second) = %q, %v; want desktop, nil", got.Label, err)
	}
}

func TestCheckErrors(t *testing.T) {
	s, c, _ := openTemp(t)
	ok, okInfo := issue(t, s, "ok", 0)
	expiring, expInfo := issue(t, s, "expiring", time.Hour)
	revoked, revInfo := issue(t, s, "revoked", 0)
	if err := s.Revoke(revInfo.ID); err != nil {
		t.Fatal(err)
	}
	if got, want := *expInfo.ExpiresAt, c.now().Add(time.Hour); !got.Equal(want) {
		t.Fatalf("ExpiresAt = %v, want %v", got, want)
	}
	// One character changed: same prefix, same length, different hash.
	last := ok[len(ok)-1]
	flipped := ok[:len(ok)-1] + map[bool]string{true: "B", false: "A"}[last == 'A']

	tests := []struct {
		name    string
		advance time.Duration // from issue time
		secret  string
		wantErr error
		wantID  string // "" = zero Info expected
	}{
		{"valid", 0, ok, nil, okInfo.ID},
		{"empty", 0, "", ErrUnknown, ""},
		{"no prefix", 0, strings.TrimPrefix(ok, "la_sk_"), ErrUnknown, ""},
		{"oauth token", 0, "sk-ant-oat01-test-alice", ErrUnknown, ""},
		{"prefix only", 0, "la_sk_", ErrUnknown, ""},
		{"one char changed", 0, flipped, ErrUnknown, ""},
		{"extra char", 0, ok + "x", ErrUnknown, ""},
		{"too long", 0, ok + strings.Repeat("x", 300), ErrUnknown, ""},
		{"bearer kept", 0, "Bearer " + ok, ErrUnknown, ""},
		{"revoked", 0, revoked, ErrRevoked, revInfo.ID},
		{"before expiry", time.Hour - time.Nanosecond, expiring, nil, expInfo.ID},
		{"at expiry", time.Hour, expiring, ErrExpired, expInfo.ID},
		{"after expiry", 48 * time.Hour, expiring, ErrExpired, expInfo.ID},
	}
	start := c.now()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.ns.Store(start.Add(tt.advance).UnixNano())
			got, err := s.Check(tt.secret)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("Check err = %v, want %v", err, tt.wantErr)
			}
			if got.ID != tt.wantID {
				t.Errorf("Check ID = %q, want %q", got.ID, tt.wantID)
			}
		})
	}
}

func TestRevoke(t *testing.T) {
	s, c, path := openTemp(t)
	secret, info := issue(t, s, "ci", 0)

	if err := s.Revoke("0123456789abcdef"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Revoke(unknown) = %v, want ErrNotFound", err)
	}
	revokedAt := c.now()
	if err := s.Revoke(info.ID); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	c.advance(time.Minute)
	if err := s.Revoke(info.ID); err != nil {
		t.Errorf("second Revoke = %v, want nil", err)
	}
	if _, err := s.Check(secret); !errors.Is(err, ErrRevoked) {
		t.Errorf("Check after Revoke = %v, want ErrRevoked", err)
	}
	list := s.List()
	if len(list) != 1 || list[0].RevokedAt == nil {
		t.Fatalf("List = %+v, want the one token, revoked", list)
	}
	if got := *list[0].RevokedAt; !got.Equal(revokedAt) {
		t.Errorf("RevokedAt = %v, want the first revocation %v", got, revokedAt)
	}

	// The revocation was persisted before Revoke returned.
	again, err := Open(path, c.now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Check(secret); !errors.Is(err, ErrRevoked) {
		t.Errorf("Check after reopen = %v, want ErrRevoked", err)
	}
}

func TestReopen(t *testing.T) {
	s, c, path := openTemp(t)
	a, _ := issue(t, s, "a", 0)
	c.advance(time.Second)
	b, _ := issue(t, s, "b", 24*time.Hour)
	c.advance(time.Second)
	r, rInfo := issue(t, s, "r", 0)
	if err := s.Revoke(rInfo.ID); err != nil {
		t.Fatal(err)
	}
	before := s.List()

	s2, err := Open(path, c.now)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	after := s2.List()
	if !sameInfos(after, before) {
		t.Errorf("List after reopen = %+v, want %+v", after, before)
	}
	for _, tt := range []struct {
		secret  string
		wantErr error
	}{{a, nil}, {b, nil}, {r, ErrRevoked}} {
		if _, err := s2.Check(tt.secret); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("Check(%.10s…) after reopen = %v, want %v", tt.secret, err, tt.wantErr)
		}
	}
}

func sameInfos(a, b []Info) bool {
	if len(a) != len(b) {
		return false
	}
	eqTime := func(x, y *time.Time) bool {
		return (x == nil) == (y == nil) && (x == nil || x.Equal(*y))
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Label != b[i].Label || a[i].Prefix != b[i].Prefix ||
			!a[i].CreatedAt.Equal(b[i].CreatedAt) || !eqTime(a[i].ExpiresAt, b[i].ExpiresAt) ||
			!eqTime(a[i].RevokedAt, b[i].RevokedAt) {
			return false
		}
	}
	return true
}

func TestFile(t *testing.T) {
	s, _, path := openTemp(t)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open created %s (stat err %v); want it created by the first Issue", path, err)
	}
	secret, info := issue(t, s, "laptop", time.Hour)

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.TrimPrefix(secret, "la_sk_")
	for _, leak := range []string{secret, body, body[:16], body[len(body)-16:]} {
		if bytes.Contains(data, []byte(leak)) {
			t.Errorf("file contains (part of) the secret %.10s…", leak)
		}
	}

	var f struct {
		Version int                          `json:"version"`
		Tokens  []map[string]json.RawMessage `json:"tokens"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("file is not JSON: %v", err)
	}
	if f.Version != 1 || len(f.Tokens) != 1 {
		t.Fatalf("file has version %d and %d tokens, want 1 and 1", f.Version, len(f.Tokens))
	}
	for _, k := range []string{"id", "label", "prefix", "hash", "created_at", "expires_at", "revoked_at"} {
		if _, ok := f.Tokens[0][k]; !ok {
			t.Errorf("file token lacks %q", k)
		}
	}
	var hash, id string
	json.Unmarshal(f.Tokens[0]["hash"], &hash)
	json.Unmarshal(f.Tokens[0]["id"], &id)
	if got, want := hash, sha256Hex(secret); got != want {
		t.Errorf("hash = %s, want sha256 of the secret %s", got, want)
	}
	if id != info.ID {
		t.Errorf("id = %q, want %q", id, info.ID)
	}

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
		t.Errorf("mode = %v, want %v", got, want)
	}
}

func TestCorruptFile(t *testing.T) {
	const goodHash = "0000000000000000000000000000000000000000000000000000000000000001"
	tests := []struct {
		name string
		data string
	}{
		{"not json", "{not json"},
		{"truncated", `{"version":1,"tokens":[{"id":"a"`},
		{"wrong version", `{"version":2,"tokens":[]}`},
		{"no version", `{"tokens":[]}`},
		{"short hash", `{"version":1,"tokens":[{"id":"a","hash":"abcd"}]}`},
		{"long hash", `{"version":1,"tokens":[{"id":"a","hash":"` + goodHash + `00"}]}`},
		{"non-hex hash", `{"version":1,"tokens":[{"id":"a","hash":"` + strings.Repeat("zz", 32) + `"}]}`},
		{"missing id", `{"version":1,"tokens":[{"hash":"` + goodHash + `"}]}`},
		{"duplicate id", `{"version":1,"tokens":[{"id":"a","hash":"` + goodHash + `"},{"id":"a","hash":"` + sha256Hex("x") + `"}]}`},
		{"duplicate hash", `{"version":1,"tokens":[{"id":"a","hash":"` + goodHash + `"},{"id":"b","hash":"` + goodHash + `"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tokens.json")
			if err := os.WriteFile(path, []byte(tt.data), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(path, newClock().now)
			if err == nil {
				t.Fatalf("Open = %v, nil; want an error", s)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			assertContent(t, path, tt.data)
		})
	}
}

func TestReloadCorruptKeepsStoreAndFile(t *testing.T) {
	s, c, path := openTemp(t)
	secret, info := issue(t, s, "kept", 0)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const junk = "{half written by hand"
	if err := os.WriteFile(path, []byte(junk), 0o600); err != nil {
		t.Fatal(err)
	}

	if err := s.Reload(); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Reload = %v, want an error naming %s", err, path)
	}
	if _, err := s.Check(secret); err != nil {
		t.Errorf("Check after failed Reload = %v, want the old store kept", err)
	}
	if _, _, err := s.Issue("new", 0); err == nil {
		t.Error("Issue over an unreadable file succeeded; want it refused")
	}
	c.advance(time.Second)
	if err := s.Revoke(info.ID); err == nil {
		t.Error("Revoke over an unreadable file succeeded; want it refused")
	}
	assertContent(t, path, junk)

	// Once the file is fixed, the store works again.
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err != nil {
		t.Fatalf("Reload of the fixed file: %v", err)
	}
	if err := s.Revoke(info.ID); err != nil {
		t.Errorf("Revoke after good Reload = %v", err)
	}
}

func TestReload(t *testing.T) {
	c := newClock()
	path := filepath.Join(t.TempDir(), "tokens.json")
	daemon, err := Open(path, c.now)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := Open(path, c.now)
	if err != nil {
		t.Fatal(err)
	}
	secret, info, err := cli.Issue("from cli", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := daemon.Check(secret); !errors.Is(err, ErrUnknown) {
		t.Fatalf("Check before Reload = %v, want ErrUnknown", err)
	}
	if err := daemon.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if _, err := daemon.Check(secret); err != nil {
		t.Errorf("Check after Reload = %v, want nil", err)
	}

	if err := cli.Revoke(info.ID); err != nil {
		t.Fatal(err)
	}
	if err := daemon.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := daemon.Check(secret); !errors.Is(err, ErrRevoked) {
		t.Errorf("Check after revoke+Reload = %v, want ErrRevoked", err)
	}

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := daemon.Reload(); err != nil {
		t.Fatalf("Reload of a missing file = %v, want an empty store", err)
	}
	if got := daemon.List(); len(got) != 0 {
		t.Errorf("List after the file was removed = %+v, want empty", got)
	}
}

func TestWriteFailureLeavesStoreUnchanged(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "data")
	path := filepath.Join(sub, "tokens.json")
	c := newClock()
	s, err := Open(path, c.now)
	if err != nil {
		t.Fatal(err)
	}
	secret, info := issue(t, s, "before", 0)
	before := s.List()

	// Replace the data directory with a plain file: every write fails,
	// even for root.
	if err := os.RemoveAll(sub); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sub, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	got, _, err := s.Issue("after", 0)
	if err == nil {
		t.Fatal("Issue succeeded with an unwritable file")
	}
	if got != "" {
		t.Errorf("failed Issue returned a secret")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("Issue error %q does not name %s", err, path)
	}
	if err := s.Revoke(info.ID); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Revoke = %v, want an error naming %s", err, path)
	}
	if after := s.List(); !sameInfos(after, before) {
		t.Errorf("List after failed writes = %+v, want %+v", after, before)
	}
	if _, err := s.Check(secret); err != nil {
		t.Errorf("Check after failed Revoke = %v, want nil", err)
	}
}

func TestLabel(t *testing.T) {
	tests := []struct {
		label string
		want  string // "" = rejected
	}{
		{"laptop", "laptop"},
		{"  padded\t", "padded"},
		{"Claude Code – work", "Claude Code – work"},
		{strings.Repeat("x", 64), strings.Repeat("x", 64)},
		{strings.Repeat("é", 64), strings.Repeat("é", 64)},
		{" " + strings.Repeat("x", 64) + " ", strings.Repeat("x", 64)},
		{"", ""},
		{"   ", ""},
		{strings.Repeat("x", 65), ""},
		{strings.Repeat("é", 65), ""},
		{"two\nlines", ""},
		{"esc\x1b[31m", ""},
		{"bad \xff utf8", ""},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			s, _, path := openTemp(t)
			_, info, err := s.Issue(tt.label, 0)
			if tt.want == "" {
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("Issue(%q) = %v, want ErrInvalid", tt.label, err)
				}
				if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("rejected Issue wrote %s", path)
				}
				return
			}
			if err != nil {
				t.Fatalf("Issue(%q): %v", tt.label, err)
			}
			if info.Label != tt.want {
				t.Errorf("Label = %q, want %q", info.Label, tt.want)
			}
		})
	}
}

func TestIssueNegativeTTL(t *testing.T) {
	s, _, _ := openTemp(t)
	if _, _, err := s.Issue("x", -time.Second); !errors.Is(err, ErrInvalid) {
		t.Errorf("Issue with negative ttl = %v, want ErrInvalid", err)
	}
}

func TestListSortedAndCopied(t *testing.T) {
	s, c, _ := openTemp(t)
	c.advance(time.Hour)
	_, late := issue(t, s, "late", time.Hour)
	c.advance(-30 * time.Minute) // a clock that went back still sorts by CreatedAt
	_, early := issue(t, s, "early", time.Hour)
	c.advance(time.Hour)
	_, last := issue(t, s, "last", 0)

	list := s.List()
	var got []string
	for _, i := range list {
		got = append(got, i.ID)
	}
	if want := []string{early.ID, late.ID, last.ID}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("List order = %v, want %v", got, want)
	}

	// Changing what List returned does not change the store.
	*list[0].ExpiresAt = time.Time{}
	list[0].Label = "changed"
	again := s.List()
	if again[0].Label != "early" || again[0].ExpiresAt.IsZero() {
		t.Errorf("store changed through List result: %+v", again[0])
	}
}

func TestConcurrentCheck(t *testing.T) {
	s, _, _ := openTemp(t)
	stable, _ := issue(t, s, "stable", 0)

	var (
		wg       sync.WaitGroup
		done     = make(chan struct{})
		checks   atomic.Int64
		failures atomic.Int64
	)
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := s.Check(stable); err != nil {
					failures.Add(1)
				}
				s.List()
				checks.Add(1)
			}
		})
	}

	var writers sync.WaitGroup
	for w := range 2 {
		writers.Go(func() {
			for i := range 10 {
				secret, info, err := s.Issue("churn", 0)
				if err != nil {
					t.Errorf("writer %d Issue %d: %v", w, i, err)
					return
				}
				if _, err := s.Check(secret); err != nil {
					t.Errorf("Check of a just-issued token = %v", err)
				}
				if err := s.Revoke(info.ID); err != nil {
					t.Errorf("writer %d Revoke %d: %v", w, i, err)
				}
				if _, err := s.Check(secret); !errors.Is(err, ErrRevoked) {
					t.Errorf("Check of a just-revoked token = %v, want ErrRevoked", err)
				}
			}
		})
	}
	writers.Wait()
	close(done)
	wg.Wait()

	if n := failures.Load(); n != 0 {
		t.Errorf("%d of %d concurrent checks of a stable token failed", n, checks.Load())
	}
	if got, want := len(s.List()), 21; got != want {
		t.Errorf("List has %d tokens, want %d", got, want)
	}
}

func assertContent(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	if string(got) != want {
		t.Errorf("%s was changed: got %q, want %q", path, got, want)
	}
}

func BenchmarkCheck(b *testing.B) {
	c := newClock()
	s, err := Open(filepath.Join(b.TempDir(), "tokens.json"), c.now)
	if err != nil {
		b.Fatal(err)
	}
	for range 100 {
		if _, _, err := s.Issue("filler", 0); err != nil {
			b.Fatal(err)
		}
	}
	valid, _, err := s.Issue("valid", 0)
	if err != nil {
		b.Fatal(err)
	}
	expiring, _, err := s.Issue("expiring", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	unknown := valid[:len(valid)-4] + "AAAA"
	if unknown == valid {
		unknown = valid[:len(valid)-4] + "BBBB"
	}

	for _, bc := range []struct {
		name    string
		secret  string
		wantErr error
	}{
		{"valid", valid, nil},
		{"valid-with-expiry", expiring, nil},
		{"unknown", unknown, ErrUnknown},
		{"not-a-token", "sk-ant-oat01-test-bench", ErrUnknown},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if _, err := s.Check(bc.secret); !errors.Is(err, bc.wantErr) || (bc.wantErr == nil && err != nil) {
				b.Fatalf("Check = %v, want %v", err, bc.wantErr)
			}
			b.ReportAllocs()
			for b.Loop() {
				s.Check(bc.secret)
			}
		})
	}
	b.Run("valid-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Check(valid); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
