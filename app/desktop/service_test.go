//go:build !headless

package desktop

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"

	"github.com/maxrouter/maxrouter/app/service"
	"github.com/maxrouter/maxrouter/core/control/controltest"
	"github.com/maxrouter/maxrouter/core/wait"
)

// fakeService records the calls the app makes to the service manager.
type fakeService struct {
	usable   bool
	state    service.State
	stateErr error
	failOn   string // a call that fails
	stopped  bool   // StoppedByUser

	mu    sync.Mutex
	calls []string
}

// got returns the calls made so far.
func (f *fakeService) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeService) call(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name)
	if f.failOn == name {
		return errors.New(name + " failed")
	}
	return nil
}

func (f *fakeService) Usable() bool { return f.usable }
func (f *fakeService) Status() (service.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "Status")
	return f.state, f.stateErr
}
func (f *fakeService) Install() error { return f.call("Install") }
func (f *fakeService) Start() error   { return f.call("Start") }
func (f *fakeService) Stop() error    { return f.call("Stop") }
func (f *fakeService) StartDetached() (int, error) {
	return 4242, f.call("StartDetached")
}
func (f *fakeService) StoppedByUser() bool { return f.stopped }
func (f *fakeService) StopDetached() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "StopDetached")
	if f.failOn == "StopDetached" {
		return service.ErrNotRunning
	}
	return nil
}

func TestStartDaemon(t *testing.T) {
	tests := []struct {
		name      string
		svc       *fakeService
		wantCalls []string
		wantHow   string
		wantErr   string
	}{
		{"installs and starts the user service", &fakeService{usable: true, state: service.NotInstalled},
			[]string{"Status", "Install", "Start"}, startedService, ""},
		{"starts an installed service", &fakeService{usable: true, state: service.Stopped},
			[]string{"Status", "Start"}, startedService, ""},
		{"install fails", &fakeService{usable: true, state: service.NotInstalled, failOn: "Install"},
			[]string{"Status", "Install"}, "", "Install failed"},
		{"status unknown", &fakeService{usable: true, stateErr: errors.New("systemctl: no bus")},
			[]string{"Status"}, "", "systemctl: no bus"},
		{"no service manager: background process", &fakeService{usable: false},
			[]string{"StartDetached"}, startedDetached, ""},
		{"background start fails", &fakeService{usable: false, failOn: "StartDetached"},
			[]string{"StartDetached"}, "", "StartDetached failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			how, err := startDaemon(tt.svc)
			if got := errText(err); got != tt.wantErr {
				t.Errorf("startDaemon() error = %q, want %q", got, tt.wantErr)
			}
			if how != tt.wantHow {
				t.Errorf("startDaemon() how = %q, want %q", how, tt.wantHow)
			}
			if !slices.Equal(tt.svc.calls, tt.wantCalls) {
				t.Errorf("calls = %q, want %q", tt.svc.calls, tt.wantCalls)
			}
		})
	}
	if _, err := startDaemon(nil); err == nil {
		t.Errorf("startDaemon(nil) = nil error, want one")
	}
}

func TestStopDaemon(t *testing.T) {
	tests := []struct {
		name      string
		svc       *fakeService
		wantCalls []string
		wantErr   string
	}{
		{"stops the service", &fakeService{usable: true, state: service.Running}, []string{"Status", "Stop"}, ""},
		{"no service installed: the background process", &fakeService{usable: true, state: service.NotInstalled},
			[]string{"Status", "StopDetached"}, ""},
		{"no service manager", &fakeService{usable: false}, []string{"StopDetached"}, ""},
		{"started elsewhere", &fakeService{usable: false, failOn: "StopDetached"}, []string{"StopDetached"},
			"this MaxRouter was not started by the app (a `maxrouter serve` in a terminal?): stop it where it runs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := stopDaemon(tt.svc)
			if got := errText(err); got != tt.wantErr {
				t.Errorf("stopDaemon() error = %q, want %q", got, tt.wantErr)
			}
			if !slices.Equal(tt.svc.calls, tt.wantCalls) {
				t.Errorf("calls = %q, want %q", tt.svc.calls, tt.wantCalls)
			}
		})
	}
}

func TestServiceStatus(t *testing.T) {
	tests := []struct {
		name string
		svc  serviceControl
		want string
	}{
		{"none", nil, ""},
		{"no service manager", &fakeService{usable: false}, ""},
		{"stopped", &fakeService{usable: true, state: service.Stopped}, "stopped"},
		{"not installed", &fakeService{usable: true, state: service.NotInstalled}, "not installed"},
		{"unknown", &fakeService{usable: true, state: service.Unknown}, ""},
		{"error", &fakeService{usable: true, state: service.Stopped, stateErr: errors.New("x")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := serviceStatus(tt.svc); got != tt.want {
				t.Errorf("serviceStatus() = %q, want %q", got, tt.want)
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestStartIfDown(t *testing.T) {
	needGUI(t)
	tests := []struct {
		name      string
		plugged   bool
		stopped   bool
		wantCalls []string
	}{
		{"daemon down: started", false, false, []string{"StartDetached"}},
		{"daemon up: left alone", true, false, nil},
		{"daemon stopped on purpose: left stopped", false, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &switchDaemon{}
			if tt.plugged {
				client, _ := controltest.NewServer(t, &controltest.Backend{})
				d.c = client
			}
			svc := &fakeService{usable: false, stopped: tt.stopped}
			sh := newShell(guiApp, shellOptions{Daemon: d, Sender: &recorder{}, Service: svc, NoTray: true,
				Logger: slog.New(slog.DiscardHandler)})
			ctx, cancel := context.WithCancel(context.Background())
			sh.wg.Go(func() { sh.model.Serve(ctx) })
			sh.startIfDown(ctx)
			wait.For(t, "the first attempt to reach the daemon", func() bool { return sh.model.State().Tried })
			if tt.wantCalls != nil {
				wait.For(t, "the start", func() bool { return len(svc.got()) > 0 })
			}
			cancel()
			sh.wait()
			if got := svc.got(); !slices.Equal(got, tt.wantCalls) {
				t.Errorf("service calls = %q, want %q", got, tt.wantCalls)
			}
		})
	}
}
