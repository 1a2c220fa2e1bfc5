package proxy

import (
	"net/url"
	"strconv"
)

// maxQuotedPath bounds how much of a refused path its error repeats.
const maxQuotedPath = 100

// checkPath says why a request path must not be forwarded, or "" when it
// may be. The upstream may decode and normalise what it gets (once or
// twice), so a path that could name anything outside what it spells is
// refused before the account's token is put on it: encoded characters
// where none are needed (%2e, %2f, %5c, …), dot segments however spelled,
// and any character but letters, digits, "-", ".", "_", "~" and "/" once
// decoded (which leaves out "%" from a double encoding, the backslash and
// control characters). No path of the Anthropic API needs more.
func checkPath(u *url.URL) string {
	if u.RawPath != "" {
		// RawPath is kept only when the client's encoding differs from
		// the canonical one: an escape that hides a plain character.
		return "it encodes characters that need no encoding"
	}
	p := u.Path
	start := 0 // of the current segment
	for i := 0; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			if seg := p[start:i]; seg == "." || seg == ".." {
				return "it holds a dot segment"
			}
			start = i + 1
			continue
		}
		if c := p[i]; !pathByte(c) {
			return "it holds " + strconv.Quote(p[i:i+1]) + ", outside letters, digits and -._~/"
		}
	}
	return ""
}

func pathByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~' || c == '/'
}

// quotePath quotes a path for an error message, cut to maxQuotedPath bytes.
func quotePath(p string) string {
	if len(p) > maxQuotedPath {
		return strconv.Quote(p[:maxQuotedPath]) + "…"
	}
	return strconv.Quote(p)
}
