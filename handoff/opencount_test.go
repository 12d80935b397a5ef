package handoff

import (
	"context"
	"strconv"
	"testing"

	"github.com/livemod/livemod/chat"
)

// TestOpenCounts: the open counts follow every way a ticket opens,
// is claimed, is resolved and is loaded, per stream and in all; ScanOpen
// lists the open ones with the time of their newest line.
func TestOpenCounts(t *testing.T) {
	var m MemoryTickets
	m.MaxResolved = 1
	open := func(stream, user string, ts int64) *chat.Ticket {
		got, created := m.Upsert(stream, user, ChangeFunc(func(cur *chat.Ticket) *chat.Ticket {
			if cur != nil {
				return nil
			}
			return &chat.Ticket{ID: "h-" + stream + user, Stream: stream, User: chat.User{ID: user}, State: chat.TicketOpen, Created: ts}
		}))
		if !created {
			t.Fatalf("%s/%s: not created", stream, user)
		}
		return got
	}
	want := func(when string, a, b, all int) {
		t.Helper()
		if m.OpenCount("a") != a || m.OpenCount("b") != b || m.OpenCount("") != all {
			t.Errorf("%s: open a=%d b=%d all=%d; want %d %d %d", when, m.OpenCount("a"), m.OpenCount("b"), m.OpenCount(""), a, b, all)
		}
	}
	var ids []string
	for i := range 3 {
		ids = append(ids, open("a", "u"+strconv.Itoa(i), int64(i)).ID)
	}
	b := open("b", "u0", 0)
	want("opened", 3, 1, 4)
	if _, err := m.Update(context.Background(), ids[0], func(t *chat.Ticket) error { t.State, t.ClaimedBy = chat.TicketClaimed, "x"; return nil }); err != nil {
		t.Fatal(err)
	}
	want("claimed", 2, 1, 3)
	if _, err := m.Update(context.Background(), ids[0], func(t *chat.Ticket) error { t.State = chat.TicketResolved; return nil }); err != nil {
		t.Fatal(err)
	}
	want("the claimed one resolved", 2, 1, 3)
	if _, err := m.Update(context.Background(), b.ID, func(t *chat.Ticket) error { t.State = chat.TicketResolved; return nil }); err != nil {
		t.Fatal(err)
	}
	want("an open one resolved (and the first evicted)", 2, 0, 2)
	m.JoinLine(&chat.Message{ID: "m", Stream: "a", User: chat.User{ID: "u1"}, Text: "hi", TS: 500}, 10)
	var scan []OpenTicket
	for p := range ScanParts {
		scan = m.ScanOpen(p, scan)
	}
	last := map[string]int64{}
	for _, o := range scan {
		last[o.ID] = o.Last
	}
	if len(scan) != 2 || last[ids[1]] != 500 || last[ids[2]] != 2 {
		t.Errorf("scan %+v; want %s at 500 (its joined line), %s at 2 (its opening)", scan, ids[1], ids[2])
	}
	var loaded MemoryTickets
	for _, tk := range m.List("", "") {
		loaded.Put(tk)
	}
	if loaded.OpenCount("a") != 2 || loaded.OpenCount("") != 2 {
		t.Errorf("loaded: a=%d all=%d, want 2 2", loaded.OpenCount("a"), loaded.OpenCount(""))
	}
	n := 0
	loaded.OpenStreams(func(s string, c int) { n += c })
	if n != 2 {
		t.Errorf("OpenStreams sums %d, want 2", n)
	}
}
