package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/maxrouter/maxrouter/core/store"
)

// AppName is the application name notifications carry.
const AppName = "MaxRouter"

// Sender shows notifications on the desktop. A Sender may ignore what its
// platform cannot do (urgency, actions, closing): the message is still
// shown.
type Sender interface {
	// Send shows m and returns an id that Close takes, or 0 when the
	// notification cannot be closed.
	Send(m Message) (id uint32, err error)
	// Close takes the notification id off the screen. Closing 0 does
	// nothing; closing one the user already dismissed may be an error.
	Close(id uint32) error
}

// Message is one desktop notification.
type Message struct {
	Title string
	Body  string
	// Urgent messages stay on the screen until the user dismisses them
	// (on Linux: urgency critical, no expiry); the others go away after
	// the notification server's usual time.
	Urgent bool
	// Actions are buttons on the notification, where the platform has
	// them.
	Actions []Action

	// kind and accounts say what the message is about, for the Notifier
	// (urgency, actions, closing it when it no longer holds). Compose
	// sets them.
	kind     kind
	accounts []string
}

// Action is a button on a notification.
type Action struct {
	// Key identifies the action to the notification server; unique within
	// a Message.
	Key string
	// Label is what the button says.
	Label string
	// Do runs when the user chooses the action, on a goroutine of the
	// Sender: it must return quickly (hand UI work to the UI thread).
	Do func()
}

// icon is the notification icon, written to a file on first use so that
// notification servers can read it.
type icon struct {
	png  []byte
	log  *slog.Logger
	once sync.Once
	file string // "" for none
}

// path writes the icon once and returns its path ("" for no icon: a
// notification without icon beats none).
func (i *icon) path() string {
	i.once.Do(func() {
		if len(i.png) == 0 {
			return
		}
		var err error
		if i.file, err = writeIcon(i.png); err != nil {
			i.log.Warn("notifications without icon", "err", err)
		}
	})
	return i.file
}

// writeIcon stores png under the user's cache directory (the temporary
// directory when there is none), named by its content so that versions and
// processes never overwrite each other's, and returns its path.
func writeIcon(png []byte) (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	sum := sha256.Sum256(png)
	path := filepath.Join(dir, "maxrouter", "notify-icon-"+hex.EncodeToString(sum[:6])+".png")
	if data, err := os.ReadFile(path); err == nil && string(data) == string(png) {
		return path, nil
	}
	if err := store.WriteFile(path, png, 0o644); err != nil {
		return "", fmt.Errorf("writing notification icon: %w", err)
	}
	return path, nil
}
