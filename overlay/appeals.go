package overlay

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/livemod/livemod/auth"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/store"
)

// AppealIn is the body of POST /v1/appeals.
type AppealIn struct {
	Stream string `json:"stream"`
	User   struct {
		ID string `json:"id"`
	} `json:"user"`
	MessageID string `json:"message_id,omitempty"`
	Text      string `json:"text"`
}

// Limits of an appeal's fields.
const (
	MaxAppealText   = 2000 // characters
	MaxAppealReason = 1000 // characters
	AppealsPage     = 100
	AppealsPageMax  = 1000
)

// AppealCreated is the answer of POST /v1/appeals: the new appeal's id.
type AppealCreated struct {
	ID string `json:"id"`
}

// Appeals is the appeals desk: app implements it over the store and the
// moderation desk. actor is the token's name.
type Appeals interface {
	Record(actor string, in AppealIn) (AppealCreated, error)
	List(stream, state string, limit int) ([]store.Appeal, error)
	// Decide upholds or overturns appeal id; an overturn undoes the hide,
	// timeout or ban.
	Decide(actor, id string, overturn bool, reason string) (store.Appeal, error)
	// AppealStream returns appeal id's stream, false if there is none.
	AppealStream(id string) (string, bool)
}

// RegisterAppeals adds:
//
//	POST /v1/appeals                  (ingest, moderator)  {"stream","user":{"id"},"message_id"?,"text"} → {"id":…}
//	GET  /v1/appeals?stream=&state=   (moderator)          {"appeals":[…]}, oldest first
//	POST /v1/appeals/{id}/uphold · /overturn  (moderator)  {"reason":"…"} → the appeal
func RegisterAppeals(s *Server, a Appeals) {
	s.Handle("POST /v1/appeals", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in AppealIn
		if !readBody(w, r, &in) || !bodyStream(w, r, &in.Stream) {
			return
		}
		if msg := checkAppeal(&in); msg != "" {
			writeError(w, http.StatusBadRequest, msg)
			return
		}
		res, err := a.Record(PrincipalFrom(r.Context()).Name, in)
		answer(w, res, err)
	}), auth.RoleIngest, auth.RoleModerator)
	s.Handle("GET /v1/appeals", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stream, state, limit, ok := queueQuery(w, r, "open", "upheld", "overturned")
		if !ok {
			return
		}
		res, err := a.List(stream, state, limit)
		if err != nil {
			answerError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, appealList{Appeals: res})
	}), auth.RoleModerator)
	for action, overturn := range map[string]bool{"uphold": false, "overturn": true} {
		s.Handle("POST /v1/appeals/{id}/"+action, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				Reason string `json:"reason"`
			}
			if !readBody(w, r, &body) {
				return
			}
			if strings.TrimSpace(body.Reason) == "" || utf8.RuneCountInString(body.Reason) > MaxAppealReason {
				writeError(w, http.StatusBadRequest, "reason: want 1 to "+strconv.Itoa(MaxAppealReason)+" characters; the viewer and the audit read it")
				return
			}
			id := r.PathValue("id")
			st, found := a.AppealStream(id)
			if !found {
				writeError(w, http.StatusNotFound, "appeal "+quote(id)+": not found")
				return
			}
			if !AllowStream(w, r, st) {
				return
			}
			res, err := a.Decide(PrincipalFrom(r.Context()).Name, id, overturn, body.Reason)
			answer(w, res, err)
		}), auth.RoleModerator)
	}
}

// checkAppeal says what is wrong with an appeal's fields, "" if nothing.
func checkAppeal(in *AppealIn) string {
	switch {
	case in.Stream == "" || len(in.Stream) > 256:
		return `stream: want 1 to 256 bytes; send {"stream","user":{"id"},"message_id"?,"text"}`
	case strings.TrimSpace(in.User.ID) == "" || len(in.User.ID) > chat.MaxIDBytes:
		return "user.id: want 1 to " + strconv.Itoa(chat.MaxIDBytes) + " bytes, as in the message's user.id"
	case len(in.MessageID) > chat.MaxIDBytes:
		return "message_id: longer than " + strconv.Itoa(chat.MaxIDBytes) + " bytes"
	case strings.TrimSpace(in.Text) == "" || !utf8.ValidString(in.Text) || utf8.RuneCountInString(in.Text) > MaxAppealText:
		return "text: want 1 to " + strconv.Itoa(MaxAppealText) + " characters of UTF-8: what the viewer says"
	}
	return ""
}

// queueQuery reads a review queue's listing query (appeals, reviews):
// ?stream= (which the token must reach), ?state= (empty or one of states)
// and ?limit=, answering a bad one itself.
func queueQuery(w http.ResponseWriter, r *http.Request, states ...string) (stream, state string, limit int, ok bool) {
	q := r.URL.Query()
	stream, state = q.Get("stream"), q.Get("state")
	if state != "" && !slices.Contains(states, state) {
		want := strings.Join(states[:len(states)-1], ", ") + " or " + states[len(states)-1]
		writeError(w, http.StatusBadRequest, "state "+quote(state)+": want "+want)
		return "", "", 0, false
	}
	if !AllowStream(w, r, stream) {
		return "", "", 0, false
	}
	limit, ok = pageLimit(w, q.Get("limit"), AppealsPage, AppealsPageMax)
	return stream, state, limit, ok
}
