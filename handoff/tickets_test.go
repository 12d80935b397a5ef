package handoff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/livemod/livemod/chat"
)

// A kept message or user must not point into the line it was decoded
// from: a ticket would keep the whole frame alive.
func TestKeepOwnsItsStrings(t *testing.T) {
	frame := []byte(`xxstream-1u-42asham-7hello there`)
	str := func(i, j int) string { return unsafe.String(&frame[i], j-i) }
	inFrame := func(s string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		lo := uintptr(unsafe.Pointer(&frame[0]))
		return p >= lo && p < lo+uintptr(len(frame))
	}
	m := &chat.Message{ID: str(18, 21), Stream: str(2, 10), User: chat.User{ID: str(10, 14), Name: str(14, 18)}, Text: str(21, 32), TS: 5}

	stream, u := chat.KeepUser(m.Stream, m.User)
	if stream != "stream-1" || u.ID != "u-42" || u.Name != "asha" {
		t.Fatalf("KeepUser = %q %+v", stream, u)
	}
	km := chat.KeepMessage(m)
	if km.ID != "m-7" || km.Text != "hello there" || km.TS != 5 {
		t.Fatalf("KeepMessage = %+v", km)
	}
	for _, s := range []string{stream, u.ID, u.Name, km.ID, km.Text} {
		if inFrame(s) {
			t.Errorf("%q points into the decoded frame", s)
		}
	}
	if s, u := chat.KeepUser("", chat.User{}); s != "" || u.ID != "" || u.Name != "" {
		t.Errorf("KeepUser of nothing = %q %+v", s, u)
	}
	if s, u := chat.KeepUser("s", chat.User{ID: "", Name: "n"}); s != "s" || u.ID != "" || u.Name != "n" {
		t.Errorf("KeepUser(s, {\"\", n}) = %q %+v", s, u)
	}
}

// FuzzTicketAppendJSON: the hand encoder writes the fields, omissions and
// values that encoding/json writes for the same ticket.
func FuzzTicketAppendJSON(f *testing.F) {
	f.Add("h-9", "show", "u-7", "asha", "vip", uint64(chat.LabelSupport|chat.LabelAgentRequest), "5521", "refund", "@asha needs help: refund", "m-1", "where is <my> order & \"refund\"?", int64(1795000000000), "claimed", "agent", int64(5), int64(0), true, uint64(3), 2)
	f.Add("", "", "", "", "", uint64(0), "", "", "", "", "", int64(0), "", "", int64(0), int64(0), false, uint64(0), -1)
	f.Add("h-1", "s", "u", "", "", uint64(0), "", "", "bad \xff utf8", "m", "हिंदी\u2028", int64(-4), "resolved", "", int64(0), int64(9), false, uint64(1<<63), 0)
	f.Fuzz(func(t *testing.T, id, stream, user, name, badge string, labels uint64, order, issue, summary, msgID, text string, ts int64, state, claimedBy string, claimedAt, resolvedAt int64, noticed bool, rev uint64, nmsg int) {
		tk := &chat.Ticket{ID: id, Stream: stream, User: chat.User{ID: user, Name: name}, Labels: chat.Labels(labels), OrderID: order, Issue: issue,
			Summary: summary, Created: ts, State: state, ClaimedBy: claimedBy, ClaimedAt: claimedAt, ResolvedAt: resolvedAt, Noticed: noticed, Rev: rev}
		if badge != "" {
			tk.User.Badges = []string{badge, "mod"}
		}
		switch {
		case nmsg < 0: // nil: null
		case nmsg == 0:
			tk.Messages = []chat.TicketMessage{}
		default:
			for i := range min(nmsg, 3) {
				tk.Messages = append(tk.Messages, chat.TicketMessage{ID: msgID, Text: text, TS: ts + int64(i)})
			}
		}
		got := tk.AppendJSON(nil)
		want, err := json.Marshal(tk)
		if err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		var g, w map[string]any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("AppendJSON wrote %s: not JSON: %v", got, err)
		}
		json.Unmarshal(want, &w)
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("AppendJSON:    %s\nencoding/json: %s", got, want)
		}
	})
}

// BenchmarkTicketAppendJSON encodes a ticket with ten chat lines, as the
// store's writer does for every new or changed ticket.
func BenchmarkTicketAppendJSON(b *testing.B) {
	tk := &chat.Ticket{ID: "h-12345", Stream: "launch", User: chat.User{ID: "u-3-1234", Name: "Priya_42"}, Labels: chat.Labels(chat.LabelSupport | chat.LabelAgentRequest),
		OrderID: "5521", Issue: "refund", Summary: "@Priya_42 needs a human about a refund (order 5521)", Created: 1795000000000, State: chat.TicketOpen, Rev: 7}
	for i := range 10 {
		tk.Messages = append(tk.Messages, chat.TicketMessage{ID: "b1x-3-12004" + strconv.Itoa(i), Text: "bhai mera order abhi tak nahi aaya, refund chahiye please", TS: 1795000000000 + int64(i)})
	}
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = tk.AppendJSON(buf[:0])
		}
		b.SetBytes(int64(len(buf)))
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			json.Marshal(tk)
		}
	})
}

// MemoryTickets with MaxResolved drops the longest resolved tickets and
// never an active one.
func TestMemoryTicketsMaxResolved(t *testing.T) {
	m := &MemoryTickets{MaxResolved: 1}
	for _, u := range []string{"a", "b", "c"} {
		m.Upsert("s", u, ChangeFunc(func(*chat.Ticket) *chat.Ticket {
			return &chat.Ticket{ID: "h-" + u, Stream: "s", User: chat.User{ID: u}, State: chat.TicketOpen}
		}))
	}
	resolve := func(id string) {
		if _, err := m.Update(context.Background(), id, func(t *chat.Ticket) error { t.State = chat.TicketResolved; return nil }); err != nil {
			t.Fatalf("resolve %s: %v", id, err)
		}
	}
	resolve("h-b")
	resolve("h-a") // h-b leaves
	if _, ok := m.Get("h-b"); ok {
		t.Error("h-b, resolved first, is still in memory")
	}
	if tk, ok := m.Get("h-a"); !ok || tk.State != chat.TicketResolved {
		t.Errorf("h-a = %+v, %v; want the resolved ticket kept", tk, ok)
	}
	if !m.HasActive("s", "c") || len(m.List("", chat.TicketOpen)) != 1 {
		t.Error("the open ticket left memory")
	}
	// Saving a resolved ticket again does not count it twice.
	m.Update(context.Background(), "h-a", func(t *chat.Ticket) error { t.Summary = "done"; return nil })
	if _, ok := m.Get("h-a"); !ok {
		t.Error("h-a left memory when it was saved again")
	}
}

// Join adds chat lines without a new version; every read shows them, the
// ticket keeps the last max, and TakeJoined hands them out once.
func TestMemoryTicketsJoin(t *testing.T) {
	m := &MemoryTickets{}
	line := func(id string) *chat.Message {
		return &chat.Message{ID: id, Stream: "s", User: chat.User{ID: "u"}, Text: "text " + id, TS: 1}
	}
	if _, ok := m.Join(line("m0"), 3); ok {
		t.Fatal("Join found a ticket where there is none")
	}
	m.Upsert("s", "u", ChangeFunc(func(*chat.Ticket) *chat.Ticket {
		return &chat.Ticket{ID: "h-1", Stream: "s", User: chat.User{ID: "u"}, State: chat.TicketOpen, Messages: []chat.TicketMessage{{ID: "m0"}}}
	}))
	ids := func(tk *chat.Ticket) (out []string) {
		for _, x := range tk.Messages {
			out = append(out, x.ID)
		}
		return out
	}
	tk, first, ok := m.JoinLine(line("m1"), 3)
	if !ok || !first || tk.ID != "h-1" || len(tk.Messages) != 1 || tk.Rev != 1 {
		t.Fatalf("first JoinLine = %+v, first %v, ok %v; want the unchanged version, first", tk, first, ok)
	}
	if _, first, _ := m.JoinLine(line("m2"), 3); first {
		t.Error("second JoinLine reported first")
	}
	got, _ := m.Get("h-1")
	if s := ids(got); len(s) != 3 || s[0] != "m0" || s[2] != "m2" || got.Rev != 2 || got.Messages[2].Text != "text m2" {
		t.Fatalf("Get after two joins = %v rev %d, want [m0 m1 m2] rev 2", s, got.Rev)
	}
	for _, id := range []string{"m3", "m4", "m5", "m6"} {
		m.Join(line(id), 3)
	}
	taken, ok := m.TakeJoined("h-1")
	if s := ids(taken); !ok || len(s) != 3 || s[0] != "m4" || s[2] != "m6" {
		t.Fatalf("TakeJoined = %v, %v; want the last 3 lines [m4 m5 m6]", s, ok)
	}
	if _, ok := m.TakeJoined("h-1"); ok {
		t.Error("TakeJoined twice handed the lines out again")
	}
	// A change after joins keeps them, and counts as their save.
	m.Join(line("m7"), 3)
	up, err := m.Update(context.Background(), "h-1", func(tk *chat.Ticket) error { tk.State = chat.TicketClaimed; return nil })
	if s := ids(up); err != nil || len(s) != 3 || s[2] != "m7" || up.State != chat.TicketClaimed {
		t.Fatalf("Update after a join = %v, %v", s, err)
	}
	if _, ok := m.TakeJoined("h-1"); ok {
		t.Error("lines saved with an update were handed out again")
	}
	// Old versions are values: a fold never changes one already read.
	if s := ids(got); len(s) != 3 || s[2] != "m2" {
		t.Errorf("a version read before changed to %v", s)
	}
}

// BenchmarkTicketJoin: a chat line joining its author's open ticket, as
// Join does it and as a new version of the ticket (Upsert) would, among
// 50,000 open tickets.
func BenchmarkTicketJoin(b *testing.B) {
	const users = 50_000
	setup := func() (*MemoryTickets, []chat.Message) {
		m := &MemoryTickets{}
		msgs := make([]chat.Message, users)
		for i := range msgs {
			u := "u-" + strconv.Itoa(i)
			msgs[i] = chat.Message{ID: "m-" + u, Stream: "show", User: chat.User{ID: u, Name: "viewer"}, Text: "still waiting for my order, any update?", TS: 1}
			m.Upsert("show", u, ChangeFunc(func(*chat.Ticket) *chat.Ticket {
				return &chat.Ticket{ID: "h-" + u, Stream: "show", User: chat.User{ID: u}, State: chat.TicketOpen, Summary: "needs a human"}
			}))
		}
		return m, msgs
	}
	b.Run("join", func(b *testing.B) {
		m, msgs := setup()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			m.Join(&msgs[i%users], 10)
			i++
		}
	})
	b.Run("new-version", func(b *testing.B) {
		m, msgs := setup()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			msg := &msgs[i%users]
			m.Upsert(msg.Stream, msg.User.ID, ChangeFunc(func(cur *chat.Ticket) *chat.Ticket {
				cur.Messages = append(cur.Messages, chat.KeepMessage(msg))
				if n := len(cur.Messages); n > 10 {
					cur.Messages = cur.Messages[n-10:]
				}
				return cur
			}))
			i++
		}
	})
}

// TestMemoryTicketsConcurrentUpdates: changes that keep a ticket active
// (made under the read lock and the ticket's own) from two goroutines,
// alongside joins, lose none of each other's; a resolve among them takes
// the ticket out of the active index.
func TestMemoryTicketsConcurrentUpdates(t *testing.T) {
	m := &MemoryTickets{}
	m.Upsert("s", "u", ChangeFunc(func(*chat.Ticket) *chat.Ticket {
		return &chat.Ticket{ID: "h-1", Stream: "s", User: chat.User{ID: "u"}, State: chat.TicketOpen}
	}))
	const each = 500
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Go(func() {
			for range each {
				fn := func(t *chat.Ticket) error { t.Summary += "x"; return nil }
				if g == 0 {
					m.Update(context.Background(), "h-1", fn)
				} else {
					m.UpdateUnsaved("h-1", fn)
				}
			}
		})
	}
	wg.Go(func() {
		for i := range each {
			m.JoinLine(&chat.Message{ID: fmt.Sprint("m-", i), Stream: "s", User: chat.User{ID: "u"}, Text: "line"}, 10)
		}
	})
	wg.Wait()
	tk, _ := m.Get("h-1")
	if len(tk.Summary) != 2*each {
		t.Fatalf("%d of %d changes kept", len(tk.Summary), 2*each)
	}
	if len(tk.Messages) != 10 || tk.Messages[9].ID != fmt.Sprint("m-", each-1) {
		t.Fatalf("lines %+v", tk.Messages)
	}
	if _, err := m.Update(context.Background(), "h-1", func(t *chat.Ticket) error { t.State = chat.TicketResolved; return nil }); err != nil {
		t.Fatal(err)
	}
	if m.HasActive("s", "u") {
		t.Fatal("a resolved ticket is still active")
	}
	if _, _, ok := m.JoinLine(&chat.Message{ID: "late", Stream: "s", User: chat.User{ID: "u"}, Text: "line"}, 10); ok {
		t.Fatal("a line joined a resolved ticket")
	}
}

// TestMemoryTicketsConcurrentUpserts: two goroutines open tickets for
// the same users at once; each user gets one ticket, built by one of them
// and joined by the other, and exactly one Upsert per user says created.
func TestMemoryTicketsConcurrentUpserts(t *testing.T) {
	m := &MemoryTickets{}
	const users = 200
	var ids, created atomic.Int64
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Go(func() {
			for u := range users {
				line := chat.TicketMessage{ID: fmt.Sprintf("m-%d-%d", g, u)}
				_, c := m.Upsert("s", fmt.Sprint("u-", u), ChangeFunc(func(cur *chat.Ticket) *chat.Ticket {
					if cur != nil {
						cur.Messages = append(cur.Messages, line)
						return cur
					}
					return &chat.Ticket{ID: fmt.Sprint("h-", ids.Add(1)), Stream: "s", User: chat.User{ID: fmt.Sprint("u-", u)}, State: chat.TicketOpen, Messages: []chat.TicketMessage{line}}
				}))
				if c {
					created.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if created.Load() != users {
		t.Errorf("%d Upserts said created, want %d", created.Load(), users)
	}
	if n := len(m.List("s", "")); n != users {
		t.Errorf("%d tickets kept, want %d (one per user)", n, users)
	}
	for _, tk := range m.List("s", "") {
		if len(tk.Messages) != 2 {
			t.Fatalf("ticket of %s has %d lines, want both goroutines'", tk.User.ID, len(tk.Messages))
		}
	}
}

// TestMemoryTicketsConcurrentJoinsAndReads: joins from two goroutines (as
// two pipeline shards make them, each for its own users) run alongside
// reads, the store's takes and updates; under -race nothing conflicts,
// and every ticket ends with its user's last lines, in order.
func TestMemoryTicketsConcurrentJoinsAndReads(t *testing.T) {
	m := &MemoryTickets{}
	const users, lines, keep = 64, 300, 5
	for u := range users {
		id := "h-" + strconv.Itoa(u)
		m.Upsert("s", "u-"+strconv.Itoa(u), ChangeFunc(func(*chat.Ticket) *chat.Ticket {
			return &chat.Ticket{ID: id, Stream: "s", User: chat.User{ID: "u-" + strconv.Itoa(u)}, State: chat.TicketOpen}
		}))
	}
	var wg sync.WaitGroup
	for shard := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				for u := shard; u < users; u += 2 {
					msg := &chat.Message{ID: fmt.Sprintf("m-%d-%d", u, i), Stream: "s", User: chat.User{ID: "u-" + strconv.Itoa(u)}, Text: "line", TS: int64(i)}
					if _, _, ok := m.JoinLine(msg, keep); !ok {
						t.Errorf("join %s: no ticket", msg.ID)
						return
					}
				}
			}
		}()
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			id := "h-" + strconv.Itoa(n%users)
			switch n % 4 {
			case 0:
				m.Get(id)
			case 1:
				m.TakeJoined(id)
			case 2:
				m.List("s", "")
			case 3:
				m.Update(context.Background(), id, func(t *chat.Ticket) error { t.Noticed = true; return nil })
			}
		}
	}()
	wg.Wait()
	close(stop)
	readers.Wait()
	for u := range users {
		tk, ok := m.Get("h-" + strconv.Itoa(u))
		if !ok || len(tk.Messages) != keep {
			t.Fatalf("ticket of u-%d: %v lines, want %d", u, len(tk.Messages), keep)
		}
		for k, msg := range tk.Messages {
			if want := fmt.Sprintf("m-%d-%d", u, lines-keep+k); msg.ID != want {
				t.Fatalf("ticket of u-%d: line %d = %s, want %s", u, k, msg.ID, want)
			}
		}
	}
}

// TestTicketPages: paging through a listing gives every matching ticket
// once, in List's order, with the total on every page; lines joined since
// are on the page's tickets; a bad cursor is refused; Hide leaves tickets
// out of pages and totals.
func TestTicketPages(t *testing.T) {
	var m MemoryTickets
	open := func(stream, user string, created int64, state string) {
		m.Upsert(stream, user, ChangeFunc(func(*chat.Ticket) *chat.Ticket {
			return &chat.Ticket{ID: fmt.Sprintf("h-%s-%s", stream, user), Stream: stream, User: chat.User{ID: user}, Created: created, State: state}
		}))
	}
	for i := range 250 {
		open("show", "u"+strconv.Itoa(i), int64(1000+i/3), chat.TicketOpen) // three share each Created: the id orders them
		open("other", "u"+strconv.Itoa(i), int64(1000+i), chat.TicketOpen)
	}
	for i := range 20 {
		open("show", "c"+strconv.Itoa(i), int64(900+i), chat.TicketClaimed)
	}
	m.Join(&chat.Message{ID: "m-1", Stream: "show", User: chat.User{ID: "u7"}, Text: "still waiting", TS: 5}, 10)

	want := m.List("show", chat.TicketOpen)
	if len(want) != 250 {
		t.Fatalf("List: %d tickets, want 250", len(want))
	}
	var got []*chat.Ticket
	after, pages := "", 0
	for {
		p, err := m.Page(context.Background(), TicketQuery{Stream: "show", State: chat.TicketOpen, After: after, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if p.Total != 250 {
			t.Fatalf("page %d: total %d, want 250", pages, p.Total)
		}
		got = append(got, p.Tickets...)
		if p.Next == "" {
			break
		}
		if len(p.Tickets) != 100 {
			t.Fatalf("page %d of %d tickets has a next page", pages, len(p.Tickets))
		}
		after = p.Next
	}
	if pages != 3 || len(got) != len(want) {
		t.Fatalf("%d pages, %d tickets; want 3 pages of 250", pages, len(got))
	}
	for i := range got {
		if got[i].ID != want[i].ID {
			t.Fatalf("ticket %d: %s, want %s (List's order)", i, got[i].ID, want[i].ID)
		}
		if got[i].ID == "h-show-u7" && (len(got[i].Messages) != 1 || got[i].Messages[0].Text != "still waiting") {
			t.Errorf("h-show-u7 on its page has messages %+v, want the joined line", got[i].Messages)
		}
	}

	for _, bad := range []string{"x", "12", ".h-1", "12.", "a.h-1"} {
		if _, err := m.Page(context.Background(), TicketQuery{After: bad}); err != ErrBadCursor {
			t.Errorf("Page(After %q): %v, want ErrBadCursor", bad, err)
		}
	}
	p, _ := m.Page(context.Background(), TicketQuery{Stream: "show", Limit: 5, Hide: func(id string) bool { return strings.HasPrefix(id, "h-show-c") }})
	if p.Total != 250 || p.Tickets[0].ID != "h-show-u0" {
		t.Errorf("hiding the claimed: total %d, first %s; want 250 from h-show-u0", p.Total, p.Tickets[0].ID)
	}
	if p, _ := m.Page(context.Background(), TicketQuery{}); p.Total != 520 || len(p.Tickets) != 520 || p.Next != "" {
		t.Errorf("everything: %d of %d, next %q; want all 520 on one page", len(p.Tickets), p.Total, p.Next)
	}
}

// TestTicketPartCollisions: users whose keys share a first half (odds of
// 2⁻⁶⁴ a pair, made here by hand) each keep their own active ticket.
func TestTicketPartCollisions(t *testing.T) {
	var pt ticketPart
	slot := func(b uint64) *ticketSlot { return &ticketSlot{key: userRef{7, b}} }
	s1, s2, s3, s2b := slot(1), slot(2), slot(3), slot(2)
	check := func(step string, want ...*ticketSlot) {
		t.Helper()
		for i, b := range []uint64{1, 2, 3} {
			if got := pt.get(userRef{7, b}); got != want[i] {
				t.Errorf("%s: get(7,%d) = %p, want %p", step, b, got, want[i])
			}
		}
		if got := pt.get(userRef{8, 1}); got != nil {
			t.Errorf("%s: get(8,1) = %p, want nil", step, got)
		}
	}
	pt.set(s1)
	pt.set(s2)
	pt.set(s3)
	pt.set(s3) // again: no change
	check("three set", s1, s2, s3)
	pt.set(s2b) // a new ticket for user 2
	check("2 replaced", s1, s2b, s3)
	pt.drop(s2) // no longer in the index: nothing happens
	check("old 2 dropped", s1, s2b, s3)
	pt.drop(s1)
	check("1 dropped", nil, s2b, s3)
	pt.drop(s3)
	pt.drop(s2b)
	check("all dropped", nil, nil, nil)
	if len(pt.m) != 0 {
		t.Errorf("%d map entries left", len(pt.m))
	}
}

// TestLifecycle: open → claimed → resolved, and each refusal names the
// state as a conflict.
func TestLifecycle(t *testing.T) {
	tk := &chat.Ticket{ID: "h-1", State: chat.TicketOpen}
	if err := Resolve(&chat.Ticket{ID: "h-0", State: chat.TicketResolved}, "ana", 1); !errors.Is(err, ErrTicketState) {
		t.Fatalf("resolve a resolved ticket: %v", err)
	}
	if err := Claim(tk, "ana", 10); err != nil || tk.State != chat.TicketClaimed || tk.ClaimedBy != "ana" || tk.ClaimedAt != 10 {
		t.Fatalf("claim: %v, %+v", err, tk)
	}
	err := Claim(tk, "bo", 11)
	var ce *chat.Error
	if !errors.As(err, &ce) || ce.Kind != chat.ErrConflict || ce.State != chat.TicketClaimed || !strings.Contains(err.Error(), "by ana") {
		t.Fatalf("second claim: %v", err)
	}
	if err := Resolve(tk, "bo", 20); err != nil || tk.State != chat.TicketResolved || tk.ClaimedBy != "ana" || tk.ResolvedAt != 20 {
		t.Fatalf("resolve: %v, %+v", err, tk)
	}
	open := &chat.Ticket{ID: "h-2", State: chat.TicketOpen}
	if err := Resolve(open, "cy", 30); err != nil || open.ClaimedBy != "cy" || open.ClaimedAt != 30 {
		t.Fatalf("resolve unclaimed: %v, %+v", err, open)
	}
}
