// Command installer builds MaxRouter's packages for the systems this
// machine can build for:
//
//   - Linux (on Linux): a .deb, an .rpm and a tar.xz (package linux);
//   - Windows (on Linux with mingw-w64 and NSIS, or on Windows with both):
//     an NSIS per-user installer (package windows);
//   - macOS (on a Mac; see macos/build-macos.sh): MaxRouter.app.
//
// Run it from this directory:
//
//	go run .                      every package this machine can build, into dist/
//	go run . -os linux -out /tmp/pkgs
//
// The version comes from FyneApp.toml at the repository root and goes into
// the binaries (`maxrouter version`, the About box) and every package.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/maxrouter/maxrouter/installer/linux"
	"github.com/maxrouter/maxrouter/installer/macos"
	"github.com/maxrouter/maxrouter/installer/release"
	"github.com/maxrouter/maxrouter/installer/windows"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "installer:", err)
		os.Exit(1)
	}
}

// options are the command-line flags.
type options struct {
	systems    []string
	out        string
	linuxBin   string
	windowsExe string
	darwinBin  string
	verbose    bool
	version    bool
	arch       string
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("installer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	systems := fs.String("os", "", "comma-separated systems to package: linux, windows, darwin (default: all this machine can build)")
	fs.StringVar(&o.out, "out", "", "directory for the packages (default: installer/dist)")
	fs.StringVar(&o.linuxBin, "linux-bin", "", "package this Linux binary instead of building one")
	fs.StringVar(&o.windowsExe, "windows-exe", "", "package this Windows binary instead of building one")
	fs.StringVar(&o.darwinBin, "darwin-bin", "", "bundle this macOS binary instead of building one (needed off a Mac)")
	fs.BoolVar(&o.verbose, "v", false, "show the compilers' output")
	fs.BoolVar(&o.version, "version", false, "print the version from FyneApp.toml and exit")
	fs.StringVar(&o.arch, "arch", runtime.GOARCH, "GOARCH of the Linux and macOS builds (another one needs a C cross compiler; on a Mac clang has both)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if *systems != "" {
		for _, s := range strings.Split(*systems, ",") {
			s = strings.TrimSpace(s)
			if s == "macos" {
				s = "darwin"
			}
			if !slices.Contains([]string{"linux", "windows", "darwin"}, s) {
				return o, fmt.Errorf("-os: unknown system %q (want linux, windows or darwin)", s)
			}
			o.systems = append(o.systems, s)
		}
	}
	return o, nil
}

// buildable lists the systems this machine can package, and why not the
// others.
func buildable(o options) (yes []string, why map[string]string) {
	why = map[string]string{}
	if runtime.GOOS == "linux" {
		yes = append(yes, "linux")
	} else {
		why["linux"] = "the Linux packages are built on Linux"
	}
	if err := windows.CheckTools(o.windowsExe == ""); err == nil {
		yes = append(yes, "windows")
	} else {
		why["windows"] = err.Error()
	}
	if runtime.GOOS == "darwin" || o.darwinBin != "" {
		yes = append(yes, "darwin")
	} else {
		why["darwin"] = "the macOS binary needs a Mac (see macos/build-macos.sh)"
	}
	return yes, why
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := release.FindRoot(wd)
	if err != nil {
		return err
	}
	m, err := release.ReadMeta(root)
	if err != nil {
		return err
	}
	if o.version {
		fmt.Fprintln(stdout, m.Details.Version)
		return nil
	}
	if o.out == "" {
		o.out = filepath.Join(root, "installer", "dist")
	}
	if o.out, err = filepath.Abs(o.out); err != nil {
		return err
	}
	can, why := buildable(o)
	systems := o.systems
	if len(systems) == 0 {
		systems = can
		for _, s := range []string{"linux", "windows", "darwin"} {
			if r, ok := why[s]; ok {
				fmt.Fprintf(stdout, "skipping %s: %s\n", s, r)
			}
		}
	}
	for _, s := range systems {
		if r, ok := why[s]; ok {
			return fmt.Errorf("cannot package %s here: %s", s, r)
		}
	}
	// The autostart entry is rendered into a temporary home; a set
	// XDG_CONFIG_HOME would send it to the real one.
	os.Unsetenv("XDG_CONFIG_HOME")
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("component", "installer")
	b := &builder{m: m, o: o, stage: filepath.Join(o.out, "build"), log: log, stdout: stdout}
	fmt.Fprintf(stdout, "MaxRouter %s: packaging %s into %s\n", m.Details.Version, strings.Join(systems, ", "), o.out)
	start := time.Now()
	artifacts, err := b.run(ctx, systems)
	for _, a := range artifacts {
		size := ""
		if st, err := os.Stat(a); err == nil {
			size = fmt.Sprintf("%.1f MB", float64(st.Size())/1e6)
		}
		fmt.Fprintf(stdout, "  %-60s %s\n", a, size)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "done in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// builder builds the binaries, then the packages.
type builder struct {
	m      release.Meta
	o      options
	stage  string
	log    *slog.Logger
	stdout io.Writer
}

func (b *builder) run(ctx context.Context, systems []string) ([]string, error) {
	bins := map[string]string{"linux": b.o.linuxBin, "windows": b.o.windowsExe, "darwin": b.o.darwinBin}
	host := release.Host()
	host.GOARCH = b.o.arch
	targets := map[string]release.Target{"linux": host, "windows": windows.Target, "darwin": host}
	for _, s := range systems {
		if bins[s] != "" {
			continue
		}
		t := targets[s]
		bins[s] = filepath.Join(b.stage, t.GOOS+"-"+t.GOARCH, t.ExeName())
		if err := b.build(ctx, t, bins[s]); err != nil {
			return nil, err
		}
	}
	var artifacts []string
	for _, s := range systems {
		var got []string
		var err error
		switch s {
		case "linux":
			got, err = linux.Build(b.m, linux.Options{
				Binary: bins[s], Arch: targets[s].GOARCH, OutDir: b.o.out,
				StageDir: filepath.Join(b.stage, "linux"), MTime: release.SourceDate(b.m.Root),
			})
		case "windows":
			var p string
			p, err = windows.Build(ctx, b.m, windows.Options{Exe: bins[s], OutDir: b.o.out, StageDir: filepath.Join(b.stage, "windows")})
			got = []string{p}
		case "darwin":
			var p string
			p, err = macos.Bundle(b.m, bins[s], b.o.out)
			got = []string{p}
		}
		if err != nil {
			return artifacts, fmt.Errorf("packaging for %s: %w", s, err)
		}
		artifacts = append(artifacts, got...)
	}
	return artifacts, nil
}

// build builds one binary. The builds run one after the other: each is
// mostly a single-threaded C compile, but two at once have failed with
// "could not import sync/atomic (open : no such file or directory)" here,
// a cache race the go command recovers from on a second try.
func (b *builder) build(ctx context.Context, t release.Target, out string) error {
	start := time.Now()
	fmt.Fprintf(b.stdout, "building maxrouter for %s (a first build takes 5 to 10 minutes)…\n", t)
	var err error
	for try := 1; try <= 2; try++ {
		var buf strings.Builder
		var w io.Writer = &buf
		if b.o.verbose {
			w = io.MultiWriter(&buf, b.stdout)
		}
		if err = release.Build(ctx, b.m, t, out, w); err == nil {
			fmt.Fprintf(b.stdout, "built %s in %s\n", t, time.Since(start).Round(time.Second))
			return nil
		}
		err = fmt.Errorf("%w\n%s", err, buf.String())
		if !strings.Contains(buf.String(), "could not import") || ctx.Err() != nil {
			break
		}
		b.log.Warn("retrying the build after a build-cache error", "target", t.String())
	}
	return err
}
