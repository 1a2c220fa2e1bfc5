// Package setup hands out what points Claude Code at MaxRouter: the base
// URL and a client token issued for this computer, as lines to paste into
// a shell. The token is issued once and remembered in a file (0600) so that
// every copy reuses it while the daemon still accepts it.
package setup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/store"
)

// Daemon is the part of the control API Setup uses; *control.Client
// implements it.
type Daemon interface {
	Tokens(ctx context.Context) ([]control.Token, error)
	IssueToken(ctx context.Context, label string, ttl time.Duration) (control.Issued, error)
	// BaseURL is the daemon's address as a client dials it
	// ("http://127.0.0.1:8787"), the ANTHROPIC_BASE_URL to hand out.
	BaseURL() string
}

// Setup hands out the Claude Code setup lines. Its fields are set before
// use; Daemon is required.
type Setup struct {
	Daemon Daemon
	// TokenFile remembers the issued client token (JSON with its ID and
	// secret, mode 0600), so later copies reuse it. "": a new token is
	// issued every time.
	TokenFile string
	// Hostname names the issued token ("<hostname> (tray)"). "":
	// os.Hostname.
	Hostname string
	// Now is the clock for token expiry. Nil: time.Now.
	Now func() time.Time
	// Logger; nil: slog.Default.
	Logger *slog.Logger

	mu sync.Mutex // one issue at a time
}

// savedToken is the content of TokenFile.
type savedToken struct {
	ID     string `json:"id"`
	Secret string `json:"token"`
}

// Lines returns the lines that point Claude Code at the daemon, with this
// computer's client token:
//
//	export ANTHROPIC_BASE_URL=http://127.0.0.1:8787
//	export ANTHROPIC_AUTH_TOKEN=la_sk_…
//
// (PowerShell assignments on Windows). The first call issues a token
// labelled "<hostname> (tray)" and remembers it in TokenFile; later calls
// reuse it while the daemon lists it as active, and issue a new one when it
// was revoked, expired or forgotten. While the daemon is not running a
// remembered token is used unchecked.
func (s *Setup) Lines(ctx context.Context) (string, error) {
	tok, err := s.clientToken(ctx)
	if err != nil {
		return "", err
	}
	return setupLines(s.Daemon.BaseURL(), tok), nil
}

func (s *Setup) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger.With("component", "setup")
	}
	return slog.Default().With("component", "setup")
}

func (s *Setup) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// clientToken returns the remembered client token when the daemon still
// accepts it, or issues and remembers a new one.
func (s *Setup) clientToken(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	log := s.log()
	saved := s.readToken()
	if saved.Secret != "" {
		list, err := s.Daemon.Tokens(ctx)
		switch {
		case errors.Is(err, control.ErrUnreachable):
			// Cannot check it; it is the best there is, and it works
			// once the daemon runs unless it was revoked meanwhile.
			log.Info("daemon not reachable; copying the saved client token unchecked")
			return saved.Secret, nil
		case err != nil:
			return "", fmt.Errorf("listing client tokens: %w", err)
		case s.active(list, saved.ID):
			return saved.Secret, nil
		}
		log.Info("the saved client token is no longer active; issuing a new one", "id", saved.ID)
	}
	is, err := s.Daemon.IssueToken(ctx, s.tokenLabel(), 0)
	if err != nil {
		if errors.Is(err, control.ErrUnreachable) {
			return "", errors.New("the MaxRouter daemon is not running: start it first, then copy again")
		}
		return "", fmt.Errorf("issuing a client token: %w", err)
	}
	log.Info("issued a client token for this computer", "id", is.ID, "prefix", is.Prefix)
	if s.TokenFile != "" {
		data, _ := json.Marshal(savedToken{ID: is.ID, Secret: is.Secret})
		if err := store.WriteFile(s.TokenFile, append(data, '\n'), 0o600); err != nil {
			// The copy still works; the next one issues another token.
			log.Warn("remembering the client token", "err", err)
		}
	}
	return is.Secret, nil
}

// readToken reads TokenFile; a missing or unreadable file gives the zero
// value.
func (s *Setup) readToken() savedToken {
	var t savedToken
	if s.TokenFile == "" {
		return t
	}
	data, err := os.ReadFile(s.TokenFile)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.log().Warn("reading the saved client token", "err", err)
		}
		return t
	}
	if err := json.Unmarshal(data, &t); err != nil || t.ID == "" {
		s.log().Warn("ignoring a malformed saved client token", "file", s.TokenFile)
		return savedToken{}
	}
	return t
}

// active reports whether the token id is in list, not revoked and not
// expired.
func (s *Setup) active(list []control.Token, id string) bool {
	now := s.now()
	for _, tok := range list {
		if tok.ID == id {
			return tok.RevokedAt == nil && (tok.ExpiresAt == nil || tok.ExpiresAt.After(now))
		}
	}
	return false
}

// tokenLabel is the issued token's label, "<hostname> (tray)".
func (s *Setup) tokenLabel() string {
	host := s.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	host = strings.TrimSpace(host)
	if host == "" {
		host = "this computer"
	}
	return host + " (tray)"
}
