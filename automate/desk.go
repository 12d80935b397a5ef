package automate

import (
	"context"
	"slices"
	"sync"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/handoff"
	"github.com/livemod/livemod/state"
)

// The agents' and moderators' side: ticket transitions and draft
// decisions, called from REST handlers. Their errors carry their kind
// (chat.ErrNotFound, chat.ErrConflict, chat.ErrInvalid), which overlay
// answers in HTTP.

func withStatus(err error) error {
	switch err {
	case nil:
		return nil
	case handoff.ErrTicketNotFound, ErrDraftNotFound:
		return chat.Kinded(chat.ErrNotFound, err)
	case handoff.ErrTicketState, ErrDraftDecided:
		return chat.Kinded(chat.ErrConflict, err)
	case handoff.ErrBadCursor:
		return chat.Kinded(chat.ErrInvalid, err)
	}
	return err
}

// Handoffs lists the tickets of stream (all if empty) in state (all if
// empty), oldest first, a page at a time: at most limit (no limit if 0),
// after the cursor an earlier page gave as next ("" for the first).
// total counts the matching tickets on every page; next is "" on the last.
func (s *Stage) Handoffs(ctx context.Context, stream, state, after string, limit int) (page []*chat.Ticket, total int, next string, err error) {
	p, err := s.tickets.Page(ctx, handoff.TicketQuery{Stream: stream, State: state, After: after, Limit: limit})
	return p.Tickets, p.Total, p.Next, withStatus(err)
}

// Claim gives open ticket id to agent by at (Unix ms), by the lifecycle's
// rule (handoff.Claim): a ticket that is not open is refused with
// ErrTicketState naming its state.
func (s *Stage) Claim(ctx context.Context, id, by string, at int64) (*chat.Ticket, error) {
	var conflict error
	t, err := s.tickets.Update(ctx, id, func(t *chat.Ticket) error {
		if conflict = handoff.Claim(t, by, at); conflict != nil {
			return handoff.ErrTicketState
		}
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

// Resolve closes ticket id (handoff.Resolve); the user's next support
// message opens a new one.
func (s *Stage) Resolve(ctx context.Context, id, by string, at int64) (*chat.Ticket, error) {
	var conflict error
	t, err := s.tickets.Update(ctx, id, func(t *chat.Ticket) error {
		if conflict = handoff.Resolve(t, by, at); conflict != nil {
			return handoff.ErrTicketState
		}
		return nil
	})
	if conflict != nil {
		return nil, conflict
	}
	if err != nil {
		return nil, withStatus(err)
	}
	t = s.askRating(ctx, t, at)
	s.out.TicketChanged(t, false)
	return t, nil
}

// UserData is what the stage holds about one user: recent messages (the
// context of a future ticket), drafts addressed to them, and the
// messages of theirs waiting for a grouped FAQ answer.
type UserData struct {
	Recent  []chat.TicketMessage `json:"recent_messages"`
	Drafts  []*chat.Draft        `json:"drafts"`
	Waiting []string             `json:"waiting"` // message ids
}

// UserData returns what the stage holds about user.
func (s *Stage) UserData(user string) UserData {
	out := UserData{Recent: []chat.TicketMessage{}, Drafts: []*chat.Draft{}, Waiting: []string{}}
	out.Recent = s.recent.ofUser(user, out.Recent)
	for _, dr := range s.drafts.List("", "") {
		if slices.Contains(dr.To, user) {
			out.Drafts = append(out.Drafts, dr)
		}
	}
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
	s.caps.Forget(user)
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
	var changed []*chat.Draft
	s.drafts.Filter(func(dr *chat.Draft) bool {
		i := slices.Index(dr.To, user)
		if i < 0 {
			return true
		}
		n++
		entry, ok := s.entry(dr.FAQ)
		// A decided draft's text names every asker, as a sent reply's
		// does (ReplyLog.EraseUser): it goes whole, and so does one that
		// cannot be rendered without them.
		if len(dr.To) == 1 || dr.State != chat.DraftPending || !ok {
			return false
		}
		if i == 0 {
			dr.Asked = "" // the erased user's words
		}
		dr.To = slices.Delete(dr.To, i, i+1)
		dr.Names = slices.Delete(dr.Names, i, i+1)
		dr.InReplyTo = slices.Delete(dr.InReplyTo, i, i+1)
		dr.Text = s.render(entry.Answer, draftAskers(dr), s.fields(entry, &chat.Message{Stream: dr.Stream}))
		changed = append(changed, state.CloneDraft(dr))
		return true
	})
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
	ring []*chat.Reply
	next int
}

// NewReplyLog keeps the newest n replies (zero means 4096: an hour of a
// busy show's answers).
func NewReplyLog(n int) *ReplyLog {
	if n <= 0 {
		n = 4096
	}
	return &ReplyLog{ring: make([]*chat.Reply, n)}
}

// Add keeps r (not copied: replies are not changed once sent).
func (l *ReplyLog) Add(r *chat.Reply) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ring) == 0 {
		return
	}
	l.ring[l.next] = r
	l.next = (l.next + 1) % len(l.ring)
}

// To returns the kept replies addressed to user, oldest first.
func (l *ReplyLog) To(user string) []*chat.Reply {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []*chat.Reply{}
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
	dr, ok := s.drafts.Get(id)
	if !ok {
		return "", false
	}
	return dr.Stream, true
}
