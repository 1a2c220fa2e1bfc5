//go:build !windows

package control

import (
	"fmt"
	"io/fs"
)

// checkSecretPerm refuses a secret file that group or others may access.
func checkSecretPerm(path string, mode fs.FileMode) error {
	if mode.Perm()&0o077 != 0 {
		return fmt.Errorf("control secret file %s has mode %04o, other users can access it: run chmod 600 on it", path, mode.Perm())
	}
	return nil
}
