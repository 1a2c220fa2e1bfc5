package credential

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzSeeds are credential files, real and awkward.
func fuzzSeeds() []string {
	exp := time.Date(2026, 6, 1, 20, 0, 0, 0, time.UTC)
	return []string{
		nestedFile(oldAccess, oldRefresh, exp),
		`{"accessToken":"a","refreshToken":"r","expiresAt":1767225600000}`,
		`{"access_token":"a","refresh_token":"r","expires_at":1767225600}`,
		`{"oauthToken":"a"}`,
		`{"oauth_token":"a","expires_at":"1767225600"}`,
		`{"claudeAiOauth":{"accessToken":"a"},"accessToken":"flat"}`,
		`{"claudeAiOauth":{"refreshToken":"r"},"access_token":"flat"}`,
		`{"claudeAiOauth":null,"accessToken":"a"}`,
		`{"claudeAiOauth":["accessToken","a"],"accessToken":"b"}`,
		`{"claudeAiOauth":"accessToken","accessToken":"b"}`,
		`{"claudeAiOauth":{"accessToken":"a","expiresAt":1e400}}`,
		`{"claudeAiOauth":{"accessToken":"a","expiresAt":99999999999999999999999}}`,
		`{"claudeAiOauth":{"accessToken":"a","expiresAt":-1}}`,
		`{"claudeAiOauth":{"accessToken":"a","expiresAt":1.5e12}}`,
		`{"claudeAiOauth":{"accessToken":"a","expiresAt":"1767225600000"}}`,
		`{"claudeAiOauth":{"accessToken":"a","expiresAt":"NaN"}}`,
		`{"claudeAiOauth":{"accessToken":"a","expiresAt":"Infinity"}}`,
		`{"claudeAiOauth":{"accessToken":"a","expiresAt":1e300}}`,
		`{"accessToken":"a","expiresAt":9223372036854775807}`,
		`{"claudeAiOauth":{"accessToken":"a","expiresAt":NaN}}`,
		`{"claudeAiOauth":{"accessToken":"a","expiresAt":Infinity}}`,
		`{"claudeAiOauth":{"accessToken":"a","expiresAt":null,"refreshToken":null}}`,
		`{"accessToken":"a","accessToken":"b","refreshToken":"r","refreshToken":"s"}`,
		`{"claudeAiOauth":{"accessToken":"a"},"claudeAiOauth":{"accessToken":"b","refreshToken":"r"}}`,
		`{"acc\u0065ssToken":"a","x":"\u00e9\ud83d\ude00"}`,
		"\ufeff" + `{"accessToken":"a"}`,
		"{\r\n  \"accessToken\" : \"a\" ,\r\n  \"refreshToken\":\"r\"\r\n}\r\n",
		`{"accessToken":"a"} trailing`,
		`{"accessToken":"a",}`,
		`{ }`,
		`[]`,
		`"accessToken"`,
		`{"accessToken":"a","deep":` + strings.Repeat("[", 500) + strings.Repeat("]", 500) + `}`,
		`{"accessToken":"a","deep":` + strings.Repeat(`{"x":`, 10001) + `1` + strings.Repeat("}", 10001) + `}`,
		`{"accessToken":"a","n":[1e400,-0,0.0000000000000000001,123456789012345678901234567890]}`,
		`{"accessToken":"","refreshToken":"r"}`,
		`{"accessToken":1,"access_token":"a"}`,
	}
}

// FuzzParseFile: parsing any file must not panic; an expiry is unknown
// or a time that means the same on every platform (no float overflowing
// int64); and a file that parses with a token must be one a refreshed
// pair can be written into.
func FuzzParseFile(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cf, err := parseFile("f", data)
		if err != nil {
			return
		}
		if e := cf.expiresAt; !e.IsZero() && (e.Before(time.Unix(0, 0)) || !e.Before(time.UnixMilli(1e15))) {
			t.Fatalf("expiry %v: want unknown or between 1970 and the year 33658", e)
		}
		if cf.access == "" {
			return
		}
		if _, err := newRewriter(data); err != nil {
			t.Fatalf("a file with a token cannot be rewritten: %v", err)
		}
	})
}

// FuzzRewrite: writing a refreshed pair into a file that holds a token
// gives valid JSON that keeps every other key and value (and the layout),
// and reads back as the pair written.
func FuzzRewrite(f *testing.F) {
	for i, s := range fuzzSeeds() {
		ms := int64(1767225600000)
		if i%3 == 1 {
			ms = 0 // no expiry known: the key is left as it is
		}
		f.Add([]byte(s), "sk-ant-oat01-new", "sk-ant-ort01-new", ms)
	}
	f.Add([]byte(fuzzSeeds()[0]), "", "", int64(-5))
	f.Add([]byte(fuzzSeeds()[1]), `quote" and \ backslash`, "\u2028", int64(1<<62))
	f.Fuzz(func(t *testing.T, data []byte, access, refresh string, ms int64) {
		cf, err := parseFile("", data)
		out, rerr := rewrite(data, access, refresh, expiryOf(ms))
		if err != nil || cf.access == "" {
			if rerr == nil {
				t.Fatalf("rewrite of a file without a token succeeded")
			}
			return
		}
		if rerr != nil {
			t.Fatalf("rewrite: %v", rerr)
		}
		if !json.Valid(out) {
			t.Fatalf("rewrite gave invalid JSON:\n%s", out)
		}
		owned := []string{cf.accessKey, cf.refreshKey, cf.expiresKey}
		if got, want := others(t, out, cf.nested, owned), others(t, data, cf.nested, owned); !reflect.DeepEqual(got, want) {
			t.Fatalf("other keys changed:\n got %v\nwant %v", got, want)
		}
		if access == "" || !utf8.ValidString(access) || !utf8.ValidString(refresh) {
			return // not a pair the endpoint can send
		}
		back, err := parseFile("", out)
		if err != nil {
			t.Fatalf("rewritten file does not parse: %v", err)
		}
		if back.nested != cf.nested || back.accessKey != cf.accessKey || back.refreshKey != cf.refreshKey || back.expiresKey != cf.expiresKey {
			t.Fatalf("layout changed: %+v, want %+v", back, cf)
		}
		if back.access != access || back.refresh != refresh {
			t.Fatalf("read back %q, %q; want %q, %q", back.access, back.refresh, access, refresh)
		}
		if exp := expiryOf(ms); !exp.IsZero() && plausible(ms) {
			got, want := back.expiresAt.Unix(), exp.Unix()
			if cf.expiresMillis {
				got, want = back.expiresAt.UnixMilli(), exp.UnixMilli()
			}
			if got != want || back.expiresMillis != cf.expiresMillis {
				t.Fatalf("expiry read back %v (millis %v), want %v (millis %v)", back.expiresAt, back.expiresMillis, exp, cf.expiresMillis)
			}
		}
	})
}

// expiryOf is the expiry ms stands for; none when not positive.
func expiryOf(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// plausible reports whether an expiry of ms reads back as written: between
// 2001 and the year 33658, where milliseconds and seconds cannot be
// mistaken for each other.
func plausible(ms int64) bool { return ms > 1e12 && ms < 1e15 }

// others decodes a credential file and drops the keys the router owns
// from the object holding the token: what must survive a rewrite.
func others(t *testing.T, data []byte, nested bool, owned []string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil {
		t.Fatalf("decoding %q: %v", data, err)
	}
	obj := top
	if nested {
		obj, _ = top[nestedKey].(map[string]any)
	}
	for _, k := range owned {
		delete(obj, k)
	}
	return top
}
