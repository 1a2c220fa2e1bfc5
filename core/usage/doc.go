// Package usage keeps each account's usage history: per hour, the answers
// the upstream gave (and how many were rate limits or errors), the tokens
// it reported, and the highest 5-hour and 7-day utilization it reported.
// The history lives in <data_dir>/usage.json, written atomically, and keeps
// 90 days. Recording is cheap enough for every proxied answer.
package usage
