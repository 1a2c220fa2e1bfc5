//go:build linux

package credential

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The kill loop: a child process (this test binary, re-executed) refreshes
// a login against a fake token endpoint run by the parent, and the parent
// kills it with SIGKILL at a moment between the endpoint's answer and a
// while after the write-back. A fresh Open must then hold the newest pair
// the endpoint issued: the old refresh token is spent.
const (
	killChildEnv = "MAXROUTER_KILL_CHILD" // set in the child: the credential dir
	killURLEnv   = "MAXROUTER_KILL_URL"   // the token endpoint, for the child
	// killNEnv sets the number of kills (default 30), and killLastEnv the
	// latest kill after the answer (default: one and a half write-backs as
	// measured), for longer runs that compare two builds:
	// MAXROUTER_KILL_N=300 MAXROUTER_KILL_LAST=2ms go test -run TestKillDuringWriteBack -v ./core/credential
	killNEnv    = "MAXROUTER_KILL_N"
	killLastEnv = "MAXROUTER_KILL_LAST"
)

// TestKillChild is the child's body; it does nothing in a normal run.
func TestKillChild(t *testing.T) {
	dir := os.Getenv(killChildEnv)
	if dir == "" {
		t.Skip("the child of TestKillDuringWriteBack")
	}
	out := os.Stdout
	client := &http.Client{Transport: answered{http.DefaultTransport, out}}
	s, err := Open(dir, Options{
		TokenURL:   os.Getenv(killURLEnv),
		ClientID:   testClientID,
		HTTPClient: client,
		// Always due: every child refreshes the pair it finds.
		RefreshBefore: 24 * time.Hour,
		Logger:        discardLogger(),
	})
	if err != nil {
		fmt.Fprintln(out, "error", err)
		os.Exit(2)
	}
	// One refresh per line from the parent, until killed.
	for sc := bufio.NewScanner(os.Stdin); sc.Scan(); {
		if _, err := s.Token(context.Background()); err != nil {
			fmt.Fprintln(out, "error", err)
			os.Exit(2)
		}
		fmt.Fprintln(out, "saved")
	}
}

// answered tells the parent (one line on w) that the token endpoint's
// answer has arrived: from then on the new pair exists only in this
// process until it is on disk.
type answered struct {
	http.RoundTripper
	w io.Writer
}

func (a answered) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := a.RoundTripper.RoundTrip(r)
	if err == nil {
		fmt.Fprintln(a.w, "answered")
	}
	return resp, err
}

// child is one running child process and its output lines.
type child struct {
	cmd   *exec.Cmd
	stdin io.Writer
	lines chan string
}

func startChild(t *testing.T, dir, url string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildEnv+"="+dir, killURLEnv+"="+url)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stdin: stdin, lines: make(chan string, 10)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	return c
}

// refresh asks the child for one refresh.
func (c *child) refresh(t *testing.T) {
	t.Helper()
	if _, err := fmt.Fprintln(c.stdin, "refresh"); err != nil {
		c.kill()
		t.Fatalf("asking the child to refresh: %v", err)
	}
}

// wait returns the child's next line, failing the test on an error line or
// when none comes within 30s.
func (c *child) wait(t *testing.T, want string) time.Time {
	t.Helper()
	select {
	case l, ok := <-c.lines:
		if !ok || l != want {
			c.kill()
			t.Fatalf("child said %q (open %v), want %q", l, ok, want)
		}
	case <-time.After(30 * time.Second):
		c.kill()
		t.Fatalf("child did not say %q within 30s", want)
	}
	return time.Now()
}

func (c *child) kill() {
	c.cmd.Process.Kill()
	c.cmd.Wait()
}

func TestKillDuringWriteBack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts dozens of processes")
	}
	n := 30
	if v := os.Getenv(killNEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 2 {
			t.Fatalf("%s=%q: want a number of kills, at least 2", killNEnv, v)
		}
	}
	dir, path := credDir(t, nestedFile(oldAccess, oldRefresh, time.Now().Add(-time.Hour)))
	ep := newEndpoint(t, oldRefresh)
	url := ep.srv.URL + "/v1/oauth/token"
	newest := func() (access, refresh string) {
		ep.mu.Lock()
		defer ep.mu.Unlock()
		return fmt.Sprintf("sk-ant-oat01-test-new%d", ep.issued), fmt.Sprintf("sk-ant-ort01-test-new%d", ep.issued)
	}

	// Each child refreshes a few times before the one it is killed in, as
	// a daemon that has run a while would: its code is paged in. Those
	// refreshes also tell how long the write-back takes here, from the
	// answer to "saved".
	const warm = 2
	var spans []time.Duration
	start := func() (*child, time.Time) {
		c := startChild(t, dir, url)
		for range warm {
			c.refresh(t)
			at := c.wait(t, "answered")
			spans = append(spans, c.wait(t, "saved").Sub(at))
		}
		c.refresh(t)
		return c, c.wait(t, "answered")
	}
	for range 3 {
		c, _ := start()
		c.wait(t, "saved")
		c.kill()
	}
	slices.Sort(spans)
	span := spans[len(spans)/2]
	// Kills land from the moment of the answer to half a write-back
	// after it should have ended.
	last := span + span/2
	if v := os.Getenv(killLastEnv); v != "" {
		var err error
		if last, err = time.ParseDuration(v); err != nil {
			t.Fatalf("%s=%q: want a duration", killLastEnv, v)
		}
	}
	t.Logf("write-back takes %v (median of %d); killing 0..%v after the answer", span, len(spans), last)

	var survived, recovered, lostTemp int
	var lostFlight []time.Duration // when the kills that lost the pair came
	for i := range n {
		c, at := start()
		delay := last * time.Duration(i) / time.Duration(n-1)
		pause(at, delay)
		c.kill()

		access, refresh := newest()
		onDisk := strings.Contains(readFile(t, path), access)
		inTemp := false
		for _, e := range tempFiles(t, dir) {
			if b, err := os.ReadFile(e); err == nil && strings.Contains(string(b), access) {
				inTemp = true
			}
		}
		s, err := Open(dir, Options{TokenURL: url, ClientID: testClientID, HTTPClient: ep.srv.Client(), Logger: discardLogger()})
		if err != nil {
			t.Fatalf("kill %d: Open after the kill: %v", i, err)
		}
		tok, err := s.Token(t.Context())
		switch {
		case err == nil && tok.Access == access:
			if onDisk {
				survived++
			} else {
				recovered++
			}
		case inTemp:
			lostTemp++
			t.Errorf("kill %d at %v: the newest pair sat complete in a temp file and was not adopted", i, delay)
		case onDisk:
			t.Fatalf("kill %d: the file holds the newest pair but Open gives %q, %v", i, tok.Access, err)
		default:
			lostFlight = append(lostFlight, delay)
		}
		if err != nil || tok.Access != access {
			// Logged out: put the live pair back for the next round.
			writeAtomic(t, path, nestedFile(access, refresh, time.Now().Add(-time.Hour)))
		}
	}
	t.Logf("%d kills: %d survived (%d of them by adopting the temp file), %d lost with the pair in a temp file, %d lost before the pair reached the disk (killed at %v after the answer)",
		n, survived+recovered, recovered, lostTemp, len(lostFlight), lostFlight)
}

// tempFiles lists the temp files of interrupted writes of the credential
// file in dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "..credentials.json.tmp*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// pause returns delay after at. Go's timers are too coarse here (about
// 1ms), and spinning all the way takes the CPU the child needs (two cores
// are the norm in CI): it sleeps in the kernel, then spins for the rest.
func pause(at time.Time, delay time.Duration) {
	const spin = 100 * time.Microsecond
	if d := time.Until(at.Add(delay - spin)); d > 0 {
		ts := syscall.NsecToTimespec(int64(d))
		syscall.Nanosleep(&ts, nil)
	}
	for time.Since(at) < delay {
	}
}
