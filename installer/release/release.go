// Package release holds what every installer shares: the app's metadata from
// FyneApp.toml (the one place its version is kept), the Go build of the
// maxrouter binary, and icon scaling.
package release

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// MetaFile is the fyne metadata file at the repository root.
const MetaFile = "FyneApp.toml"

// Meta is the app's metadata, read from FyneApp.toml.
type Meta struct {
	Details struct {
		Icon    string // icon path relative to the repository root
		Name    string // display name: "MaxRouter"
		ID      string // reverse-DNS app ID: "io.maxrouter.app"
		Version string // release version: "0.1.0"
		Build   int    // build number (fyne's)
	}
	LinuxAndBSD struct {
		GenericName string
		Categories  []string
		Comment     string
		Keywords    []string
	}
	// Root is the repository root the file was read from.
	Root string `toml:"-"`
}

// ReadMeta reads root/FyneApp.toml and checks the keys the installers need.
func ReadMeta(root string) (Meta, error) {
	path := filepath.Join(root, MetaFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return Meta{}, fmt.Errorf("reading app metadata: %w", err)
	}
	var m Meta
	if err := toml.Unmarshal(data, &m); err != nil {
		return Meta{}, fmt.Errorf("parsing %s: %w", path, err)
	}
	var missing []string
	for key, v := range map[string]string{
		"Details.Name": m.Details.Name, "Details.ID": m.Details.ID,
		"Details.Version": m.Details.Version, "Details.Icon": m.Details.Icon,
	} {
		if v == "" {
			missing = append(missing, key)
		}
	}
	if len(missing) > 0 {
		return Meta{}, fmt.Errorf("%s: missing %s", path, strings.Join(missing, ", "))
	}
	if !validVersion(m.Details.Version) {
		return Meta{}, fmt.Errorf("%s: version %q is not MAJOR.MINOR.PATCH", path, m.Details.Version)
	}
	m.Root = root
	return m, nil
}

// validVersion accepts MAJOR.MINOR.PATCH with decimal numbers, the form
// every package format and Windows' four-part file version can carry.
func validVersion(v string) bool {
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" || len(p) > 5 {
			return false
		}
	}
	return true
}

// IconPath is the app icon's absolute path.
func (m Meta) IconPath() string { return filepath.Join(m.Root, filepath.FromSlash(m.Details.Icon)) }

// FindRoot returns the nearest directory at or above dir holding
// FyneApp.toml and go.mod: the repository root.
func FindRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if isFile(filepath.Join(d, MetaFile)) && isFile(filepath.Join(d, "go.mod")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("no " + MetaFile + " found at or above " + dir)
		}
	}
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// SourceDate is the time stamped on packaged files: $SOURCE_DATE_EPOCH when
// set (reproducible builds), else the last commit's time, else now.
func SourceDate(root string) time.Time {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(n, 0).UTC()
		}
	}
	cmd := exec.Command("git", "log", "-1", "--format=%ct")
	cmd.Dir = root
	if out, err := cmd.Output(); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil {
			return time.Unix(n, 0).UTC()
		}
	}
	return time.Now().UTC().Truncate(time.Second)
}
