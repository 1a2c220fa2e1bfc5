package credential

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// checkFile checks the credential file holds the pair and expiry, keeps mode
// 0600 and every key the router does not own.
func checkFile(t *testing.T, path, access, refresh string, expires time.Time) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("file mode = %v, want 0600", got)
	}
	got := decode(t, readFile(t, path))
	want := decode(t, nestedFile(access, refresh, expires))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("file =\n%v\nwant\n%v", got, want)
	}
}

func TestTokenRefreshesOnceForConcurrentCallers(t *testing.T) {
	tests := []struct {
		name    string
		expires time.Duration // from now
	}{
		{"expiring soon", 2 * time.Minute},
		{"expired", -time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			dir, path := credDir(t, nestedFile(oldAccess, oldRefresh, clk.Now().Add(tt.expires)))
			ep := newEndpoint(t, oldRefresh)
			logs := &logBuf{}
			s, err := Open(dir, ep.options(clk, logs))
			if err != nil {
				t.Fatal(err)
			}

			const n = 50
			var wg sync.WaitGroup
			start := make(chan struct{})
			toks := make([]Token, n)
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					<-start
					toks[i], errs[i] = s.Token(t.Context())
				})
			}
			close(start)
			wg.Wait()

			if got := ep.calls.Load(); got != 1 {
				t.Errorf("token endpoint called %d times, want 1", got)
			}
			wantExp := clk.Now().Add(lifetime)
			for i := range n {
				if errs[i] != nil || toks[i].Access != "sk-ant-oat01-test-new1" || !toks[i].ExpiresAt.Equal(wantExp) {
					t.Fatalf("caller %d got %q expiring %v, %v; want sk-ant-oat01-test-new1 expiring %v",
						i, toks[i].Access, toks[i].ExpiresAt, errs[i], wantExp)
				}
			}
			checkFile(t, path, "sk-ant-oat01-test-new1", "sk-ant-ort01-test-new1", wantExp)
			if got := s.Info(); !got.ExpiresAt.Equal(wantExp) || !got.CanRefresh || got.Subscription != "max" {
				t.Errorf("Info = %+v, want expiry %v, CanRefresh, subscription max", got, wantExp)
			}

			// Fresh now: no further call, and the file we wrote reloads to the same token.
			if err := s.Reload(); err != nil {
				t.Fatalf("Reload: %v", err)
			}
			if tok, err := s.Token(t.Context()); err != nil || tok.Access != "sk-ant-oat01-test-new1" {
				t.Errorf("Token after refresh = %q, %v", tok.Access, err)
			}
			// Later the new refresh token is used (the old one is spent).
			clk.Add(lifetime - time.Minute)
			if tok, err := s.Token(t.Context()); err != nil || tok.Access != "sk-ant-oat01-test-new2" {
				t.Errorf("second refresh = %q, %v; want sk-ant-oat01-test-new2", tok.Access, err)
			}
			if got := ep.calls.Load(); got != 2 {
				t.Errorf("token endpoint called %d times, want 2", got)
			}
			logs.checkNoSecrets(t)
		})
	}
}

func TestRefreshAdoptsTokenClaudeCodeRefreshed(t *testing.T) {
	clk := newClock()
	dir, path := credDir(t, nestedFile(oldAccess, oldRefresh, clk.Now().Add(time.Hour)))
	ep := newEndpoint(t, oldRefresh)
	logs := &logBuf{}
	s, err := Open(dir, ep.options(clk, logs))
	if err != nil {
		t.Fatal(err)
	}
	// Claude Code refreshes and replaces the file.
	ccFile := nestedFile("sk-ant-oat01-test-cc", "sk-ant-ort01-test-cc", clk.Now().Add(lifetime))
	writeAtomic(t, path, ccFile)

	tok, err := s.Refresh(t.Context(), oldAccess)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if tok.Access != "sk-ant-oat01-test-cc" {
		t.Errorf("Refresh = %q, want sk-ant-oat01-test-cc", tok.Access)
	}
	if got := ep.calls.Load(); got != 0 {
		t.Errorf("token endpoint called %d times, want 0", got)
	}
	if got := readFile(t, path); got != ccFile {
		t.Errorf("file rewritten:\n%s\nwant\n%s", got, ccFile)
	}
	if tok, err := s.Token(t.Context()); err != nil || tok.Access != "sk-ant-oat01-test-cc" {
		t.Errorf("Token = %q, %v; want sk-ant-oat01-test-cc", tok.Access, err)
	}
	logs.checkNoSecrets(t)
}

func TestRefreshAfterRejection(t *testing.T) {
	clk := newClock()
	dir, path := credDir(t, nestedFile(oldAccess, oldRefresh, clk.Now().Add(time.Hour)))
	ep := newEndpoint(t, oldRefresh)
	s, err := Open(dir, ep.options(clk, &logBuf{}))
	if err != nil {
		t.Fatal(err)
	}

	// Several requests get a 401 with the same token at once.
	var wg sync.WaitGroup
	toks := make([]Token, 10)
	errs := make([]error, 10)
	for i := range toks {
		wg.Go(func() { toks[i], errs[i] = s.Refresh(t.Context(), oldAccess) })
	}
	wg.Wait()
	for i := range toks {
		if errs[i] != nil || toks[i].Access != "sk-ant-oat01-test-new1" {
			t.Errorf("Refresh %d = %q, %v; want sk-ant-oat01-test-new1", i, toks[i].Access, errs[i])
		}
	}
	if got := ep.calls.Load(); got != 1 {
		t.Errorf("token endpoint called %d times, want 1", got)
	}
	checkFile(t, path, "sk-ant-oat01-test-new1", "sk-ant-ort01-test-new1", clk.Now().Add(lifetime))

	// A late 401 for the old token gets the current one without a call.
	if tok, err := s.Refresh(t.Context(), oldAccess); err != nil || tok.Access != "sk-ant-oat01-test-new1" {
		t.Errorf("late Refresh = %q, %v", tok.Access, err)
	}
	if got := ep.calls.Load(); got != 1 {
		t.Errorf("token endpoint called %d times, want 1", got)
	}
}

func TestRefreshFailures(t *testing.T) {
	tests := []struct {
		name      string
		file      func(now time.Time) string
		status    int // 0: the endpoint's own single-use logic
		body      string
		live      bool // the endpoint accepts the file's refresh token
		call      func(s *Source, ctx context.Context) (Token, error)
		wantToken string // when the call succeeds
		wantLogin bool   // error wraps ErrNeedsLogin
		wantText  string // error contains
		wantCalls int32
	}{
		{
			name:      "invalid_grant 400 needs login",
			file:      func(now time.Time) string { return nestedFile(oldAccess, oldRefresh, now.Add(-time.Minute)) },
			call:      (*Source).Token,
			wantLogin: true,
			wantText:  "refresh token rejected (invalid_grant): log in again with CLAUDE_CONFIG_DIR=",
			wantCalls: 1,
		},
		{
			name:      "invalid_grant 401 needs login even when not yet expired",
			file:      func(now time.Time) string { return nestedFile(oldAccess, oldRefresh, now.Add(time.Minute)) },
			status:    401,
			body:      `{"error":"invalid_grant"}`,
			call:      (*Source).Token,
			wantLogin: true,
			wantText:  "invalid_grant",
			wantCalls: 1,
		},
		{
			name: "expired without refresh token needs login",
			file: func(now time.Time) string {
				return `{"accessToken":"sk-ant-oat01-test-x","expiresAt":` + msStr(now.Add(-time.Minute)) + `}`
			},
			call:      (*Source).Token,
			wantLogin: true,
			wantText:  "expired and there is no refresh token",
		},
		{
			name:      "rejected without refresh token needs login",
			file:      func(now time.Time) string { return `{"accessToken":"sk-ant-oat01-test-x"}` },
			call:      func(s *Source, ctx context.Context) (Token, error) { return s.Refresh(ctx, "sk-ant-oat01-test-x") },
			wantLogin: true,
			wantText:  "no refresh token",
		},
		{
			name:      "server error on an expired token is transient",
			file:      func(now time.Time) string { return nestedFile(oldAccess, oldRefresh, now.Add(-time.Minute)) },
			status:    500,
			body:      `{"type":"error","error":{"type":"api_error","message":"Internal server error"}}`,
			live:      true,
			call:      (*Source).Token,
			wantText:  "500 Internal Server Error: api_error: Internal server error",
			wantCalls: 1,
		},
		{
			name:      "server error after a 401 is transient",
			file:      func(now time.Time) string { return nestedFile(oldAccess, oldRefresh, now.Add(time.Hour)) },
			status:    503,
			live:      true,
			call:      func(s *Source, ctx context.Context) (Token, error) { return s.Refresh(ctx, oldAccess) },
			wantText:  "503",
			wantCalls: 1,
		},
		{
			name:      "other 400 is not a dead login",
			file:      func(now time.Time) string { return nestedFile(oldAccess, oldRefresh, now.Add(-time.Minute)) },
			status:    400,
			body:      `{"error":"invalid_client","error_description":"unknown client"}`,
			live:      true,
			call:      (*Source).Token,
			wantText:  "invalid_client: unknown client",
			wantCalls: 1,
		},
		{
			name:      "server error while still valid keeps the token",
			file:      func(now time.Time) string { return nestedFile(oldAccess, oldRefresh, now.Add(time.Minute)) },
			status:    500,
			live:      true,
			call:      (*Source).Token,
			wantToken: oldAccess,
			wantCalls: 1,
		},
		{
			name: "expiring without refresh token is used while it lasts",
			file: func(now time.Time) string {
				return `{"accessToken":"sk-ant-oat01-test-x","expiresAt":` + msStr(now.Add(time.Minute)) + `}`
			},
			call:      (*Source).Token,
			wantToken: "sk-ant-oat01-test-x",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			content := tt.file(clk.Now())
			dir, path := credDir(t, content)
			ep := newEndpoint(t)
			if tt.live {
				ep.live[oldRefresh] = true
			}
			if tt.status != 0 {
				ep.fail(tt.status, tt.body)
			}
			logs := &logBuf{}
			s, err := Open(dir, ep.options(clk, logs))
			if err != nil {
				t.Fatal(err)
			}
			for range 2 { // the second call must not reach the endpoint again
				tok, err := tt.call(s, t.Context())
				if tt.wantToken != "" {
					if err != nil || tok.Access != tt.wantToken {
						t.Fatalf("got %q, %v; want %q", tok.Access, err, tt.wantToken)
					}
				} else {
					if err == nil {
						t.Fatalf("got %q, want an error", tok.Access)
					}
					if got := errors.Is(err, ErrNeedsLogin); got != tt.wantLogin {
						t.Errorf("errors.Is(%q, ErrNeedsLogin) = %v, want %v", err, got, tt.wantLogin)
					}
					if !strings.Contains(err.Error(), "refreshing token for "+dir) || !strings.Contains(err.Error(), tt.wantText) {
						t.Errorf("error %q does not name the dir and contain %q", err, tt.wantText)
					}
				}
				if tt.wantCalls == 1 && !tt.wantLogin && tt.wantToken == "" {
					break // a transient failure is retried: not checked here
				}
			}
			if got := ep.calls.Load(); got != tt.wantCalls {
				t.Errorf("token endpoint called %d times, want %d", got, tt.wantCalls)
			}
			if got := readFile(t, path); got != content {
				t.Errorf("file changed:\n%s\nwant\n%s", got, content)
			}
			logs.checkNoSecrets(t)
		})
	}
}

func TestTransientFailureRetriesLater(t *testing.T) {
	clk := newClock()
	dir, path := credDir(t, nestedFile(oldAccess, oldRefresh, clk.Now().Add(2*time.Minute)))
	ep := newEndpoint(t, oldRefresh)
	ep.fail(500, "")
	s, err := Open(dir, ep.options(clk, &logBuf{}))
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := s.Token(t.Context()); err != nil || tok.Access != oldAccess {
		t.Fatalf("Token = %q, %v; want the old token", tok.Access, err)
	}
	clk.Add(retryDelay / 2)
	s.Token(t.Context())
	if got := ep.calls.Load(); got != 1 {
		t.Errorf("token endpoint called %d times within the retry delay, want 1", got)
	}
	ep.fail(0, "")
	clk.Add(retryDelay)
	if tok, err := s.Token(t.Context()); err != nil || tok.Access != "sk-ant-oat01-test-new1" {
		t.Fatalf("Token after the retry delay = %q, %v; want sk-ant-oat01-test-new1", tok.Access, err)
	}
	checkFile(t, path, "sk-ant-oat01-test-new1", "sk-ant-ort01-test-new1", clk.Now().Add(lifetime))
}

func TestInvalidGrantAfterClaudeCodeRefreshed(t *testing.T) {
	// Claude Code refreshes between our re-read and our request: the
	// endpoint rejects our (now spent) refresh token. The file has the
	// answer; the account is fine.
	clk := newClock()
	dir, path := credDir(t, nestedFile(oldAccess, oldRefresh, clk.Now().Add(-time.Minute)))
	ep := newEndpoint(t)
	ccFile := nestedFile("sk-ant-oat01-test-cc", "sk-ant-ort01-test-cc", clk.Now().Add(lifetime))
	ep.onRequest = func() { writeAtomic(t, path, ccFile) }
	s, err := Open(dir, ep.options(clk, &logBuf{}))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Token(t.Context())
	if err != nil || tok.Access != "sk-ant-oat01-test-cc" {
		t.Fatalf("Token = %q, %v; want sk-ant-oat01-test-cc", tok.Access, err)
	}
	if got := readFile(t, path); got != ccFile {
		t.Errorf("file rewritten:\n%s\nwant\n%s", got, ccFile)
	}
}

func TestFlatFileRefresh(t *testing.T) {
	clk := newClock()
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.json")
	content := `{"access_token":"sk-ant-oat01-test-old","refresh_token":"sk-ant-ort01-test-old","expires_at":` +
		secStr(clk.Now().Add(-time.Minute)) + `,"email":"a@example.com"}`
	if err := os.WriteFile(path, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
	ep := newEndpoint(t, oldRefresh)
	s, err := Open(dir, ep.options(clk, &logBuf{}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := `{"access_token":"sk-ant-oat01-test-new1","refresh_token":"sk-ant-ort01-test-new1","expires_at":` +
		secStr(clk.Now().Add(lifetime)) + `,"email":"a@example.com"}`
	if got := readFile(t, path); got != want {
		t.Errorf("file =\n%s\nwant\n%s", got, want)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want 0640 kept", fi.Mode().Perm())
	}
}

func TestUnsavedPairSurvivesReload(t *testing.T) {
	clk := newClock()
	content := nestedFile(oldAccess, oldRefresh, clk.Now().Add(-time.Minute))
	dir, path := credDir(t, content)
	ep := newEndpoint(t, oldRefresh)
	s, err := Open(dir, ep.options(clk, &logBuf{}))
	if err != nil {
		t.Fatal(err)
	}
	s.prepare = func(string, os.FileMode) (pending, error) { return nil, errors.New("read-only file system") }
	if tok, err := s.Token(t.Context()); err != nil || tok.Access != "sk-ant-oat01-test-new1" {
		t.Fatalf("Token = %q, %v", tok.Access, err)
	}
	if got := readFile(t, path); got != content {
		t.Fatalf("file changed although writing failed")
	}
	// The file still holds the spent pair: it must not replace the new one.
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	clk.Add(lifetime - time.Minute)
	if tok, err := s.Token(t.Context()); err != nil || tok.Access != "sk-ant-oat01-test-new2" {
		t.Fatalf("Token after reload = %q, %v; want sk-ant-oat01-test-new2", tok.Access, err)
	}
	// A login written by Claude Code is adopted again.
	writeAtomic(t, path, nestedFile("sk-ant-oat01-test-cc", "sk-ant-ort01-test-cc", clk.Now().Add(lifetime)))
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if tok, _ := s.Token(t.Context()); tok.Access != "sk-ant-oat01-test-cc" {
		t.Errorf("Token = %q, want sk-ant-oat01-test-cc", tok.Access)
	}
}

func TestReload(t *testing.T) {
	tests := []struct {
		name       string
		write      func(t *testing.T, dir, path string)
		wantAccess string
		wantErr    string
	}{
		{
			name: "new token is adopted",
			write: func(t *testing.T, dir, path string) {
				writeAtomic(t, path, nestedFile("sk-ant-oat01-test-cc", "sk-ant-ort01-test-cc", epoch().Add(lifetime)))
			},
			wantAccess: "sk-ant-oat01-test-cc",
		},
		{
			name:       "corrupt file keeps the token",
			write:      func(t *testing.T, dir, path string) { writeAtomic(t, path, `{"claudeAiOauth":`) },
			wantAccess: oldAccess,
			wantErr:    ".credentials.json",
		},
		{
			name: "removed file keeps the token",
			write: func(t *testing.T, dir, path string) {
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
			},
			wantAccess: oldAccess,
			wantErr:    "no credentials found",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			dir, path := credDir(t, nestedFile(oldAccess, oldRefresh, clk.Now().Add(time.Hour)))
			s, err := Open(dir, Options{Now: clk.Now, TokenURL: "http://127.0.0.1:1/token"})
			if err != nil {
				t.Fatal(err)
			}
			tt.write(t, dir, path)
			err = s.Reload()
			if tt.wantErr == "" && err != nil {
				t.Errorf("Reload: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Reload error = %v, want one containing %q", err, tt.wantErr)
			}
			if tok, err := s.Token(t.Context()); err != nil || tok.Access != tt.wantAccess {
				t.Errorf("Token = %q, %v; want %q", tok.Access, err, tt.wantAccess)
			}
		})
	}
}

func TestStatic(t *testing.T) {
	s := Static("sk-ant-oat01-test-setup", Options{})
	tok, err := s.Token(t.Context())
	if err != nil || tok.Access != "sk-ant-oat01-test-setup" || !tok.ExpiresAt.IsZero() {
		t.Errorf("Token = %+v, %v", tok, err)
	}
	if got, want := s.Info(), (Info{Static: true}); got != want {
		t.Errorf("Info = %+v, want %+v", got, want)
	}
	if _, err := s.Refresh(t.Context(), "sk-ant-oat01-test-setup"); !errors.Is(err, ErrNeedsLogin) {
		t.Errorf("Refresh error = %v, want ErrNeedsLogin", err)
	}
	if err := s.Reload(); err != nil {
		t.Errorf("Reload = %v", err)
	}
	if s.Dir() != "" {
		t.Errorf("Dir = %q, want empty", s.Dir())
	}
}

func TestCallerCancelDoesNotAbandonRefresh(t *testing.T) {
	clk := newClock()
	dir, path := credDir(t, nestedFile(oldAccess, oldRefresh, clk.Now().Add(-time.Minute)))
	ep := newEndpoint(t, oldRefresh)
	arrived, release := make(chan struct{}), make(chan struct{})
	ep.onRequest = func() {
		close(arrived)
		<-release
	}
	s, err := Open(dir, ep.options(clk, &logBuf{}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := s.Token(ctx)
		done <- err
	}()
	// Once the request reached the endpoint, give up on it.
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("refresh never reached the endpoint")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Token = %v, want context.Canceled", err)
	}
	close(release)
	// The refresh completes anyway and its pair is saved.
	tok, err := s.Token(t.Context())
	if err != nil || tok.Access != "sk-ant-oat01-test-new1" {
		t.Fatalf("Token = %q, %v; want sk-ant-oat01-test-new1", tok.Access, err)
	}
	checkFile(t, path, "sk-ant-oat01-test-new1", "sk-ant-ort01-test-new1", clk.Now().Add(lifetime))
	if got := ep.calls.Load(); got != 1 {
		t.Errorf("token endpoint called %d times, want 1", got)
	}
}

func TestTokenHotPathDoesNotAllocate(t *testing.T) {
	clk := newClock()
	dir, _ := credDir(t, nestedFile(oldAccess, oldRefresh, clk.Now().Add(time.Hour)))
	s, err := Open(dir, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if got := testing.AllocsPerRun(1000, func() { s.Token(ctx) }); got != 0 {
		t.Errorf("Token allocates %v times per call, want 0", got)
	}
}

// BenchmarkToken measures the fresh-token hot path. With time.Now most of
// the cost is reading the clock (slow on some VMs); the fixed clock shows
// the rest: an atomic load and a comparison.
func BenchmarkToken(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, ".credentials.json")
	if err := os.WriteFile(path, []byte(nestedFile(oldAccess, oldRefresh, time.Now().Add(time.Hour))), 0o600); err != nil {
		b.Fatal(err)
	}
	fixed := time.Now()
	for _, bc := range []struct {
		name string
		now  func() time.Time
	}{
		{"clock=time.Now", time.Now},
		{"clock=fixed", func() time.Time { return fixed }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := Open(dir, Options{Now: bc.now})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Token(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
