package overlay

import (
	"net/http"

	"github.com/livemod/livemod/auth"
	"github.com/livemod/livemod/connect"
)

// RegisterConnectors adds GET /v1/connectors (admin, moderator): each
// platform connector's state (connected, reconnects, last message, last
// error, quota left), for the console.
func RegisterConnectors(s *Server, states func() []connect.HealthState) {
	s.Handle("GET /v1/connectors", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer(w, states(), nil)
	}), auth.RoleAdmin, auth.RoleModerator)
}
