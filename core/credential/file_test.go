package credential

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestOpenLayouts(t *testing.T) {
	ms := epoch().Add(time.Hour)
	sec := epoch().Add(2 * time.Hour)
	tests := []struct {
		name        string
		files       map[string]string // file name -> content; nil map = no directory
		wantFile    string            // file expected to be used
		wantAccess  string
		wantExpires time.Time
		wantRefresh bool
		wantSub     string
		wantTier    string
		wantErr     error  // sentinel the error must wrap
		wantErrText string // text the error must contain
	}{
		{
			name:        "nested .credentials.json",
			files:       map[string]string{".credentials.json": nestedFile(oldAccess, oldRefresh, ms)},
			wantFile:    ".credentials.json",
			wantAccess:  oldAccess,
			wantExpires: ms,
			wantRefresh: true,
			wantSub:     "max",
			wantTier:    "default_claude_max_20x",
		},
		{
			name:        "flat camelCase credentials.json, milliseconds",
			files:       map[string]string{"credentials.json": `{"accessToken":"sk-ant-oat01-test-a","refreshToken":"r","expiresAt":` + strconv.FormatInt(ms.UnixMilli(), 10) + `}`},
			wantFile:    "credentials.json",
			wantAccess:  "sk-ant-oat01-test-a",
			wantExpires: ms,
			wantRefresh: true,
		},
		{
			name:        "flat snake_case auth.json, seconds",
			files:       map[string]string{"auth.json": `{"access_token":"sk-ant-oat01-test-b","refresh_token":"r","expires_at":` + strconv.FormatInt(sec.Unix(), 10) + `}`},
			wantFile:    "auth.json",
			wantAccess:  "sk-ant-oat01-test-b",
			wantExpires: sec,
			wantRefresh: true,
		},
		{
			name:       "oauthToken in oauth.json, no refresh token",
			files:      map[string]string{"oauth.json": `{"oauthToken":"sk-ant-oat01-test-c"}`},
			wantFile:   "oauth.json",
			wantAccess: "sk-ant-oat01-test-c",
		},
		{
			name:       "oauth_token in config.json",
			files:      map[string]string{"config.json": `{"theme":"dark","oauth_token":"sk-ant-oat01-test-d"}`},
			wantFile:   "config.json",
			wantAccess: "sk-ant-oat01-test-d",
		},
		{
			name: ".credentials.json wins over the older names",
			files: map[string]string{
				"credentials.json":  `{"accessToken":"sk-ant-oat01-test-older"}`,
				".credentials.json": nestedFile(oldAccess, oldRefresh, ms),
			},
			wantFile:    ".credentials.json",
			wantAccess:  oldAccess,
			wantExpires: ms,
			wantRefresh: true,
			wantSub:     "max",
			wantTier:    "default_claude_max_20x",
		},
		{
			name: "a file without a token is skipped",
			files: map[string]string{
				".credentials.json": `{"mcpOAuth":{}}`,
				"auth.json":         `{"access_token":"sk-ant-oat01-test-e"}`,
			},
			wantFile:   "auth.json",
			wantAccess: "sk-ant-oat01-test-e",
		},
		{
			name:        "config.json without a token is not credentials",
			files:       map[string]string{"config.json": `{"theme":"dark"}`},
			wantErr:     ErrNoCredentials,
			wantErrText: "looked for .credentials.json",
		},
		{
			name:        "unparsable config.json is not credentials",
			files:       map[string]string{"config.json": `theme = "dark"`},
			wantErr:     ErrNoCredentials,
			wantErrText: "looked for",
		},
		{
			name: "corrupt JSON names the file",
			files: map[string]string{
				".credentials.json": `{"claudeAiOauth": {"accessToken": "sk-ant-oat01-te`,
				"credentials.json":  `{"accessToken":"sk-ant-oat01-test-older"}`,
			},
			wantErrText: ".credentials.json",
		},
		{
			name:        "trailing garbage is corrupt",
			files:       map[string]string{"auth.json": `{"access_token":"x"} {}`},
			wantErrText: "auth.json",
		},
		{
			name:        "empty directory",
			files:       map[string]string{},
			wantErr:     ErrNoCredentials,
			wantErrText: "looked for",
		},
		{
			name:        "missing directory",
			files:       nil,
			wantErr:     ErrNoCredentials,
			wantErrText: "does not exist",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "claude")
			if tt.files != nil {
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			for name, content := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			// No refresh is due; a dead URL makes sure none is tried.
			s, err := Open(dir, Options{Now: newClock().Now, TokenURL: "http://127.0.0.1:1/token"})
			info, ierr := Inspect(dir)
			if tt.wantErrText != "" || tt.wantErr != nil {
				for _, err := range []error{err, ierr} {
					if err == nil {
						t.Fatalf("Open/Inspect succeeded, want an error containing %q", tt.wantErrText)
					}
					if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
						t.Errorf("error %q does not wrap %v", err, tt.wantErr)
					}
					if tt.wantErr == nil && errors.Is(err, ErrNoCredentials) {
						t.Errorf("error %q wraps ErrNoCredentials, want a parse error", err)
					}
					if !strings.Contains(err.Error(), tt.wantErrText) {
						t.Errorf("error %q does not contain %q", err, tt.wantErrText)
					}
				}
				return
			}
			if err != nil || ierr != nil {
				t.Fatalf("Open: %v, Inspect: %v", err, ierr)
			}
			tok, err := s.Token(t.Context())
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			if tok.Access != tt.wantAccess || !tok.ExpiresAt.Equal(tt.wantExpires) {
				t.Errorf("Token = %q expiring %v, want %q expiring %v", tok.Access, tok.ExpiresAt, tt.wantAccess, tt.wantExpires)
			}
			want := Info{
				Path:          filepath.Join(dir, tt.wantFile),
				Subscription:  tt.wantSub,
				RateLimitTier: tt.wantTier,
				ExpiresAt:     tt.wantExpires,
				CanRefresh:    tt.wantRefresh,
			}
			for _, got := range []Info{s.Info(), info} {
				if !got.ExpiresAt.Equal(want.ExpiresAt) {
					t.Errorf("Info.ExpiresAt = %v, want %v", got.ExpiresAt, want.ExpiresAt)
				}
				got.ExpiresAt = want.ExpiresAt
				got.Scopes, got.LoginExpiresAt = "", time.Time{} // see TestScopesAndLoginExpiry
				if got != want {
					t.Errorf("Info = %+v, want %+v", got, want)
				}
			}
			if s.Dir() != dir {
				t.Errorf("Dir = %q, want %q", s.Dir(), dir)
			}
		})
	}
}

func TestRewrite(t *testing.T) {
	exp := time.UnixMilli(1780315200000)
	tests := []struct {
		name string
		in   string
		want string
	}{
		{
			name: "nested keeps every other byte",
			in:   nestedFile(oldAccess, oldRefresh, epoch()),
			// Only the three values inside claudeAiOauth change; the
			// mcpOAuth expiresAt, the escapes and the layout stay.
			want: strings.NewReplacer(
				oldAccess, "NEW-A",
				oldRefresh, "NEW-R",
				`"expiresAt": `+strconv.FormatInt(epoch().UnixMilli(), 10), `"expiresAt": 1780315200000`,
			).Replace(nestedFile(oldAccess, oldRefresh, epoch())),
		},
		{
			name: "flat snake_case in seconds",
			in:   `{"x":[1,2],"access_token":"a","expires_at":1,"refresh_token":"r","y":{"z":null}}`,
			want: `{"x":[1,2],"access_token":"NEW-A","expires_at":1780315200,"refresh_token":"NEW-R","y":{"z":null}}`,
		},
		{
			name: "flat camelCase in milliseconds",
			in:   `{"accessToken": "a", "refreshToken": "r", "expiresAt": 1767225600000}`,
			want: `{"accessToken": "NEW-A", "refreshToken": "NEW-R", "expiresAt": 1780315200000}`,
		},
		{
			name: "missing keys are added in the file's style",
			in:   `{"oauth_token": "a", "other": true}`,
			want: `{"oauth_token": "NEW-A", "other": true,"refresh_token":"NEW-R","expires_at":1780315200}`,
		},
		{
			name: "nested without expiry gets milliseconds",
			in:   `{"a":1,"claudeAiOauth":{"accessToken":"a","scopes":[]},"b":2}`,
			want: `{"a":1,"claudeAiOauth":{"accessToken":"NEW-A","scopes":[],"refreshToken":"NEW-R","expiresAt":1780315200000},"b":2}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rewrite([]byte(tt.in), "NEW-A", "NEW-R", exp)
			if err != nil {
				t.Fatalf("rewrite: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("rewrite =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
