package automate

import (
	"fmt"
	"net/http"
	"slices"
	"sync"

	"github.com/livemod/livemod/classify"
)

// The agents' and moderators' side: ticket transitions and draft
// decisions, called from REST handlers. Their errors carry the HTTP
// status they ask for.

type statusError struct {
	err    error
	status int
	state  string // the current state, for a 409
}

func (e statusError) Error() string   { return e.err.Error() }
func (e statusError) Unwrap() error   { return e.err }
func (e statusError) StatusCode() int { return e.status }

// CurrentState is the state that refused the action (409), or "".
func (e statusError) CurrentState() string { return e.state }

// stateConflict is ErrTicketState naming the ticket's state now.
func stateConflict(t *classify.Ticket, action string) error {
	msg := "ticket " + t.ID + " is " + t.State
	if t.ClaimedBy != "" && t.State != classify.TicketOpen {
		msg += " (by " + t.ClaimedBy + ")"
	}
	return statusError{fmt.Errorf("%w: %s; cannot %s it", classify.ErrTicketState, msg, action), http.StatusConflict, t.State}
}

func withStatus(err error) error {
	switch err {
	case nil:
		return nil
	case classify.ErrTicketNotFound, ErrDraftNotFound:
		return statusError{err: err, status: http.StatusNotFound}
	case classify.ErrTicketState, ErrDraftDecided:
		return statusError{err: err, status: http.StatusConflict}
	case classify.ErrBadCursor:
		return statusError{err: err, status: http.StatusBadRequest}
	}
	return err
}

// Handoffs lists the tickets of stream (all if empty) in state (all if
// empty), oldest first, a page at a time: at most limit (no limit if 0),
// after the cursor an earlier page gave as next ("" for the first).
// total counts the matching tickets on every page; next is "" on the last.
func (s *Stage) Handoffs(stream, state, after string, limit int) (page []*classify.Ticket, total int, next string, err error) {
	p, err := s.tickets.Page(classify.TicketQuery{Stream: stream, State: state, After: after, Limit: limit})
	return p.Tickets, p.Total, p.Next, withStatus(err)
}

// Claim gives open ticket id to agent by at (Unix ms). A ticket that is
// not open (claimed, even by the same agent, or resolved) is refused
// with ErrTicketState naming its state: a claim is done once, and
// audited once.
func (s *Stage) Claim(id, by string, at int64) (*classify.Ticket, error) {
	var conflict error
	t, err := s.tickets.Update(id, func(t *classify.Ticket) error {
		if t.State != classify.TicketOpen {
			conflict = stateConflict(t, "claim")
			return classify.ErrTicketState
		}
		t.State, t.ClaimedBy, t.ClaimedAt = classify.TicketClaimed, by, at
		return nil
	})
	if conflict != nil {
		return nil, conflict
	}
	if err != nil {
		return nil, withStatus(err)
	}
	s.out.TicketChanged(t, false)
	return t, nil
}

// Resolve closes ticket id; the user's next support message opens a new one.
func (s *Stage) Resolve(id, by string, at int64) (*classify.Ticket, error) {
	var conflict error
	t, err := s.tickets.Update(id, func(t *classify.Ticket) error {
		if !t.Active() {
			conflict = stateConflict(t, "resolve")
			return classify.ErrTicketState
		}
		if t.ClaimedBy == "" {
			t.ClaimedBy, t.ClaimedAt = by, at
		}
		t.State, t.ResolvedAt = classify.TicketResolved, at
		return nil
	})
	if conflict != nil {
		return nil, conflict
	}
	if err != nil {
		return nil, withStatus(err)
	}
	t = s.askRating(t, at)
	s.out.TicketChanged(t, false)
	return t, nil
}

// UserData is what the stage holds about one user: recent messages (the
// context of a future ticket), drafts addressed to them, and the
// messages of theirs waiting for a grouped FAQ answer.
type UserData struct {
	Recent  []classify.TicketMessage `json:"recent_messages"`
	Drafts  []*classify.Draft        `json:"drafts"`
	Waiting []string                 `json:"waiting"` // message ids
}

// UserData returns what the stage holds about user.
func (s *Stage) UserData(user string) UserData {
	out := UserData{Recent: []classify.TicketMessage{}, Drafts: []*classify.Draft{}, Waiting: []string{}}
	out.Recent = s.recent.ofUser(user, out.Recent)
	s.draftMu.Lock()
	for _, id := range s.order {
		if dr := s.drafts[id]; dr != nil && slices.Contains(dr.To, user) {
			out.Drafts = append(out.Drafts, cloneDraft(dr))
		}
	}
	s.draftMu.Unlock()
	for i := range s.streams {
		sh := &s.streams[i]
		sh.mu.Lock()
		for _, g := range sh.groups {
			for _, a := range g.pending {
				if a.user == user {
					out.Waiting = append(out.Waiting, a.msg)
				}
			}
		}
		sh.mu.Unlock()
	}
	return out
}

// EraseUser forgets user: recent messages, reply-cap times, their place
// in pending drafts (re-rendered without them and saved through
// Output.Drafted; a draft for them alone, or decided, is deleted: the
// store deletes its saved copy) and in grouped answers still waiting. It
// returns how many records went.
func (s *Stage) EraseUser(user string) int {
	n := 0
	n += s.recent.erase(user)
	s.capMu.Lock()
	delete(s.sent, user)
	s.capMu.Unlock()
	// Lock order as in answer: stream shard, then drafts.
	for i := range s.streams {
		sh := &s.streams[i]
		sh.mu.Lock()
		for _, g := range sh.groups {
			k := 0
			for _, a := range g.pending {
				if a.user != user {
					g.pending[k] = a
					k++
				}
			}
			if gone := len(g.pending) - k; gone > 0 {
				n += gone
				s.pending.Add(-int64(gone))
				clear(g.pending[k:])
				g.pending = g.pending[:k]
			}
		}
		sh.mu.Unlock()
	}
	s.draftMu.Lock()
	order := s.order[:0]
	var changed []*classify.Draft
	for _, id := range s.order {
		dr := s.drafts[id]
		if dr != nil {
			if i := slices.Index(dr.To, user); i >= 0 {
				n++
				entry, ok := s.entry(dr.FAQ)
				// A decided draft's text names every asker, as a sent
				// reply's does (ReplyLog.EraseUser): it goes whole, and
				// so does one that cannot be rendered without them.
				if len(dr.To) == 1 || dr.State != classify.DraftPending || !ok {
					delete(s.drafts, id)
					continue
				}
				if i == 0 {
					dr.Asked = "" // the erased user's words
				}
				dr.To = slices.Delete(dr.To, i, i+1)
				dr.Names = slices.Delete(dr.Names, i, i+1)
				dr.InReplyTo = slices.Delete(dr.InReplyTo, i, i+1)
				dr.Text = s.render(entry.Answer, draftAskers(dr), s.fields(entry, &classify.Message{Stream: dr.Stream}))
				changed = append(changed, cloneDraft(dr))
			}
		}
		order = append(order, id)
	}
	s.order = order
	s.draftMu.Unlock()
	// Saved without the user before the store deletes what is left of
	// theirs (store.DB.EraseUser).
	for _, dr := range changed {
		s.out.Drafted(dr)
	}
	return n
}

// ReplyLog keeps the newest automated replies sent, for a user's export
// and erasure. The zero value keeps none; create it with NewReplyLog.
// Goroutine-safe.
type ReplyLog struct {
	mu   sync.Mutex
	ring []*classify.Reply
	next int
}

// NewReplyLog keeps the newest n replies (zero means 4096: an hour of a
// busy show's answers).
func NewReplyLog(n int) *ReplyLog {
	if n <= 0 {
		n = 4096
	}
	return &ReplyLog{ring: make([]*classify.Reply, n)}
}

// Add keeps r (not copied: replies are not changed once sent).
func (l *ReplyLog) Add(r *classify.Reply) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ring) == 0 {
		return
	}
	l.ring[l.next] = r
	l.next = (l.next + 1) % len(l.ring)
}

// To returns the kept replies addressed to user, oldest first.
func (l *ReplyLog) To(user string) []*classify.Reply {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []*classify.Reply{}
	for i := range l.ring {
		r := l.ring[(l.next+i)%len(l.ring)]
		if r != nil && slices.Contains(r.To, user) {
			out = append(out, r)
		}
	}
	return out
}

// EraseUser drops the kept replies addressed to user and returns how
// many. A reply to several askers goes too: its text names each of them.
func (l *ReplyLog) EraseUser(user string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for i, r := range l.ring {
		if r == nil || !slices.Contains(r.To, user) {
			continue
		}
		n++
		l.ring[i] = nil // the text names the user: drop the whole reply
	}
	return n
}

// TicketStream returns the stream of ticket id, for the check of a token
// limited to some streams; false if there is no such ticket.
func (s *Stage) TicketStream(id string) (string, bool) {
	t, ok := s.tickets.Get(id)
	if !ok || t == nil {
		return "", false
	}
	return t.Stream, true
}

// DraftStream returns the stream of draft id; false if there is none.
func (s *Stage) DraftStream(id string) (string, bool) {
	s.draftMu.Lock()
	defer s.draftMu.Unlock()
	dr := s.drafts[id]
	if dr == nil {
		return "", false
	}
	return dr.Stream, true
}
