package credential

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/maxrouter/maxrouter/core/internal/flock"
	"github.com/maxrouter/maxrouter/core/store"
)

// FileName is the credential file Claude Code writes in its config
// directory, and the one WriteLogin writes.
const FileName = ".credentials.json"

// ProfileScope is the OAuth scope the usage and profile endpoints need.
// Setup tokens (`claude setup-token`) lack it.
const ProfileScope = "user:profile"

// Login is a token pair from a fresh login, with what Claude Code keeps
// beside it.
type Login struct {
	Access, Refresh string
	// ExpiresAt is when Access expires; zero when unknown (not written).
	ExpiresAt time.Time
	// RefreshExpiresAt is when the login itself ends (Refresh can no longer
	// be used); zero when unknown (not written).
	RefreshExpiresAt time.Time
	Scopes           []string
	// Subscription ("max", "pro") and RateLimitTier
	// ("default_claude_max_20x"); "" when unknown (not written).
	Subscription, RateLimitTier string
}

// loginLockWait bounds how long WriteLogin waits for a refresh of the same
// directory by another MaxRouter process.
const loginLockWait = time.Minute

// WriteLogin stores l in dir/.credentials.json in Claude Code's own shape
// ({"claudeAiOauth": {...}}, expiry times in Unix milliseconds), so that
// `CLAUDE_CONFIG_DIR=dir claude` uses the same login. The directory is
// created (0700) when missing. An existing file keeps every key other than
// claudeAiOauth as it was; claudeAiOauth is replaced as a whole (it is the
// login). A file that is not a JSON object is left alone and the error
// names it. The file is written atomically with mode 0600. WriteLogin
// returns the file's path.
func WriteLogin(dir string, l Login) (string, error) {
	if l.Access == "" {
		return "", errors.New("writing a login: no access token")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), loginLockWait)
	defer cancel()
	// Another MaxRouter process may be refreshing the old login right now.
	if unlock, err := flock.Lock(ctx, dir); err == nil {
		defer unlock()
	} else if ctx.Err() != nil {
		return "", fmt.Errorf("writing the login to %s: another MaxRouter process holds the directory: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	inner := loginJSON(l)
	data, err := os.ReadFile(path)
	var out []byte
	switch {
	case errors.Is(err, fs.ErrNotExist):
		out = append(append([]byte(`{"`+nestedKey+`":`), inner...), '}')
	case err != nil:
		return "", fmt.Errorf("reading %s: %w", path, err)
	default:
		if out, err = replaceLogin(data, inner); err != nil {
			return "", fmt.Errorf("%s cannot be read, so it is not replaced (move it away and log in again): %w", path, err)
		}
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(path, 0o600); err != nil {
				return "", fmt.Errorf("restricting %s: %w", path, err)
			}
		}
	}
	if err := store.WriteFile(path, append(out, '\n'), 0o600); err != nil {
		return "", err
	}
	return path, nil
}

// loginJSON encodes l as Claude Code's claudeAiOauth object, keys in the
// order Claude Code writes them.
func loginJSON(l Login) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	field := func(k string, v any) {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		key, _ := json.Marshal(k)
		val, _ := json.Marshal(v)
		b.Write(key)
		b.WriteByte(':')
		b.Write(val)
	}
	field("accessToken", l.Access)
	field("refreshToken", l.Refresh)
	if !l.ExpiresAt.IsZero() {
		field("expiresAt", l.ExpiresAt.UnixMilli())
	}
	if !l.RefreshExpiresAt.IsZero() {
		field("refreshTokenExpiresAt", l.RefreshExpiresAt.UnixMilli())
	}
	scopes := l.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	field("scopes", scopes)
	if l.Subscription != "" {
		field("subscriptionType", l.Subscription)
	}
	if l.RateLimitTier != "" {
		field("rateLimitTier", l.RateLimitTier)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// replaceLogin returns data, a JSON object, with the value of claudeAiOauth
// replaced by inner (or claudeAiOauth added); every other byte is kept.
func replaceLogin(data, inner []byte) ([]byte, error) {
	top, err := decodeObject(bytes.TrimSpace(data))
	if err != nil {
		return nil, err
	}
	data = bytes.TrimSpace(data)
	if m := top.last(nestedKey); m != nil {
		return splice(data, []edit{{m.start, m.end, inner}}), nil
	}
	if len(top.members) == 0 {
		return append(append([]byte(`{"`+nestedKey+`":`), inner...), '}'), nil
	}
	at := top.members[len(top.members)-1].end
	add := append([]byte(`,"`+nestedKey+`":`), inner...)
	return splice(data, []edit{{at, at, add}}), nil
}

// readLogin reads what o (a claudeAiOauth object, or a flat file) says
// about the login beyond the token: its scopes and when it ends.
func (cf *credFile) readLogin(o *object) {
	if v, ok := o.get("scopes"); ok {
		var list []string
		if json.Unmarshal(v, &list) == nil {
			cf.scopes = strings.Join(list, " ")
		} else {
			var s string
			if json.Unmarshal(v, &s) == nil {
				cf.scopes = strings.Join(strings.Fields(s), " ")
			}
		}
	}
	if _, ok := o.get("refreshTokenExpiresAt"); ok {
		cf.loginExpiresAt, _ = expiry(o, "refreshTokenExpiresAt", true)
	}
}

// HasScope reports whether the space-separated scopes hold scope.
func HasScope(scopes, scope string) bool {
	for _, s := range strings.Fields(scopes) {
		if s == scope {
			return true
		}
	}
	return false
}
