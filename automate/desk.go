package automate

import (
	"net/http"

	"github.com/livemod/livemod/classify"
)

// The agents' and moderators' side: ticket transitions and draft
// decisions, called from REST handlers. Their errors carry the HTTP
// status they ask for.

type statusError struct {
	err    error
	status int
}

func (e statusError) Error() string   { return e.err.Error() }
func (e statusError) Unwrap() error   { return e.err }
func (e statusError) StatusCode() int { return e.status }

func withStatus(err error) error {
	switch err {
	case nil:
		return nil
	case classify.ErrTicketNotFound, ErrDraftNotFound:
		return statusError{err, http.StatusNotFound}
	case classify.ErrTicketState, ErrDraftDecided:
		return statusError{err, http.StatusConflict}
	}
	return err
}

// Handoffs lists the tickets of stream (all if empty) in state (all if
// empty), oldest first.
func (s *Stage) Handoffs(stream, state string) []*classify.Ticket {
	return s.tickets.List(stream, state)
}

// Claim gives open ticket id to agent by at (Unix ms). Claiming a ticket
// one already holds is allowed (a page retried); another agent's is not.
func (s *Stage) Claim(id, by string, at int64) (*classify.Ticket, error) {
	t, err := s.tickets.Update(id, func(t *classify.Ticket) error {
		switch {
		case t.State == classify.TicketOpen:
			t.State, t.ClaimedBy, t.ClaimedAt = classify.TicketClaimed, by, at
		case t.State == classify.TicketClaimed && t.ClaimedBy == by:
		default:
			return classify.ErrTicketState
		}
		return nil
	})
	if err != nil {
		return nil, withStatus(err)
	}
	s.out.TicketChanged(t, false)
	return t, nil
}

// Resolve closes ticket id; the user's next support message opens a new one.
func (s *Stage) Resolve(id, by string, at int64) (*classify.Ticket, error) {
	t, err := s.tickets.Update(id, func(t *classify.Ticket) error {
		if !t.Active() {
			return classify.ErrTicketState
		}
		if t.ClaimedBy == "" {
			t.ClaimedBy, t.ClaimedAt = by, at
		}
		t.State, t.ResolvedAt = classify.TicketResolved, at
		return nil
	})
	if err != nil {
		return nil, withStatus(err)
	}
	s.out.TicketChanged(t, false)
	return t, nil
}
