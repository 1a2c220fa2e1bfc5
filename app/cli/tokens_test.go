package cli

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maxrouter/maxrouter/core/control"
	"github.com/maxrouter/maxrouter/core/control/controltest"
	"github.com/maxrouter/maxrouter/core/token"
)

func TestTokensShow(t *testing.T) {
	used := time.Date(2026, 3, 10, 9, 12, 0, 0, time.Local)
	b := &controltest.Backend{TokenList: []control.Token{
		{ID: "0a1b", Label: "laptop", Prefix: "la_sk_AbCd…", CreatedAt: march(1, 14), LastUsedAt: &used},
		{ID: "9f8e", Label: "ci", Prefix: "la_sk_XyZw…", CreatedAt: march(2, 8)},
	}}
	cfg := startDaemon(t, b)

	out, _, err := run(t, "--config", cfg, "tokens", "show", "0a1b")
	if err != nil {
		t.Fatal(err)
	}
	want := `ID         0a1b
Label      laptop
Token      la_sk_AbCd…
Created    2026-03-01 14:00
Expires    never
Last used  2026-03-10 09:12
Limits     no limits
Status     active
`
	if out != want {
		t.Errorf("show =\n%s\nwant\n%s", out, want)
	}
	out, _, _ = run(t, "--config", cfg, "tokens", "list")
	if !strings.Contains(out, "LAST USED") || !strings.Contains(out, "2026-03-10 09:12") || !strings.Contains(out, "never") {
		t.Errorf("list =\n%s\nwant a LAST USED column", out)
	}
	if _, _, err := run(t, "--config", cfg, "tokens", "show", "nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("show nope: %v, want an error naming the ID", err)
	}
}

func TestTokensShowWithoutDaemon(t *testing.T) {
	cfg, dataDir := usageSetup(t, closedAddr(t))
	s, err := token.Open(filepath.Join(dataDir, "tokens.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	secret, info, err := s.Issue("desk", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s.Check(secret)
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, "--config", cfg, "tokens", "show", info.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Label      desk", "Last used  " + time.Now().Format("2006-01-02"), "Status     active"} {
		if !strings.Contains(out, want) {
			t.Errorf("show =\n%s\nwant a line %q", out, want)
		}
	}
	if strings.Contains(out, secret) {
		t.Error("show printed the secret")
	}
}
