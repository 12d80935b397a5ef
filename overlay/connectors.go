package overlay

import (
	"net/http"

	"github.com/livemod/livemod/auth"
	"github.com/livemod/livemod/connect"
)

// RegisterConnectors adds GET /v1/connectors (admin, moderator): each
// platform connector's state (connected, reconnects, last message, last
// error, quota left), for the console. states lists the connectors of
// the streams sees accepts: a token limited to streams sees only theirs.
func RegisterConnectors(s *Server, states func(sees func(stream string) bool) []connect.HealthState) {
	s.Handle("GET /v1/connectors", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer(w, states(PrincipalFrom(r.Context()).Sees), nil)
	}), auth.RoleAdmin, auth.RoleModerator)
}
