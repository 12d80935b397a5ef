package overlay

import (
	"net/http"
	"time"

	"github.com/livemod/livemod/auth"
)

// Drafts is the moderators' approval queue of automated replies:
// automate.Stage implements it.
type Drafts[D any] interface {
	Drafts(stream, state string) []D
	DecideDraft(id string, approve bool, by string, at int64) (D, error)
	// DraftStream returns draft id's stream, false if there is none.
	DraftStream(id string) (string, bool)
}

// RegisterDrafts adds, for moderators:
//
//	GET  /v1/replies/drafts?stream=ID&state=pending|approved|rejected   {"drafts":[draft…]}
//	POST /v1/replies/drafts/{id}/approve · /reject                      the draft
//
// An approved draft is sent on the replies view at once.
func RegisterDrafts[D any](s *Server, d Drafts[D], audit Auditor) {
	if audit == nil {
		audit = func(string, string, string, string, string) {}
	}
	s.Handle("GET /v1/replies/drafts", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		state := q.Get("state")
		switch state {
		case "", "pending", "approved", "rejected":
		default:
			writeError(w, http.StatusBadRequest, "state "+quote(state)+": want pending, approved or rejected")
			return
		}
		if !AllowStream(w, r, q.Get("stream")) {
			return
		}
		list := d.Drafts(q.Get("stream"), state)
		if list == nil {
			list = []D{}
		}
		writeJSON(w, http.StatusOK, draftList[D]{Drafts: list})
	}), auth.RoleModerator)
	for action, approve := range map[string]bool{"approve": true, "reject": false} {
		s.Handle("POST /v1/replies/drafts/{id}/"+action, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				Reason string `json:"reason"`
			}
			if !readBody(w, r, &body) {
				return
			}
			actor := PrincipalFrom(r.Context()).Name
			id := r.PathValue("id")
			stream, found := d.DraftStream(id)
			if found && !AllowStream(w, r, stream) {
				return
			}
			if !found && PrincipalFrom(r.Context()).Scoped() {
				writeError(w, http.StatusNotFound, "draft "+quote(id)+": not found")
				return
			}
			res, err := d.DecideDraft(id, approve, actor, time.Now().UnixMilli())
			if err == nil {
				audit(actor, "reply."+action, id, stream, body.Reason)
			}
			answer(w, res, err)
		}), auth.RoleModerator)
	}
}
