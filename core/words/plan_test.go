package words

import "testing"

func TestPlan(t *testing.T) {
	tests := []struct{ sub, tier, want string }{
		{"max", "default_claude_max_20x", "Max 20x"},
		{"max", "default_claude_max_5x", "Max 5x"},
		{"", "default_claude_max_5x", "Max 5x"},
		{"max", "", "Max"},
		{"pro", "default_claude_pro", "Pro"},
		{"team", "", "Team"},
		{"", "", ""},
		{"pro", "default_claude_max_20x", "Pro"}, // the type wins over a contradicting tier
		{"", "default_claude_pro", "Pro"},
		{"Team", "", "Team"},
		{"enterprise", "", "Enterprise"},
		{"student", "", "Student"},
		{"", "something_new", ""},
	}
	for _, tt := range tests {
		if got := Plan(tt.sub, tt.tier); got != tt.want {
			t.Errorf("Plan(%q, %q) = %q, want %q", tt.sub, tt.tier, got, tt.want)
		}
	}
}
