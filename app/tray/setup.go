package tray

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/store"
)

// savedToken is the content of Options.TokenFile.
type savedToken struct {
	ID     string `json:"id"`
	Secret string `json:"token"`
}

// copySetup puts the Claude Code setup on the clipboard ("Copy Claude Code
// setup"); it runs the control API calls off the UI thread.
func (t *Tray) copySetup() {
	t.do(func(ctx context.Context) {
		text, err := t.Setup(ctx)
		if err != nil {
			t.log.Warn("copying the Claude Code setup", "err", err)
			t.tell("Couldn't copy the Claude Code setup", err.Error())
			return
		}
		t.o.Do(func() { t.o.CopyToClipboard(text) })
		t.tell("Claude Code setup copied", "Paste it in the shell you start claude from.")
	})
}

// Setup returns the lines that point Claude Code at the daemon, with the
// tray's client token:
//
//	export ANTHROPIC_BASE_URL=http://127.0.0.1:8787
//	export ANTHROPIC_AUTH_TOKEN=la_sk_…
//
// (PowerShell assignments on Windows). The first call issues a token
// labelled "<hostname> (tray)" and remembers it in Options.TokenFile; later
// calls reuse it while the daemon lists it as active, and issue a new one
// when it was revoked, expired or forgotten.
func (t *Tray) Setup(ctx context.Context) (string, error) {
	tok, err := t.clientToken(ctx)
	if err != nil {
		return "", err
	}
	return setupLines(t.o.Daemon.BaseURL(), tok), nil
}

// clientToken returns the remembered client token when the daemon still
// accepts it, or issues and remembers a new one.
func (t *Tray) clientToken(ctx context.Context) (string, error) {
	t.tokenLock.Lock()
	defer t.tokenLock.Unlock()
	saved := t.readToken()
	if saved.Secret != "" {
		list, err := t.o.Daemon.Tokens(ctx)
		switch {
		case errors.Is(err, control.ErrUnreachable):
			// Cannot check it; it is the best there is, and it works
			// once the daemon runs unless it was revoked meanwhile.
			t.log.Info("daemon not reachable; copying the saved client token unchecked")
			return saved.Secret, nil
		case err != nil:
			return "", fmt.Errorf("listing client tokens: %w", err)
		case t.active(list, saved.ID):
			return saved.Secret, nil
		}
		t.log.Info("the saved client token is no longer active; issuing a new one", "id", saved.ID)
	}
	is, err := t.o.Daemon.IssueToken(ctx, t.tokenLabel(), 0)
	if err != nil {
		if errors.Is(err, control.ErrUnreachable) {
			return "", errors.New("the MaxRouter daemon is not running: start it first, then copy again")
		}
		return "", fmt.Errorf("issuing a client token: %w", err)
	}
	t.log.Info("issued a client token for the tray", "id", is.ID, "prefix", is.Prefix)
	if t.o.TokenFile != "" {
		data, _ := json.Marshal(savedToken{ID: is.ID, Secret: is.Secret})
		if err := store.WriteFile(t.o.TokenFile, append(data, '\n'), 0o600); err != nil {
			// The copy still works; the next one issues another token.
			t.log.Warn("remembering the client token", "err", err)
		}
	}
	return is.Secret, nil
}

// readToken reads Options.TokenFile; a missing or unreadable file gives the
// zero value.
func (t *Tray) readToken() savedToken {
	var s savedToken
	if t.o.TokenFile == "" {
		return s
	}
	data, err := os.ReadFile(t.o.TokenFile)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			t.log.Warn("reading the saved client token", "err", err)
		}
		return s
	}
	if err := json.Unmarshal(data, &s); err != nil || s.ID == "" {
		t.log.Warn("ignoring a malformed saved client token", "file", t.o.TokenFile)
		return savedToken{}
	}
	return s
}

// active reports whether the token id is in list, not revoked and not
// expired.
func (t *Tray) active(list []control.Token, id string) bool {
	now := t.o.Now()
	for _, tok := range list {
		if tok.ID == id {
			return tok.RevokedAt == nil && (tok.ExpiresAt == nil || tok.ExpiresAt.After(now))
		}
	}
	return false
}

// tokenLabel is the issued token's label, "<hostname> (tray)".
func (t *Tray) tokenLabel() string {
	host := t.o.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	host = strings.TrimSpace(host)
	if host == "" {
		host = "this computer"
	}
	return host + " (tray)"
}
