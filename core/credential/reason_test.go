package credential

import (
	"errors"
	"fmt"
	"testing"
)

func TestReason(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("refreshing token for /home/ana/.claude-x: %w", errors.New("can't reach the token endpoint (h): refused")), "can't reach the token endpoint (h): refused"},
		{errors.New("no credentials found in /x"), "no credentials found in /x"},
		{errors.New("refreshing token for nothing"), "refreshing token for nothing"},
	} {
		if got := Reason(tt.err); got != tt.want {
			t.Errorf("Reason(%q) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
