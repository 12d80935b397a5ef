package overlay

import (
	"net/http"
	"strconv"
	"time"

	"github.com/livemod/livemod/auth"
	"github.com/livemod/livemod/moderate"
)

// Moderation is the moderators' desk behind the message, user and rule
// endpoints. moderate.DeskREST implements it. actor is the token's name;
// stream may be empty where the id alone finds the target.
type Moderation interface {
	Message(actor, stream, id, action, reason string) (moderate.Event, error)
	// User restricts or lifts; inStream says the restriction holds in
	// stream only (asked through a token limited to streams).
	User(actor, stream, user, action string, seconds int, reason string, inStream bool) (moderate.UserEvent, error)
	UndoRule(actor, stream, rule string, since int64) (moderate.Undo, error)
}

// RegisterModeration adds, for moderators:
//
//	POST /v1/messages/{id}/hide · /approve · /unhide   {"reason":"…","stream":"…"}
//	POST /v1/users/{id}/timeout · /ban · /unban        {"seconds":600,"reason":"…","stream":"…"}
//	POST /v1/rules/{rule}/undo                         {"stream":"…","since":ms}
func RegisterModeration(s *Server, m Moderation) {
	for _, action := range []string{"hide", "approve", "unhide"} {
		s.Handle("POST /v1/messages/{id}/"+action, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				Reason string `json:"reason"`
				Stream string `json:"stream"`
			}
			if !readBody(w, r, &body) || !bodyStream(w, r, &body.Stream) {
				return
			}
			res, err := m.Message(PrincipalFrom(r.Context()).Name, body.Stream, r.PathValue("id"), action, body.Reason)
			answer(w, res, err)
		}), auth.RoleModerator)
	}
	for _, action := range []string{"timeout", "ban", "unban"} {
		s.Handle("POST /v1/users/{id}/"+action, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				Seconds int    `json:"seconds"`
				Reason  string `json:"reason"`
				Stream  string `json:"stream"`
			}
			if !readBody(w, r, &body) || !bodyStream(w, r, &body.Stream) {
				return
			}
			if body.Seconds < 0 {
				writeError(w, http.StatusBadRequest, "seconds: negative; omit it for the default of 600")
				return
			}
			if body.Seconds > MaxTimeoutSeconds {
				writeError(w, http.StatusBadRequest, "seconds: at most "+strconv.Itoa(MaxTimeoutSeconds)+" (14 days, the longest timeout the platforms allow); use ban for longer")
				return
			}
			// A restriction through a token limited to streams holds only
			// in the stream it names (docs/ARCHITECTURE.md).
			p := PrincipalFrom(r.Context())
			res, err := m.User(p.Name, body.Stream, r.PathValue("id"), action, body.Seconds, body.Reason, p.Scoped())
			answer(w, res, err)
		}), auth.RoleModerator)
	}
	s.Handle("POST /v1/rules/{rule}/undo", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Stream string `json:"stream"`
			Since  int64  `json:"since"`
		}
		if !readBody(w, r, &body) || !bodyStream(w, r, &body.Stream) {
			return
		}
		if body.Stream == "" {
			writeError(w, http.StatusBadRequest, `stream: missing; send {"stream":"ID","since":UNIX_MS}`)
			return
		}
		if body.Since > time.Now().Add(time.Hour).UnixMilli() {
			writeError(w, http.StatusBadRequest, "since: in the future; send Unix milliseconds")
			return
		}
		res, err := m.UndoRule(PrincipalFrom(r.Context()).Name, body.Stream, r.PathValue("rule"), body.Since)
		answer(w, res, err)
	}), auth.RoleModerator)
}

// bodyStream fills an empty stream of a body from ?stream= (a token
// limited to one stream has it there) and checks it against the
// caller's limits (AllowStream).
func bodyStream(w http.ResponseWriter, r *http.Request, stream *string) bool {
	if *stream == "" {
		*stream = r.URL.Query().Get("stream")
	}
	return AllowStream(w, r, *stream)
}
