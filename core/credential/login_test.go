package credential

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func testLogin() Login {
	return Login{
		Access: "sk-ant-oat01-test-login", Refresh: "sk-ant-ort01-test-login",
		ExpiresAt:        time.UnixMilli(1790000000000),
		RefreshExpiresAt: time.UnixMilli(1792000000000),
		Scopes:           []string{"user:inference", "user:profile"},
		Subscription:     "max", RateLimitTier: "default_claude_max_5x",
	}
}

func TestWriteLoginNewFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "accounts", "work")
	path, err := WriteLogin(dir, testLogin())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := path, filepath.Join(dir, ".credentials.json"); got != want {
		t.Errorf("path = %q, want %q", got, want)
	}
	if runtime.GOOS != "windows" {
		for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
			if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
				t.Errorf("mode of %s = %v (%v), want %v", p, fi.Mode().Perm(), err, want)
			}
		}
	}
	data, _ := os.ReadFile(path)
	var got map[string]map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("file is not JSON: %v\n%s", err, data)
	}
	want := map[string]any{
		"accessToken": "sk-ant-oat01-test-login", "refreshToken": "sk-ant-ort01-test-login",
		"expiresAt": 1790000000000.0, "refreshTokenExpiresAt": 1792000000000.0,
		"scopes": []any{"user:inference", "user:profile"}, "subscriptionType": "max", "rateLimitTier": "default_claude_max_5x",
	}
	for k, v := range want {
		if g, _ := json.Marshal(got["claudeAiOauth"][k]); string(g) != mustJSON(v) {
			t.Errorf("claudeAiOauth.%s = %s, want %s", k, g, mustJSON(v))
		}
	}
	// What was written reads back as the same login.
	info, err := Inspect(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Scopes != "user:inference user:profile" || !info.LoginExpiresAt.Equal(time.UnixMilli(1792000000000)) ||
		info.Subscription != "max" || !info.CanRefresh || !info.ExpiresAt.Equal(time.UnixMilli(1790000000000)) {
		t.Errorf("Inspect = %+v, want the login written", info)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// A login into a folder Claude Code uses replaces claudeAiOauth only: the
// other keys stay, byte for byte.
func TestWriteLoginKeepsOtherKeys(t *testing.T) {
	tests := []struct {
		name, file, wantPrefix, wantSuffix string
	}{
		{"nested", `{"mcpOAuth":{"srv":{"token":"keep-me"}},"claudeAiOauth":{"accessToken":"old","organizationUuid":"x"},"other":[1, 2]}`,
			`{"mcpOAuth":{"srv":{"token":"keep-me"}},"claudeAiOauth":{"accessToken":"sk-ant-oat01-test-login"`, `},"other":[1, 2]}` + "\n"},
		{"without a login", `{ "mcpOAuth": {"a": 1} }`, `{ "mcpOAuth": {"a": 1},"claudeAiOauth":{"accessToken"`, "} }\n"},
		{"empty object", `{}`, `{"claudeAiOauth":{"accessToken"`, "}}\n"},
		{"flat", `{"accessToken":"old-flat","refreshToken":"r"}`, `{"accessToken":"old-flat","refreshToken":"r","claudeAiOauth":{`, "}}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, ".credentials.json")
			if err := os.WriteFile(path, []byte(tt.file), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := WriteLogin(dir, testLogin()); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(path)
			if s := string(data); !strings.HasPrefix(s, tt.wantPrefix) || !strings.HasSuffix(s, tt.wantSuffix) {
				t.Errorf("file =\n%s\nwant it to start with %s and end with %q", s, tt.wantPrefix, tt.wantSuffix)
			}
			if strings.Contains(string(data), "organizationUuid") {
				t.Errorf("the old login's own keys survived: %s", data)
			}
			if runtime.GOOS != "windows" {
				if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
					t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
				}
			}
			src, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if tok, _, _ := src.Peek(); tok.Access != "sk-ant-oat01-test-login" {
				t.Errorf("token read back = %q, want the new login's", tok.Access)
			}
		})
	}
}

func TestWriteLoginRefusesAFileItCannotRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".credentials.json")
	os.WriteFile(path, []byte(`{"claudeAiOauth": {`), 0o600)
	_, err := WriteLogin(dir, testLogin())
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("WriteLogin over a damaged file = %v, want an error naming it", err)
	}
	if data, _ := os.ReadFile(path); string(data) != `{"claudeAiOauth": {` {
		t.Errorf("damaged file was changed: %q", data)
	}
}

func TestScopesAndLoginExpiry(t *testing.T) {
	tests := []struct {
		name, file, scopes string
		login              time.Time
	}{
		{"nested", `{"claudeAiOauth":{"accessToken":"a","scopes":["user:inference","user:profile"],"refreshTokenExpiresAt":1792000000000}}`,
			"user:inference user:profile", time.UnixMilli(1792000000000)},
		{"no scopes", `{"claudeAiOauth":{"accessToken":"a"}}`, "", time.Time{}},
		{"flat, OAuth string", `{"access_token":"a","scopes":"user:inference  user:profile"}`, "user:inference user:profile", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, ".credentials.json"), []byte(tt.file), 0o600)
			info, err := Inspect(dir)
			if err != nil {
				t.Fatal(err)
			}
			if info.Scopes != tt.scopes || !info.LoginExpiresAt.Equal(tt.login) {
				t.Errorf("scopes, login expiry = %q, %v; want %q, %v", info.Scopes, info.LoginExpiresAt, tt.scopes, tt.login)
			}
			if got, want := HasScope(info.Scopes, ProfileScope), tt.scopes != ""; got != want {
				t.Errorf("HasScope(%q, user:profile) = %v, want %v", info.Scopes, got, want)
			}
		})
	}
}
