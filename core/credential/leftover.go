package credential

import (
	"fmt"
	"io"
	"os"

	"github.com/maxrouter/maxrouter/core/store"
)

// maxLeftover bounds what is read of a temp file: a credential file is a
// few kilobytes.
const maxLeftover = 1 << 20

// recoverLeftovers takes up what MaxRouter's interrupted write-backs of
// cf's file left: the temp files (store.Leftovers) beside it. A MaxRouter
// process killed after the token endpoint answered but before its rename
// leaves the live pair in such a file while the credential file holds the
// spent one. The newest complete pair (access token, refresh token and
// expiry) that expires later than the file's is written into the file,
// keeping every other key of the file as it is now, and returned as the
// file's new content; nil means the file is unchanged. The other temp
// files are removed once no write holds them and they are a few seconds
// old.
//
// The caller holds the directory's lock (flock), as refreshes do, so no
// MaxRouter process is writing the file meanwhile. When the recovered
// pair cannot be written, its temp file is kept for the next try.
func (s *Source) recoverLeftovers(cf *credFile) *credFile {
	left, err := store.Leftovers(cf.path)
	if err != nil {
		s.log.Warn("cannot look for the temp files of interrupted writes", "err", err)
		return nil
	}
	var best *credFile
	for _, p := range left {
		c, err := readLeftover(p)
		if err != nil || c.access == "" || c.refresh == "" || c.expiresAt.IsZero() {
			continue // incomplete: a write killed before it wrote
		}
		than := cf
		if best != nil {
			than = best
		}
		if c.expiresAt.After(than.expiresAt) {
			best = c
		}
	}
	var next *credFile
	if best != nil {
		next = s.putInPlace(cf, best)
	}
	if n, err := store.Clean(cf.path); err != nil {
		s.log.Warn("cannot remove the temp files of interrupted writes", "err", err)
	} else if n > 0 {
		s.log.Info("removed the temp files of interrupted writes", "path", cf.path, "count", n)
	}
	return next
}

// putInPlace writes the pair of the temp file tmp into cf's file, removes
// tmp and returns the file as now written, or nil when it cannot.
func (s *Source) putInPlace(cf, tmp *credFile) *credFile {
	out, err := rewrite(cf.raw, tmp.access, tmp.refresh, tmp.expiresAt)
	if err == nil {
		err = s.write(cf.path, out)
	}
	if err != nil {
		s.log.Error("cannot put in place the token pair an interrupted write-back left", "path", cf.path, "temp", tmp.path, "err", err)
		return nil
	}
	if err := os.Remove(tmp.path); err != nil {
		s.log.Warn("cannot remove a temp file taken up", "temp", tmp.path, "err", err)
	}
	next, err := parseFile(cf.path, out)
	if err != nil {
		return nil // rewrite's output parses; unreachable
	}
	s.log.Info("took up the token pair an interrupted write-back left", "path", cf.path, "temp", tmp.path, "expires_at", next.expiresAt)
	return next
}

// readLeftover parses a temp file as a credential file.
func readLeftover(path string) (*credFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxLeftover+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxLeftover {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxLeftover)
	}
	return parseFile(path, data)
}
