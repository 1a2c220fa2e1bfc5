// Package control is the daemon's control API: the JSON-over-HTTP surface
// under /control/v1/ that the desktop app and the CLI use to read account
// state, follow account events, edit the configuration, manage client
// tokens and their budgets (limits.go), read the usage history per account
// or per client token, and pause or resume routing.
//
// The package holds the wire types (types.go), the server side (Server,
// driven by a Backend the daemon implements), the Go client (Client) and the
// control secret that authenticates both (LoadOrCreateSecret). Every request
// carries `Authorization: Bearer <secret>` and a loopback Host header.
//
// The configuration is revisioned: GET config answers with an ETag naming
// its revision, and PUT config must send it back in If-Match, so that a
// change made meanwhile (from the tray, the CLI, a hand edit) is never
// overwritten unseen (412 with the current configuration, 428 without
// If-Match). The event stream is Server-Sent Events: `event: account` for
// account and pool changes, `event: routing` for pause and resume,
// `event: config` for configuration changes, `event: daemon` when the
// daemon stops on purpose, `event: token` when a client token spends its
// budget, each with an `id:`; a client
// that reconnects with Last-Event-ID gets what it missed, or one
// `event: reset` when that is gone.
//
// Package controltest provides an in-memory Backend and a test server for
// code that talks to the daemon through Client.
package control
