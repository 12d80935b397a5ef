// Package ticketstest is the contract of handoff.Tickets, as a test any
// implementation runs: the memory one (handoff.MemoryTickets), the
// durable one (store.Automation), a remote one later. It is imported by
// tests only.
package ticketstest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/handoff"
)

// open is how a ticket change of the contract opens a ticket: one per
// user and stream, with the id given.
type open struct{ id, stream, user string }

func (o open) Apply(cur *chat.Ticket) *chat.Ticket {
	if cur != nil {
		return nil // one active ticket per user and stream: keep it
	}
	return &chat.Ticket{ID: o.id, Stream: o.stream, User: chat.User{ID: o.user}, State: chat.TicketOpen, Created: 1795000000000}
}

// Run runs the contract against the store newTickets returns (a new,
// empty one for each call).
func Run(t *testing.T, newTickets func(t *testing.T) handoff.Tickets) {
	t.Run("one active ticket per user and stream", func(t *testing.T) {
		ts := newTickets(t)
		if ts.HasActive("s", "u-1") {
			t.Fatal("a new store has an active ticket")
		}
		t1, created := ts.Upsert("s", "u-1", open{"h-1", "s", "u-1"})
		if !created || t1 == nil || t1.ID != "h-1" || !ts.HasActive("s", "u-1") {
			t.Fatalf("first upsert: %+v created %v", t1, created)
		}
		if t2, created := ts.Upsert("s", "u-1", open{"h-2", "s", "u-1"}); created || t2 != nil {
			t.Fatalf("a second ticket for the same user and stream: %+v created %v", t2, created)
		}
		if _, created := ts.Upsert("other", "u-1", open{"h-3", "other", "u-1"}); !created {
			t.Fatal("the same user in another stream has no ticket of their own")
		}
	})
	t.Run("lines join the active ticket", func(t *testing.T) {
		ts := newTickets(t)
		ts.Upsert("s", "u-1", open{"h-1", "s", "u-1"})
		if _, ok := ts.Join(&chat.Message{ID: "m-1", Stream: "s", User: chat.User{ID: "u-1"}, Text: "order 5521 please", TS: 1795000001000}, 10); !ok {
			t.Fatal("a line of the ticket's user did not join")
		}
		if _, ok := ts.Join(&chat.Message{ID: "m-2", Stream: "s", User: chat.User{ID: "u-9"}, Text: "hi", TS: 1795000001000}, 10); ok {
			t.Fatal("a line of a user without a ticket joined one")
		}
		got, ok := ts.Get("h-1")
		if !ok || len(got.Messages) != 1 || got.Messages[0].ID != "m-1" {
			t.Fatalf("after a join: %+v", got)
		}
	})
	t.Run("update changes a copy, an error changes nothing", func(t *testing.T) {
		ts := newTickets(t)
		ts.Upsert("s", "u-1", open{"h-1", "s", "u-1"})
		claimed, err := ts.Update(t.Context(), "h-1", func(t *chat.Ticket) error { t.State, t.ClaimedBy = chat.TicketClaimed, "agent"; return nil })
		if err != nil || claimed.State != chat.TicketClaimed {
			t.Fatalf("claim: %+v %v", claimed, err)
		}
		refuse := errors.New("not now")
		if _, err := ts.Update(t.Context(), "h-1", func(t *chat.Ticket) error { t.State = chat.TicketResolved; return refuse }); !errors.Is(err, refuse) {
			t.Fatalf("a refused change: %v", err)
		}
		if got, _ := ts.Get("h-1"); got.State != chat.TicketClaimed {
			t.Fatalf("a refused change was saved: %s", got.State)
		}
		if _, err := ts.Update(t.Context(), "h-404", func(*chat.Ticket) error { return nil }); !errors.Is(err, handoff.ErrTicketNotFound) {
			t.Fatalf("update of an unknown ticket: %v", err)
		}
		// A version handed out is not the store's: a Clone changed by the
		// caller changes nothing kept.
		c := claimed.Clone()
		c.State = chat.TicketResolved
		if got, _ := ts.Get("h-1"); got.State != chat.TicketClaimed {
			t.Fatal("a caller's copy changed the kept ticket")
		}
	})
	t.Run("resolved frees the user for a new ticket", func(t *testing.T) {
		ts := newTickets(t)
		ts.Upsert("s", "u-1", open{"h-1", "s", "u-1"})
		if _, err := ts.Update(t.Context(), "h-1", func(t *chat.Ticket) error { t.State = chat.TicketResolved; return nil }); err != nil {
			t.Fatal(err)
		}
		if ts.HasActive("s", "u-1") {
			t.Fatal("a resolved ticket is active")
		}
		if _, created := ts.Upsert("s", "u-1", open{"h-2", "s", "u-1"}); !created {
			t.Fatal("no new ticket after the last was resolved")
		}
		if got := ts.List("s", chat.TicketResolved); len(got) != 1 || got[0].ID != "h-1" {
			t.Fatalf("resolved list: %v", got)
		}
	})
	t.Run("pages", func(t *testing.T) {
		ts := newTickets(t)
		for i := range 5 {
			ts.Upsert("s", fmt.Sprint("u-", i), open{fmt.Sprint("h-", i), "s", fmt.Sprint("u-", i)})
		}
		var ids []string
		after := ""
		for range 5 {
			p, err := ts.Page(t.Context(), handoff.TicketQuery{Stream: "s", State: chat.TicketOpen, After: after, Limit: 2})
			if err != nil || p.Total != 5 {
				t.Fatalf("page after %q: %+v %v", after, p, err)
			}
			for _, tk := range p.Tickets {
				ids = append(ids, tk.ID)
			}
			if after = p.Next; after == "" {
				break
			}
		}
		if len(ids) != 5 {
			t.Fatalf("pages gave %v", ids)
		}
		if _, err := ts.Page(t.Context(), handoff.TicketQuery{After: "not-a-cursor"}); !errors.Is(err, handoff.ErrBadCursor) {
			t.Fatalf("a bad cursor: %v", err)
		}
	})
}
