package release

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Target is a platform to build the maxrouter binary for.
type Target struct {
	GOOS, GOARCH string
	// CC is the C compiler for cgo; "" uses Go's default (the host's cc).
	CC string
}

// Host is the machine the installer runs on.
func Host() Target { return Target{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH} }

// String is "goos/goarch".
func (t Target) String() string { return t.GOOS + "/" + t.GOARCH }

// ExeName is the binary's file name on t: maxrouter or maxrouter.exe.
func (t Target) ExeName() string {
	if t.GOOS == "windows" {
		return "maxrouter.exe"
	}
	return "maxrouter"
}

// LDFlags are the link flags of a release build: stripped, with the version
// from FyneApp.toml, and on Windows a GUI program (no console window).
func LDFlags(m Meta, t Target) string {
	f := "-s -w -X main.version=" + m.Details.Version
	if t.GOOS == "windows" {
		f += " -H windowsgui"
	}
	return f
}

// BuildCommand returns the `go build` of the full desktop binary (cgo: the
// fyne GLFW driver) for t, run from the repository root, writing out.
func BuildCommand(ctx context.Context, m Meta, t Target, out string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, goTool(), "build", "-trimpath", "-ldflags", LDFlags(m, t), "-o", out, ".")
	cmd.Dir = m.Root
	env := append(os.Environ(), "CGO_ENABLED=1", "GOOS="+t.GOOS, "GOARCH="+t.GOARCH, "GOWORK=off")
	if t.CC != "" {
		env = append(env, "CC="+t.CC)
	}
	cmd.Env = env
	return cmd
}

// Build builds the binary for t into out, with the compiler's output going
// to log.
func Build(ctx context.Context, m Meta, t Target, out string, log io.Writer) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(out), err)
	}
	cmd := BuildCommand(ctx, m, t, out)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building maxrouter for %s (%s): %w", t, strings.Join(cmd.Args, " "), err)
	}
	return nil
}

// goTool is the go command: the one on PATH, else the one this program was
// built with.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
