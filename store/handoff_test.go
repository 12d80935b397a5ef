package store

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/handoff"
)

// TestAutomationSurvivesReopen: tickets, opt-outs and ids written behind
// are there after Close and Open on the same directory, and ids never
// repeat.
func TestAutomationSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	db, a := openAutomation(t, dir, AutomationOptions{Outbox: true}) // closed by hand below, to reopen
	first := a.Next("h")
	a.Upsert("s", "u-1", handoff.ChangeFunc(func(cur *chat.Ticket) *chat.Ticket {
		return &chat.Ticket{ID: "h-1", Stream: "s", User: chat.User{ID: "u-1"}, State: chat.TicketOpen}
	}))
	a.Update(context.Background(), "h-1", func(t *chat.Ticket) error { t.State = chat.TicketClaimed; t.ClaimedBy = "ag"; return nil })
	a.SetOptOut(chat.OptOut{User: "u-2", Out: true, TS: 42})
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, a = openAutomation(t, dir, AutomationOptions{})
	if tk, ok := a.Get("h-1"); !ok || tk.State != chat.TicketClaimed || tk.ClaimedBy != "ag" || !a.HasActive("s", "u-1") {
		t.Errorf("ticket after reopen = %+v, %v", tk, ok)
	}
	if o, ok := a.OptOut("u-2"); !ok || !o.Out || o.TS != 42 || !a.OptedOut("u-2") {
		t.Errorf("opt-out after reopen = %+v, %v", o, ok)
	}
	if n := a.Next("h"); n <= first {
		t.Errorf("id %d after reopen repeats %d", n, first)
	}
	due, _, err := db.OutboxDue(1<<62, 10)
	if err != nil || len(due) != 1 || due[0].Ticket != "h-1" {
		t.Errorf("outbox = %+v, %v; want the created ticket once", due, err)
	}
}

// TestTicketJoinsWrittenLazily: a chat line joining a ticket is not
// written at once, but Flush, a state change and Close all persist it.
func TestTicketJoinsWrittenLazily(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, a := openAutomation(t, dir, AutomationOptions{}) // closed by hand below, to read the disk
	a.Upsert("s", "u-1", handoff.ChangeFunc(func(*chat.Ticket) *chat.Ticket {
		return &chat.Ticket{ID: "h-1", Stream: "s", User: chat.User{ID: "u-1"}, State: chat.TicketOpen}
	}))
	join := func(text string) {
		if _, ok := a.Join(&chat.Message{ID: text, Stream: "s", User: chat.User{ID: "u-1"}, Text: text}, 10); !ok {
			t.Fatalf("join %q: no ticket", text)
		}
	}
	onDisk := func() int {
		var n int
		db.Bolt().View(func(tx *bolt.Tx) error {
			var tk chat.Ticket
			if v := tx.Bucket(bucketHandoffs).Get([]byte("h-1")); v != nil {
				json.Unmarshal(v, &tk)
				n = len(tk.Messages)
			}
			return nil
		})
		return n
	}
	join("one")
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := onDisk(); n != 1 {
		t.Errorf("after Flush: %d messages on disk, want 1", n)
	}
	join("two")
	a.Update(context.Background(), "h-1", func(tk *chat.Ticket) error { tk.State = chat.TicketClaimed; return nil })
	join("three")
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := onDisk(); n != 3 {
		t.Errorf("after a claim and Close: %d messages on disk, want 3", n)
	}
	db.Close()
}

// TestLazyJoinsSweptOldestFirst: the sweeper writes the joins that have
// waited past the cut, and only those; a join whose ticket was written
// since (a state change) is not written again from the queue.
func TestLazyJoinsSweptOldestFirst(t *testing.T) {
	ctx := context.Background()
	db, a := openSweptByHand(t)
	for _, id := range []string{"h-1", "h-2", "h-3"} {
		a.Upsert("s", id, handoff.ChangeFunc(func(*chat.Ticket) *chat.Ticket {
			return &chat.Ticket{ID: id, Stream: "s", User: chat.User{ID: id}, State: chat.TicketOpen}
		}))
	}
	join := func(user string) {
		if _, ok := a.Join(&chat.Message{ID: "m", Stream: "s", User: chat.User{ID: user}, Text: "hello"}, 10); !ok {
			t.Fatalf("join of %s: no ticket", user)
		}
	}
	join("h-1")
	join("h-3")
	time.Sleep(5 * time.Millisecond)
	cut := time.Now()
	time.Sleep(5 * time.Millisecond)
	join("h-2")
	a.Update(context.Background(), "h-3", func(tk *chat.Ticket) error { tk.State = chat.TicketClaimed; return nil })
	a.flushLazyBefore(cut)
	if err := a.waitWritten(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	db.Bolt().View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketHandoffs).ForEach(func(k, v []byte) error {
			var tk chat.Ticket
			json.Unmarshal(v, &tk)
			got[string(k)] = len(tk.Messages)
			return nil
		})
	})
	if got["h-1"] != 1 || got["h-2"] != 0 || got["h-3"] != 1 {
		t.Errorf("messages on disk per ticket = %v, want h-1:1 (swept) h-2:0 (too young) h-3:1 (written with its claim)", got)
	}
	a.dmu.Lock()
	waiting := a.lazyQ[a.lazyHead:]
	a.dmu.Unlock()
	if len(waiting) != 1 || waiting[0].id != "h-2" {
		t.Errorf("tickets still waiting = %v, want h-2", waiting)
	}
}

// TestChatChangesWrittenWithTheirLines: a change a chat line makes to its
// author's ticket (UpdateLater) waits for the sweeper like the line
// itself; the sweep, or a change by an agent, writes both; in memory it
// shows at once.
func TestChatChangesWrittenWithTheirLines(t *testing.T) {
	ctx := context.Background()
	db, a := openSweptByHand(t)
	for _, id := range []string{"h-1", "h-2"} {
		a.Upsert("s", id, handoff.ChangeFunc(func(*chat.Ticket) *chat.Ticket {
			return &chat.Ticket{ID: id, Stream: "s", User: chat.User{ID: id}, State: chat.TicketOpen}
		}))
	}
	if err := a.waitWritten(ctx); err != nil {
		t.Fatal(err)
	}
	onDisk := func() map[string]chat.Ticket {
		got := map[string]chat.Ticket{}
		db.Bolt().View(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketHandoffs).ForEach(func(k, v []byte) error {
				var tk chat.Ticket
				json.Unmarshal(v, &tk)
				got[string(k)] = tk
				return nil
			})
		})
		return got
	}
	for _, id := range []string{"h-1", "h-2"} {
		a.Join(&chat.Message{ID: "m-" + id, Stream: "s", User: chat.User{ID: id}, Text: "order 5521 not delivered"}, 10)
		tk, err := a.UpdateLater(id, func(tk *chat.Ticket) error { tk.OrderID = "5521"; return nil })
		if err != nil || tk.OrderID != "5521" {
			t.Fatalf("UpdateLater(%s) = %+v, %v", id, tk, err)
		}
	}
	if got, _ := a.Get("h-1"); got.OrderID != "5521" || len(got.Messages) != 1 {
		t.Errorf("in memory: %+v, want the order and the line", got)
	}
	if err := a.waitWritten(ctx); err != nil {
		t.Fatal(err)
	}
	if d := onDisk(); d["h-1"].OrderID != "" || d["h-2"].OrderID != "" {
		t.Fatalf("a chat line's change written before the sweep: %+v", d)
	}
	a.dmu.Lock()
	waiting := len(a.lazyQ) - a.lazyHead
	a.dmu.Unlock()
	if waiting != 2 {
		t.Errorf("%d tickets wait for the sweeper, want 2 (one each, the line and its change together)", waiting)
	}
	a.Update(context.Background(), "h-2", func(tk *chat.Ticket) error { tk.State = chat.TicketClaimed; return nil })
	a.flushLazyBefore(time.Now().Add(time.Hour))
	if err := a.waitWritten(ctx); err != nil {
		t.Fatal(err)
	}
	d := onDisk()
	for _, id := range []string{"h-1", "h-2"} {
		if d[id].OrderID != "5521" || len(d[id].Messages) != 1 {
			t.Errorf("%s on disk after the sweep: %+v, want the order and the line", id, d[id])
		}
	}
	if d["h-2"].State != chat.TicketClaimed {
		t.Errorf("h-2 on disk: state %q, want claimed", d["h-2"].State)
	}
}

// TestIDsUniqueAcrossBlocksAndRestarts: ids from several goroutines over
// many blocks (reserved ahead in the background) never repeat, each
// goroutine sees them increase, and after a reopen they start above every
// id handed out before.
func TestIDsUniqueAcrossBlocksAndRestarts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, a := openAutomation(t, dir, AutomationOptions{}) // closed by hand below, to reopen
	const goroutines, each = 4, 3 * idBlockSize
	got := make([][]uint64, goroutines)
	var wg sync.WaitGroup
	for g := range got {
		wg.Go(func() {
			for range each {
				got[g] = append(got[g], a.Next("r"))
			}
		})
	}
	wg.Wait()
	seen := map[uint64]bool{}
	var highest uint64
	for g, ids := range got {
		for i, id := range ids {
			if seen[id] {
				t.Fatalf("id %d handed out twice", id)
			}
			seen[id] = true
			if i > 0 && id <= ids[i-1] {
				t.Fatalf("goroutine %d: id %d after %d", g, id, ids[i-1])
			}
			highest = max(highest, id)
		}
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	db.Close()

	_, a = openAutomation(t, dir, AutomationOptions{})
	if n := a.Next("r"); n <= highest {
		t.Errorf("after a restart: id %d, want above %d", n, highest)
	}
}

// openAutomation opens the store in dir and its automation state, closed
// (state first) when the test ends.
// openSweptByHand is openAutomation whose sweeper does not run: joins and
// chat-line changes stay waiting until the test calls flushLazyBefore.
func openSweptByHand(t *testing.T) (*DB, *Automation) {
	t.Helper()
	db, a := openAutomation(t, t.TempDir(), AutomationOptions{})
	a.stopSweep()
	a.dmu.Lock()
	a.sweepStop = make(chan struct{}) // as if it ran: writes stay lazy
	a.dmu.Unlock()
	return db, a
}

func openAutomation(t *testing.T, dir string, opts AutomationOptions) (*DB, *Automation) {
	t.Helper()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, err := db.OpenAutomation(opts)
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Close(context.Background())
		db.Close()
	})
	return db, a
}

// TestResolvedTicketsLeaveMemory: beyond KeepResolved, the longest
// resolved tickets leave memory but not the store: Get and a user's
// export read them from disk, a claim is refused as for any resolved
// ticket, and a reopened store keeps the most recently resolved.
func TestResolvedTicketsLeaveMemory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, a := openAutomation(t, dir, AutomationOptions{KeepResolved: 2}) // closed by hand below, to reopen
	open := func(id, user string) {
		a.Upsert("s", user, handoff.ChangeFunc(func(*chat.Ticket) *chat.Ticket {
			return &chat.Ticket{ID: id, Stream: "s", User: chat.User{ID: user}, State: chat.TicketOpen, Created: 1}
		}))
	}
	resolve := func(id string, at int64) {
		if _, err := a.Update(context.Background(), id, func(t *chat.Ticket) error {
			t.State, t.ResolvedAt = chat.TicketResolved, at
			return nil
		}); err != nil {
			t.Fatalf("resolve %s: %v", id, err)
		}
	}
	for i, u := range []string{"u-1", "u-2", "u-3", "u-4"} {
		open("h-"+string(rune('1'+i)), u)
	}
	resolve("h-2", 10)
	resolve("h-1", 20)
	resolve("h-3", 30) // h-2 leaves memory
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	ids := func(ts []*chat.Ticket) (out []string) {
		for _, t := range ts {
			out = append(out, t.ID)
		}
		return out
	}
	if got := ids(a.List("", chat.TicketResolved)); len(got) != 2 || got[0] != "h-1" || got[1] != "h-3" {
		t.Errorf("resolved in memory = %v, want [h-1 h-3]", got)
	}
	if got := ids(a.List("", chat.TicketOpen)); len(got) != 1 || got[0] != "h-4" {
		t.Errorf("open = %v, want [h-4]: active tickets always stay", got)
	}
	if tk, ok := a.Get("h-2"); !ok || tk.State != chat.TicketResolved || tk.ResolvedAt != 10 || tk.User.ID != "u-2" {
		t.Errorf("Get of a ticket only on disk = %+v, %v", tk, ok)
	}
	if ts, _ := a.UserRecords("u-2"); len(ts) != 1 || ts[0].ID != "h-2" {
		t.Errorf("export of u-2 = %v, want the ticket on disk", ids(ts))
	}
	if _, err := a.Update(context.Background(), "h-2", func(t *chat.Ticket) error {
		if t.State != chat.TicketOpen {
			return handoff.ErrTicketState
		}
		return nil
	}); err != handoff.ErrTicketState {
		t.Errorf("claiming a resolved ticket only on disk: %v, want ErrTicketState", err)
	}
	if _, ok := a.Get("h-9"); ok {
		t.Error("Get of an unknown ticket found one")
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	db.Close()

	_, a = openAutomation(t, dir, AutomationOptions{KeepResolved: 2})
	if got := ids(a.List("", chat.TicketResolved)); len(got) != 2 || got[0] != "h-1" || got[1] != "h-3" {
		t.Errorf("resolved in memory after reopen = %v, want the two resolved last [h-1 h-3]", got)
	}
	if got := ids(a.List("", chat.TicketOpen)); len(got) != 1 || got[0] != "h-4" {
		t.Errorf("open after reopen = %v, want [h-4]", got)
	}
	if tk, ok := a.Get("h-2"); !ok || tk.ResolvedAt != 10 {
		t.Errorf("Get after reopen = %+v, %v; want h-2 from disk", tk, ok)
	}
}

// TestWrittenRevisionsForgotten: the writer refuses a version older than
// one it wrote, and forgets the revisions of tickets it has not written
// for two generations, so the map does not grow with every ticket ever.
func TestWrittenRevisionsForgotten(t *testing.T) {
	_, a := openAutomation(t, t.TempDir(), AutomationOptions{})
	open := func(u string) *chat.Ticket {
		t, _ := a.Upsert("s", u, handoff.ChangeFunc(func(*chat.Ticket) *chat.Ticket {
			return &chat.Ticket{ID: "h-" + u, Stream: "s", User: chat.User{ID: u}, State: chat.TicketOpen}
		}))
		return t
	}
	old := open("u-1")
	newer, err := a.Update(context.Background(), old.ID, func(t *chat.Ticket) error { t.State = chat.TicketClaimed; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	a.queueTicket(old, false) // late: made before newer, queued after it was written
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if disk, ok := a.ticketOnDisk(old.ID); !ok || disk.Rev != newer.Rev || disk.State != chat.TicketClaimed {
		t.Fatalf("on disk after a late older version: %+v, %v; want rev %d, claimed", disk, ok, newer.Rev)
	}
	// Two generations later, with writes of other tickets in each, h-u-1
	// is forgotten.
	for _, u := range []string{"u-2", "u-3"} {
		a.writtenSince = a.writtenSince.Add(-2 * writtenGeneration)
		open(u)
		if err := a.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := a.written[old.ID]; ok {
		t.Error("written still holds a ticket last written two generations ago")
	}
	if _, ok := a.writtenOld[old.ID]; ok {
		t.Error("writtenOld still holds a ticket last written two generations ago")
	}
	if len(a.written) != 1 || len(a.writtenOld) != 1 {
		t.Errorf("written %v, writtenOld %v: want one ticket each", a.written, a.writtenOld)
	}
}

// TestTicketBuffersReused: the buffers tickets are encoded into are reused
// from one commit to the next, and no ticket's stored value is
// overwritten by a later one's, also when a barrier's write and a queued
// one share a transaction and writers race each other's flushes.
func TestTicketBuffersReused(t *testing.T) {
	dir := t.TempDir()
	db, a := openAutomation(t, dir, AutomationOptions{}) // closed by hand below, to reopen
	summary := func(u string, round int) string {
		// 1–3 KB, different for each user and round, so that a value
		// overwritten by another shows.
		n := 1000 + len(u)*97%2000
		b := make([]byte, 0, n+32)
		for len(b) < n {
			b = append(b, u...)
			b = append(b, byte('a'+round%26))
		}
		return string(b[:n])
	}
	const writers, users, rounds = 4, 150, 6
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				for i := range users {
					u := "u-" + string(rune('a'+w)) + "-" + time.Duration(i).String()
					s := summary(u, r)
					a.Upsert("s", u, handoff.ChangeFunc(func(cur *chat.Ticket) *chat.Ticket {
						if cur == nil {
							return &chat.Ticket{ID: "h-" + u, Stream: "s", User: chat.User{ID: u}, State: chat.TicketOpen, Summary: s}
						}
						c := *cur
						c.Summary = s
						return &c
					}))
					if i%25 == 0 {
						if err := a.Flush(context.Background()); err != nil {
							t.Error(err)
						}
					}
				}
			}
		})
	}
	wg.Wait()
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.Flush(context.Background()); err != nil { // a transaction after the last write: its buffers are free
		t.Fatal(err)
	}
	if len(a.bufs.free) == 0 {
		t.Error("no buffer came back for reuse after the commits")
	}
	if len(a.bufs.free) > valueBufsKept {
		t.Errorf("%d free buffers kept; the bound is %d", len(a.bufs.free), valueBufsKept)
	}
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	db.Close()

	_, a = openAutomation(t, dir, AutomationOptions{})
	for w := range writers {
		for i := range users {
			u := "u-" + string(rune('a'+w)) + "-" + time.Duration(i).String()
			tk, ok := a.ticketOnDisk("h-" + u)
			if !ok {
				t.Fatalf("ticket of %s not on disk", u)
			}
			if want := summary(u, rounds-1); tk.Summary != want {
				t.Fatalf("ticket of %s on disk has summary %.40q…; want %.40q…", u, tk.Summary, want)
			}
		}
	}
}

// TestTicketBuffersTwoWritesInOneTransaction: when two writes of the
// dirty tickets share a transaction (a barrier's and a queued one), the
// second does not reuse the first one's buffer, which bbolt still holds.
func TestTicketBuffersTwoWritesInOneTransaction(t *testing.T) {
	dir := t.TempDir()
	db, a := openAutomation(t, dir, AutomationOptions{})
	if err := a.Flush(context.Background()); err != nil { // the writer is idle from here
		t.Fatal(err)
	}
	ticket := func(id, summary string) dirtyTicket {
		return dirtyTicket{t: &chat.Ticket{ID: id, Stream: "s", User: chat.User{ID: id}, State: chat.TicketOpen, Rev: 1, Summary: summary}}
	}
	dirty := func(d dirtyTicket) {
		a.dmu.Lock()
		a.dirty[d.t.ID] = d
		a.dmu.Unlock()
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		dirty(ticket("h-first", "the first write's"))
		if err := a.writeDirty(tx); err != nil {
			return err
		}
		dirty(ticket("h-second", "the second write, longer than the first one's"))
		return a.writeDirty(tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"h-first": "the first write's", "h-second": "the second write, longer than the first one's"} {
		if tk, ok := a.ticketOnDisk(id); !ok || tk.Summary != want {
			t.Errorf("%s on disk: %+v, %v; want summary %q", id, tk, ok, want)
		}
	}
}
