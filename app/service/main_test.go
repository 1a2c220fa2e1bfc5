package service

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as a fake daemon and as a launcher, chosen by
// helperEnv, so StartDetached has a real process to start.
const (
	helperEnv       = "MAXROUTER_SERVICE_TEST_HELPER"
	helperConfigEnv = "MAXROUTER_SERVICE_TEST_CONFIG"
)

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "daemon":
		os.Exit(fakeDaemon())
	case "launch":
		os.Exit(launch())
	}
	os.Exit(m.Run())
}

// fakeDaemon stands in for `maxrouter serve`: it says who it is on stdout
// and stderr, then waits to be stopped (or gives up after a minute, so a
// crashed test leaves nothing behind for long).
func fakeDaemon() int {
	// Handle the signals before saying anything: the test stops the daemon
	// as soon as it has read these lines.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Printf("fake daemon pid=%d args=%q\n", os.Getpid(), os.Args[1:])
	fmt.Fprintln(os.Stderr, "fake daemon stderr")
	select {
	case <-ctx.Done():
		fmt.Println("fake daemon stopping")
	case <-time.After(time.Minute):
	}
	return 0
}

// launch calls StartDetached from a short-lived process and prints the pid,
// so a test can check that the daemon outlives its starter.
func launch() int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	m, err := New(Options{Executable: exe, ConfigPath: os.Getenv(helperConfigEnv)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	os.Setenv(helperEnv, "daemon")
	pid, err := m.StartDetached()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(pid)
	return 0
}
