//go:build !headless

package desktop

import (
	"errors"
	"fmt"

	"github.com/maxrouter/maxrouter/app/service"
)

// serviceControl is what the app needs from the service manager;
// *service.Manager implements it.
type serviceControl interface {
	Usable() bool
	Status() (service.State, error)
	Install() error
	Start() error
	Stop() error
	StartDetached() (int, error)
	StopDetached() error
	StoppedByUser() bool
}

var _ serviceControl = (*service.Manager)(nil)

// How the daemon was started, for the person.
const (
	startedService  = "It runs as a user service and starts at login."
	startedDetached = "It runs in the background (this system has no user service manager, so start MaxRouter again after a reboot)."
)

// startDaemon starts the daemon: as the per-user service where a service
// manager works, installing the service first when it is not installed,
// and otherwise as a detached background process. how says which, in a
// sentence.
func startDaemon(svc serviceControl) (how string, err error) {
	if svc == nil {
		return "", errors.New("the service manager could not be set up (see the log); run `maxrouter serve` in a terminal")
	}
	if svc.Usable() {
		st, err := svc.Status()
		if err != nil {
			return "", err
		}
		if st == service.NotInstalled {
			if err := svc.Install(); err != nil {
				return "", err
			}
		}
		if err := svc.Start(); err != nil {
			return "", err
		}
		return startedService, nil
	}
	if _, err := svc.StartDetached(); err != nil {
		return "", err
	}
	return startedDetached, nil
}

// stopDaemon stops the service, or the background process StartDetached
// started.
func stopDaemon(svc serviceControl) error {
	if svc == nil {
		return errors.New("the service manager could not be set up (see the log)")
	}
	if svc.Usable() {
		st, err := svc.Status()
		if err != nil {
			return err
		}
		if st != service.NotInstalled {
			return svc.Stop()
		}
	}
	err := svc.StopDetached()
	if errors.Is(err, service.ErrNotRunning) {
		return fmt.Errorf("this MaxRouter was not started by the app (a `maxrouter serve` in a terminal?): stop it where it runs")
	}
	return err
}

// serviceStatus describes the service in a few words for the tray ("not
// installed", "stopped"), or "" when there is nothing useful to say.
func serviceStatus(svc serviceControl) string {
	if svc == nil || !svc.Usable() {
		return ""
	}
	st, err := svc.Status()
	if err != nil || st == service.Unknown {
		return ""
	}
	return st.String()
}
