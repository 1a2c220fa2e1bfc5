package words

import (
	"testing"

	"github.com/maxrouter/maxrouter/core/config"
)

func TestStrategy(t *testing.T) {
	tests := []struct{ value, want string }{
		{"round-robin", "Round-robin"},
		{"priority", "Priority"},
		{"least-used", "Least used"},
		{"headroom", "Most headroom"},
		{"fastest", "fastest"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Strategy(tt.value); got != tt.want {
			t.Errorf("Strategy(%q) = %q, want %q", tt.value, got, tt.want)
		}
	}
	// Every strategy the configuration accepts has a name.
	for _, v := range config.Strategies {
		if Strategy(v) == v {
			t.Errorf("Strategy(%q) has no name", v)
		}
	}
}
