package control

import "testing"

func TestIsLoopbackHost(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"LOCALHOST", true},
		{"localhost.", true},
		{"localhost:8787", true},
		{"127.0.0.1", true},
		{"127.0.0.1:8787", true},
		{"127.1.2.3:80", true},
		{"::1", true},
		{"[::1]", true},
		{"[::1]:8787", true},
		{"", false},
		{"evil.example", false},
		{"evil.example:8787", false},
		{"localhost.evil.example", false},
		{"evil.localhost", false},
		{"127.0.0.1.nip.io", false},
		{"0.0.0.0:8787", false},
		{"192.168.1.5:8787", false},
		{"[::]:8787", false},
		{"[fe80::1]:8787", false},
		{"127.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			if got := IsLoopbackHost(tt.host); got != tt.want {
				t.Errorf("IsLoopbackHost(%q) = %v, want %v", tt.host, got, tt.want)
			}
		})
	}
}

func TestBaseURL(t *testing.T) {
	tests := []struct{ listen, want string }{
		{"127.0.0.1:8787", "http://127.0.0.1:8787"},
		{"0.0.0.0:9000", "http://127.0.0.1:9000"},
		{"[::]:9000", "http://127.0.0.1:9000"},
		{":9000", "http://127.0.0.1:9000"},
		{"localhost:8787", "http://localhost:8787"},
		{"[::1]:8787", "http://[::1]:8787"},
		{"no port", ""},
	}
	for _, tt := range tests {
		if got := BaseURL(tt.listen); got != tt.want {
			t.Errorf("BaseURL(%q) = %q, want %q", tt.listen, got, tt.want)
		}
	}
}
