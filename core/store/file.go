// Package store holds the small persistence primitives the daemon shares:
// atomic file replacement, JSON files written with it, and the cleanup of
// what an interrupted replacement leaves behind.
//
// A replacement writes a temporary file named .<base>.tmp<digits> beside the
// file it replaces (beside the link's target when the file is a symbolic
// link, so the link stays a link), fsyncs it, renames it over the file and
// fsyncs the directory. While it is being written the temporary file is
// locked (flock(2), where the system has it), so that Leftovers and Clean in
// any process can tell a write in progress from one a killed process left.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/maxrouter/maxrouter/core/internal/flock"
)

// minAge is how long after its last change an unlocked temporary file is
// left alone by Clean. A writer locks its temporary file right after
// creating it, and on systems without flock(2) nothing is locked at all:
// the age keeps Clean away from writes that are merely under way.
const minAge = 10 * time.Second

// maxLinks bounds a chain of symbolic links, as the kernel does.
const maxLinks = 40

// Target returns the file that writing path replaces: path itself, or,
// when path is a symbolic link, the file the link points to (following
// links in a chain; the file need not exist). Relative links are resolved
// against the link's directory.
func Target(path string) (string, error) {
	for range maxLinks {
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) || err == nil && fi.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		if err != nil {
			return "", err
		}
		link, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(path), link)
		}
		path = link
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", path)
}

// Pending is a replacement of a file in preparation: its temporary file
// exists and is locked, and Commit finishes it once the content is known.
type Pending struct {
	path   string // as given, for messages
	target string
	f      *os.File
	done   bool
}

// Prepare starts replacing path (its Target when it is a symbolic link):
// it creates the temporary file in the target's directory, gives it the
// target's mode when the target exists and perm otherwise, and locks it.
// The directory is created (0700) when missing. The caller must Commit or
// Discard the Pending. Preparing before the content is known makes Commit
// the least work there is between having the content and having it on disk.
func Prepare(path string, perm fs.FileMode) (*Pending, error) {
	target, err := Target(path)
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	if fi, err := os.Stat(target); err == nil {
		perm = fi.Mode().Perm()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, tempPrefix(filepath.Base(target))+"*")
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	p := &Pending{path: path, target: target, f: f}
	if err := flock.TryLockFile(f); err != nil {
		p.Discard()
		return nil, fmt.Errorf("writing %s: locking %s: %w", path, f.Name(), err)
	}
	if err := f.Chmod(perm); err != nil {
		p.Discard()
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return p, nil
}

// Commit writes data to the temporary file, fsyncs it, renames it over the
// target and fsyncs the directory. A reader sees either the old content or
// the new one, never a mix. On error the temporary file is removed and the
// target is left as it was. The Pending is spent afterwards.
func (p *Pending) Commit(data []byte) error {
	if p.done {
		return fmt.Errorf("writing %s: already committed or discarded", p.path)
	}
	ok := false
	defer func() {
		if !ok {
			p.Discard()
		}
	}()
	if _, err := p.f.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", p.path, err)
	}
	if err := p.f.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", p.path, err)
	}
	if !renameOpen {
		if err := p.f.Close(); err != nil {
			return fmt.Errorf("writing %s: %w", p.path, err)
		}
	}
	if err := os.Rename(p.f.Name(), p.target); err != nil {
		return fmt.Errorf("writing %s: %w", p.path, err)
	}
	ok, p.done = true, true
	p.f.Close() // releases the lock now the file has its final name
	syncDir(filepath.Dir(p.target))
	return nil
}

// Discard removes the temporary file of a Pending that was not committed.
// It does nothing after Commit or a first Discard.
func (p *Pending) Discard() {
	if p.done {
		return
	}
	p.done = true
	os.Remove(p.f.Name()) // before Close: unlocked, it could pass for abandoned
	p.f.Close()
}

// WriteFile replaces path with data atomically: Prepare, then Commit. If
// path is a symbolic link, the file it points to is replaced and the link
// kept. If the file exists its mode is kept; otherwise perm is used.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	p, err := Prepare(path, perm)
	if err != nil {
		return err
	}
	return p.Commit(data)
}

// syncDir makes a rename durable. It is best effort: some platforms and
// file systems cannot fsync a directory, and the rename has happened anyway.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

// WriteJSON writes v as indented JSON to path with WriteFile.
func WriteJSON(path string, v any, perm fs.FileMode) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	return WriteFile(path, append(data, '\n'), perm)
}

// tempPrefix is the name of base's temporary files up to the random part.
func tempPrefix(base string) string { return "." + base + ".tmp" }

// isTemp reports whether name is a temporary file of base: tempPrefix(base)
// followed by the digits os.CreateTemp puts in place of its "*".
func isTemp(base, name string) bool {
	rest, ok := strings.CutPrefix(name, tempPrefix(base))
	if !ok || rest == "" {
		return false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Leftovers returns the temporary files that interrupted replacements of
// path (of its Target) left: regular files named as Prepare names them, in
// the target's directory, that no write in progress holds locked, in no
// particular order. A missing directory has none. On systems without
// flock(2) a write in progress cannot be told apart: look at the age.
func Leftovers(path string) ([]string, error) {
	target, err := Target(path)
	if err != nil {
		return nil, fmt.Errorf("looking for temporary files of %s: %w", path, err)
	}
	dir, base := filepath.Dir(target), filepath.Base(target)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("looking for temporary files of %s: %w", path, err)
	}
	var out []string
	for _, e := range entries {
		if !e.Type().IsRegular() || !isTemp(base, e.Name()) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if locked(p) {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// locked reports whether a write in progress holds the temporary file p
// (a file that is gone counts as held: it is not ours to look at).
func locked(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return true
	}
	defer f.Close() // releases the lock taken to test it
	return flock.TryLockFile(f) != nil
}

// Clean removes the Leftovers of path that have not changed for a short
// while (10s), and reports how many it removed. Call it where a file's
// replacements start (when a store is opened) to drop what killed
// processes left; younger ones stay for a later Clean.
func Clean(path string) (int, error) {
	left, err := Leftovers(path)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, p := range left {
		fi, err := os.Lstat(p)
		if err != nil || time.Since(fi.ModTime()) < minAge {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		n++
	}
	if len(errs) > 0 {
		return n, fmt.Errorf("removing temporary files of %s: %w", path, errors.Join(errs...))
	}
	return n, nil
}
