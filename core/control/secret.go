package control

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/maxrouter/maxrouter/core/store"
)

// secretFile is the control secret's file name inside the data directory.
const secretFile = "control.secret"

// SecretPath returns where the control secret lives: <dataDir>/control.secret.
func SecretPath(dataDir string) string {
	return filepath.Join(dataDir, secretFile)
}

// LoadOrCreateSecret returns the control secret kept in
// SecretPath(dataDir). On first use it creates the file (and dataDir) with
// 32 random bytes, hex encoded, written atomically with mode 0600; later
// calls return the same secret. A secret file that other users may read or
// write is an error naming the file, as is an empty one.
func LoadOrCreateSecret(dataDir string) (string, error) {
	path := SecretPath(dataDir)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		fi, err := os.Stat(path)
		if err != nil {
			return "", fmt.Errorf("reading control secret: %w", err)
		}
		if err := checkSecretPerm(path, fi.Mode()); err != nil {
			return "", err
		}
		secret := strings.TrimSpace(string(data))
		if secret == "" {
			return "", fmt.Errorf("control secret file %s is empty: delete it and a new one is made", path)
		}
		return secret, nil
	case errors.Is(err, fs.ErrNotExist):
		b := make([]byte, 32)
		rand.Read(b) // never fails (crypto/rand panics instead)
		secret := hex.EncodeToString(b)
		if err := store.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
			return "", fmt.Errorf("creating control secret: %w", err)
		}
		return secret, nil
	default:
		return "", fmt.Errorf("reading control secret: %w", err)
	}
}

// readSecret reads an existing secret file for a client.
func readSecret(path string) (string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w: the daemon has not run yet (no %s)", ErrUnreachable, path)
	}
	if err != nil {
		return "", fmt.Errorf("reading control secret: %w", err)
	}
	secret := strings.TrimSpace(string(data))
	if secret == "" {
		return "", fmt.Errorf("control secret file %s is empty", path)
	}
	return secret, nil
}
