package control

import (
	"net"
	"strings"
)

// IsLoopbackHost reports whether host, the value of a Host header with or
// without a port, names the local machine: "localhost", an address in
// 127.0.0.0/8 or ::1 ("127.0.0.1:8787", "[::1]:8787", "localhost:8787").
// Any other name is false, which keeps web pages that rebind their own DNS
// name to 127.0.0.1 away from the control API.
func IsLoopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if strings.EqualFold(host, "localhost") || strings.EqualFold(host, "localhost.") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// DialAddr is the address a client on this machine dials for a listen
// address: an unspecified host (0.0.0.0, ::, none) becomes 127.0.0.1. It
// returns "" when listen is not host:port.
func DialAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// BaseURL is the URL clients on this machine use for a daemon listening on
// listen ("http://127.0.0.1:8787"); "" when listen is not host:port.
func BaseURL(listen string) string {
	if a := DialAddr(listen); a != "" {
		return "http://" + a
	}
	return ""
}
