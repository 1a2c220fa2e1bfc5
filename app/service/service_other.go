//go:build !linux && !darwin && !windows

package service

// Other systems (the BSDs, ...) have no per-user service manager that this
// package drives; only StartDetached works there.

func (m *Manager) init() error            { return nil }
func (m *Manager) unit() (string, error)  { return "", ErrNoServiceManager }
func (m *Manager) usable() bool           { return false }
func (m *Manager) install() error         { return ErrNoServiceManager }
func (m *Manager) uninstall() error       { return ErrNoServiceManager }
func (m *Manager) start() error           { return ErrNoServiceManager }
func (m *Manager) stop() error            { return ErrNoServiceManager }
func (m *Manager) restart() error         { return ErrNoServiceManager }
func (m *Manager) status() (State, error) { return Unknown, ErrNoServiceManager }
