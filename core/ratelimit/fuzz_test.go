package ratelimit

import (
	"net/http"
	"testing"
	"time"
)

// fuzzHeader builds the rate-limit headers from fuzzed values; an empty
// value is a header not sent.
func fuzzHeader(v [12]string) http.Header {
	names := [12]string{hStatus, hReset, hClaim, h5Status, h5Reset, h5Util, h7Status, h7Reset, h7Util, hOIStat, hOIReset, hRetry}
	h := http.Header{}
	for i, n := range names {
		if v[i] != "" {
			h[n] = []string{v[i]}
		}
	}
	return h
}

// fuzzSeeds are header values the fault run sent, and their neighbours:
// status, reset, claim, 5h status/reset/utilization, 7d
// status/reset/utilization, 7d_oi status/reset, retry-after.
var fuzzSeeds = [][12]string{
	{"allowed", "1767236400", "five_hour", "allowed", "1767236400", "0.25", "allowed", "1767585600", "0.1", "", "", ""},
	{"rejected", "1767236400", "five_hour", "rejected", "1767236400", "1.0", "allowed", "1767585600", "0.4", "", "", "10800"},
	{"allowed_warning", "", "seven_day", "allowed_warning", "", "Inf", "allowed", "", "NaN", "", "", ""},
	{"rejected", "", "", "", "", "-Inf", "", "", "1e999", "", "", "31536000"},
	{"rejected", "99999999999999", "", "rejected", "9223372036854775807", "+Inf", "rejected", "-1", "infinity", "", "", "9300000000"},
	{"allowed", "", "", "", "", "", "", "", "", "rejected", "1767300000", "31536000"},
	{"", "", "", "", "", "0x1p-2", "", "", " 0.5", "", "", " 17 "},
}

// FuzzParse checks that no header value gets through Parse that a real
// answer cannot carry, whatever the bytes.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9], s[10], s[11])
	}
	f.Fuzz(func(t *testing.T, status, reset, claim, s5, r5, u5, s7, r7, u7, soi, roi, retry string) {
		checkInfo(t, Parse(fuzzHeader([12]string{status, reset, claim, s5, r5, u5, s7, r7, u7, soi, roi, retry})))
	})
}

// FuzzClassify checks that any answer's verdict rests an account for a
// bounded time in the future, and only when the answer asks for it.
func FuzzClassify(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add([]int{200, 429, 529, 401, 500, 429, 429}[i], s[0], s[1], s[3], s[4], s[6], s[7], s[9], s[10], s[11])
	}
	f.Fuzz(func(t *testing.T, code int, status, reset, s5, r5, s7, r7, soi, roi, retry string) {
		const fallback = time.Minute
		in := Parse(fuzzHeader([12]string{status, reset, "five_hour", s5, r5, "", s7, r7, "", soi, roi, retry}))
		v := Classify(code, in, now, fallback)
		switch v.Kind {
		case OK, Unauthorized:
			if !v.Until.IsZero() {
				t.Errorf("%v verdict with a rest until %v", v.Kind, v.Until)
			}
		case Spent, ModelSpent, Throttled, Overloaded:
			if !v.Until.After(now) || v.Until.Sub(now) > max(maxReset, fallback) {
				t.Errorf("%v verdict rests for %v, want (0, %v]", v.Kind, v.Until.Sub(now), maxReset)
			}
			if code != http.StatusTooManyRequests && code != 529 {
				t.Errorf("status %d classified %v", code, v.Kind)
			}
		default:
			t.Errorf("unknown kind %v", v.Kind)
		}
	})
}
