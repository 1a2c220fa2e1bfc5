package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWriteFile(t *testing.T) {
	tests := []struct {
		name     string
		existing os.FileMode // 0 = no file before
		perm     os.FileMode
		wantMode os.FileMode
	}{
		{"new file gets perm", 0, 0o600, 0o600},
		{"existing mode is kept", 0o640, 0o600, 0o640},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "sub", "f.json")
			if tt.existing != 0 {
				if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte("old"), tt.existing); err != nil {
					t.Fatal(err)
				}
				os.Chmod(path, tt.existing)
			}
			if err := WriteFile(path, []byte("new"), tt.perm); err != nil {
				t.Fatalf("WriteFile: %v", err)
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != "new" {
				t.Fatalf("content = %q, %v; want %q", got, err, "new")
			}
			fi, _ := os.Stat(path)
			if fi.Mode().Perm() != tt.wantMode {
				t.Errorf("mode = %v, want %v", fi.Mode().Perm(), tt.wantMode)
			}
			entries, _ := os.ReadDir(filepath.Dir(path))
			if len(entries) != 1 {
				t.Errorf("directory holds %d entries, want only the file (no temp left)", len(entries))
			}
		})
	}
}

func TestWriteFileFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A directory where the temp file should go cannot be written into.
	if os.Getuid() == 0 {
		t.Skip("root can write into read-only directories")
	}
	os.Chmod(dir, 0o500)
	defer os.Chmod(dir, 0o700)
	if err := WriteFile(path, []byte("new"), 0o600); err == nil {
		t.Fatal("WriteFile into read-only dir succeeded, want error")
	}
	got, _ := os.ReadFile(path)
	if string(got) != "old" {
		t.Errorf("content = %q after failed write, want %q", got, "old")
	}
}

// TestWriteFileThroughSymlink checks a link stays a link: the file it
// points to is replaced, in its own directory, and keeps its mode.
func TestWriteFileThroughSymlink(t *testing.T) {
	tests := []struct {
		name string
		// setup makes path (in dir) a link and returns the file written.
		setup func(t *testing.T, dir, path string) (target string)
	}{
		{"relative link", func(t *testing.T, dir, path string) string {
			writeMode(t, filepath.Join(dir, "real.json"), "old", 0o640)
			symlink(t, "real.json", path)
			return filepath.Join(dir, "real.json")
		}},
		{"absolute link to another directory", func(t *testing.T, dir, path string) string {
			target := filepath.Join(t.TempDir(), "elsewhere.json")
			writeMode(t, target, "old", 0o640)
			symlink(t, target, path)
			return target
		}},
		{"chain of links", func(t *testing.T, dir, path string) string {
			other := t.TempDir()
			target := filepath.Join(other, "real.json")
			writeMode(t, target, "old", 0o640)
			symlink(t, "real.json", filepath.Join(other, "middle.json"))
			symlink(t, filepath.Join(other, "middle.json"), path)
			return target
		}},
		{"dangling link", func(t *testing.T, dir, path string) string {
			symlink(t, "missing.json", path)
			return filepath.Join(dir, "missing.json")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f.json")
			target := tt.setup(t, dir, path)
			link, _ := os.Readlink(path)
			wantMode := os.FileMode(0o600)
			if fi, err := os.Stat(target); err == nil {
				wantMode = fi.Mode().Perm()
			}

			if err := WriteFile(path, []byte("new"), 0o600); err != nil {
				t.Fatalf("WriteFile: %v", err)
			}
			if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Fatalf("%s is no longer a symbolic link (%v, %v)", path, fi.Mode(), err)
			}
			if got, _ := os.Readlink(path); got != link {
				t.Errorf("link = %q, want %q kept", got, link)
			}
			if got, err := os.ReadFile(target); err != nil || string(got) != "new" {
				t.Errorf("target content = %q, %v; want %q", got, err, "new")
			}
			if fi, _ := os.Stat(target); fi.Mode().Perm() != wantMode {
				t.Errorf("target mode = %v, want %v", fi.Mode().Perm(), wantMode)
			}
			for _, d := range []string{dir, filepath.Dir(target)} {
				if m, _ := filepath.Glob(filepath.Join(d, ".*.tmp*")); len(m) != 0 {
					t.Errorf("temporary files left: %v", m)
				}
			}
		})
	}
}

func TestTargetLoop(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	symlink(t, "b", a)
	symlink(t, "a", b)
	if err := WriteFile(a, []byte("x"), 0o600); err == nil || !strings.Contains(err.Error(), "too many levels of symbolic links") {
		t.Errorf("WriteFile on a link loop: err = %v, want too many levels of symbolic links", err)
	}
}

func TestTempNames(t *testing.T) {
	// The names Prepare makes are the names isTemp knows, whatever
	// os.CreateTemp puts in place of "*".
	dir := t.TempDir()
	for range 20 {
		f, err := os.CreateTemp(dir, tempPrefix("config.toml")+"*")
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if name := filepath.Base(f.Name()); !isTemp("config.toml", name) {
			t.Fatalf("isTemp(config.toml, %q) = false for a name os.CreateTemp made", name)
		}
	}
	tests := []struct {
		name string
		want bool
	}{
		{".config.toml.tmp123", true},
		{".config.toml.tmp", false},
		{".config.toml.tmp12x", false},
		{"config.toml.tmp123", false},
		{".config.toml.tmp.tmp123", false}, // a temp of "config.toml.tmp"
		{".config.toml", false},
	}
	for _, tt := range tests {
		if got := isTemp("config.toml", tt.name); got != tt.want {
			t.Errorf("isTemp(config.toml, %q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCleanRemovesOnlyAbandonedTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "usage.json")
	writeMode(t, path, "current", 0o600)
	long := time.Now().Add(-time.Hour)
	mk := func(name string, old bool) string {
		t.Helper()
		p := filepath.Join(dir, name)
		writeMode(t, p, "partial", 0o600)
		if old {
			if err := os.Chtimes(p, long, long); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	abandoned := mk(".usage.json.tmp111", true)
	young := mk(".usage.json.tmp222", false)
	otherFile := mk(".tokens.json.tmp333", true)
	notOurs := mk(".usage.json.tmp-editor", true)
	if err := os.Mkdir(filepath.Join(dir, ".usage.json.tmp444"), 0o700); err != nil {
		t.Fatal(err)
	}
	// A write in progress, its temp file made to look old.
	inProgress, err := Prepare(path, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(inProgress.f.Name(), long, long); err != nil {
		t.Fatal(err)
	}

	left, err := Leftovers(path)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(left)
	if want := []string{abandoned, young}; !slices.Equal(left, want) {
		t.Errorf("Leftovers = %v, want %v", left, want)
	}
	n, err := Clean(path)
	if err != nil || n != 1 {
		t.Errorf("Clean = %d, %v; want 1 removed", n, err)
	}
	for _, p := range []string{abandoned} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s not removed (%v)", filepath.Base(p), err)
		}
	}
	for _, p := range []string{young, otherFile, notOurs, inProgress.f.Name(), filepath.Join(dir, ".usage.json.tmp444")} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s removed: %v", filepath.Base(p), err)
		}
	}
	// The write in progress still lands.
	if err := inProgress.Commit([]byte("next")); err != nil {
		t.Fatalf("Commit after Clean: %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "next" {
		t.Errorf("content = %q, want %q", got, "next")
	}
	if err := inProgress.Commit([]byte("again")); err == nil {
		t.Error("second Commit succeeded, want an error")
	}
}

func TestLeftoversOfALink(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	target := filepath.Join(other, "creds.json")
	writeMode(t, target, "x", 0o600)
	link := filepath.Join(dir, ".credentials.json")
	symlink(t, target, link)
	tmp := filepath.Join(other, ".creds.json.tmp1")
	writeMode(t, tmp, "y", 0o600)
	writeMode(t, filepath.Join(dir, "..credentials.json.tmp2"), "z", 0o600) // not where writes go

	left, err := Leftovers(link)
	if err != nil || !slices.Equal(left, []string{tmp}) {
		t.Errorf("Leftovers(link) = %v, %v; want [%s]", left, err, tmp)
	}
}

func TestDiscard(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	p, err := Prepare(path, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	p.Discard()
	p.Discard()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("directory holds %v after Discard, want nothing", entries)
	}
	if err := p.Commit([]byte("x")); err == nil {
		t.Error("Commit after Discard succeeded, want an error")
	}
}

func writeMode(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, old, new string) {
	t.Helper()
	if err := os.Symlink(old, new); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
}
