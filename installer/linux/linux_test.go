package linux

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ulikunitz/xz"

	"github.com/maxrouter/maxrouter/app/service"
	"github.com/maxrouter/maxrouter/installer/release"
)

func testMeta(t *testing.T) release.Meta {
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

// keys parses key=value lines (a unit or a desktop entry) into key → values.
func keys(text string) map[string][]string {
	out := map[string][]string{}
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			out[k] = append(out[k], v)
		}
	}
	return out
}

func TestUnit(t *testing.T) {
	unit, err := Unit(BinPath)
	if err != nil {
		t.Fatal(err)
	}
	got := keys(unit)
	for k, want := range map[string]string{
		"ExecStart":                 "/usr/bin/maxrouter serve",
		"WantedBy":                  "default.target",
		"ConditionFileIsExecutable": "/usr/bin/maxrouter",
		"Restart":                   "on-failure",
		"Description":               service.Description,
	} {
		if v := got[k]; len(v) != 1 || v[0] != want {
			t.Errorf("%s = %q, want [%q]", k, v, want)
		}
	}
	// Everything but --config is what app/service writes for one user.
	m, err := service.New(service.Options{Executable: BinPath, ConfigPath: "/home/ann/.config/maxrouter/config.toml"})
	if err != nil {
		t.Fatal(err)
	}
	user, err := m.Unit()
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(user, " --config /home/ann/.config/maxrouter/config.toml", "", 1); unit != want {
		t.Errorf("packaged unit\n%s\ndiffers from app/service's beyond --config:\n%s", unit, want)
	}
}

func TestAutostartEntry(t *testing.T) {
	entry, err := AutostartEntry(BinPath)
	if err != nil {
		t.Fatal(err)
	}
	got := keys(entry)
	for k, want := range map[string]string{"Exec": BinPath, "Type": "Application", "Icon": IconName} {
		if v := got[k]; len(v) != 1 || v[0] != want {
			t.Errorf("%s = %q, want [%q]", k, v, want)
		}
	}
	if !strings.HasPrefix(entry, "[Desktop Entry]\n") {
		t.Errorf("entry does not start with [Desktop Entry]:\n%s", entry)
	}
}

func TestDesktopEntry(t *testing.T) {
	m := testMeta(t)
	entry := DesktopEntry(m)
	got := keys(entry)
	want := map[string]string{
		"Type":          "Application",
		"Name":          m.Details.Name,
		"Exec":          "maxrouter",
		"TryExec":       BinPath,
		"Icon":          IconName,
		"Terminal":      "false",
		"Categories":    strings.Join(m.LinuxAndBSD.Categories, ";") + ";",
		"Keywords":      strings.Join(m.LinuxAndBSD.Keywords, ";") + ";",
		"StartupNotify": "false",
		"GenericName":   m.LinuxAndBSD.GenericName,
	}
	for k, w := range want {
		if v := got[k]; len(v) != 1 || v[0] != w {
			t.Errorf("%s = %q, want [%q]", k, v, w)
		}
	}
	if p := DesktopPath(m); p != "/usr/share/applications/io.maxrouter.app.desktop" {
		t.Errorf("DesktopPath = %s", p)
	}
	if v, err := exec.LookPath("desktop-file-validate"); err == nil {
		f := filepath.Join(t.TempDir(), m.Details.ID+".desktop")
		os.WriteFile(f, []byte(entry), 0o644)
		out, err := exec.Command(v, f).CombinedOutput()
		if err != nil {
			t.Errorf("desktop-file-validate: %v\n%s", err, out)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			// Hints (two main categories from FyneApp.toml) are advice.
			if line != "" && !strings.Contains(line, ": hint: ") {
				t.Errorf("desktop-file-validate: %s", line)
			}
		}
	}
}

// expected is the package's file list: path → mode.
func expected(m release.Meta) map[string]os.FileMode {
	want := map[string]os.FileMode{
		BinPath: 0o755, DesktopPath(m): 0o644, AutostartPath: 0o644, UnitPath: 0o644, DocPath: 0o644,
	}
	for _, px := range IconSizes {
		want[IconPath(px)] = 0o644
	}
	return want
}

func TestBuild(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "")
	m := testMeta(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "maxrouter")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho stand-in\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	out := filepath.Join(dir, "out")
	got, err := Build(m, Options{Binary: bin, Arch: "amd64", OutDir: out, StageDir: filepath.Join(dir, "stage"), MTime: mtime})
	if err != nil {
		t.Fatal(err)
	}
	v := m.Details.Version
	want := []string{
		filepath.Join(out, "maxrouter_"+v+"_amd64.deb"),
		filepath.Join(out, "maxrouter-"+v+"-1.x86_64.rpm"),
		filepath.Join(out, "maxrouter_"+v+"_linux_amd64.tar.xz"),
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Build = %v, want %v", got, want)
	}
	files := expected(m)

	t.Run("tar.xz", func(t *testing.T) {
		f, err := os.Open(want[2])
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		zr, err := xz.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		checkTar(t, zr, files, "", mtime)
	})

	t.Run("deb", func(t *testing.T) {
		members := readAr(t, want[0])
		if string(members["debian-binary"]) != "2.0\n" {
			t.Errorf("debian-binary = %q", members["debian-binary"])
		}
		control := gunzipTar(t, members["control.tar.gz"])
		ctl := string(control["./control"])
		for _, line := range []string{"Package: maxrouter", "Version: " + v, "Architecture: amd64", "Depends: libc6, libgl1, libx11-6"} {
			if !strings.Contains(ctl, line+"\n") {
				t.Errorf("control has no line %q:\n%s", line, ctl)
			}
		}
		for name := range control {
			if slices.Contains([]string{"./preinst", "./postinst", "./prerm", "./postrm"}, name) {
				t.Errorf("the package has a maintainer script %s", name)
			}
		}
		data, ok := members["data.tar.gz"]
		if !ok {
			t.Fatalf("no data.tar.gz among %v", slices.Sorted(func(yield func(string) bool) {
				for k := range members {
					if !yield(k) {
						return
					}
				}
			}))
		}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		checkTar(t, zr, files, ".", mtime)
		// No conffiles: removing the package removes the autostart entry.
		if c, ok := control["./conffiles"]; ok && len(bytes.TrimSpace(c)) > 0 {
			t.Errorf("conffiles = %q, want none", c)
		}
	})

	t.Run("rpm", func(t *testing.T) {
		b, err := os.ReadFile(want[1])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte{0xed, 0xab, 0xee, 0xdb}) {
			t.Fatalf("not an rpm: % x", b[:4])
		}
		rpm, err := exec.LookPath("rpm")
		if err != nil {
			t.Skip("rpm is not installed; checked the lead only")
		}
		out, err := exec.Command(rpm, "-qp", "--qf", "[%{FILEMODES:perms} %{FILENAMES}\n]", want[1]).Output()
		if err != nil {
			t.Fatal(err)
		}
		gotFiles := map[string]bool{}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			perms, name, _ := strings.Cut(sc.Text(), " ")
			if strings.HasPrefix(perms, "-") {
				gotFiles[name] = true
			}
		}
		for p := range files {
			if !gotFiles[p] {
				t.Errorf("the rpm has no %s", p)
			}
		}
	})
}

// checkTar checks that r holds exactly files (under prefix) as regular
// files with their modes and mtime.
func checkTar(t *testing.T, r io.Reader, files map[string]os.FileMode, prefix string, mtime time.Time) {
	t.Helper()
	tr := tar.NewReader(r)
	seen := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeDir {
			continue
		}
		name := strings.TrimPrefix(h.Name, prefix)
		if !strings.HasPrefix(name, "/") {
			name = "/" + name
		}
		mode, ok := files[name]
		switch {
		case !ok:
			t.Errorf("unexpected file %s", h.Name)
		case h.Typeflag != tar.TypeReg:
			t.Errorf("%s: type %c, want a regular file", name, h.Typeflag)
		case os.FileMode(h.Mode).Perm() != mode:
			t.Errorf("%s: mode %v, want %v", name, os.FileMode(h.Mode).Perm(), mode)
		case h.Uid != 0 || h.Gid != 0:
			t.Errorf("%s: owner %d:%d, want root", name, h.Uid, h.Gid)
		case !h.ModTime.Equal(mtime):
			t.Errorf("%s: mtime %v, want %v", name, h.ModTime, mtime)
		}
		seen[name] = true
	}
	for p := range files {
		if !seen[p] {
			t.Errorf("missing %s", p)
		}
	}
}

// readAr reads the members of an ar archive (a .deb).
func readAr(t *testing.T, path string) map[string][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("!<arch>\n")) {
		t.Fatalf("%s is not an ar archive", path)
	}
	out := map[string][]byte{}
	for rest := b[8:]; len(rest) > 0; {
		if len(rest) < 60 {
			t.Fatalf("truncated ar header")
		}
		name := strings.TrimRight(strings.TrimSpace(string(rest[:16])), "/")
		size, err := strconv.Atoi(strings.TrimSpace(string(rest[48:58])))
		if err != nil || 60+size > len(rest) {
			t.Fatalf("bad ar member size %q", rest[48:58])
		}
		out[name] = rest[60 : 60+size]
		rest = rest[60+size+size%2:]
	}
	return out
}

// gunzipTar reads a .tar.gz into name → content.
func gunzipTar(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(fmt.Errorf("%s: %w", h.Name, err))
		}
		out[h.Name] = b
	}
}
