package token

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// settle is how long Watch waits after the last change to the file before
// it reads it, so that one atomic rewrite (create, write, rename) is one
// reload.
const settle = 50 * time.Millisecond

// Watch reloads the store whenever its file changes on disk, until ctx
// ends. The tokens CLI writes the file itself when it cannot reach the
// daemon (a daemon on another address, or one it could not authenticate
// to); with Watch a token issued or revoked that way takes effect at once
// instead of at the next restart. A file that cannot be read leaves the
// store as it was (see Reload), and the failure is logged.
func (s *Store) Watch(ctx context.Context, log *slog.Logger) error {
	return s.watch(ctx, log, nil)
}

// watch is Watch with a hook called once the directory is watched.
func (s *Store) watch(ctx context.Context, log *slog.Logger, ready func()) error {
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "token")
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching %s: %w", s.path, err)
	}
	defer w.Close()
	// The directory, not the file: an atomic write replaces the file, and
	// a watch on the old one would see nothing after the first rename.
	dir, name := filepath.Split(s.path)
	if err := w.Add(filepath.Clean(dir)); err != nil {
		return fmt.Errorf("watching %s: %w", s.path, err)
	}
	if ready != nil {
		ready()
	}
	timer := time.NewTimer(0) // read once now: the file may have changed since Open

	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if filepath.Base(ev.Name) == name && ev.Op&^fsnotify.Chmod != 0 {
				timer.Reset(settle)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			log.Warn("watching the client token file", "path", s.path, "err", err)
		case <-timer.C:
			if err := s.Reload(); err != nil {
				log.Warn("the client token file changed but cannot be read; keeping the tokens loaded before", "err", err)
				continue
			}
			log.Debug("client tokens reloaded", "path", s.path, "tokens", len(s.snap.Load().entries))
		}
	}
}
