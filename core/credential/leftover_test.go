package credential

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	leftAccess  = "sk-ant-oat01-test-left"
	leftRefresh = "sk-ant-ort01-test-left"
)

// leftover writes a temp file named as MaxRouter's write-back names them,
// as a killed process leaves it, and makes it old when asked.
func leftover(t *testing.T, dir, name, content string, old bool) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if old {
		long := time.Now().Add(-time.Hour)
		if err := os.Chtimes(p, long, long); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// leftoverFile is the temp file a process killed during its write-back
// leaves: the file as it was then (here with an older mcpOAuth than the
// file has now) holding the new pair.
func leftoverFile(access, refresh string, expires time.Time) string {
	return strings.Replace(nestedFile(access, refresh, expires), `"mcp-secret"`, `"mcp-before"`, 1)
}

func TestOpenTakesUpLeftoverPair(t *testing.T) {
	now := epoch()
	fileExp := now.Add(-time.Minute) // the spent pair, due for a refresh
	newer := now.Add(lifetime)
	tests := []struct {
		name string
		// temps maps temp file names to content; names ending in "!old"
		// are made an hour old.
		temps      map[string]string
		wantAccess string
		wantLeft   []string // temp files still there afterwards
	}{
		{
			name:       "newer complete pair is taken up",
			temps:      map[string]string{"..credentials.json.tmp1": leftoverFile(leftAccess, leftRefresh, newer)},
			wantAccess: leftAccess,
		},
		{
			name: "the newest of several wins, the others go when old",
			temps: map[string]string{
				"..credentials.json.tmp1!old": leftoverFile("sk-ant-oat01-test-mid", "sk-ant-ort01-test-mid", newer.Add(-time.Hour)),
				"..credentials.json.tmp2":     leftoverFile(leftAccess, leftRefresh, newer),
			},
			wantAccess: leftAccess,
		},
		{
			name:       "older pair is not taken up, and goes when old",
			temps:      map[string]string{"..credentials.json.tmp1!old": leftoverFile(leftAccess, leftRefresh, fileExp.Add(-time.Hour))},
			wantAccess: oldAccess,
		},
		{
			name:       "older pair stays while young",
			temps:      map[string]string{"..credentials.json.tmp1": leftoverFile(leftAccess, leftRefresh, fileExp.Add(-time.Hour))},
			wantAccess: oldAccess,
			wantLeft:   []string{"..credentials.json.tmp1"},
		},
		{
			name: "incomplete temp files are not taken up, and go when old",
			temps: map[string]string{
				"..credentials.json.tmp1!old": "",
				"..credentials.json.tmp2!old": leftoverFile(leftAccess, leftRefresh, newer)[:100],
				"..credentials.json.tmp3!old": `{"claudeAiOauth":{"accessToken":"` + leftAccess + `","expiresAt":` + msStr(newer) + `}}`,
				"..credentials.json.tmp4!old": `{"claudeAiOauth":{"accessToken":"` + leftAccess + `","refreshToken":"` + leftRefresh + `"}}`,
				"..credentials.json.tmp5":     "",
			},
			wantAccess: oldAccess,
			wantLeft:   []string{"..credentials.json.tmp5"},
		},
		{
			name: "files that are not MaxRouter's temp files are left alone",
			temps: map[string]string{
				"..credentials.json.tmp-editor!old": leftoverFile(leftAccess, leftRefresh, newer),
				".credentials.json.tmp1!old":        leftoverFile(leftAccess, leftRefresh, newer),
				".credentials.json.writing!old":     leftoverFile(leftAccess, leftRefresh, newer),
			},
			wantAccess: oldAccess,
			wantLeft:   []string{"..credentials.json.tmp-editor", ".credentials.json.tmp1", ".credentials.json.writing"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			dir, path := credDir(t, nestedFile(oldAccess, oldRefresh, fileExp))
			for name, content := range tt.temps {
				name, old := strings.CutSuffix(name, "!old")
				leftover(t, dir, name, content, old)
			}
			ep := newEndpoint(t, leftRefresh) // the file's refresh token is spent
			logs := &logBuf{}
			s, err := Open(dir, ep.options(clk, logs))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if tt.wantAccess == leftAccess {
				checkFile(t, path, leftAccess, leftRefresh, newer)
				if tok, err := s.Token(t.Context()); err != nil || tok.Access != leftAccess {
					t.Errorf("Token = %q, %v; want %q", tok.Access, err, leftAccess)
				}
				if got := ep.calls.Load(); got != 0 {
					t.Errorf("token endpoint called %d times, want 0", got)
				}
			} else {
				checkFile(t, path, oldAccess, oldRefresh, fileExp)
				if got := s.Info().ExpiresAt; !got.Equal(fileExp) {
					t.Errorf("expiry = %v, want the file's %v", got, fileExp)
				}
			}
			if got := leftNames(t, dir); !slices.Equal(got, tt.wantLeft) {
				t.Errorf("files left besides the credential file: %v, want %v", got, tt.wantLeft)
			}
			logs.checkNoSecrets(t)
		})
	}
}

// leftNames lists the files in dir other than .credentials.json, sorted.
func leftNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Name() != ".credentials.json" {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out
}

// TestRefreshTakesUpLeftoverPair: another MaxRouter process was killed
// during its write-back while this one ran. The file holds the spent
// refresh token; the next refresh must use the pair in the temp file,
// not send the spent token (which would end in "needs a new login").
func TestRefreshTakesUpLeftoverPair(t *testing.T) {
	clk := newClock()
	dir, path := credDir(t, nestedFile(oldAccess, oldRefresh, clk.Now().Add(time.Hour)))
	ep := newEndpoint(t, "sk-ant-ort01-test-other")
	s, err := Open(dir, ep.options(clk, &logBuf{}))
	if err != nil {
		t.Fatal(err)
	}
	// The other process spent oldRefresh and was killed before its rename.
	otherExp := clk.Now().Add(lifetime)
	leftover(t, dir, "..credentials.json.tmp77", leftoverFile("sk-ant-oat01-test-other", "sk-ant-ort01-test-other", otherExp), false)

	clk.Add(time.Hour - time.Minute) // the token is due
	tok, err := s.Token(t.Context())
	if err != nil || tok.Access != "sk-ant-oat01-test-other" {
		t.Fatalf("Token = %q, %v; want the pair the killed process left", tok.Access, err)
	}
	if got := ep.calls.Load(); got != 0 {
		t.Errorf("token endpoint called %d times, want 0", got)
	}
	checkFile(t, path, "sk-ant-oat01-test-other", "sk-ant-ort01-test-other", otherExp)
	// And that pair refreshes in turn.
	clk.Add(lifetime)
	if tok, err := s.Token(t.Context()); err != nil || tok.Access != "sk-ant-oat01-test-new1" {
		t.Errorf("next Token = %q, %v; want sk-ant-oat01-test-new1", tok.Access, err)
	}
}

// TestWatchTakesUpLeftoverPair: the watcher reports a temp file a killed
// process left, and Reload takes its pair up.
func TestWatchTakesUpLeftoverPair(t *testing.T) {
	clk := newClock()
	dir, path := credDir(t, nestedFile(oldAccess, oldRefresh, clk.Now().Add(time.Hour)))
	s, err := Open(dir, Options{Now: clk.Now, TokenURL: "http://127.0.0.1:1/token", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	reloaded := make(chan error, 10)
	ready := make(chan struct{})
	go watch(ctx, []string{dir}, func(string) { reloaded <- s.Reload() }, nil, func() { close(ready) })
	<-ready
	<-reloaded // the read every watch starts with

	exp := clk.Now().Add(lifetime)
	leftover(t, dir, "..credentials.json.tmp5", leftoverFile(leftAccess, leftRefresh, exp), false)
	select {
	case err := <-reloaded:
		if err != nil {
			t.Fatalf("Reload: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the watcher did not report the temp file within 10s")
	}
	if tok, err := s.Token(t.Context()); err != nil || tok.Access != leftAccess {
		t.Errorf("Token = %q, %v; want %q", tok.Access, err, leftAccess)
	}
	checkFile(t, path, leftAccess, leftRefresh, exp)
	if _, err := os.Stat(filepath.Join(dir, "..credentials.json.tmp5")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the temp file taken up is still there (%v)", err)
	}
}

// TestLeftoverOfSymlinkedFile: the temp files of a linked credential file
// sit beside the link's target, and the link stays a link.
func TestLeftoverOfSymlinkedFile(t *testing.T) {
	clk := newClock()
	dir, other := t.TempDir(), t.TempDir()
	target := filepath.Join(other, "claude-creds.json")
	if err := os.WriteFile(target, []byte(nestedFile(oldAccess, oldRefresh, clk.Now().Add(-time.Minute))), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, ".credentials.json")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symbolic links: %v", err)
	}
	exp := clk.Now().Add(lifetime)
	leftover(t, other, ".claude-creds.json.tmp9", leftoverFile(leftAccess, leftRefresh, exp), false)

	if _, err := Open(dir, Options{Now: clk.Now, Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("%s is no longer a link (%v)", link, err)
	}
	checkFile(t, target, leftAccess, leftRefresh, exp)
}
