package control

import (
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/maxrouter/maxrouter/core/config"
)

func TestLoadOrCreateSecretCreatesAndReuses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // does not exist yet
	first, err := LoadOrCreateSecret(dir)
	if err != nil {
		t.Fatalf("first LoadOrCreateSecret: %v", err)
	}
	if b, err := hex.DecodeString(first); err != nil || len(b) != 32 {
		t.Errorf("secret %d chars, want 32 hex-encoded bytes", len(first))
	}
	path := SecretPath(dir)
	if got, want := path, filepath.Join(dir, "control.secret"); got != want {
		t.Errorf("SecretPath = %q, want %q", got, want)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
			t.Errorf("mode = %04o, want %04o", got, want)
		}
	}
	data, _ := os.ReadFile(path)
	if got := strings.TrimSpace(string(data)); got != first {
		t.Errorf("file holds a different secret than returned")
	}
	second, err := LoadOrCreateSecret(dir)
	if err != nil {
		t.Fatalf("second LoadOrCreateSecret: %v", err)
	}
	if second != first {
		t.Errorf("second call returned another secret")
	}
	other, err := LoadOrCreateSecret(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if other == first {
		t.Errorf("two data dirs got the same secret")
	}
}

func TestLoadOrCreateSecretRefuses(t *testing.T) {
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    string // in the error
		unix    bool   // only where mode bits mean something
	}{
		{"group readable", "abc\n", 0o640, "chmod 600", true},
		{"world readable", "abc\n", 0o604, "chmod 600", true},
		{"group writable", "abc\n", 0o620, "chmod 600", true},
		{"empty", " \n", 0o600, "is empty", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.unix && runtime.GOOS == "windows" {
				t.Skip("mode bits do not describe access on windows")
			}
			dir := t.TempDir()
			path := SecretPath(dir)
			if err := os.WriteFile(path, []byte(tt.content), tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil { // umask
				t.Fatal(err)
			}
			_, err := LoadOrCreateSecret(dir)
			if err == nil {
				t.Fatal("LoadOrCreateSecret succeeded, want an error")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %s and say %q", err, path, tt.want)
			}
			data, _ := os.ReadFile(path)
			if string(data) != tt.content {
				t.Errorf("secret file was changed to %q", data)
			}
		})
	}
}

func TestLoadOrCreateSecretKeepsGivenSecret(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(SecretPath(dir), []byte("given-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := LoadOrCreateSecret(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := "given-secret"; got != want {
		t.Errorf("secret = %q, want %q", got, want)
	}
}

func TestClientFor(t *testing.T) {
	tests := []struct {
		listen   string
		wantBase string
		wantHost string
	}{
		{"127.0.0.1:8787", "http://127.0.0.1:8787", ""},
		{"0.0.0.0:9000", "http://127.0.0.1:9000", ""},
		{"[::]:8787", "http://127.0.0.1:8787", ""},
		{":8787", "http://127.0.0.1:8787", ""},
		{"localhost:8787", "http://localhost:8787", ""},
		{"[::1]:8787", "http://[::1]:8787", ""},
		{"192.168.1.5:8787", "http://192.168.1.5:8787", "localhost:8787"},
	}
	for _, tt := range tests {
		t.Run(tt.listen, func(t *testing.T) {
			cfgDir := t.TempDir()
			secret, err := LoadOrCreateSecret(cfgDir)
			if err != nil {
				t.Fatal(err)
			}
			cfg := config.Default()
			cfg.Listen = tt.listen
			c, err := ClientFor(cfg, filepath.Join(cfgDir, "config.toml"))
			if err != nil {
				t.Fatalf("ClientFor: %v", err)
			}
			if got := c.BaseURL(); got != tt.wantBase {
				t.Errorf("BaseURL = %q, want %q", got, tt.wantBase)
			}
			if c.host != tt.wantHost {
				t.Errorf("Host header = %q, want %q", c.host, tt.wantHost)
			}
			if c.secret != secret {
				t.Errorf("client secret is not the data dir's secret")
			}
		})
	}
}

func TestClientForDataDir(t *testing.T) {
	cfgDir, dataDir := t.TempDir(), t.TempDir()
	secret, err := LoadOrCreateSecret(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DataDir = dataDir
	c, err := ClientFor(cfg, filepath.Join(cfgDir, "config.toml"))
	if err != nil {
		t.Fatalf("ClientFor: %v", err)
	}
	if c.secret != secret {
		t.Errorf("client secret is not data_dir's secret")
	}
}

func TestClientForErrors(t *testing.T) {
	t.Run("no secret yet", func(t *testing.T) {
		dir := t.TempDir()
		_, err := ClientFor(config.Default(), filepath.Join(dir, "config.toml"))
		if !errors.Is(err, ErrUnreachable) {
			t.Fatalf("err = %v, want ErrUnreachable", err)
		}
		if !strings.Contains(err.Error(), "has not run yet") || !strings.Contains(err.Error(), SecretPath(dir)) {
			t.Errorf("error %q does not say the daemon has not run and name the file", err)
		}
	})
	t.Run("bad listen", func(t *testing.T) {
		cfg := config.Default()
		cfg.Listen = "no-port"
		_, err := ClientFor(cfg, filepath.Join(t.TempDir(), "config.toml"))
		if err == nil || !strings.Contains(err.Error(), "no-port") {
			t.Errorf("err = %v, want an error naming the listen value", err)
		}
	})
}
