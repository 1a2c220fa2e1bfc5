package words

import (
	"math"
	"testing"
)

func TestApprox(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{
		{0, "0"},
		{999, "999"},
		{1000, "1.0k"},
		{12_345, "12.3k"},
		{99_949, "99.9k"},
		{99_950, "100k"},
		{456_000, "456k"},
		{999_499, "999k"},
		{999_500, "1.0M"},
		{4_500_000, "4.5M"},
		{1_200_000_000, "1.2B"},
		{2_500_000_000_000, "2500B"},
		{-1500, "-1.5k"},
		{math.MinInt64, "-9223372037B"},
	} {
		if got := Approx(tt.n); got != tt.want {
			t.Errorf("Approx(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestPeak(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for _, tt := range []struct {
		p    *float64
		want string
	}{
		{nil, "–"},
		{f(math.NaN()), "–"},
		{f(0), "0%"},
		{f(0.424), "42%"},
		{f(1.04), "104%"},
	} {
		if got := Peak(tt.p); got != tt.want {
			t.Errorf("Peak(%v) = %q, want %q", tt.p, got, tt.want)
		}
	}
}
