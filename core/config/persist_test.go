package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxrouter/maxrouter/core/store/storetest"
)

// TestLoadOrCreateRemovesAbandonedTemps: a save killed before its rename
// leaves .config.toml.tmp<digits>; LoadOrCreate removes it once it is a
// few seconds old.
func TestLoadOrCreateRemovesAbandonedTemps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := Save(path, Default()); err != nil {
		t.Fatal(err)
	}
	check := storetest.LeaveTemps(t, path, "listen = ")
	if _, _, err := LoadOrCreate(path, t.TempDir(), hasCreds); err != nil {
		t.Fatal(err)
	}
	check()
}

// TestSaveSymlinked: a config.toml that is a link stays one; Save writes
// the file it points to, with mode 0600.
func TestSaveSymlinked(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	target := filepath.Join(other, "maxrouter.toml")
	if err := Save(target, Default()); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(target, 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.toml")
	if err := os.Symlink(target, path); err != nil {
		t.Skipf("no symbolic links: %v", err)
	}
	c := Default()
	c.Strategy = "priority"
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("%s is no longer a link (%v)", path, err)
	}
	got, err := Load(target)
	if err != nil || got.Strategy != "priority" {
		t.Errorf("the link's target: strategy %q, %v; want priority", got.Strategy, err)
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o600 {
		t.Errorf("target mode = %v, want 0600", fi.Mode().Perm())
	}
}
