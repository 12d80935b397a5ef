package overlay

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/livemod/livemod/auth"
	"github.com/livemod/livemod/store"
)

// Handoffs is the agents' desk: automate.Stage implements it. Results are
// tickets in their JSON contract.
type Handoffs[T any] interface {
	// Handoffs returns a page of tickets, oldest first: at most limit,
	// after the cursor an earlier page gave as next ("" for the first);
	// total counts the matches on every page, next is "" on the last.
	Handoffs(ctx context.Context, stream, state, after string, limit int) (page []T, total int, next string, err error)
	Claim(ctx context.Context, id, by string, at int64) (T, error)
	Resolve(ctx context.Context, id, by string, at int64) (T, error)
	// Convert marks ticket id a sale of value (the order's value, ≥ 0).
	Convert(ctx context.Context, id, by string, value float64, at int64) (T, error)
	// TicketStream returns ticket id's stream, false if there is none.
	TicketStream(id string) (string, bool)
}

// Webhooks is the dead-letter queue of the CRM webhook: app adapts
// connect.Webhook to it.
type Webhooks interface {
	DeadLetters() ([]store.OutboxEntry, error)
	Retry(id string) (store.OutboxEntry, error)
}

// Auditor records a human action (store.AuditSink via app). actor is the
// token's name.
type Auditor func(actor, action, target, stream, reason string)

// A page of GET /v1/handoffs holds HandoffsPage tickets unless ?limit=
// asks for up to HandoffsPageMax (larger is capped): a big show has tens
// of thousands open, tens of megabytes in one answer.
const (
	HandoffsPage    = 100
	HandoffsPageMax = 1000
)

// RegisterHandoffs adds, for agents:
//
//	GET  /v1/handoffs?stream=ID&state=open|claimed|resolved&limit=N&after=C
//	                          {"handoffs":[ticket…],"total":n,"next":"C"}
//	POST /v1/handoffs/{id}/claim · /resolve                  the ticket
//	POST /v1/handoffs/{id}/convert {"order_value":1299}      the ticket, marked converted
//
// and, when wh is not nil, for moderators:
//
//	GET  /v1/webhooks/dead                                   {"dead":[entry…]}
//	POST /v1/webhooks/dead/{id}/retry                        the entry, due again
func RegisterHandoffs[T any](s *Server, h Handoffs[T], wh Webhooks, audit Auditor) {
	if audit == nil {
		audit = func(string, string, string, string, string) {}
	}
	s.Handle("GET /v1/handoffs", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		state := q.Get("state")
		switch state {
		case "", "open", "claimed", "resolved":
		default:
			writeError(w, http.StatusBadRequest, "state "+quote(state)+": want open, claimed or resolved")
			return
		}
		limit, ok := pageLimit(w, q.Get("limit"), HandoffsPage, HandoffsPageMax)
		if !ok {
			return
		}
		if !AllowStream(w, r, q.Get("stream")) {
			return
		}
		list, total, next, err := h.Handoffs(r.Context(), q.Get("stream"), state, q.Get("after"), limit)
		if err != nil {
			answerError(w, err)
			return
		}
		if list == nil {
			list = []T{}
		}
		writeJSON(w, http.StatusOK, handoffList[T]{Handoffs: list, Total: total, Next: next})
	}), auth.RoleAgent)
	for action, do := range map[string]func(ctx context.Context, id, by string, at int64) (T, error){"claim": h.Claim, "resolve": h.Resolve} {
		s.Handle("POST /v1/handoffs/{id}/"+action, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			actor := PrincipalFrom(r.Context()).Name
			id := r.PathValue("id")
			stream, found := h.TicketStream(id)
			if found && !AllowStream(w, r, stream) {
				return
			}
			if !found && PrincipalFrom(r.Context()).Scoped() {
				writeError(w, http.StatusNotFound, "ticket "+quote(id)+": not found")
				return
			}
			t, err := do(r.Context(), id, actor, time.Now().UnixMilli())
			if err == nil {
				audit(actor, "handoff."+action, id, stream, "")
			}
			answer(w, t, err)
		}), auth.RoleAgent)
	}
	s.Handle("POST /v1/handoffs/{id}/convert", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor := PrincipalFrom(r.Context()).Name
		id := r.PathValue("id")
		r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
		var body struct {
			OrderValue *float64 `json:"order_value"`
		}
		if !readBody(w, r, &body) {
			return
		}
		if body.OrderValue == nil || *body.OrderValue < 0 || *body.OrderValue > 1e12 || *body.OrderValue != *body.OrderValue {
			writeError(w, http.StatusBadRequest, `order_value: want a number from 0 to 1e12, e.g. {"order_value":1299}`)
			return
		}
		stream, found := h.TicketStream(id)
		if found && !AllowStream(w, r, stream) {
			return
		}
		if !found && PrincipalFrom(r.Context()).Scoped() {
			writeError(w, http.StatusNotFound, "ticket "+quote(id)+": not found")
			return
		}
		t, err := h.Convert(r.Context(), id, actor, *body.OrderValue, time.Now().UnixMilli())
		if err == nil {
			audit(actor, "handoff.convert", id, stream, strconv.FormatFloat(*body.OrderValue, 'f', -1, 64))
		}
		answer(w, t, err)
	}), auth.RoleAgent)
	if wh == nil {
		return
	}
	s.Handle("GET /v1/webhooks/dead", RequireAllStreams(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dead, err := wh.DeadLetters()
		answer(w, deadList{Dead: dead}, err)
	})), auth.RoleModerator)
	s.Handle("POST /v1/webhooks/dead/{id}/retry", RequireAllStreams(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor := PrincipalFrom(r.Context()).Name
		id := r.PathValue("id")
		e, err := wh.Retry(id)
		if err == nil {
			audit(actor, "webhook.retry", id, "", "")
		}
		answer(w, e, err)
	})), auth.RoleModerator)
}

// pageLimit reads a list's ?limit=: def when absent, at most max (larger
// is capped, as on /v1/audit). A bad value is answered with a 400 and ok
// false.
func pageLimit(w http.ResponseWriter, v string, def, max int) (limit int, ok bool) {
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		writeError(w, http.StatusBadRequest, "limit "+quote(v)+": want 1 to "+strconv.Itoa(max))
		return 0, false
	}
	return min(n, max), true
}
