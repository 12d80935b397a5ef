package automate_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livemod/livemod/automate"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/handoff"
)

// boundStage is a stage over memory tickets with bounds, recording the
// tickets its sweeper closes through OnClose.
func boundStage(t *testing.T, b automate.TicketBounds) (*automate.Stage, *handoff.MemoryTickets, *[]*chat.Ticket) {
	t.Helper()
	tickets := &handoff.MemoryTickets{}
	var closed []*chat.Ticket
	s, err := automate.New(automate.Options{Tickets: tickets, Output: &recorder{}, Bounds: b,
		OnClose: func(t *chat.Ticket) { closed = append(closed, t) }})
	if err != nil {
		t.Fatal(err)
	}
	return s, tickets, &closed
}

// speak applies a message of user in stream at t0+sec; an agent request if
// ask. It returns the ticket the decision names, "" if none.
func speak(s *automate.Stage, stream, user string, sec int64, ask bool) string {
	m := &chat.Message{ID: "m-" + user + "-" + strconv.FormatInt(sec, 10), Stream: stream, User: chat.User{ID: user, Name: user}, Text: "hello", TS: t0 + sec*1000}
	d := chat.Decision{ID: m.ID, Stream: stream, User: m.User, Text: m.Text, TS: m.TS, Action: chat.Allow}
	if ask {
		m.Text, d.Text, d.Labels = "agent please", "agent please", agent
	}
	s.Apply(m, &d)
	if d.Handoff == nil {
		return ""
	}
	return d.Handoff.ID
}

func openIDs(tickets *handoff.MemoryTickets, stream string) map[string]bool {
	out := map[string]bool{}
	for _, t := range tickets.List(stream, chat.TicketOpen) {
		out[t.User.ID] = true
	}
	return out
}

// TestSweepBoundPerStream: fed past its bound, a stream keeps that many
// open tickets; the longest idle close first, resolved by system with
// the reason, and told to OnClose; another stream is untouched.
func TestSweepBoundPerStream(t *testing.T) {
	t.Parallel()
	s, tickets, closed := boundStage(t, automate.TicketBounds{MaxOpenPerStream: 3, MaxOpen: -1, IdleClose: -1})
	for i := range 6 {
		speak(s, "s", "u"+strconv.Itoa(i), int64(i), true)
	}
	speak(s, "other", "x", 0, true)
	speak(s, "s", "u0", 10, false) // u0 chats again: no longer the longest idle
	if n := s.OpenTickets("s"); n != 6 {
		t.Fatalf("before the sweep: %d open in s, want 6", n)
	}
	got := s.SweepTickets(t0 + 20_000)
	if len(got) != 3 || len(*closed) != 3 {
		t.Fatalf("closed %d (OnClose %d), want 3", len(got), len(*closed))
	}
	if n := s.OpenTickets("s"); n != 3 {
		t.Errorf("after: %d open in s, want 3", n)
	}
	if n := s.OpenTickets(""); n != 4 {
		t.Errorf("after: %d open in all, want 4", n)
	}
	want := map[string]bool{"u0": true, "u4": true, "u5": true}
	if got := openIDs(tickets, "s"); len(got) != 3 || !got["u0"] || !got["u4"] || !got["u5"] {
		t.Errorf("open users %v, want %v (u1–u3 the longest idle)", got, want)
	}
	for _, c := range got {
		cur, _ := tickets.Get(c.ID)
		if cur.State != chat.TicketResolved || cur.ClaimedBy != automate.SystemActor || cur.ResolvedAt != t0+20_000 ||
			!strings.Contains(cur.GetOutcome().Reason, "handoff.max_open_per_stream") {
			t.Errorf("closed %s: state %s by %q at %d, reason %q", cur.ID, cur.State, cur.ClaimedBy, cur.ResolvedAt, cur.GetOutcome().Reason)
		}
		if !strings.Contains(string(cur.AppendJSON(nil)), `"reason":"bound: stream \"s\"`) {
			t.Errorf("the JSON the agent reads lacks the reason: %s", cur.AppendJSON(nil))
		}
	}
	if age, bound := s.ClosedTickets(); age != 0 || bound != 3 {
		t.Errorf("closed by age %d, by bound %d; want 0, 3", age, bound)
	}
	if again := s.SweepTickets(t0 + 30_000); len(again) != 0 {
		t.Errorf("a second sweep closed %d", len(again))
	}
}

// TestSweepBoundAll: over the bound of all streams, the longest idle of
// any stream close first.
func TestSweepBoundAll(t *testing.T) {
	t.Parallel()
	s, tickets, _ := boundStage(t, automate.TicketBounds{MaxOpenPerStream: -1, MaxOpen: 2, IdleClose: -1})
	speak(s, "a", "u1", 1, true)
	speak(s, "b", "u2", 2, true)
	speak(s, "a", "u3", 3, true)
	speak(s, "b", "u4", 4, true)
	got := s.SweepTickets(t0 + 10_000)
	if len(got) != 2 || s.OpenTickets("") != 2 {
		t.Fatalf("closed %d, %d open; want 2, 2", len(got), s.OpenTickets(""))
	}
	if open := openIDs(tickets, ""); !open["u3"] || !open["u4"] {
		t.Errorf("open %v, want u3 and u4", open)
	}
	for _, c := range got {
		if !strings.Contains(c.GetOutcome().Reason, "handoff.max_open)") {
			t.Errorf("%s: reason %q", c.ID, c.GetOutcome().Reason)
		}
	}
}

// TestSweepBoundClaimed: claimed tickets neither count toward the bound
// nor close by it. A stream whose tickets are all claimed opens new ones
// as usual, and over the bound only the open ones close.
func TestSweepBoundClaimed(t *testing.T) {
	t.Parallel()
	s, tickets, _ := boundStage(t, automate.TicketBounds{MaxOpenPerStream: 2, MaxOpen: -1, IdleClose: -1})
	var claimed []string
	for i := range 3 {
		id := speak(s, "s", "c"+strconv.Itoa(i), int64(i), true)
		if _, err := s.Claim(context.Background(), id, "anita", t0); err != nil {
			t.Fatal(err)
		}
		claimed = append(claimed, id)
	}
	if n := s.OpenTickets("s"); n != 0 {
		t.Fatalf("%d open after claiming all, want 0", n)
	}
	if got := s.SweepTickets(t0 + 10_000); len(got) != 0 {
		t.Fatalf("all claimed: the sweep closed %d", len(got))
	}
	for i := range 4 {
		if speak(s, "s", "n"+strconv.Itoa(i), int64(10+i), true) == "" {
			t.Fatalf("new ticket %d not opened in a stream of claimed ones", i)
		}
	}
	got := s.SweepTickets(t0 + 20_000)
	if len(got) != 2 || s.OpenTickets("s") != 2 {
		t.Fatalf("closed %d, %d open; want 2, 2", len(got), s.OpenTickets("s"))
	}
	for _, id := range claimed {
		if c, _ := tickets.Get(id); c.State != chat.TicketClaimed {
			t.Errorf("claimed %s is %s", id, c.State)
		}
	}
}

// TestSweepIdle: an open ticket with no line for IdleClose closes with
// its reason; a claimed one and one whose user spoke since do not; the
// user's next request opens a new ticket.
func TestSweepIdle(t *testing.T) {
	t.Parallel()
	s, tickets, closed := boundStage(t, automate.TicketBounds{IdleClose: 2 * time.Hour})
	idle := speak(s, "s", "idle", 0, true)
	held := speak(s, "s", "held", 0, true)
	chatty := speak(s, "s", "chatty", 0, true)
	if _, err := s.Claim(context.Background(), held, "anita", t0); err != nil {
		t.Fatal(err)
	}
	speak(s, "s", "chatty", 3600, false) // an hour later
	if got := s.SweepTickets(t0 + 2*3600_000 - 1); len(got) != 0 {
		t.Fatalf("before 2h: closed %d", len(got))
	}
	got := s.SweepTickets(t0 + 2*3600_000 + 1000)
	if len(got) != 1 || got[0].ID != idle {
		t.Fatalf("closed %v, want only %s", got, idle)
	}
	c, _ := tickets.Get(idle)
	if c.State != chat.TicketResolved || c.GetOutcome().Reason != "idle: no message for 2h (handoff.idle_close)" || c.ClaimedBy != automate.SystemActor {
		t.Errorf("idle ticket: %s by %q, reason %q", c.State, c.ClaimedBy, c.GetOutcome().Reason)
	}
	if h, _ := tickets.Get(held); h.State != chat.TicketClaimed {
		t.Errorf("claimed ticket is %s", h.State)
	}
	if got := s.SweepTickets(t0 + 3*3600_000 + 1000); len(got) != 1 || got[0].ID != chatty {
		t.Errorf("3h after the chatty user's last line: closed %v, want %s", got, chatty)
	}
	if h, _ := tickets.Get(held); h.State != chat.TicketClaimed {
		t.Errorf("claimed ticket is %s after 3h", h.State)
	}
	if age, bound := s.ClosedTickets(); age != 2 || bound != 0 || len(*closed) != 2 {
		t.Errorf("closed by age %d, by bound %d, told %d; want 2, 0, 2", age, bound, len(*closed))
	}
	again := speak(s, "s", "idle", 4*3600, true)
	if again == "" || again == idle {
		t.Errorf("the idle user's new request: ticket %q, want a new one (was %s)", again, idle)
	}
}

// TestSweepOpenedKicks: a new ticket over the bound signals Kicked at
// once; one under it does not.
func TestSweepOpenedKicks(t *testing.T) {
	t.Parallel()
	s, _, _ := boundStage(t, automate.TicketBounds{MaxOpenPerStream: 1, MaxOpen: -1, IdleClose: -1})
	speak(s, "s", "a", 0, true)
	select {
	case <-s.Kicked():
		t.Fatal("kicked at the bound, not over it")
	default:
	}
	speak(s, "s", "b", 1, true)
	select {
	case <-s.Kicked():
	default:
		t.Fatal("not kicked over the bound")
	}
}
