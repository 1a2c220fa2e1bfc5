package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/token"
)

// target is where a CLI verb finds the state: the running daemon when it
// answers, the files otherwise.
type target struct {
	path   string
	cfg    config.Config
	exists bool            // the config file exists
	client *control.Client // nil when no daemon answers
	status control.Status
}

// find loads the configuration and asks whether a daemon serves it.
func (a *app) find() (*target, error) {
	path, err := a.configPath()
	if err != nil {
		return nil, err
	}
	t := &target{path: path, cfg: config.Default(), exists: true}
	cfg, err := config.Load(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		t.exists = false
	case err != nil:
		return nil, err
	default:
		t.cfg = cfg
	}
	c, err := control.ClientFor(t.cfg, path)
	if err != nil {
		return t, nil // never ran: no secret yet
	}
	cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.Status(cctx)
	switch {
	case err == nil:
		t.client, t.status = c, st
	case errors.Is(err, control.ErrUnreachable):
	case errors.Is(err, control.ErrUnauthorized):
		return nil, fmt.Errorf("a MaxRouter daemon answers on %s but does not accept the secret in %s: is it running with another config?", t.cfg.Listen, control.SecretPath(t.cfg.DataDirFor(path)))
	default:
		return nil, fmt.Errorf("something else answers on %s (%v): change \"listen\" in %s", t.cfg.Listen, err, path)
	}
	return t, nil
}

// store opens the token store directly, for when no daemon runs.
func (t *target) store() (*token.Store, error) {
	return token.Open(filepath.Join(t.cfg.DataDirFor(t.path), "tokens.json"), nil)
}
