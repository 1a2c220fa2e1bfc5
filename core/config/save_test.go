package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		c    Config
	}{
		{"default", Default()},
		{"full", fullConfig()},
		{"awkward strings", func() Config {
			c := Default()
			c.DataDir = `~/it's "quoted" \ back`
			c.Accounts = []Account{{Name: "a", Dir: "/tmp/dir with 'quote' and # hash"}, {Name: "b", Dir: "~/x", Enabled: boolPtr(true)}}
			return c
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sub", "config.toml")
			if err := Save(path, tt.c); err != nil {
				t.Fatalf("Save: %v", err)
			}
			got, err := Load(path)
			if err != nil {
				data, _ := os.ReadFile(path)
				t.Fatalf("Load: %v\nfile:\n%s", err, data)
			}
			if !reflect.DeepEqual(got, tt.c) {
				t.Errorf("Load(Save(c)) = %+v, want %+v", got, tt.c)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := fi.Mode().Perm(), os.FileMode(0o600); runtime.GOOS != "windows" && got != want {
				t.Errorf("mode = %v, want %v", got, want)
			}
		})
	}
}

func TestSaveContent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := Save(path, fullConfig()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# MaxRouter configuration. Edited by the daemon; see README",
		"\nlisten = '127.0.0.1:9999'",
		"# how each request picks an account: round-robin | priority | least-used | headroom\nstrategy = 'headroom'\n",
		"\n[notifications]\n",
		"\n[[account]]\nname = 'work'\ndir = '~/.claude-work'\n",
		"\n[[account]]\nname = 'ci'\ntoken = 'sk-ant-oat01-test-ci'\nenabled = false\n",
	} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("saved file lacks %q:\n%s", want, data)
		}
	}
}

func TestSaveDefaultsWritten(t *testing.T) {
	// An empty account list must leave room for the user to add [[account]].
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := Save(path, Default()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"listen", "upstream", "token_url", "strategy", "cooldown", "notify", "data_dir",
		"session_affinity", "max_body_mb", "refresh_before", "response_timeout", "stream_idle_timeout", "needs_login",
		"authorize_url", "quota_poll", "extra_usage"} {
		if !bytes.Contains(data, []byte("\n"+key+" = ")) {
			t.Errorf("saved default file lacks key %q:\n%s", key, data)
		}
	}
	data = append(data, "[[account]]\nname = \"added\"\ndir = \"~/.claude\"\n"...)
	c, err := Parse(data, path)
	if err != nil {
		t.Fatalf("adding an account to a saved default file: %v\n%s", err, data)
	}
	if len(c.Accounts) != 1 || c.Accounts[0].Name != "added" {
		t.Errorf("Accounts = %+v, want the added one", c.Accounts)
	}
}

func TestSaveNarrowsMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte("notify = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	if err := Save(path, fullConfig()); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
		t.Errorf("mode = %v, want %v", got, want)
	}
}

func TestSaveInvalid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	c := Default()
	c.Strategy = "nope"
	err := Save(path, c)
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.File != path {
		t.Fatalf("Save(invalid) = %v, want a *ValidationError for %s", err, path)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("Save(invalid) wrote the file (stat: %v)", err)
	}
}

func TestLoadOrCreate(t *testing.T) {
	home := t.TempDir()
	mkdirs(t, home, ".claude+", ".claude-work+")
	path := filepath.Join(t.TempDir(), "maxrouter", "config.toml")

	c, created, err := LoadOrCreate(path, home, hasCreds)
	if err != nil || !created {
		t.Fatalf("first LoadOrCreate = %v, %v; want created", created, err)
	}
	want := Default()
	want.Accounts = []Account{{Name: "default", Dir: "~/.claude"}, {Name: "work", Dir: "~/.claude-work"}}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("created config = %+v, want %+v", c, want)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), home) {
		t.Errorf("created file holds the absolute home %q:\n%s", home, data)
	}

	// The user edits the file; later calls load it and never rewrite it.
	edited := strings.Replace(string(data), "strategy = 'round-robin'", "strategy = 'priority'", 1)
	if edited == string(data) {
		t.Fatalf("saved file has no strategy line to edit:\n%s", data)
	}
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	mkdirs(t, home, ".claude-new+")
	c, created, err = LoadOrCreate(path, home, hasCreds)
	if err != nil || created {
		t.Fatalf("second LoadOrCreate = %v, %v; want loaded", created, err)
	}
	want.Strategy = "priority"
	if !reflect.DeepEqual(c, want) {
		t.Errorf("loaded config = %+v, want %+v", c, want)
	}

	broken := "stratgy = 'priority'\n"
	if err := os.WriteFile(path, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	_, created, err = LoadOrCreate(path, home, hasCreds)
	if err == nil || created || !strings.Contains(err.Error(), `unknown key "stratgy"`) {
		t.Errorf("LoadOrCreate(broken) = %v, %v; want the parse error", created, err)
	}
	if got, _ := os.ReadFile(path); string(got) != broken {
		t.Errorf("LoadOrCreate rewrote a broken file:\n%s", got)
	}
}
