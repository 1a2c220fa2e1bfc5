package macos

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/maxrouter/maxrouter/app/autostart"
	"github.com/maxrouter/maxrouter/app/service"
	"github.com/maxrouter/maxrouter/installer/release"
)

var update = flag.Bool("update", false, "rewrite maxrouter.plist from app/service's code")

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

func TestInfoPlist(t *testing.T) {
	m := meta(t)
	text, err := InfoPlist(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parsePlist([]byte(text))
	if err != nil {
		t.Fatalf("Info.plist does not parse: %v\n%s", err, text)
	}
	want := map[string]any{
		"CFBundleIdentifier":         m.Details.ID,
		"CFBundleName":               m.Details.Name,
		"CFBundleExecutable":         Executable,
		"CFBundleIconFile":           IconFile,
		"CFBundlePackageType":        "APPL",
		"CFBundleShortVersionString": m.Details.Version,
		"CFBundleVersion":            m.Details.Version,
		"LSUIElement":                true,
		"NSHighResolutionCapable":    true,
	}
	for k, w := range want {
		if g := got[k]; g != w {
			t.Errorf("Info.plist %s = %#v, want %#v", k, g, w)
		}
	}
}

func TestInfoPlistEscapes(t *testing.T) {
	m := meta(t)
	m.Details.Name = `Max <&> "Router"`
	text, err := InfoPlist(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parsePlist([]byte(text))
	if err != nil {
		t.Fatalf("Info.plist does not parse: %v\n%s", err, text)
	}
	if g := got["CFBundleName"]; g != m.Details.Name {
		t.Errorf("CFBundleName = %#v, want %#v", g, m.Details.Name)
	}
}

func TestICNS(t *testing.T) {
	m := meta(t)
	img, err := release.LoadIcon(m.IconPath())
	if err != nil {
		t.Fatal(err)
	}
	data, err := ICNS(img)
	if err != nil {
		t.Fatal(err)
	}
	if string(data[:4]) != "icns" || int(binary.BigEndian.Uint32(data[4:8])) != len(data) {
		t.Fatalf("header %q, length %d, want icns and %d", data[:4], binary.BigEndian.Uint32(data[4:8]), len(data))
	}
	var got []string
	for rest := data[8:]; len(rest) > 0; {
		if len(rest) < 8 {
			t.Fatalf("truncated entry: %d bytes left", len(rest))
		}
		kind, n := string(rest[:4]), int(binary.BigEndian.Uint32(rest[4:8]))
		if n < 8 || n > len(rest) {
			t.Fatalf("entry %s: length %d of %d left", kind, n, len(rest))
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(rest[8:n]))
		if err != nil {
			t.Fatalf("entry %s: %v", kind, err)
		}
		got = append(got, fmt.Sprintf("%s:%dx%d", kind, cfg.Width, cfg.Height))
		rest = rest[n:]
	}
	var want []string
	for _, e := range icnsTypes {
		want = append(want, fmt.Sprintf("%s:%dx%d", e.kind, e.px, e.px))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("entries %v, want %v", got, want)
	}
}

func TestBundle(t *testing.T) {
	m := meta(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "maxrouter-darwin")
	if err := os.WriteFile(bin, []byte("not really a Mach-O binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	app, err := Bundle(m, bin, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := app, filepath.Join(dir, "MaxRouter.app"); got != want {
		t.Errorf("bundle at %s, want %s", got, want)
	}
	info, err := os.ReadFile(filepath.Join(app, "Contents", "Info.plist"))
	if err != nil {
		t.Fatal(err)
	}
	plist, err := parsePlist(info)
	if err != nil {
		t.Fatal(err)
	}
	// What Info.plist names must be where it says.
	exe := filepath.Join(app, "Contents", "MacOS", plist["CFBundleExecutable"].(string))
	if st, err := os.Stat(exe); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("executable %s: %v, %v", exe, st, err)
	} else if b, _ := os.ReadFile(exe); string(b) != "not really a Mach-O binary" {
		t.Errorf("executable holds %q", b)
	}
	if _, err := os.Stat(filepath.Join(app, "Contents", "Resources", plist["CFBundleIconFile"].(string))); err != nil {
		t.Errorf("icon: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(app, "Contents", "PkgInfo")); err != nil || string(b) != "APPL????" {
		t.Errorf("PkgInfo = %q, %v", b, err)
	}
	if got, want := ExecutablePath(m, "/Applications"), "/Applications/MaxRouter.app/Contents/MacOS/maxrouter"; got != want {
		t.Errorf("ExecutablePath = %s, want %s", got, want)
	}
}

// The reference user of maxrouter.plist: "you", with the app in
// /Applications and the default config path (os.UserConfigDir on macOS).
const (
	refHome   = "/Users/you"
	refConfig = refHome + "/Library/Application Support/maxrouter/config.toml"
)

// TestDaemonLaunchAgent renders the daemon's LaunchAgent with app/service's
// own code for the installed app and checks it against maxrouter.plist, the
// paths in the bundle and what Manager reports.
func TestDaemonLaunchAgent(t *testing.T) {
	m := meta(t)
	exe := ExecutablePath(m, "/Applications")
	mgr, err := service.New(service.Options{Executable: exe, ConfigPath: refConfig})
	if err != nil {
		t.Fatal(err)
	}
	args := serviceArgs(t, mgr)
	call := fmt.Sprintf("launchdPlist(%q, %q, %s, %q)", service.Name, exe, goStrings(args), mgr.LogPath())
	got := renderFromSource(t, filepath.Join(m.Root, "app", "service", "unit.go"), "service", call)

	if *update {
		if err := os.WriteFile("maxrouter.plist", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("maxrouter.plist")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("app/service now writes\n%s\nmaxrouter.plist holds\n%s\n(go test ./macos -run DaemonLaunchAgent -update)", got, want)
	}
	plist, err := parsePlist([]byte(got))
	if err != nil {
		t.Fatalf("the LaunchAgent does not parse: %v", err)
	}
	if plist["Label"] != service.Name {
		t.Errorf("Label = %#v, want %q", plist["Label"], service.Name)
	}
	prog, _ := plist["ProgramArguments"].([]any)
	if len(prog) < 2 || prog[0] != exe || prog[1] != "serve" {
		t.Errorf("ProgramArguments = %#v, want [%s serve ...]", prog, exe)
	}
	for _, k := range []string{"StandardOutPath", "StandardErrorPath"} {
		if plist[k] != mgr.LogPath() {
			t.Errorf("%s = %#v, want %s", k, plist[k], mgr.LogPath())
		}
	}
	for _, k := range []string{"RunAtLoad", "KeepAlive"} {
		if plist[k] != true {
			t.Errorf("%s = %#v, want true", k, plist[k])
		}
	}
}

// TestTrayLaunchAgent renders the tray's login item with app/autostart's
// code and checks that it starts the bundle's executable.
func TestTrayLaunchAgent(t *testing.T) {
	m := meta(t)
	exe := ExecutablePath(m, "/Applications")
	got := renderFromSource(t, filepath.Join(m.Root, "app", "autostart", "entry.go"), "autostart", fmt.Sprintf("launchAgent(%q)", exe))
	plist, err := parsePlist([]byte(got))
	if err != nil {
		t.Fatalf("the tray LaunchAgent does not parse: %v\n%s", err, got)
	}
	if plist["Label"] != autostart.Label {
		t.Errorf("Label = %#v, want %q", plist["Label"], autostart.Label)
	}
	if prog, _ := plist["ProgramArguments"].([]any); len(prog) != 1 || prog[0] != exe {
		t.Errorf("ProgramArguments = %#v, want [%s]", plist["ProgramArguments"], exe)
	}
}

// serviceArgs are the daemon's arguments as Manager passes them, read from
// the ExecStart line of the systemd unit it renders on Linux (the same
// args() feed the LaunchAgent on macOS).
func serviceArgs(t *testing.T, mgr *service.Manager) []string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("reads the arguments from the systemd unit Manager renders on Linux")
	}
	unit, err := mgr.Unit()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(unit, "\n") {
		if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
			words := systemdWords(t, v)
			return words[1:]
		}
	}
	t.Fatalf("no ExecStart in\n%s", unit)
	return nil
}

// systemdWords splits an ExecStart value whose words may be double-quoted
// (as app/service quotes paths with spaces).
func systemdWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		if s[0] != '"' {
			w, rest, _ := strings.Cut(s, " ")
			words, s = append(words, w), rest
			continue
		}
		var b strings.Builder
		i := 1
		for ; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
			}
			b.WriteByte(s[i])
		}
		if i == len(s) {
			t.Fatalf("unterminated quote in %q", s)
		}
		words, s = append(words, b.String()), s[i+1:]
	}
	return words
}

func goStrings(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return "[]string{" + strings.Join(q, ", ") + "}"
}

// renderFromSource evaluates call, a Go expression of package pkg, with the
// pure rendering code in src (a file importing only the standard library).
// The macOS files cannot be rendered by the app's packages on Linux (their
// Unit and Enable are per-OS), so this runs their own source here instead.
func renderFromSource(t *testing.T, src, pkg, call string) string {
	t.Helper()
	code, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":      "module render\n\ngo 1.26\n",
		"r/source.go": string(code),
		"r/render.go": "package " + pkg + "\n\n// Render is the expression under test.\nfunc Render() string { return " + call + " }\n",
		"main.go":     "package main\n\nimport (\n\t\"fmt\"\n\n\tr \"render/r\"\n)\n\nfunc main() { fmt.Print(r.Render()) }\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("rendering %s with %s: %v\n%s(%s must stay pure: standard library only)", call, src, err, stderr.String(), src)
	}
	return string(out)
}

// parsePlist decodes an XML property list whose root is a dict into Go
// values: map[string]any, []any, string, bool, int64.
func parsePlist(data []byte) (map[string]any, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("no <plist>: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local != "plist" {
				return nil, fmt.Errorf("root element <%s>, want <plist>", se.Name.Local)
			}
			break
		}
	}
	v, err := plistValue(d)
	if err != nil {
		return nil, err
	}
	dict, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("plist root is %T, want a dict", v)
	}
	return dict, nil
}

var errEnd = errors.New("end of container")

// plistValue reads the next value; errEnd at the container's end tag.
func plistValue(d *xml.Decoder) (any, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.EndElement:
			return nil, errEnd
		case xml.StartElement:
			switch tok.Name.Local {
			case "dict":
				m := map[string]any{}
				for {
					k, err := plistValue(d)
					if errors.Is(err, errEnd) {
						return m, nil
					}
					if err != nil {
						return nil, err
					}
					key, ok := k.(plistKey)
					if !ok {
						return nil, fmt.Errorf("dict entry %#v is not a <key>", k)
					}
					v, err := plistValue(d)
					if err != nil {
						return nil, fmt.Errorf("key %s: %w", key, err)
					}
					if _, dup := m[string(key)]; dup {
						return nil, fmt.Errorf("key %s appears twice", key)
					}
					m[string(key)] = v
				}
			case "array":
				var a []any
				for {
					v, err := plistValue(d)
					if errors.Is(err, errEnd) {
						return a, nil
					}
					if err != nil {
						return nil, err
					}
					a = append(a, v)
				}
			case "key", "string", "integer":
				var s string
				if err := d.DecodeElement(&s, &tok); err != nil {
					return nil, err
				}
				switch tok.Name.Local {
				case "key":
					return plistKey(s), nil
				case "integer":
					return strconv.ParseInt(strings.TrimSpace(s), 10, 64)
				}
				return s, nil
			case "true", "false":
				if err := d.Skip(); err != nil {
					return nil, err
				}
				return tok.Name.Local == "true", nil
			default:
				return nil, fmt.Errorf("unsupported plist element <%s>", tok.Name.Local)
			}
		}
	}
}

type plistKey string
