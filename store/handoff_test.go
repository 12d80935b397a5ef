package store

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/livemod/livemod/classify"
)

// TestAutomationSurvivesReopen: tickets, opt-outs and ids written behind
// are there after Close and Open on the same directory, and ids never
// repeat.
func TestAutomationSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	db, a := openAutomation(t, dir, AutomationOptions{Outbox: true}) // closed by hand below, to reopen
	first := a.Next("h")
	a.Upsert("s", "u-1", classify.ChangeFunc(func(cur *classify.Ticket) *classify.Ticket {
		return &classify.Ticket{ID: "h-1", Stream: "s", User: classify.User{ID: "u-1"}, State: classify.TicketOpen}
	}))
	a.Update("h-1", func(t *classify.Ticket) error { t.State = classify.TicketClaimed; t.ClaimedBy = "ag"; return nil })
	a.SetOptOut(classify.OptOut{User: "u-2", Out: true, TS: 42})
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, a = openAutomation(t, dir, AutomationOptions{})
	if tk, ok := a.Get("h-1"); !ok || tk.State != classify.TicketClaimed || tk.ClaimedBy != "ag" || !a.HasActive("s", "u-1") {
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
	a.Upsert("s", "u-1", classify.ChangeFunc(func(*classify.Ticket) *classify.Ticket {
		return &classify.Ticket{ID: "h-1", Stream: "s", User: classify.User{ID: "u-1"}, State: classify.TicketOpen}
	}))
	join := func(text string) {
		a.Upsert("s", "u-1", classify.ChangeFunc(func(cur *classify.Ticket) *classify.Ticket {
			cur.Messages = append(cur.Messages, classify.TicketMessage{ID: text, Text: text})
			return cur
		}))
	}
	onDisk := func() int {
		var n int
		db.Bolt().View(func(tx *bolt.Tx) error {
			var tk classify.Ticket
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
	a.Update("h-1", func(tk *classify.Ticket) error { tk.State = classify.TicketClaimed; return nil })
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
	db, a := openAutomation(t, t.TempDir(), AutomationOptions{})
	a.stopSweep() // the test sweeps by hand
	a.dmu.Lock()
	a.sweepStop = make(chan struct{}) // … and keeps joins lazy
	a.dmu.Unlock()
	for _, id := range []string{"h-1", "h-2", "h-3"} {
		a.Upsert("s", id, classify.ChangeFunc(func(*classify.Ticket) *classify.Ticket {
			return &classify.Ticket{ID: id, Stream: "s", User: classify.User{ID: id}, State: classify.TicketOpen}
		}))
	}
	join := func(user string) {
		a.Upsert("s", user, classify.ChangeFunc(func(cur *classify.Ticket) *classify.Ticket {
			cur.Messages = append(cur.Messages, classify.TicketMessage{ID: "m", Text: "hello"})
			return cur
		}))
	}
	join("h-1")
	join("h-3")
	time.Sleep(5 * time.Millisecond)
	cut := time.Now()
	time.Sleep(5 * time.Millisecond)
	join("h-2")
	a.Update("h-3", func(tk *classify.Ticket) error { tk.State = classify.TicketClaimed; return nil })
	a.flushLazyBefore(cut)
	if err := a.waitWritten(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	db.Bolt().View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketHandoffs).ForEach(func(k, v []byte) error {
			var tk classify.Ticket
			json.Unmarshal(v, &tk)
			got[string(k)] = len(tk.Messages)
			return nil
		})
	})
	if got["h-1"] != 1 || got["h-2"] != 0 || got["h-3"] != 1 {
		t.Errorf("messages on disk per ticket = %v, want h-1:1 (swept) h-2:0 (too young) h-3:1 (written with its claim)", got)
	}
	a.dmu.Lock()
	waiting := len(a.lazy)
	a.dmu.Unlock()
	if waiting != 1 {
		t.Errorf("%d joins still wait, want 1 (h-2)", waiting)
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
