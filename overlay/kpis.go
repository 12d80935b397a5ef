package overlay

import "net/http"

// KPIs reports a stream's key numbers (moderate.KPIs via cmd).
type KPIs interface {
	KPIs(stream string) (any, error)
}

// RegisterKPIs adds GET /v1/kpis?stream=ID for moderators, hosts and
// admins. The numbers and their definitions are in the README.
func RegisterKPIs(s *Server, k KPIs) {
	s.Handle("GET /v1/kpis", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stream := r.URL.Query().Get("stream")
		if stream == "" {
			writeError(w, http.StatusBadRequest, "stream: missing; use /v1/kpis?stream=ID")
			return
		}
		res, err := k.KPIs(stream)
		answer(w, res, err)
	}), RoleModerator, RoleHost)
}
