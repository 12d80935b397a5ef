package overlay

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/livemod/livemod/auth"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/policy"
)

// Policies is the data side of a stream's own rules; app implements it
// over policy.Book. actor is the token's name. Errors carry their status
// (its chat kind: statusOf).
type Policies interface {
	// Get returns the policy in force on stream: the default with the
	// stream's override merged over.
	Get(stream string) (StreamPolicy, error)
	// Put replaces stream's override with the JSON policy doc.
	Put(actor, stream string, doc []byte) (policy.Result, error)
	// Try reports what the JSON policy doc, as stream's override, would
	// change over msgs, or over the stream's last minutes when msgs is
	// nil.
	Try(ctx context.Context, stream string, doc []byte, msgs []*chat.Message, minutes int) (*policy.Report, error)
}

// StreamPolicy is GET /v1/streams/{id}/policy: the policy in force.
type StreamPolicy struct {
	Stream string        `json:"stream"`
	Policy policy.Policy `json:"policy"`
}

// MaxTryMinutes bounds how far back a trial over a stream's recent
// messages reaches (the kept messages bound it too).
const MaxTryMinutes = 24 * 60

// TryRequest is the body of POST /v1/streams/{id}/policy/try: the
// proposed policy, and the recorded chat to run it over — messages in
// the wire format, or the stream's last minutes (default 10).
type TryRequest struct {
	Policy   json.RawMessage `json:"policy"`
	Messages []*chat.Message `json:"messages,omitempty"`
	Minutes  int             `json:"minutes,omitempty"`
}

// RegisterPolicy adds, for admins and moderators (tokens are not tied to
// streams, so a moderator's token may set any stream's policy):
//
//	GET  /v1/streams/{id}/policy      the policy in force (default merged with the override)
//	PUT  /v1/streams/{id}/policy      replace the stream's override (JSON, the keys of livemod.yaml's policy)
//	POST /v1/streams/{id}/policy/try  {"policy":{…},"messages":[…]} or {"policy":{…},"minutes":10}
func RegisterPolicy(s *Server, p Policies) {
	s.Handle("GET /v1/streams/{id}/policy", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := p.Get(r.PathValue("id"))
		answer(w, res, err)
	}), auth.RoleAdmin, auth.RoleModerator)
	s.Handle("PUT /v1/streams/{id}/policy", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, err := io.ReadAll(r.Body)
		if err != nil {
			writeError(w, http.StatusRequestEntityTooLarge, "body: "+err.Error()+"; a policy is at most 1 MiB")
			return
		}
		res, err := p.Put(PrincipalFrom(r.Context()).Name, r.PathValue("id"), doc)
		answer(w, res, err)
	}), auth.RoleAdmin, auth.RoleModerator)
	s.Handle("POST /v1/streams/{id}/policy/try", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body TryRequest
		if !readBody(w, r, &body) {
			return
		}
		if len(body.Policy) == 0 {
			writeError(w, http.StatusBadRequest, `policy: missing; send {"policy":{…},"minutes":10} or {"policy":{…},"messages":[…]}`)
			return
		}
		if body.Minutes < 0 || body.Minutes > MaxTryMinutes {
			writeError(w, http.StatusBadRequest, "minutes: use 1 to "+strconv.Itoa(MaxTryMinutes)+", or 0 for 10")
			return
		}
		stream := r.PathValue("id")
		for i, m := range body.Messages {
			if m == nil {
				writeError(w, http.StatusBadRequest, "messages["+strconv.Itoa(i)+"]: null")
				return
			}
			// A trial's messages keep their times (none given: 0) and
			// may name any stream, as in replay.
			a := chat.Admission{Stream: stream, AnyStream: true, ID: func() string { return "try-" + strconv.Itoa(i+1) }}
			if _, err := chat.Admit(m, &a); err != nil {
				writeError(w, http.StatusBadRequest, "messages["+strconv.Itoa(i)+"]: "+err.Error())
				return
			}
		}
		msgs := body.Messages
		if msgs == nil && body.Minutes == 0 {
			body.Minutes = 10
		}
		res, err := p.Try(r.Context(), stream, body.Policy, msgs, body.Minutes)
		answer(w, res, err)
	}), auth.RoleAdmin, auth.RoleModerator)
}
