// Package usage keeps each account's usage history: per hour, the answers
// the upstream gave (and how many were rate limits or errors), the tokens
// it reported, and the highest 5-hour and 7-day utilization it reported;
// and each client token's beside it: per hour, the requests it sent (and
// how many were refused because its budget was spent) and the tokens
// their answers reported.
// The history lives in <data_dir>/usage.json, written atomically, and keeps
// 90 days (control.UsageRetention). Recording is cheap enough for every
// proxied answer.
//
// A Recorder counts in memory: Answered, Tokens and Client, called on the
// request path, hold a mutex only to update the current hour's counters of
// the account or token (no I/O, no allocation once it was counted in that
// hour). Serve writes the file once a minute when something changed, and
// once more when it ends. Query sums the hours into the buckets the control
// API serves: hours, or local days.
//
// # File format
//
// usage.json (mode 0600) is one JSON object, a line per hour bucket:
//
//	{"version":1,"hours":[
//	{"start":"2026-11-26T09:00:00Z","account":"work","requests":12,"rate_limited":1,"errors":0,
//	 "input_tokens":3400,"output_tokens":950,"cache_read_input_tokens":120000,
//	 "cache_creation_input_tokens":8000,"five_hour_peak":0.42,"seven_day_peak":0.17}
//	]}
//
// version is 1. Each element of hours is what one account did in one hour:
// start is the hour's start in UTC (RFC 3339), account the account's name,
// and the other fields are those of control.UsageBucket. Counters that are
// zero and peaks that were never reported are left out. Hours are ordered
// by start, then account; there is at most one element per hour and
// account. Hours that ended more than 90 days ago are dropped when the file
// is written.
//
// After hours, tokens (left out when empty) lists the client tokens' hours
// the same way, with token (the token's ID) in place of account:
//
//	],"tokens":[
//	{"start":"2026-11-26T09:00:00Z","token":"3f9a0c1d2e4b5a69","requests":40,"rate_limited":3,
//	 "input_tokens":1200,"output_tokens":300}
//	]}
//
// There requests counts the token's requests that were admitted and
// rate_limited those refused because its budget was spent. An older
// MaxRouter reads such a file and drops the tokens' hours when it next
// writes it.
package usage
