package token

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxrouter/maxrouter/core/store/storetest"
)

// TestOpenRemovesAbandonedTemps: a write killed before its rename leaves
// .tokens.json.tmp<digits>; Open removes it once it is a few seconds old
// (a younger one may belong to a write under way in another process).
func TestOpenRemovesAbandonedTemps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	check := storetest.LeaveTemps(t, path, `{"version":1,"tok`)
	if _, err := Open(path, nil); err != nil {
		t.Fatal(err)
	}
	check()
}

// TestSymlinkedStoreStaysALink: a tokens.json that is a link keeps being
// one; the file it points to is written.
func TestSymlinkedStoreStaysALink(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	target := filepath.Join(other, "tokens.json")
	path := filepath.Join(dir, "tokens.json")
	if err := os.Symlink(target, path); err != nil {
		t.Skipf("no symbolic links: %v", err)
	}
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := issue(t, s, "a", 0)
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("%s is no longer a link (%v)", path, err)
	}
	s2, err := Open(target, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Check(secret); err != nil {
		t.Errorf("the link's target does not hold the issued token: %v", err)
	}
}
