//go:build pkgcheck

package linux

// The installed-package check (CI, as root): installs the .deb the
// installer program built, checks the files and runs the installed binary
// the way a user and systemd would, removes the package and checks that the
// user's files survived. Run by installer/ci-check.sh:
//
//	go test -tags pkgcheck -run Installed ./linux/
//
// MAXROUTER_DIST names the directory holding the packages (default
// installer/dist).

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/installer/release"
)

func TestInstalledDeb(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the installed-package check installs a .deb: run it as root")
	}
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Fatal("the installed-package check needs dpkg")
	}
	m := meta(t)
	dist := os.Getenv("MAXROUTER_DIST")
	if dist == "" {
		dist = filepath.Join(m.Root, "installer", "dist")
	}
	deb := filepath.Join(dist, fmt.Sprintf("maxrouter_%s_amd64.deb", m.Details.Version))
	if _, err := os.Stat(deb); err != nil {
		t.Fatalf("no package to check: %v (build it with `go run .` in installer/)", err)
	}
	if installed() {
		t.Log("removing a maxrouter package left by an earlier run")
		run(t, nil, "dpkg", "-r", "maxrouter")
	}
	run(t, nil, "dpkg", "-i", deb)
	t.Cleanup(func() {
		if installed() {
			exec.Command("dpkg", "-r", "maxrouter").Run()
		}
	})

	// Every file where it belongs, with the content the installer renders.
	unit, err := Unit(BinPath)
	if err != nil {
		t.Fatal(err)
	}
	auto, err := AutostartEntry(BinPath)
	if err != nil {
		t.Fatal(err)
	}
	wantText := map[string]string{
		UnitPath:       unit,
		AutostartPath:  auto,
		DesktopPath(m): DesktopEntry(m),
	}
	listed := run(t, nil, "dpkg", "-L", "maxrouter")
	for _, p := range packagedPaths(m) {
		st, err := os.Stat(p)
		if err != nil {
			t.Errorf("installed file: %v", err)
			continue
		}
		wantMode := os.FileMode(0o644)
		if p == BinPath {
			wantMode = 0o755
		}
		if got := st.Mode().Perm(); got != wantMode {
			t.Errorf("%s: mode %v, want %v", p, got, wantMode)
		}
		if !strings.Contains("\n"+listed+"\n", "\n"+p+"\n") {
			t.Errorf("dpkg -L maxrouter does not list %s", p)
		}
		if want, ok := wantText[p]; ok {
			if got, _ := os.ReadFile(p); string(got) != want {
				t.Errorf("%s =\n%s\nwant\n%s", p, got, want)
			}
		}
	}

	// A user with a config on a free port.
	home := t.TempDir()
	port := freePort(t)
	cfgDir := filepath.Join(home, ".config", "maxrouter")
	if err := os.MkdirAll(cfgDir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(cfgDir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf("listen = \"127.0.0.1:%d\"\nnotify = false\n", port)), 0o600); err != nil {
		t.Fatal(err)
	}
	env := userEnv(home)

	if got, want := strings.TrimSpace(run(t, env, BinPath, "version")), "maxrouter "+m.Details.Version; got != want {
		t.Errorf("maxrouter version = %q, want %q", got, want)
	}
	if out := run(t, env, BinPath, "doctor"); !strings.Contains(out, "configuration: "+cfgPath) {
		t.Errorf("maxrouter doctor did not read %s:\n%s", cfgPath, out)
	}

	// The daemon, started by the installed unit's ExecStart line.
	unitText, err := os.ReadFile(UnitPath)
	if err != nil {
		t.Fatal(err)
	}
	argv := execStart(t, string(unitText))
	var logs bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, home, &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %v: %v", argv, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	stop := func() {
		select {
		case <-exited:
			return
		default:
		}
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Errorf("the daemon did not stop within 15s of SIGTERM")
		}
	}
	t.Cleanup(stop)
	health := waitHealth(t, port, exited, &logs)
	if health.Version != m.Details.Version {
		t.Errorf("/health version = %q, want %q", health.Version, m.Details.Version)
	}
	token := strings.TrimSpace(run(t, env, BinPath, "tokens", "issue", "--label", "pkgcheck"))
	if !strings.HasPrefix(token, "la_sk_") {
		t.Errorf("tokens issue printed %d characters not starting with la_sk_", len(token))
	}
	if out := run(t, env, BinPath, "doctor"); !strings.Contains(out, "daemon: running") {
		t.Errorf("maxrouter doctor does not see the running daemon:\n%s", out)
	}
	stop()
	if waitErr != nil {
		t.Errorf("the daemon did not exit cleanly on SIGTERM: %v\n%s", waitErr, logs.String())
	}

	// The user's files, before and after removing the package.
	keep := []string{cfgPath, filepath.Join(cfgDir, "tokens.json")}
	before := map[string][32]byte{}
	for _, p := range keep {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("the daemon left no %s: %v", p, err)
		}
		before[p] = sha256.Sum256(b)
	}
	run(t, nil, "dpkg", "-r", "maxrouter")
	for _, p := range packagedPaths(m) {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there after dpkg -r (err %v)", p, err)
		}
	}
	for _, p := range keep {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("the user's %s did not survive dpkg -r: %v", p, err)
		} else if sha256.Sum256(b) != before[p] {
			t.Errorf("dpkg -r changed the user's %s", p)
		}
	}
}

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

func installed() bool {
	out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", "maxrouter").Output()
	return err == nil && strings.Contains(string(out), "ok installed")
}

// packagedPaths are the files the package installs.
func packagedPaths(m release.Meta) []string {
	ps := []string{BinPath, DesktopPath(m), AutostartPath, UnitPath, DocPath}
	for _, px := range IconSizes {
		ps = append(ps, IconPath(px))
	}
	return ps
}

// userEnv is a login environment for a user whose home is home: no
// XDG_CONFIG_HOME or MAXROUTER_CONFIG, so the default config path is used,
// as under the systemd user manager.
func userEnv(home string) []string {
	env := []string{"HOME=" + home, "LANG=C.UTF-8"}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	return env
}

// run runs a command, failing the test when it fails; it returns stdout.
func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	if env != nil {
		cmd.Env = env
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// execStart splits the unit's ExecStart line into words (the packaged unit
// has only plain words).
func execStart(t *testing.T, unit string) []string {
	t.Helper()
	for _, line := range strings.Split(unit, "\n") {
		if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
			if strings.ContainsAny(v, `"'\$%`) {
				t.Fatalf("ExecStart=%s needs systemd's quoting rules; extend execStart", v)
			}
			return strings.Fields(v)
		}
	}
	t.Fatalf("no ExecStart in the unit:\n%s", unit)
	return nil
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

type healthBody struct {
	Status  string `json:"status"`
	Version string `json:"version"`
}

// waitHealth polls /health until it answers 200, the daemon exits, or 20s
// pass.
func waitHealth(t *testing.T, port int, exited <-chan struct{}, logs *bytes.Buffer) healthBody {
	t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d/health", port)
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("the daemon exited before answering /health:\n%s", logs.String())
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			var h healthBody
			derr := json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && derr == nil {
				return h
			}
			err = fmt.Errorf("status %d, decode: %v", resp.StatusCode, derr)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer from %s within 20s (%v):\n%s", url, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
