package words

import (
	"math"
	"strconv"
)

// Approx writes a count briefly for a person: "950", "12.3k", "456k",
// "4.5M", "1.2B".
func Approx(n int64) string {
	if n < 0 {
		if n == math.MinInt64 { // -n overflows
			n++
		}
		return "-" + Approx(-n)
	}
	if n < 1000 {
		return strconv.FormatInt(n, 10)
	}
	v := float64(n)
	for _, unit := range []string{"k", "M", "B"} {
		v /= 1000
		switch {
		case v < 99.95:
			return strconv.FormatFloat(v, 'f', 1, 64) + unit
		case v < 999.5:
			return strconv.FormatFloat(v, 'f', 0, 64) + unit
		}
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + "B"
}

// Peak writes a utilization peak as a percentage: "42%", "104%"; "–" when
// none was reported.
func Peak(p *float64) string {
	if p == nil || math.IsNaN(*p) {
		return "–"
	}
	return strconv.FormatFloat(math.Round(*p*100), 'f', 0, 64) + "%"
}
