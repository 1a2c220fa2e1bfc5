// Package core_test holds checks that span every core package.
package core_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCoreHasNoUI fails when any package under core/ depends, directly or
// not, on the UI toolkit or on app/: core must build and run without a
// display (and with CGO_ENABLED=0).
func TestCoreHasNoUI(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/maxrouter/maxrouter/core/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 20 {
		t.Fatalf("go list found only %d packages; the check would prove nothing", len(deps))
	}
	// Module roots core must never reach: the UI toolkit, its GL bindings,
	// the notification library and the desktop shell.
	forbidden := []string{"fyne.io", "github.com/go-gl", "github.com/gen2brain/beeep", "github.com/maxrouter/maxrouter/app"}
	for _, p := range deps {
		for _, f := range forbidden {
			if p == f || strings.HasPrefix(p, f+"/") {
				t.Errorf("core depends on %s", p)
			}
		}
	}
}
