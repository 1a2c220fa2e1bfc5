// Package windows builds MaxRouter's Windows installer on Linux: the GUI
// binary cross-compiled with mingw-w64, and an NSIS installer (makensis)
// from maxrouter.nsi for a per-user install without administrator rights.
package windows

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/maxrouter/maxrouter/installer/release"
)

// Script is the NSIS script, maxrouter.nsi.
//
//go:embed maxrouter.nsi
var Script []byte

// CC is the mingw-w64 C compiler Debian's gcc-mingw-w64-x86-64 installs.
const CC = "x86_64-w64-mingw32-gcc"

// Target is the Windows build target.
var Target = release.Target{GOOS: "windows", GOARCH: "amd64", CC: CC}

// ErrMissingTool says a tool the Windows build needs is not installed.
var ErrMissingTool = errors.New("missing tool")

// CheckTools reports which of makensis and (when compile is true) the
// cross compiler are missing, with the Debian package that provides each.
func CheckTools(compile bool) error {
	tools := map[string]string{"makensis": "nsis"}
	if compile {
		tools[CC] = "gcc-mingw-w64-x86-64"
	}
	var missing []string
	for tool, pkg := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool+" (apt-get install "+pkg+")")
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", ErrMissingTool, strings.Join(missing, ", "))
	}
	return nil
}

// InstallerName is the installer's file name.
func InstallerName(m release.Meta) string {
	return fmt.Sprintf("%s-%s-windows-amd64-setup.exe", m.Details.Name, m.Details.Version)
}

// Options says what to package.
type Options struct {
	Exe      string // the cross-compiled maxrouter.exe
	OutDir   string // receives the installer
	StageDir string // receives the icon and the script
	Log      io.Writer
}

// Build makes the installer from o.Exe and returns its path.
func Build(ctx context.Context, m release.Meta, o Options) (string, error) {
	if err := os.MkdirAll(o.StageDir, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", o.StageDir, err)
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", o.OutDir, err)
	}
	icon, err := release.LoadIcon(m.IconPath())
	if err != nil {
		return "", err
	}
	ico, err := ICO(icon, []int{16, 24, 32, 48, 64, 128, 256})
	if err != nil {
		return "", err
	}
	icoPath := filepath.Join(o.StageDir, "maxrouter.ico")
	if err := os.WriteFile(icoPath, ico, 0o644); err != nil {
		return "", fmt.Errorf("writing %s: %w", icoPath, err)
	}
	script := filepath.Join(o.StageDir, "maxrouter.nsi")
	if err := os.WriteFile(script, Script, 0o644); err != nil {
		return "", fmt.Errorf("writing %s: %w", script, err)
	}
	exe, err := filepath.Abs(o.Exe)
	if err != nil {
		return "", err
	}
	out, err := filepath.Abs(filepath.Join(o.OutDir, InstallerName(m)))
	if err != nil {
		return "", err
	}
	abs, _ := filepath.Abs(icoPath)
	// -V4 lists every instruction compiled into the installer; the log is
	// kept as LogName for the checks (see Instructions). -WX: a warning is
	// an error.
	cmd := exec.CommandContext(ctx, "makensis", "-V4", "-WX", "-INPUTCHARSET", "UTF8",
		"-DVERSION="+m.Details.Version, "-DEXE="+exe, "-DICON="+abs, "-DOUTFILE="+out, script)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if o.Log != nil {
		cmd.Stdout, cmd.Stderr = io.MultiWriter(&log, o.Log), io.MultiWriter(&log, o.Log)
	}
	err = cmd.Run()
	if werr := os.WriteFile(LogPath(o.StageDir), log.Bytes(), 0o644); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return "", fmt.Errorf("makensis: %w\n%s", err, log.String())
	}
	return out, nil
}

// LogPath is where Build keeps makensis's instruction listing.
func LogPath(stageDir string) string { return filepath.Join(stageDir, "makensis.log") }

// Instructions returns the instruction lines of a makensis -V4 log
// ("CreateShortcut: ...", "WriteRegStr: HKCU\\...", "File: ..."): what the
// installer and its uninstaller do, as compiled.
func Instructions(log []byte) []string {
	var out []string
	for _, line := range strings.Split(string(log), "\n") {
		line = strings.TrimRight(line, "\r")
		if i := strings.Index(line, ": "); i > 0 && !strings.ContainsAny(line[:i], " \t") {
			out = append(out, line)
		}
	}
	return out
}

// Contents lists the files inside a built installer with 7-Zip (Debian's
// p7zip-full reads NSIS installers): the installed files and the
// uninstaller, as 7-Zip names them.
func Contents(ctx context.Context, installer string) ([]string, error) {
	out, err := exec.CommandContext(ctx, "7z", "l", "-slt", installer).Output()
	if err != nil {
		return nil, fmt.Errorf("listing %s with 7z: %w", installer, err)
	}
	var paths []string
	inFiles := false
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if line == "----------" {
			inFiles = true
			continue
		}
		if p, ok := strings.CutPrefix(line, "Path = "); ok && inFiles {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("7z found no files in %s:\n%s", installer, out)
	}
	return paths, nil
}

// ICO encodes img scaled to each size as a Windows icon of PNG images,
// which Windows Vista and later (and NSIS 3) read.
func ICO(img image.Image, sizes []int) ([]byte, error) {
	pngs := make([][]byte, len(sizes))
	for i, px := range sizes {
		if px < 1 || px > 256 {
			return nil, fmt.Errorf("icon size %d is outside 1..256", px)
		}
		b, err := release.ScaledPNG(img, px)
		if err != nil {
			return nil, err
		}
		pngs[i] = b
	}
	var b bytes.Buffer
	le := binary.LittleEndian
	// ICONDIR: reserved, type 1 (icon), count.
	b.Write(le.AppendUint16(le.AppendUint16(le.AppendUint16(nil, 0), 1), uint16(len(sizes))))
	offset := 6 + 16*len(sizes)
	for i, px := range sizes {
		dim := byte(px)
		if px == 256 {
			dim = 0 // 0 means 256
		}
		// ICONDIRENTRY: width, height, colours, reserved, planes, bit
		// count, size, offset.
		e := []byte{dim, dim, 0, 0}
		e = le.AppendUint16(e, 1)
		e = le.AppendUint16(e, 32)
		e = le.AppendUint32(e, uint32(len(pngs[i])))
		e = le.AppendUint32(e, uint32(offset))
		b.Write(e)
		offset += len(pngs[i])
	}
	for _, p := range pngs {
		b.Write(p)
	}
	return b.Bytes(), nil
}
