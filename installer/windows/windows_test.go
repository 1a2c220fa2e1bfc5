package windows

import (
	"bytes"
	"context"
	"debug/pe"
	"encoding/binary"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/maxrouter/maxrouter/installer/release"
)

func meta(t *testing.T) release.Meta {
	t.Helper()
	root, err := release.FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	m, err := release.ReadMeta(root)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestICO(t *testing.T) {
	m := meta(t)
	img, err := release.LoadIcon(m.IconPath())
	if err != nil {
		t.Fatal(err)
	}
	sizes := []int{16, 32, 256}
	data, err := ICO(img, sizes)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if le.Uint16(data[0:]) != 0 || le.Uint16(data[2:]) != 1 || int(le.Uint16(data[4:])) != len(sizes) {
		t.Fatalf("ICONDIR = % x, want reserved 0, type 1, count %d", data[:6], len(sizes))
	}
	for i, px := range sizes {
		e := data[6+16*i:]
		dim := int(e[0])
		if dim == 0 {
			dim = 256
		}
		size, off := int(le.Uint32(e[8:])), int(le.Uint32(e[12:]))
		if off+size > len(data) {
			t.Fatalf("entry %d runs past the file: offset %d size %d of %d", i, off, size, len(data))
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(data[off : off+size]))
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if dim != px || cfg.Width != px || cfg.Height != px {
			t.Errorf("entry %d: directory says %d, PNG is %dx%d, want %d", i, dim, cfg.Width, cfg.Height, px)
		}
	}
	if _, err := ICO(img, []int{512}); err == nil {
		t.Error("ICO accepted a 512px image, which the format cannot hold")
	}
}

// TestInstallerFromScript builds an installer around a stand-in exe with
// the real script and checks it the way the CI check does the real one.
func TestInstallerFromScript(t *testing.T) {
	for _, tool := range []string{"makensis", "7z"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (apt-get install nsis p7zip-full)", tool)
		}
	}
	m := meta(t)
	dir := t.TempDir()
	exe := filepath.Join(dir, "maxrouter.exe")
	if err := os.WriteFile(exe, []byte("MZ stand-in"), 0o644); err != nil {
		t.Fatal(err)
	}
	stage := filepath.Join(dir, "stage")
	path, err := Build(context.Background(), m, Options{Exe: exe, OutDir: dir, StageDir: stage})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := filepath.Base(path), "MaxRouter-"+m.Details.Version+"-windows-amd64-setup.exe"; got != want {
		t.Errorf("installer named %s, want %s", got, want)
	}
	checkInstaller(t, m, path, LogPath(stage))
}

func TestBuildNeedsDefines(t *testing.T) {
	if _, err := exec.LookPath("makensis"); err != nil {
		t.Skip("makensis is not installed (apt-get install nsis)")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "maxrouter.nsi")
	if err := os.WriteFile(script, Script, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("makensis", "-V2", "-DVERSION=1.2.3", script).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "pass -DEXE=") {
		t.Errorf("makensis without -DEXE: err %v, output\n%s\nwant a failure naming -DEXE", err, out)
	}
}

// checkInstaller checks a built installer: the files 7-Zip finds in it and
// the instructions makensis compiled into it (from its -V4 log).
func checkInstaller(t *testing.T, m release.Meta, installer, log string) {
	t.Helper()
	files, err := Contents(context.Background(), installer)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"maxrouter.exe", "maxrouter.ico", "uninstall.exe"} {
		if !slices.Contains(files, want) {
			t.Errorf("installer holds %v, want %s among them", files, want)
		}
	}
	// RequestExecutionLevel user: the manifest asks for no elevation.
	bin, err := os.ReadFile(installer)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(bin, []byte(`requestedExecutionLevel level="asInvoker"`)) {
		t.Error(`the installer's manifest does not say requestedExecutionLevel level="asInvoker" (a per-user install)`)
	}
	text, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	ins := Instructions(text)
	const run = `HKCU\Software\Microsoft\Windows\CurrentVersion\Run\`
	const uninst = `HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\MaxRouter\`
	for _, want := range []string{
		`InstallDir: "$LOCALAPPDATA\Programs\MaxRouter"`,
		`CreateShortcut: "$SMPROGRAMS\MaxRouter.lnk"->"$INSTDIR\maxrouter.exe"`,
		`WriteRegStr: ` + run + `MaxRouter="$INSTDIR\maxrouter.exe"`,
		`WriteUninstaller: "$INSTDIR\uninstall.exe"`,
		`WriteRegStr: ` + uninst + `UninstallString="$INSTDIR\uninstall.exe"`,
		`WriteRegStr: ` + uninst + `DisplayVersion=` + m.Details.Version,
		`Delete: "$SMPROGRAMS\MaxRouter.lnk"`,
		`Delete: "$INSTDIR\maxrouter.exe"`,
		`DeleteRegValue: ` + run + `MaxRouter`,
		`DeleteRegValue: ` + run + `MaxRouter daemon`,
		`DeleteRegKey: ` + strings.TrimSuffix(uninst, `\`),
	} {
		if !slices.ContainsFunc(ins, func(s string) bool { return strings.HasPrefix(s, want) }) {
			t.Errorf("the installer has no instruction %s", want)
		}
	}
	for _, s := range ins {
		// The user's configuration and tokens live in %APPDATA%\maxrouter.
		if strings.Contains(strings.ToLower(s), "$appdata") && !strings.Contains(strings.ToLower(s), "$localappdata") {
			t.Errorf("the installer touches the user's data: %s", s)
		}
	}
}

// checkGUIExe checks that exe is a 64-bit Windows GUI program.
func checkGUIExe(t *testing.T, exe []byte) {
	t.Helper()
	f, err := pe.NewFile(bytes.NewReader(exe))
	if err != nil {
		t.Fatalf("maxrouter.exe is not a PE file: %v", err)
	}
	oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if !ok || f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
		t.Errorf("maxrouter.exe: machine %#x, want amd64", f.Machine)
		return
	}
	if oh.Subsystem != pe.IMAGE_SUBSYSTEM_WINDOWS_GUI {
		t.Errorf("maxrouter.exe: subsystem %d, want %d (GUI: no console window)", oh.Subsystem, pe.IMAGE_SUBSYSTEM_WINDOWS_GUI)
	}
}
