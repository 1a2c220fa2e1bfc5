package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/gen2brain/beeep"

	"github.com/maxrouter/maxrouter/core/store"
)

// AppName is the application name notifications carry.
const AppName = "MaxRouter"

// BeeepSender returns a Sender that shows notifications with beeep (the
// freedesktop notification service over the session bus on Linux, falling
// back to notify-send; the native ones on macOS and Windows). It sets
// beeep.AppName. icon is a PNG, written once (on the first Send) to the
// user's cache directory so the notification daemon can read it; nil or an
// unwritable cache means no icon. It never uses beeep.Alert, which writes a
// BEL to stdout.
func BeeepSender(icon []byte) Sender {
	beeep.AppName = AppName
	return &beeepSender{icon: icon}
}

type beeepSender struct {
	icon []byte
	once sync.Once
	path string // of the icon file; "" for none
}

// Send implements Sender.
func (s *beeepSender) Send(title, body string) error {
	s.once.Do(func() {
		if len(s.icon) > 0 {
			s.path, _ = writeIcon(s.icon) // a notification without icon beats none
		}
	})
	if err := beeep.Notify(title, body, s.path); err != nil {
		return fmt.Errorf("showing notification %q: %w", title, err)
	}
	return nil
}

// writeIcon stores icon under the user's cache directory (the temporary
// directory when there is none), named by its content so that versions and
// processes never overwrite each other's, and returns its path.
func writeIcon(icon []byte) (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	sum := sha256.Sum256(icon)
	path := filepath.Join(dir, "maxrouter", "notify-icon-"+hex.EncodeToString(sum[:6])+".png")
	if data, err := os.ReadFile(path); err == nil && string(data) == string(icon) {
		return path, nil
	}
	if err := store.WriteFile(path, icon, 0o644); err != nil {
		return "", fmt.Errorf("writing notification icon: %w", err)
	}
	return path, nil
}
