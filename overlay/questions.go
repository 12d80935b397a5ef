package overlay

import (
	"errors"
	"net/http"

	"github.com/livemod/livemod/auth"
)

// Questions is the host's desk behind the question endpoints.
// moderate.HostREST implements it.
type Questions interface {
	// List returns the stream's trending list as JSON-ready value.
	List(stream string) any
	// Act pins, marks answered or dismisses cluster; stream may be empty.
	Act(actor, stream, cluster, action string) (any, error)
}

// RegisterQuestions adds GET /v1/questions?stream=ID and
// POST /v1/questions/{cluster}/pin · /answered · /dismiss (host).
func RegisterQuestions(s *Server, q Questions) {
	s.Handle("GET /v1/questions", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stream := r.URL.Query().Get("stream")
		if stream == "" {
			writeError(w, http.StatusBadRequest, "stream: missing; use /v1/questions?stream=ID")
			return
		}
		writeJSON(w, http.StatusOK, q.List(stream))
	}), auth.RoleHost)
	for _, action := range []string{"pin", "answered", "dismiss"} {
		s.Handle("POST /v1/questions/{cluster}/"+action, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				Stream string `json:"stream"`
			}
			if !readBody(w, r, &body) || !bodyStream(w, r, &body.Stream) {
				return
			}
			res, err := q.Act(PrincipalFrom(r.Context()).Name, body.Stream, r.PathValue("cluster"), action)
			answer(w, res, err)
		}), auth.RoleHost)
	}
}

// answer writes an action's result, or its error with the status the
// error asks for (StatusCode() int), 500 otherwise.
func answer(w http.ResponseWriter, res any, err error) {
	if err != nil {
		status := http.StatusInternalServerError
		var sc interface{ StatusCode() int }
		if errors.As(err, &sc) {
			status = sc.StatusCode()
		}
		// A wrong-state action (409) names the state it met.
		var cs interface{ CurrentState() string }
		if errors.As(err, &cs) && cs.CurrentState() != "" {
			writeJSON(w, status, map[string]string{"error": err.Error(), "state": cs.CurrentState()})
			return
		}
		writeError(w, status, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, res)
}
