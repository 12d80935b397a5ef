package handoff

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/livemod/livemod/chat"
)

// Errors of ticket transitions.
var (
	ErrTicketNotFound = errors.New("handoff: no such ticket")
	ErrTicketState    = errors.New("handoff: ticket is not in a state that allows this")
)

// A TicketChange changes a user's active ticket. Upsert calls Apply with a
// copy of the ticket, or nil if there is none, under its lock (Apply must
// not block); Apply returns the ticket to save, or nil to save nothing. It
// is an interface, not a func, so that the message path can pass a value
// it reuses instead of allocating a closure per message.
type TicketChange interface {
	Apply(cur *chat.Ticket) *chat.Ticket
}

// ChangeFunc adapts a function to a TicketChange.
type ChangeFunc func(cur *chat.Ticket) *chat.Ticket

// Apply implements TicketChange.
func (f ChangeFunc) Apply(cur *chat.Ticket) *chat.Ticket { return f(cur) }

// Tickets holds handoff tickets. Implementations are goroutine-safe, and
// run changes under their lock (a change must not block). Join, Upsert
// and Update sit on the message path: they must not do I/O (a durable
// implementation keeps tickets in memory and writes behind).
//
// Tickets are values once saved: the *Ticket that Join, Upsert, Update,
// Get and List return is never changed afterwards (a change saves a new one), so
// callers may keep and read it from any goroutine but must not modify it.
// fn gets a shallow copy: it may set fields and append to Messages (or
// reslice it), never change an element of Messages or Badges in place.
type Tickets interface {
	// HasActive reports whether user has an open or claimed ticket in stream.
	HasActive(stream, user string) bool
	// Upsert applies c to a copy of user's active ticket in stream, or to
	// nil; a ticket c returns is saved (Rev incremented) and returned,
	// created reporting whether it is new: one allocation, no deep copy.
	Upsert(stream, user string, c TicketChange) (saved *chat.Ticket, created bool)
	// Join adds m as a chat line to its author's active ticket in m's
	// stream, keeping the ticket's last max lines, and returns the
	// ticket, or false if the author has none. The line is on the ticket
	// for every later read, but the returned version may not show it yet:
	// a join is the common case on the message path (every line of a
	// viewer with an open ticket), so it builds no new version of the
	// ticket, only reads do.
	Join(m *chat.Message, max int) (*chat.Ticket, bool)
	// Update calls fn with a copy of ticket id and saves it unless fn
	// returns an error. It may do I/O (a resolved ticket that left
	// memory, a remote store): ctx bounds it.
	Update(ctx context.Context, id string, fn func(t *chat.Ticket) error) (*chat.Ticket, error)
	// Get returns ticket id.
	Get(id string) (*chat.Ticket, bool)
	// List returns the tickets of stream (all streams if empty) in state
	// (all states if empty), oldest first.
	List(stream, state string) []*chat.Ticket
	// Page returns one page of List's tickets (see TicketQuery). It may
	// do I/O: ctx bounds it.
	Page(ctx context.Context, q TicketQuery) (TicketPage, error)
}

// TicketQuery asks for one page of tickets, in List's order (oldest
// first): an agent's inbox on a big show has tens of thousands of open
// tickets, too many for one answer.
type TicketQuery struct {
	Stream string // "" for every stream
	State  string // "" for every state
	// After is the Next of the page before, or "" for the first page.
	After string
	// Limit is the most tickets on the page; zero or less for no limit.
	Limit int
	// Hide, if not nil, leaves out the tickets it returns true for, as
	// if they did not exist. It is called without any lock held.
	Hide func(id string) bool
}

// TicketPage is one page of tickets.
type TicketPage struct {
	Tickets []*chat.Ticket
	// Total is how many tickets match the query's Stream and State, on
	// every page.
	Total int
	// Next is the After of the next page; "" on the last.
	Next string
}

// ErrBadCursor is returned for a TicketQuery.After that no page gave.
var ErrBadCursor = errors.New("after: not a cursor from an earlier page")

// ticketCursor is where a page ends: its last ticket's place in List's
// order (CompareTickets), written "created.id".
type ticketCursor struct {
	created int64
	id      string
}

func (c ticketCursor) String() string { return strconv.FormatInt(c.created, 10) + "." + c.id }

func parseCursor(s string) (c ticketCursor, ok bool) {
	created, id, found := strings.Cut(s, ".")
	n, err := strconv.ParseInt(created, 10, 64)
	if !found || err != nil || id == "" {
		return ticketCursor{}, false
	}
	return ticketCursor{n, id}, true
}

// before reports whether c sorts before t in List's order.
func (c ticketCursor) before(t *chat.Ticket) bool {
	return CompareTickets(&chat.Ticket{Created: c.created, ID: c.id}, t) < 0
}
