package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestEncodedDotSegmentsAreRefused: a path that the upstream could decode
// or normalise into something outside /v1 must not leave with the
// account's token (the fault run reached /api/oauth/profile through
// /v1/%2e%2e/).
func TestEncodedDotSegmentsAreRefused(t *testing.T) {
	e := setup(t, "priority", "a")
	refused := []string{
		"/v1/%2e%2e/api/oauth/profile",
		"/v1/%2E%2E/api/oauth/profile",
		"/v1/.%2e/api/oauth/profile",
		"/v1/%2e./api/oauth/profile",
		"/v1/messages/%2e%2e/%2e%2e/api/oauth/profile",
		"/v1/..%2fapi%2foauth%2fprofile",
		"/v1/..%2Fapi%2Foauth%2Fprofile",
		"/v1/messages%2f..%2f..%2fapi%2foauth%2fprofile",
		"/v1/%252e%252e/api/oauth/profile",
		"/v1/%25252e%25252e/api/oauth/profile",
		"/v1/..%5capi%5coauth%5cprofile",
		"/v1/..%5Capi%5Coauth%5Cprofile",
		"/v1/..\\api\\oauth\\profile",
		"/v1/messages/../../api/oauth/profile",
		"/v1/./messages",
		"/v1/messages/..",
		"/v1/%6d%65ssages",
		"/v1/messages%00",
		"/v1/messages;/../../api",
	}
	for _, p := range refused {
		t.Run(p, func(t *testing.T) {
			resp := e.do(t, "POST", p, msgBody)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400", resp.StatusCode)
			}
			if d := errorOf(t, resp); d.Type != "invalid_request_error" || !strings.Contains(d.Message, "not forwarded") {
				t.Errorf("error = %+v, want invalid_request_error saying the path is not forwarded", d)
			}
		})
	}
	if got := e.fake.Received(); len(got) != 0 {
		t.Fatalf("upstream got %d requests, first to %q: want none", len(got), got[0].Path)
	}
	for _, p := range []string{"/v1/messages?beta=true", "/v1/messages/count_tokens", "/v1/models/claude-sonnet-4-5-20250929", "/v1/messages/batches/msgbatch_01HkcTjaV5uDC8jWR4ZsDV8d"} {
		resp := e.do(t, "POST", p, msgBody)
		if resp.StatusCode == http.StatusBadRequest {
			t.Errorf("%s refused: %+v", p, errorOf(t, resp))
		}
	}
	if got := len(e.fake.Received()); got != 4 {
		t.Errorf("upstream got %d requests, want the 4 plain paths", got)
	}
}

// do sends a request for a path exactly as written (escapes included).
func (e *env) do(t *testing.T, method, rawPath, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, e.proxy.URL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	path, query, _ := strings.Cut(rawPath, "?")
	req.URL.Opaque = "//" + req.URL.Host + path // sent as it is
	req.URL.RawQuery = query
	req.Header.Set("Authorization", "Bearer "+e.secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// BenchmarkCheckPath is the cost the check adds to every request.
func BenchmarkCheckPath(b *testing.B) {
	u, _ := url.Parse("http://127.0.0.1:8787/v1/messages?beta=true")
	b.ReportAllocs()
	for b.Loop() {
		if checkPath(u) != "" {
			b.Fatal("refused")
		}
	}
}
