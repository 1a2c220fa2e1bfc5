package anthropictest

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/wait"
)

func post(ctx context.Context, t *testing.T, url, token, body string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	return http.DefaultClient.Do(req)
}

func TestRateLimitedFor(t *testing.T) {
	f, srv := New(t)
	now := time.Unix(1_800_000_000, 0)
	f.Now = func() time.Time { return now }
	f.On("spent", RateLimitedFor(3*time.Second))
	for i := range 2 {
		reset := unix(now.Add(3 * time.Second))
		resp, err := post(t.Context(), t, srv.URL+"/v1/messages", "spent", `{"model":"claude-sonnet-4-5"}`)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got, want := resp.StatusCode, 429; got != want {
			t.Fatalf("request %d: status: got %d, want %d", i, got, want)
		}
		for k, want := range map[string]string{
			"anthropic-ratelimit-unified-status":   "rejected",
			"anthropic-ratelimit-unified-reset":    reset,
			"anthropic-ratelimit-unified-5h-reset": reset,
			"retry-after":                          "3",
		} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("request %d: %s: got %q, want %q", i, k, got, want)
			}
		}
		now = now.Add(10 * time.Second) // the next answer's reset moves with the clock
	}
}

func TestReset(t *testing.T) {
	f, srv := New(t)
	f.On("dead", Reset)
	resp, err := post(t.Context(), t, srv.URL+"/v1/messages", "dead", `{}`)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got status %d, want a connection error", resp.StatusCode)
	}
	if got, want := len(f.Received()), 1; got != want {
		t.Errorf("requests seen: got %d, want %d", got, want)
	}
}

func TestSilentAfterFirstEvent(t *testing.T) {
	f, srv := New(t)
	f.On("silent", SilentAfterFirstEvent)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	resp, err := post(ctx, t, srv.URL+"/v1/messages", "silent", `{"stream":true}`)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got, want := resp.StatusCode, 200; got != want {
		t.Fatalf("status: got %d, want %d", got, want)
	}
	if got, want := resp.Header.Get("Content-Type"), "text/event-stream"; got != want {
		t.Errorf("content type: got %q, want %q", got, want)
	}
	br := bufio.NewReader(resp.Body)
	var first []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the first event: %v", err)
		}
		if line == "\n" {
			break
		}
		first = append(first, line)
	}
	if len(first) != 2 || first[0] != "event: message_start\n" || !strings.Contains(first[1], `"type":"message_start"`) {
		t.Errorf("first event: got %q, want message_start", first)
	}
	cancel() // the client gives up: the stream ends without another byte
	rest, err := io.ReadAll(br)
	if len(rest) != 0 || err == nil {
		t.Errorf("after the first event: got %q, %v; want nothing and an error", rest, err)
	}
}

func TestTokenEndpoint(t *testing.T) {
	e := &TokenEndpoint{Access: "sk-ant-oat01-new", ExpiresIn: time.Hour}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	tests := []struct {
		name, body string
		want       int
		wantBody   string
	}{
		{"refresh grant", `{"grant_type":"refresh_token","refresh_token":"sk-ant-ort01-x","client_id":"c"}`, 200, `"access_token":"sk-ant-oat01-new"`},
		{"no refresh token", `{"grant_type":"refresh_token","client_id":"c"}`, 400, `"error":"invalid_request"`},
		{"other grant", `{"grant_type":"authorization_code","refresh_token":"r","client_id":"c"}`, 400, `"error":"invalid_request"`},
		{"not JSON", `grant_type=refresh_token`, 400, `"error":"invalid_request"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := post(t.Context(), t, srv.URL, "", tt.body)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want || !strings.Contains(string(b), tt.wantBody) {
				t.Errorf("got %d %s, want %d with %s", resp.StatusCode, b, tt.want, tt.wantBody)
			}
			if tt.want == 200 && !strings.Contains(string(b), `"expires_in":3600`) {
				t.Errorf("got %s, want expires_in 3600", b)
			}
		})
	}
	if got, _ := e.Requests(); got != len(tests) {
		t.Errorf("requests: got %d, want %d", got, len(tests))
	}
}

func TestTokenEndpointHang(t *testing.T) {
	e := &TokenEndpoint{Hang: true}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		resp, err := post(ctx, t, srv.URL, "", `{"grant_type":"refresh_token","refresh_token":"r","client_id":"c"}`)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	wait.For(t, "the endpoint holds the request", func() bool { _, w := e.Requests(); return w == 1 })
	select {
	case err := <-done:
		t.Fatalf("the request ended while the endpoint hangs: %v", err)
	default:
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want the client's cancellation", err)
	}
	wait.For(t, "the endpoint lets go", func() bool { _, w := e.Requests(); return w == 0 })
	if got, _ := e.Requests(); got != 1 {
		t.Errorf("requests: got %d, want 1", got)
	}
}
