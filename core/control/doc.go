// Package control is the daemon's control API: the JSON-over-HTTP surface
// under /control/v1/ that the desktop app and the CLI use to read account
// state, follow account events, edit the configuration, manage client
// tokens and pause or resume routing.
//
// The package holds the wire types (types.go), the server side (Server,
// driven by a Backend the daemon implements), the Go client (Client) and the
// control secret that authenticates both (LoadOrCreateSecret). Every request
// carries `Authorization: Bearer <secret>` and a loopback Host header; the
// event stream is Server-Sent Events, one `event: account` per change.
//
// Package controltest provides an in-memory Backend and a test server for
// code that talks to the daemon through Client.
package control
