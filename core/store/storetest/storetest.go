// Package storetest helps the tests of packages that keep their files
// with core/store.
package storetest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// LeaveTemps leaves beside path what writes killed before their rename
// leave: a temp file (".<name>.tmp<digits>") holding partial, an hour old,
// and one just written, which may belong to a write under way in another
// process. The returned check fails t unless the old one is gone and the
// young one is still there: call it once the store was opened.
func LeaveTemps(t testing.TB, path, partial string) (check func()) {
	t.Helper()
	dir, name := filepath.Split(path)
	abandoned := filepath.Join(dir, "."+name+".tmp1234")
	young := filepath.Join(dir, "."+name+".tmp5678")
	for _, p := range []string{abandoned, young} {
		if err := os.WriteFile(p, []byte(partial), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-time.Hour)
	if err := os.Chtimes(abandoned, long, long); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if _, err := os.Stat(abandoned); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("abandoned temp file %s still there (%v)", filepath.Base(abandoned), err)
		}
		if _, err := os.Stat(young); err != nil {
			t.Errorf("young temp file removed: %v", err)
		}
	}
}
