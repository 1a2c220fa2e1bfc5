// Package token keeps the client tokens (la_sk_…) that clients such as
// Claude Code present to the proxy.
//
// A secret is "la_sk_" followed by 32 bytes from crypto/rand encoded as
// unpadded base64url (43 characters, 49 in all): base64url is shorter than
// hex for the same entropy and uses only characters that are safe in HTTP
// headers, shells and URLs. The store keeps only the SHA-256 of each secret,
// in a JSON file written atomically (created with mode 0600); the secret is
// shown once, by Issue, and never again.
//
// Check and Find, called for every proxied request, read an immutable
// snapshot through an atomic pointer and never take a lock; Issue, Update,
// Revoke and Reload serialize on a mutex, write the file first and publish
// a new snapshot only once the file holds it. What the request path writes
// lives beside the snapshots, shared by every snapshot's entry of a token,
// and is saved by Flush: the second a token was last used (an atomic), and
// the counters of its budget window (see Limits and budget.go).
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/store"
)

// Errors returned by Check, Revoke and Issue, for callers to branch on.
var (
	// ErrUnknown means the presented string is not a token of this store.
	ErrUnknown = errors.New("unknown client token")
	// ErrExpired means the token is known but its expiry has passed.
	ErrExpired = errors.New("client token expired")
	// ErrRevoked means the token is known but was revoked.
	ErrRevoked = errors.New("client token revoked")
	// ErrNotFound means no token has the given ID.
	ErrNotFound = errors.New("no such client token")
	// ErrInvalid means Issue or Update was given a bad label, TTL, limit
	// or expiry.
	ErrInvalid = errors.New("invalid client token request")
)

// Info describes a client token; the secret is never part of it.
type Info = control.Token

const (
	// SecretPrefix starts every client token secret.
	SecretPrefix = "la_sk_"
	// MaxLabel is the longest label Issue accepts, in characters.
	MaxLabel = 64

	secretBytes  = 32
	idBytes      = 8
	prefixLen    = 10 // characters of the secret kept for display
	maxSecretLen = 256
	fileVersion  = 1
	fileMode     = 0o600
)

// Store is the set of client tokens, backed by one JSON file. Its methods
// are safe for concurrent use.
type Store struct {
	path string
	now  func() time.Time

	mu sync.Mutex // serializes Issue, Revoke and Reload
	// broken is the error of the last Reload when the file could not be
	// read; while set, Issue and Revoke refuse to overwrite the file.
	broken error

	snap atomic.Pointer[snapshot]
}

// snapshot is an immutable view of the store. A new one replaces it on
// every change; nothing in it is modified after publication.
type snapshot struct {
	entries []*entry            // sorted by CreatedAt, then ID
	byHash  map[[32]byte]*entry // secret hash → entry
}

type entry struct {
	info Info
	hash [32]byte
	// used is the Unix second the token last admitted a request (0: never).
	// It is shared by every snapshot's entry of one ID, as is meter.
	used  *atomic.Int64
	meter *meter // the budget window's counters
}

func newEntry(info Info, hash [32]byte) *entry {
	return &entry{info: info, hash: hash, used: new(atomic.Int64), meter: new(meter)}
}

// with returns a copy of e holding info, sharing e's last use and meter.
func (e *entry) with(info Info) *entry {
	return &entry{info: info, hash: e.hash, used: e.used, meter: e.meter}
}

// Open loads the store kept at path (normally <data_dir>/tokens.json). A
// missing file is an empty store; the file is created by the first Issue.
// A file that cannot be parsed is an error naming it and is left as it is.
// now is the clock used for creation and expiry times (time.Now when nil);
// it must be safe to call concurrently. Open first removes the temp files
// that writes killed before their rename left (store.Clean): what they
// hold was never acknowledged to anyone.
func Open(path string, now func() time.Time) (*Store, error) {
	if now == nil {
		now = time.Now
	}
	store.Clean(path) // best effort: a leftover is only clutter
	s := &Store{path: path, now: now}
	snap, err := load(path)
	if err != nil {
		return nil, err
	}
	s.snap.Store(snap)
	return s, nil
}

// Path returns the file the store is kept in.
func (s *Store) Path() string { return s.path }

// Issue creates a token labelled label that expires ttl from now (never when
// ttl is 0), writes it to the file and returns its secret, which is not
// kept anywhere. The label is trimmed and must hold 1 to MaxLabel characters
// with no control characters; a bad label or a negative ttl is ErrInvalid.
// If the file cannot be written the store is unchanged.
func (s *Store) Issue(label string, ttl time.Duration) (secret string, info Info, err error) {
	return s.IssueWithLimits(label, ttl, control.Limits{})
}

// IssueWithLimits is Issue for a token with a budget: limits as
// control.Limits.Check returns them (bad limits are ErrInvalid).
func (s *Store) IssueWithLimits(label string, ttl time.Duration, limits control.Limits) (secret string, info Info, err error) {
	label, err = cleanLabel(label)
	if err != nil {
		return "", Info{}, err
	}
	if ttl < 0 {
		return "", Info{}, fmt.Errorf("%w: negative ttl %v", ErrInvalid, ttl)
	}
	if limits, err = limits.Check(); err != nil {
		return "", Info{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken != nil {
		return "", Info{}, fmt.Errorf("not issuing a token: %w", s.broken)
	}
	old := s.snap.Load()

	raw := make([]byte, secretBytes)
	rand.Read(raw) // never fails (crypto/rand since Go 1.24)
	secret = SecretPrefix + base64.RawURLEncoding.EncodeToString(raw)
	e := newEntry(Info{}, sha256.Sum256([]byte(secret)))
	if _, dup := old.byHash[e.hash]; dup {
		// 256 random bits do not collide; a clash means a broken generator.
		return "", Info{}, errors.New("issuing token: generated secret already exists")
	}
	created := s.now().Round(0)
	e.info = Info{
		ID:        newID(old),
		Label:     label,
		Prefix:    secret[:prefixLen] + "…",
		CreatedAt: created,
		Limits:    limits,
	}
	if ttl > 0 {
		exp := created.Add(ttl)
		e.info.ExpiresAt = &exp
	}

	entries := append(slices.Clip(old.entries), e)
	next := newSnapshot(entries)
	if err := save(s.path, next); err != nil {
		return "", Info{}, err
	}
	s.snap.Store(next)
	return secret, clone(e.info), nil
}

// Revoke marks the token with the given ID as revoked from now on and
// writes the file. The entry is kept, with RevokedAt set. Revoking a revoked
// token does nothing and is not an error; an unknown ID is ErrNotFound. If
// the file cannot be written the store is unchanged.
func (s *Store) Revoke(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.snap.Load()
	i := slices.IndexFunc(old.entries, func(e *entry) bool { return e.info.ID == id })
	if i < 0 {
		return fmt.Errorf("revoking %q: %w", id, ErrNotFound)
	}
	if old.entries[i].info.RevokedAt != nil {
		return nil
	}
	if s.broken != nil {
		return fmt.Errorf("not revoking %q: %w", id, s.broken)
	}
	info := old.entries[i].info
	at := s.now().Round(0)
	info.RevokedAt = &at
	revoked := old.entries[i].with(info)

	entries := slices.Clone(old.entries)
	entries[i] = revoked
	next := newSnapshot(entries)
	if err := save(s.path, next); err != nil {
		return err
	}
	s.snap.Store(next)
	return nil
}

// List returns every token, revoked and expired ones included, sorted by
// creation time, each with its last use and what it used in its current
// budget window. The result is the caller's to modify.
func (s *Store) List() []Info {
	snap := s.snap.Load()
	now := s.now()
	out := make([]Info, len(snap.entries))
	for i, e := range snap.entries {
		out[i] = e.view(now)
	}
	return out
}

// view is a copy of e's Info with its last use and its current window.
func (e *entry) view(now time.Time) Info {
	info := e.withUse()
	info.Window = e.window(now)
	return info
}

// withUse is a copy of e's Info with its last use.
func (e *entry) withUse() Info {
	info := clone(e.info)
	if sec := e.used.Load(); sec > 0 {
		t := time.Unix(sec, 0)
		info.LastUsedAt = &t
	}
	return info
}

// Flush saves the tokens' last uses and budget windows when any changed
// since the file was last written or read. It reads the file first
// (another writer may have changed it) and keeps the later of each token's
// two last uses, and the window counted in memory.
func (s *Store) Flush() error {
	s.mu.Lock()
	changed := false
	for _, e := range s.snap.Load().entries {
		if e.used.Load() != unix(e.info.LastUsedAt) || e.meter.state() != e.meter.saved {
			changed = true
			break
		}
	}
	s.mu.Unlock()
	if !changed {
		return nil
	}
	if err := s.Reload(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	entries := slices.Clone(s.snap.Load().entries)
	for i, e := range entries {
		entries[i] = e.with(e.withUse())
	}
	next := newSnapshot(entries)
	if err := save(s.path, next); err != nil {
		return err
	}
	s.snap.Store(next)
	return nil
}

// unix is t's Unix second, 0 for nil.
func unix(t *time.Time) int64 {
	if t == nil {
		return 0
	}
	return t.Unix()
}

// Check reports whether secret is a usable token and returns its Info. A
// string that is not shaped like a token, or that no token matches, is
// ErrUnknown; a revoked token is ErrRevoked (with its Info), an expired one
// (now at or past ExpiresAt) ErrExpired (with its Info). Check takes no lock
// and is meant to be called for every request.
func (s *Store) Check(secret string) (Info, error) {
	e, err := s.find(secret)
	if e == nil {
		return Info{}, err
	}
	return clone(e.info), err
}

// Find is Check for the proxy: it returns the token as a Client, whose
// budget a request takes from, and copies nothing (it allocates nothing).
// The Client is usable only when the error is nil.
func (s *Store) Find(secret string) (Client, error) {
	e, err := s.find(secret)
	return Client{e}, err
}

// find is Check without the copy of the Info.
func (s *Store) find(secret string) (*entry, error) {
	if !strings.HasPrefix(secret, SecretPrefix) || len(secret) > maxSecretLen {
		return nil, ErrUnknown
	}
	var buf [maxSecretLen]byte // on the stack: hashing allocates nothing
	sum := sha256.Sum256(buf[:copy(buf[:], secret)])
	e, ok := s.snap.Load().byHash[sum]
	if !ok || subtle.ConstantTimeCompare(e.hash[:], sum[:]) != 1 {
		return nil, ErrUnknown
	}
	if e.info.RevokedAt != nil {
		return e, ErrRevoked
	}
	now := s.now()
	if e.info.ExpiresAt != nil && !now.Before(*e.info.ExpiresAt) {
		return e, ErrExpired
	}
	if sec := now.Unix(); e.used.Load() != sec {
		e.used.Store(sec) // once a second at most: no write per request
	}
	return e, nil
}

// Reload reads the file again, for when another process (the CLI while the
// daemon was down) changed it. On error the store keeps what it had, and
// until a later Reload succeeds, Issue and Revoke refuse to overwrite a file
// they could not read. A missing file is an empty store.
func (s *Store) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap, err := load(s.path)
	if err != nil {
		s.broken = err
		return err
	}
	s.broken = nil
	// Keep the last uses and the budget windows counted since: the file
	// has them to the minute, and nothing but the request path counts.
	old := map[string]*entry{}
	for _, e := range s.snap.Load().entries {
		old[e.info.ID] = e
	}
	for _, e := range snap.entries {
		if o, ok := old[e.info.ID]; ok && o.hash == e.hash {
			if o.used.Load() < e.used.Load() {
				o.used.Store(e.used.Load())
			}
			e.used = o.used
			o.meter.saved = e.meter.saved
			e.meter = o.meter
		}
	}
	s.snap.Store(snap)
	return nil
}

// cleanLabel trims label and checks it is fit to show in a list.
func cleanLabel(label string) (string, error) {
	label = strings.TrimSpace(label)
	switch {
	case label == "":
		return "", fmt.Errorf("%w: label is required", ErrInvalid)
	case !utf8.ValidString(label):
		return "", fmt.Errorf("%w: label is not valid UTF-8", ErrInvalid)
	case utf8.RuneCountInString(label) > MaxLabel:
		return "", fmt.Errorf("%w: label is longer than %d characters", ErrInvalid, MaxLabel)
	case strings.ContainsFunc(label, unicode.IsControl):
		return "", fmt.Errorf("%w: label contains control characters", ErrInvalid)
	}
	return label, nil
}

// newID returns a random hex ID that no entry of snap uses.
func newID(snap *snapshot) string {
	b := make([]byte, idBytes)
	for {
		rand.Read(b)
		id := hex.EncodeToString(b)
		if !slices.ContainsFunc(snap.entries, func(e *entry) bool { return e.info.ID == id }) {
			return id
		}
	}
}

// clone returns a copy of info that shares no pointer with the store, so a
// caller cannot change a published snapshot through it.
func clone(info Info) Info {
	if info.ExpiresAt != nil {
		t := *info.ExpiresAt
		info.ExpiresAt = &t
	}
	if info.RevokedAt != nil {
		t := *info.RevokedAt
		info.RevokedAt = &t
	}
	if info.LastUsedAt != nil {
		t := *info.LastUsedAt
		info.LastUsedAt = &t
	}
	if info.Window != nil {
		w := *info.Window
		info.Window = &w
	}
	return info
}

func newSnapshot(entries []*entry) *snapshot {
	slices.SortStableFunc(entries, func(a, b *entry) int {
		if c := a.info.CreatedAt.Compare(b.info.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.info.ID, b.info.ID)
	})
	byHash := make(map[[32]byte]*entry, len(entries))
	for _, e := range entries {
		byHash[e.hash] = e
	}
	return &snapshot{entries: entries, byHash: byHash}
}

// file is the on-disk form of the store.
type file struct {
	Version int         `json:"version"`
	Tokens  []fileToken `json:"tokens"`
}

type fileToken struct {
	ID        string          `json:"id"`
	Label     string          `json:"label"`
	Prefix    string          `json:"prefix"`
	Hash      string          `json:"hash"` // hex SHA-256 of the secret
	CreatedAt time.Time       `json:"created_at"`
	ExpiresAt *time.Time      `json:"expires_at"`
	RevokedAt *time.Time      `json:"revoked_at"`
	LastUsed  *time.Time      `json:"last_used_at,omitempty"`
	Limits    *control.Limits `json:"limits,omitempty"`
	Window    *fileWindow     `json:"window,omitempty"`
}

// fileWindow is a token's budget window in the file.
type fileWindow struct {
	Start      time.Time `json:"start"`
	Requests   int64     `json:"requests,omitempty"`
	Tokens     int64     `json:"tokens,omitempty"`
	CacheReads int64     `json:"cache_read_tokens,omitempty"`
	Reached    bool      `json:"reached,omitempty"` // token_budget_reached was told
}

// load reads the store file; a missing file is an empty store.
func load(path string) (*snapshot, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return newSnapshot(nil), nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var f file
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if f.Version != fileVersion {
		return nil, fmt.Errorf("reading %s: unsupported version %d (want %d)", path, f.Version, fileVersion)
	}
	entries := make([]*entry, 0, len(f.Tokens))
	ids := make(map[string]bool, len(f.Tokens))
	hashes := make(map[[32]byte]bool, len(f.Tokens))
	for i, t := range f.Tokens {
		e := newEntry(Info{
			ID:         t.ID,
			Label:      t.Label,
			Prefix:     t.Prefix,
			CreatedAt:  t.CreatedAt,
			ExpiresAt:  t.ExpiresAt,
			RevokedAt:  t.RevokedAt,
			LastUsedAt: t.LastUsed,
		}, [32]byte{})
		e.used.Store(unix(t.LastUsed))
		if t.Limits != nil {
			l, err := t.Limits.Check()
			if err != nil {
				return nil, fmt.Errorf("reading %s: token %q: %v", path, t.ID, err)
			}
			e.info.Limits = l
		}
		if w := t.Window; w != nil {
			if w.Start.IsZero() || min(w.Requests, w.Tokens, w.CacheReads) < 0 {
				return nil, fmt.Errorf("reading %s: token %q: window without a start, or with a negative count", path, t.ID)
			}
			e.meter.restore(windowState{w.Start.UnixNano(), w.Requests, w.Tokens, w.CacheReads, w.Reached})
		}
		switch {
		case t.ID == "":
			return nil, fmt.Errorf("reading %s: token %d has no id", path, i)
		case ids[t.ID]:
			return nil, fmt.Errorf("reading %s: token id %q appears twice", path, t.ID)
		case !decodeHash(e.hash[:], t.Hash):
			return nil, fmt.Errorf("reading %s: token %q: hash is not a hex SHA-256", path, t.ID)
		case hashes[e.hash]:
			return nil, fmt.Errorf("reading %s: token %q: hash appears twice", path, t.ID)
		}
		ids[t.ID] = true
		hashes[e.hash] = true
		entries = append(entries, e)
	}
	return newSnapshot(entries), nil
}

// decodeHash decodes the hex hash s into dst and reports whether s was
// exactly len(dst) bytes of hex.
func decodeHash(dst []byte, s string) bool {
	if len(s) != hex.EncodedLen(len(dst)) {
		return false
	}
	_, err := hex.Decode(dst, []byte(s))
	return err == nil
}

// save writes snap to path atomically, mode 0600 for a new file, and notes
// in each meter the window the file now holds. The caller holds Store.mu
// (or owns snap alone).
func save(path string, snap *snapshot) error {
	f := file{Version: fileVersion, Tokens: make([]fileToken, len(snap.entries))}
	states := make([]windowState, len(snap.entries))
	for i, e := range snap.entries {
		states[i] = e.meter.state()
		f.Tokens[i] = fileToken{
			ID:        e.info.ID,
			Label:     e.info.Label,
			Prefix:    e.info.Prefix,
			Hash:      hex.EncodeToString(e.hash[:]),
			CreatedAt: e.info.CreatedAt,
			ExpiresAt: e.info.ExpiresAt,
			RevokedAt: e.info.RevokedAt,
			LastUsed:  e.info.LastUsedAt,
		}
		if e.info.Limited() {
			l := e.info.Limits
			f.Tokens[i].Limits = &l
		}
		if st := states[i]; st.start != 0 {
			f.Tokens[i].Window = &fileWindow{
				Start:    time.Unix(0, st.start).UTC(),
				Requests: st.requests, Tokens: st.tokens, CacheReads: st.cacheReads, Reached: st.reached,
			}
		}
	}
	// store.WriteFile creates the directory too, but its error would name
	// the directory only; callers are promised the file's name.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := store.WriteJSON(path, f, fileMode); err != nil {
		return err
	}
	for i, e := range snap.entries {
		e.meter.saved = states[i]
	}
	return nil
}
