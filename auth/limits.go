package auth

import (
	"strings"
)

// DefaultMaxBodyBytes bounds every request body unless
// overlay.Options.MaxBodyBytes (http.max_body_bytes) says otherwise;
// REST actions are small.
const DefaultMaxBodyBytes = 1 << 20

// IsLoopback reports whether addr (host:port) binds only the loopback
// interface.
func IsLoopback(addr string) bool {
	host := addr
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		host = addr[:i]
	}
	host = strings.Trim(host, "[]")
	switch host {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return strings.HasPrefix(host, "127.")
}
