package credential

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// debounce is how long Watch waits after the last change in a directory
// before reporting it: one rewrite is several events.
const debounce = 100 * time.Millisecond

// Watch reports changes of credential files in dirs: onChange(dir) is called
// (from Watch's goroutine, one call at a time) about 100ms after the last
// change of a credential file in dir, or write to a temp file of
// MaxRouter's write-back (one a killed process left may hold the live pair:
// Reload takes it up), with dir as given. Directories are watched rather
// than files because Claude Code replaces its file by renaming a new one
// over it. Once the directories are watched, onChange is called once for
// each of them, so that a change made while Watch was starting is not
// missed. A directory that does not exist is logged and
// skipped (it is not picked up if it appears later). Watch returns nil when
// ctx is done, or an error when it cannot watch at all.
func Watch(ctx context.Context, dirs []string, onChange func(dir string), log *slog.Logger) error {
	return watch(ctx, dirs, onChange, log, nil)
}

// watch is Watch with a hook called once the directories are watched.
func watch(ctx context.Context, dirs []string, onChange func(dir string), log *slog.Logger, ready func()) error {
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "credential")
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching credential dirs: %w", err)
	}
	defer w.Close()

	given := make(map[string]string, len(dirs)) // cleaned path -> dir as given
	for _, d := range dirs {
		clean := filepath.Clean(d)
		if err := w.Add(clean); err != nil {
			log.Warn("not watching credential dir", "dir", d, "err", err)
			continue
		}
		given[clean] = d
	}
	// A change made before the watches were in place raised no event.
	for _, d := range dirs {
		if _, ok := given[filepath.Clean(d)]; ok && ctx.Err() == nil {
			onChange(d)
		}
	}
	if ready != nil {
		ready()
	}

	pending := make(map[string]time.Time) // dir -> when to report it
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	arm := func() {
		var next time.Time
		for _, at := range pending {
			if next.IsZero() || at.Before(next) {
				next = at
			}
		}
		if !next.IsZero() {
			timer.Reset(time.Until(next))
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if !reported(ev) {
				continue
			}
			d, ok := given[filepath.Dir(ev.Name)]
			if !ok {
				continue
			}
			pending[d] = time.Now().Add(debounce)
			arm()
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			log.Warn("watching credential dirs", "err", err)
		case <-timer.C:
			now := time.Now()
			for d, at := range pending {
				if !now.Before(at) {
					delete(pending, d)
					onChange(d)
				}
			}
			arm()
		}
	}
}

// reported tells whether ev is a change Watch reports: any change of a
// credential file but its mode, and a write to a temp file of MaxRouter's
// write-back. A temp file's creation is not: a refresh makes it before it
// asks the token endpoint, and the content comes only later.
func reported(ev fsnotify.Event) bool {
	base := filepath.Base(ev.Name)
	if isCredentialName(base) {
		return ev.Op&^fsnotify.Chmod != 0
	}
	return ev.Has(fsnotify.Write) && isCredentialTemp(base)
}

// isCredentialTemp reports whether base names a temp file of MaxRouter's
// write-back of a credential file (see store.WriteFile).
func isCredentialTemp(base string) bool {
	for _, n := range fileNames() {
		if strings.HasPrefix(base, "."+n+".tmp") {
			return true
		}
	}
	return false
}
