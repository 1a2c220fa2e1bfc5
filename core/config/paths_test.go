package config

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestExpandHome(t *testing.T) {
	home := filepath.Join(string(filepath.Separator)+"home", "u")
	tests := []struct {
		p, home, want string
	}{
		{"~", home, home},
		{"~/", home, home},
		{"~/.claude", home, filepath.Join(home, ".claude")},
		{"~/.config/claude-team", home, filepath.Join(home, ".config", "claude-team")},
		{"~user/x", home, "~user/x"},
		{"/abs/~/x", home, "/abs/~/x"},
		{"rel", home, "rel"},
		{"", home, ""},
		{"~/x", "", "~/x"},
	}
	for _, tt := range tests {
		if got := ExpandHome(tt.p, tt.home); got != tt.want {
			t.Errorf("ExpandHome(%q, %q) = %q, want %q", tt.p, tt.home, got, tt.want)
		}
	}
}

func TestDataDirFor(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skipf("no home: %v", err)
	}
	cfgDir := t.TempDir()
	cfg := filepath.Join(cfgDir, "config.toml")
	abs := filepath.Join(t.TempDir(), "state")
	tests := []struct {
		dataDir, want string
	}{
		{"", cfgDir},
		{abs, abs},
		{"~/state", filepath.Join(home, "state")},
		{"state", filepath.Join(cfgDir, "state")},
	}
	for _, tt := range tests {
		c := Default()
		c.DataDir = tt.dataDir
		if got := c.DataDirFor(cfg); got != tt.want {
			t.Errorf("DataDirFor with data_dir %q = %q, want %q", tt.dataDir, got, tt.want)
		}
	}
}

func TestAccount(t *testing.T) {
	c := fullConfig()
	if got, ok := c.Account("ci"); !ok || got.Token != "sk-ant-oat01-test-ci" {
		t.Errorf("Account(ci) = %+v, %v; want the ci account", got, ok)
	}
	if got, ok := c.Account("nope"); ok {
		t.Errorf("Account(nope) = %+v, true; want false", got)
	}
}

// mkdirs creates each directory under root; names ending in "+" also get a
// .credentials.json file.
func mkdirs(t *testing.T, root string, names ...string) {
	t.Helper()
	for _, n := range names {
		creds := n[len(n)-1] == '+'
		if creds {
			n = n[:len(n)-1]
		}
		dir := filepath.Join(root, filepath.FromSlash(n))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if creds {
			if err := os.WriteFile(filepath.Join(dir, ".credentials.json"), []byte("{}"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func hasCreds(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ".credentials.json"))
	return err == nil
}

func TestDiscover(t *testing.T) {
	home := t.TempDir()
	mkdirs(t, home,
		".claude+",
		".claude-work+",
		".claude-old",  // no credentials
		".claude-a b+", // name needs cleaning
		".config/claude+",
		".config/claude-team+",
		".config/claude-work+", // name taken by ~/.claude-work
		".config/other+",       // not a claude dir
		".config/nvim+",
	)
	// A file with a matching name is not a directory.
	if err := os.WriteFile(filepath.Join(home, ".claude-notes"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	want := []Account{
		{Name: "default", Dir: "~/.claude"},
		{Name: "a-b", Dir: "~/.claude-a b"},
		{Name: "work", Dir: "~/.claude-work"},
		{Name: "config-claude", Dir: "~/.config/claude"},
		{Name: "team", Dir: "~/.config/claude-team"},
		{Name: "work-2", Dir: "~/.config/claude-work"},
	}
	if runtime.GOOS != "windows" {
		// A link to a directory already found is not a second account.
		if err := os.Symlink(filepath.Join(home, ".claude-work"), filepath.Join(home, ".claude-z-link")); err != nil {
			t.Fatal(err)
		}
	}
	got := Discover(home, hasCreds)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Discover =\n%+v\nwant\n%+v", got, want)
	}
	c := Default()
	c.Accounts = got
	if err := c.Validate(); err != nil {
		t.Errorf("discovered accounts do not validate: %v", err)
	}
}

func TestDiscoverNothing(t *testing.T) {
	home := t.TempDir()
	if got := Discover(home, hasCreds); got != nil {
		t.Errorf("Discover(empty home) = %+v, want nil", got)
	}
	mkdirs(t, home, ".claude", ".claude-x")
	if got := Discover(home, hasCreds); got != nil {
		t.Errorf("Discover(no credentials) = %+v, want nil", got)
	}
	want := []Account{{Name: "default", Dir: "~/.claude"}, {Name: "x", Dir: "~/.claude-x"}}
	if got := Discover(home, nil); !reflect.DeepEqual(got, want) {
		t.Errorf("Discover(nil callback) = %+v, want %+v", got, want)
	}
}

func TestUniqueName(t *testing.T) {
	taken := map[string]bool{}
	long := strings.Repeat("a", maxNameLen)
	var got []string
	for _, n := range []string{"work", "work", "work", long, long} {
		got = append(got, uniqueName(n, taken))
	}
	want := []string{"work", "work-2", "work-3", long, long[:62] + "-2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("uniqueName sequence = %q, want %q", got, want)
	}
}
