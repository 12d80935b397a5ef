package overlay

import (
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/livemod/livemod/auth"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/store"
)

// Reviews is the quality-review queue: app implements it over
// store.Sampler. actor is the token's name.
type Reviews interface {
	List(stream, state string, limit int) ([]store.Review, error)
	Mark(actor, id string, right bool, labels *chat.Labels, note string) (store.Review, error)
	ReviewStream(id string) (string, bool)
}

// RegisterReviews adds, for moderators:
//
//	GET  /v1/reviews?stream=&state=open|right|wrong&limit=   {"reviews":[…]}, oldest first
//	POST /v1/reviews/{id}/right · /wrong                     {"note"?,"labels"?} → the review
//
// labels (names of docs/WIRE.md) say what the message really is; a wrong
// mark without them labels a hide or hold clean and a reply's question
// not a question.
func RegisterReviews(s *Server, rv Reviews) {
	s.Handle("GET /v1/reviews", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stream, state, limit, ok := queueQuery(w, r, "open", "right", "wrong")
		if !ok {
			return
		}
		res, err := rv.List(stream, state, limit)
		if err != nil {
			answerError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, reviewList{Reviews: res})
	}), auth.RoleModerator)
	for action, right := range map[string]bool{"right": true, "wrong": false} {
		s.Handle("POST /v1/reviews/{id}/"+action, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				Note string `json:"note"`
				// Labels are the right labels of the message (optional):
				// they go into the labeled example (docs/ARCHITECTURE.md).
				Labels *chat.Labels `json:"labels"`
			}
			if !readBody(w, r, &body) {
				return
			}
			if utf8.RuneCountInString(body.Note) > MaxAppealReason {
				writeError(w, http.StatusBadRequest, "note: at most "+strconv.Itoa(MaxAppealReason)+" characters")
				return
			}
			id := r.PathValue("id")
			st, found := rv.ReviewStream(id)
			if !found {
				writeError(w, http.StatusNotFound, "review "+quote(id)+": not found")
				return
			}
			if !AllowStream(w, r, st) {
				return
			}
			res, err := rv.Mark(PrincipalFrom(r.Context()).Name, id, right, body.Labels, body.Note)
			answer(w, res, err)
		}), auth.RoleModerator)
	}
}
