package overlay

import (
	"errors"
	"net/http"

	"github.com/livemod/livemod/auth"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/moderate"
	"github.com/livemod/livemod/trend"
)

// Questions is the host's desk behind the question endpoints.
// moderate.HostREST implements it.
type Questions interface {
	// List returns the stream's trending list.
	List(stream string) moderate.Overlay
	// Act pins, marks answered or dismisses cluster; stream may be empty.
	Act(actor, stream, cluster, action string) (trend.TrendQuestion, error)
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

// statusOf is the HTTP status of a desk's error: its kind (chat.ErrNotFound
// and the others) says which, anything else is a 500.
func statusOf(err error) int {
	switch {
	case errors.Is(err, chat.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, chat.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, chat.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, chat.ErrTooMany):
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// answer writes an action's typed result, or its error (answerError).
func answer[T any](w http.ResponseWriter, res T, err error) {
	if err != nil {
		answerError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// answerError writes err with the status of its kind (statusOf).
func answerError(w http.ResponseWriter, err error) {
	status := statusOf(err)
	// A wrong-state action (409) names the state it met.
	var cs interface{ CurrentState() string }
	if errors.As(err, &cs) && cs.CurrentState() != "" {
		writeJSON(w, status, map[string]string{"error": err.Error(), "state": cs.CurrentState()})
		return
	}
	writeError(w, status, err.Error())
}
