package usage_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"time"

	"github.com/maxrouter/maxrouter/core/store/storetest"

	"github.com/maxrouter/maxrouter/core/usage"
)

// TestOpenRemovesAbandonedTemps: a flush killed before its rename leaves
// .usage.json.tmp<digits>; Open removes it once it is a few seconds old.
func TestOpenRemovesAbandonedTemps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usage.json")
	check := storetest.LeaveTemps(t, path, `{"version":1,"hours":[`)
	if _, err := usage.Open(path, nil); err != nil {
		t.Fatal(err)
	}
	check()
}

// TestReplaceSymlinked: a corrupt usage.json that is a link: the file it
// points to is moved aside, the new history written where the link points,
// and the link kept.
func TestReplaceSymlinked(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	target := filepath.Join(other, "history.json")
	corrupt := []byte("{\"version\":1,\"hours\":[ garbage")
	if err := os.WriteFile(target, corrupt, 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "usage.json")
	if err := os.Symlink(target, path); err != nil {
		t.Skipf("no symbolic links: %v", err)
	}
	clk := &clock{t: time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)}
	r := usage.Replace(path, clk.now)
	r.Answered("a", 200, -1, -1)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("%s is no longer a link (%v)", path, err)
	}
	aside := target + ".corrupt-20261126T093000Z"
	if got, err := os.ReadFile(aside); err != nil || !bytes.Equal(got, corrupt) {
		t.Errorf("%s = %q, %v; want the corrupt content", aside, got, err)
	}
	if _, err := usage.Open(target, clk.now); err != nil {
		t.Errorf("the link's target does not hold a readable history: %v", err)
	}
}
