package credential

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// nestedKey is the top-level key under which Claude Code keeps its login.
const nestedKey = "claudeAiOauth"

// fileNames returns the credential file names looked for in a directory, in
// order: what Claude Code writes first, then the original router's list.
func fileNames() []string {
	return []string{".credentials.json", "credentials.json", "auth.json", "oauth.json", "config.json"}
}

// isCredentialName reports whether base is one of fileNames.
func isCredentialName(base string) bool {
	switch base {
	case ".credentials.json", "credentials.json", "auth.json", "oauth.json", "config.json":
		return true
	}
	return false
}

// credFile is one parsed credential file and the layout it was found in, so
// that a refreshed pair can be written back with the same key spellings.
type credFile struct {
	path string
	raw  []byte

	nested bool // the token lives under claudeAiOauth
	// Key spellings of the three keys the router owns. accessKey is always
	// found; the others are the found spelling or the one to add.
	accessKey, refreshKey, expiresKey string
	expiresMillis                     bool // expiry written in Unix milliseconds

	access, refresh    string
	expiresAt          time.Time // zero: unknown
	subscription, tier string
	scopes             string    // space-separated; "" when the file does not say
	loginExpiresAt     time.Time // refreshTokenExpiresAt; zero: unknown
}

// discover finds the first credential file in dir that holds an access
// token. A file that is not valid JSON stops the search with an error naming
// it (a half-written or damaged login must not be skipped in favour of an
// older file), except config.json: that name is generic, so it only counts
// as credentials when it parses and holds a token.
func discover(dir string) (*credFile, error) {
	if fi, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: directory %s does not exist", ErrNoCredentials, dir)
		}
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("%w: %s is not a directory", ErrNoCredentials, dir)
	}
	names := fileNames()
	for _, name := range names {
		p := filepath.Join(dir, name)
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		cf, err := parseFile(p, data)
		if err != nil {
			if name == "config.json" {
				continue
			}
			return nil, fmt.Errorf("parsing %s: %w", p, err)
		}
		if cf.access == "" {
			continue
		}
		return cf, nil
	}
	return nil, fmt.Errorf("%w in %s (looked for %s)", ErrNoCredentials, dir, strings.Join(names, ", "))
}

// parseFile reads a credential file in either layout. A file without an
// access token parses without error and leaves access empty.
func parseFile(path string, data []byte) (*credFile, error) {
	top, err := decodeObject(data)
	if err != nil {
		return nil, err
	}
	cf := &credFile{path: path, raw: data}
	if v, ok := top.get(nestedKey); ok {
		if inner, err := decodeObject(v); err == nil {
			if access := jsonString(inner, "accessToken"); access != "" {
				cf.nested = true
				cf.accessKey, cf.refreshKey, cf.expiresKey = "accessToken", "refreshToken", "expiresAt"
				cf.access = access
				cf.refresh = jsonString(inner, "refreshToken")
				cf.expiresAt, cf.expiresMillis = expiry(inner, "expiresAt", true)
				cf.subscription = jsonString(inner, "subscriptionType")
				cf.tier = jsonString(inner, "rateLimitTier")
				cf.readLogin(inner)
				return cf, nil
			}
		}
	}
	for _, k := range []string{"accessToken", "access_token", "oauthToken", "oauth_token"} {
		if access := jsonString(top, k); access != "" {
			cf.accessKey, cf.access = k, access
			break
		}
	}
	if cf.access == "" {
		return cf, nil
	}
	snake := strings.Contains(cf.accessKey, "_")
	cf.refreshKey, cf.expiresKey = "refreshToken", "expiresAt"
	if snake {
		cf.refreshKey, cf.expiresKey = "refresh_token", "expires_at"
	}
	for _, k := range []string{"refreshToken", "refresh_token"} {
		if _, ok := top.get(k); ok {
			cf.refreshKey, cf.refresh = k, jsonString(top, k)
			break
		}
	}
	for _, k := range []string{"expiresAt", "expires_at"} {
		if _, ok := top.get(k); ok {
			cf.expiresKey = k
			break
		}
	}
	// A flat file without an expiry gets milliseconds in camelCase (Claude
	// Code's convention) and seconds in snake_case (the usual OAuth one).
	cf.expiresAt, cf.expiresMillis = expiry(top, cf.expiresKey, !snake)
	cf.subscription = jsonString(top, "subscriptionType")
	cf.tier = jsonString(top, "rateLimitTier")
	cf.readLogin(top)
	return cf, nil
}

// maxExpiry bounds an expiry in milliseconds (the year 33658): a larger
// number means nothing, and converting it (or NaN, or infinity) to int64
// gives a different time on each platform.
const maxExpiry = 1e15

// expiry reads a Unix time in seconds or milliseconds (numbers above 1e12
// are milliseconds), as a number or a numeric string. It also reports the
// unit to write back: the one found, or defMillis when there is none. A
// number that is not positive or is above maxExpiry is no expiry.
func expiry(o *object, key string, defMillis bool) (time.Time, bool) {
	v, ok := o.get(key)
	if !ok {
		return time.Time{}, defMillis
	}
	s := string(v)
	if unq, err := strconv.Unquote(s); err == nil {
		s = unq
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || !(n > 0 && n < maxExpiry) { // NaN fails both
		return time.Time{}, defMillis
	}
	if n > 1e12 {
		return time.UnixMilli(int64(n)), true
	}
	return time.Unix(int64(n), 0), false
}

// jsonString returns the string value of key, or "" when it is missing or
// not a string.
func jsonString(o *object, key string) string {
	v, ok := o.get(key)
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return ""
	}
	return s
}

// rewrite returns data with the access token, refresh token and expiry
// replaced in the layout data was written in. Only the bytes of those three
// values change; every other key, value, their order and the formatting stay
// as they were. A key the file lacks is appended to its object.
func rewrite(data []byte, access, refresh string, expiresAt time.Time) ([]byte, error) {
	r, err := newRewriter(data)
	if err != nil {
		return nil, err
	}
	return r.fill(access, refresh, expiresAt), nil
}

// rewriter is rewrite split in two: the parsing, done once, and the
// splicing of the new values, which is all that is left to do once the
// token endpoint has answered.
type rewriter struct {
	data []byte
	cf   *credFile
	obj  *object // the object holding the token: top level or claudeAiOauth
	base int     // obj's offset in data
}

// newRewriter parses data for rewrite.
func newRewriter(data []byte) (*rewriter, error) {
	cf, err := parseFile("", data)
	if err != nil {
		return nil, err
	}
	if cf.access == "" {
		return nil, errors.New("no access token to replace")
	}
	top, err := decodeObject(data)
	if err != nil {
		return nil, err
	}
	r := &rewriter{data: data, cf: cf, obj: top}
	if cf.nested {
		v, _ := top.get(nestedKey)
		if r.obj, err = decodeObject(v); err != nil {
			return nil, err
		}
		r.base = top.last(nestedKey).start
	}
	return r, nil
}

// fill returns the data with the three values replaced (see rewrite).
func (r *rewriter) fill(access, refresh string, expiresAt time.Time) []byte {
	var expires json.RawMessage
	if !expiresAt.IsZero() {
		n := expiresAt.Unix()
		if r.cf.expiresMillis {
			n = expiresAt.UnixMilli()
		}
		expires = json.RawMessage(strconv.FormatInt(n, 10))
	}
	set := []struct {
		key string
		val json.RawMessage
	}{
		{r.cf.accessKey, quote(access)},
		{r.cf.refreshKey, quote(refresh)},
		{r.cf.expiresKey, expires},
	}
	var edits []edit
	var add bytes.Buffer
	for _, kv := range set {
		if kv.val == nil {
			continue // nothing known to write: leave the key as it is
		}
		found := false
		for _, m := range r.obj.members {
			if m.key == kv.key {
				edits = append(edits, edit{r.base + m.start, r.base + m.end, kv.val})
				found = true
			}
		}
		if !found {
			add.WriteByte(',')
			add.Write(quote(kv.key))
			add.WriteByte(':')
			add.Write(kv.val)
		}
	}
	if add.Len() > 0 {
		at := r.base + r.obj.members[len(r.obj.members)-1].end
		edits = append(edits, edit{at, at, add.Bytes()})
	}
	return splice(r.data, edits)
}

// quote encodes s as a JSON string.
func quote(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// edit replaces data[start:end] with repl.
type edit struct {
	start, end int
	repl       []byte
}

// splice applies non-overlapping edits to a copy of data.
func splice(data []byte, edits []edit) []byte {
	// Apply from the end so earlier offsets stay valid.
	for i := 1; i < len(edits); i++ {
		for j := i; j > 0 && edits[j].start > edits[j-1].start; j-- {
			edits[j], edits[j-1] = edits[j-1], edits[j]
		}
	}
	out := bytes.Clone(data)
	for _, e := range edits {
		out = append(out[:e.start], append(bytes.Clone(e.repl), out[e.end:]...)...)
	}
	return out
}

// object is a decoded JSON object that remembers its members' order and
// where each value sits in the input.
type object struct {
	members []member
}

// member is one key and its raw value, at data[start:end].
type member struct {
	key        string
	val        json.RawMessage
	start, end int
}

// get returns the value of key; with duplicate keys the last one wins, as in
// encoding/json.
func (o *object) get(key string) (json.RawMessage, bool) {
	if m := o.last(key); m != nil {
		return m.val, true
	}
	return nil, false
}

// last returns the last member named key, or nil.
func (o *object) last(key string) *member {
	for i := len(o.members) - 1; i >= 0; i-- {
		if o.members[i].key == key {
			return &o.members[i]
		}
	}
	return nil
}

// decodeObject decodes data, which must be exactly one JSON object.
func decodeObject(data []byte) (*object, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	o := &object{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := t.(string)
		if !ok {
			return nil, errors.New("invalid object key")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		end := int(dec.InputOffset())
		start := end - len(raw)
		if start < 0 || end > len(data) || !bytes.Equal(data[start:end], raw) {
			return nil, fmt.Errorf("cannot locate the value of %q", key)
		}
		o.members = append(o.members, member{key: key, val: raw, start: start, end: end})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON object")
	}
	return o, nil
}
