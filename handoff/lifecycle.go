package handoff

import (
	"fmt"

	"github.com/livemod/livemod/chat"
)

// The ticket lifecycle: open → claimed → resolved, and the user's next
// request opens a new ticket. These rules say which transition a ticket
// allows; where tickets are kept (Tickets) and what opens one (the
// automation's policy) are elsewhere. Each changes the copy it is given
// (a Tickets.Update function) and returns a *chat.Error of kind
// ErrConflict, wrapping ErrTicketState and naming the state, when the
// ticket is not in a state that allows it.

// Claim gives open ticket t to agent by at (Unix ms). A ticket that is
// not open (claimed, even by the same agent, or resolved) is refused: a
// claim is made once, and audited once.
func Claim(t *chat.Ticket, by string, at int64) error {
	if t.State != chat.TicketOpen {
		return StateConflict(t, "claim")
	}
	t.State, t.ClaimedBy, t.ClaimedAt = chat.TicketClaimed, by, at
	return nil
}

// Resolve closes active ticket t, by the agent by at (Unix ms); an open
// ticket resolved without a claim counts as claimed by the same agent at
// that moment.
func Resolve(t *chat.Ticket, by string, at int64) error {
	if !t.Active() {
		return StateConflict(t, "resolve")
	}
	if t.ClaimedBy == "" {
		t.ClaimedBy, t.ClaimedAt = by, at
	}
	t.State, t.ResolvedAt = chat.TicketResolved, at
	return nil
}

// StateConflict is ErrTicketState for action on t, naming t's state (and
// who claimed it), of kind chat.ErrConflict.
func StateConflict(t *chat.Ticket, action string) error {
	msg := "ticket " + t.ID + " is " + t.State
	if t.ClaimedBy != "" && t.State != chat.TicketOpen {
		msg += " (by " + t.ClaimedBy + ")"
	}
	err := fmt.Errorf("%w: %s; cannot %s it", ErrTicketState, msg, action)
	return &chat.Error{Kind: chat.ErrConflict, Msg: err.Error(), State: t.State, Err: err}
}
