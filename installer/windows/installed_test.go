//go:build pkgcheck

package windows

// The built-installer check (CI): the Windows installer the installer
// program built holds the cross-compiled GUI exe, the icon and the
// uninstaller, and compiles in the shortcut, the login entry and the
// uninstaller's registration. Run by installer/ci-check.sh:
//
//	go test -tags pkgcheck -run Installer ./windows/
//
// MAXROUTER_DIST names the directory holding the packages (default
// installer/dist).

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestBuiltInstaller(t *testing.T) {
	m := meta(t)
	dist := os.Getenv("MAXROUTER_DIST")
	if dist == "" {
		dist = filepath.Join(m.Root, "installer", "dist")
	}
	installer := filepath.Join(dist, InstallerName(m))
	if _, err := os.Stat(installer); err != nil {
		t.Fatalf("no installer to check: %v (build it with `go run . -os windows` in installer/)", err)
	}
	checkInstaller(t, m, installer, LogPath(filepath.Join(dist, "build", "windows")))

	dir := t.TempDir()
	if out, err := exec.Command("7z", "x", "-o"+dir, installer, "maxrouter.exe").CombinedOutput(); err != nil {
		t.Fatalf("extracting maxrouter.exe: %v\n%s", err, out)
	}
	exe, err := os.ReadFile(filepath.Join(dir, "maxrouter.exe"))
	if err != nil {
		t.Fatal(err)
	}
	checkGUIExe(t, exe)
}
