package credential

import "strings"

// refreshPrefix starts the errors of a refresh: "refreshing token for
// <dir>: …".
const refreshPrefix = "refreshing token for "

// Reason is what went wrong in err, for a person looking at the account
// it belongs to: an error of this package without the "refreshing token
// for <dir>: " it starts with (the account already says which), any other
// error as it is.
func Reason(err error) string {
	msg := err.Error()
	rest, ok := strings.CutPrefix(msg, refreshPrefix)
	if !ok {
		return msg
	}
	if _, after, found := strings.Cut(rest, ": "); found {
		return after
	}
	return msg
}
