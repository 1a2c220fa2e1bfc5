//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package credential

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/internal/flock"
)

// TestTwoProcessesRefreshOneLoginOnce runs two Sources on one credential
// directory, as two MaxRouter daemons with different configs would. The
// fake endpoint spends the refresh token on the first request and holds
// its answer until the second request has been turned away, the worst
// interleaving: without the directory lock the second source sees
// invalid_grant while the file still holds the spent pair, and reports
// that the account needs a new login although the first one is fine.
func TestTwoProcessesRefreshOneLoginOnce(t *testing.T) {
	clk := newClock()
	dir, path := credDir(t, nestedFile(oldAccess, oldRefresh, clk.Now().Add(time.Minute)))

	var (
		calls     atomic.Int32
		mu        sync.Mutex
		live      = map[string]bool{oldRefresh: true}
		turned    = make(chan struct{})
		turnedOne sync.Once
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var body struct {
			RefreshToken string `json:"refresh_token"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("decoding request: %v", err)
		}
		mu.Lock()
		won := live[body.RefreshToken]
		delete(live, body.RefreshToken)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if !won {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_grant","error_description":"Refresh token not found or invalid"}`)
			turnedOne.Do(func() { close(turned) })
			return
		}
		select {
		case <-turned:
			time.Sleep(100 * time.Millisecond) // let the loser act on its answer
		case <-time.After(300 * time.Millisecond):
		}
		fmt.Fprintf(w, `{"access_token":"sk-ant-oat01-test-new1","refresh_token":"sk-ant-ort01-test-new1","expires_in":%d}`, int(lifetime/time.Second))
	}))
	defer srv.Close()

	logs := &logBuf{}
	opts := Options{TokenURL: srv.URL + "/v1/oauth/token", ClientID: testClientID, HTTPClient: srv.Client(), Now: clk.Now}
	var srcs [2]*Source
	for i := range srcs {
		o := opts
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
		s, err := Open(dir, o)
		if err != nil {
			t.Fatal(err)
		}
		srcs[i] = s
	}

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var toks [2]Token
	var errs [2]error
	for i, s := range srcs {
		wg.Go(func() {
			if i == 1 {
				time.Sleep(20 * time.Millisecond) // the first one's request goes out first
			}
			toks[i], errs[i] = s.Token(ctx)
		})
	}
	wg.Wait()

	for i := range srcs {
		if errs[i] != nil || toks[i].Access != "sk-ant-oat01-test-new1" {
			t.Errorf("source %d: got %q, %v; want sk-ant-oat01-test-new1", i, toks[i].Access, errs[i])
		}
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("token endpoint called %d times, want 1 (the second process must read the first one's pair)", got)
	}
	checkFile(t, path, "sk-ant-oat01-test-new1", "sk-ant-ort01-test-new1", clk.Now().Add(lifetime))
	logs.checkNoSecrets(t)
}

// TestLeftoverInUseIsLeftAlone: a temp file that a write in progress holds
// locked, or any temp file while another MaxRouter process holds the
// directory's lock (it is refreshing), is neither taken up nor removed.
func TestLeftoverInUseIsLeftAlone(t *testing.T) {
	tests := []struct {
		name string
		hold func(t *testing.T, dir, temp string) (release func())
	}{
		{"temp file locked by its writer", func(t *testing.T, dir, temp string) func() {
			f, err := os.Open(temp)
			if err != nil {
				t.Fatal(err)
			}
			if err := flock.TryLockFile(f); err != nil {
				t.Fatal(err)
			}
			return func() { f.Close() }
		}},
		{"directory locked by a refresh", func(t *testing.T, dir, temp string) func() {
			unlock, err := flock.TryLock(dir)
			if err != nil {
				t.Fatal(err)
			}
			return unlock
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			fileExp := clk.Now().Add(time.Hour)
			dir, path := credDir(t, nestedFile(oldAccess, oldRefresh, fileExp))
			temp := leftover(t, dir, "..credentials.json.tmp3", leftoverFile(leftAccess, leftRefresh, clk.Now().Add(lifetime)), true)
			release := tt.hold(t, dir, temp)
			defer release()

			s, err := Open(dir, Options{Now: clk.Now, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Reload(); err != nil {
				t.Fatal(err)
			}
			if got := s.Info().ExpiresAt; !got.Equal(fileExp) {
				t.Errorf("expiry = %v, want the file's %v", got, fileExp)
			}
			checkFile(t, path, oldAccess, oldRefresh, fileExp)
			if _, err := os.Stat(temp); err != nil {
				t.Errorf("the temp file in use was removed: %v", err)
			}

			// Once released, it is taken up.
			release()
			if err := s.Reload(); err != nil {
				t.Fatal(err)
			}
			if got := s.Info().ExpiresAt; !got.Equal(clk.Now().Add(lifetime)) {
				t.Errorf("after release: expiry = %v, want the temp file's", got)
			}
		})
	}
}
