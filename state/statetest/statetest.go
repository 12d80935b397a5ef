// Package statetest is the contract of the state ports, as tests any
// implementation runs: the memory ones (package state), the durable ones
// (store.Automation), a remote one later. It is imported by tests only.
package statetest

import (
	"errors"
	"sync"
	"testing"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/state"
)

// OptOuts runs the contract of state.OptOuts: the last choice wins, per user,
// and users do not share choices. A store-backed or remote OptOuts runs
// it too.
func OptOuts(t *testing.T, o state.OptOuts) {
	if o.OptedOut("twitch:42") {
		t.Fatal("a new set has a STOP")
	}
	o.SetOptOut(chat.OptOut{User: "twitch:42", Out: true, TS: 1})
	if !o.OptedOut("twitch:42") || o.OptedOut("42") || o.OptedOut("youtube:42") {
		t.Fatal("a STOP is not the user's alone")
	}
	o.SetOptOut(chat.OptOut{User: "twitch:42", Out: false, TS: 2})
	if o.OptedOut("twitch:42") {
		t.Fatal("START after STOP still opted out")
	}
}

// IDs runs the contract of state.IDs: per kind, increasing, never repeated,
// from many goroutines at once.
func IDs(t *testing.T, ids state.IDs) {
	var mu sync.Mutex
	seen := map[uint64]bool{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := uint64(0)
			for range 250 {
				n := ids.Next("r")
				if n <= last {
					t.Errorf("id %d after %d", n, last)
				}
				last = n
				mu.Lock()
				if seen[n] {
					t.Errorf("id %d twice", n)
				}
				seen[n] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if n := ids.Next("h"); n == 0 {
		t.Error("a kind's ids start at 0")
	}
}

// ReplyCaps runs the contract of state.ReplyCaps made to keep at least 3
// sends per user within a window of 1000 ms: counts per user, only within
// the window, and forgetting a user drops their count.
func ReplyCaps(t *testing.T, c state.ReplyCaps) {
	if n := c.Count("twitch:1", 0); n != 0 {
		t.Fatalf("a new table counts %d", n)
	}
	c.Record("twitch:1", 100)
	c.Record("twitch:1", 200)
	c.Record("youtube:1", 200)
	if n := c.Count("twitch:1", 0); n != 2 {
		t.Fatalf("two sends counted %d", n)
	}
	if n := c.Count("twitch:1", 150); n != 1 {
		t.Fatalf("one send after 150 counted %d", n)
	}
	if n := c.Count("youtube:1", 0); n != 1 {
		t.Fatalf("another user's sends are counted: %d", n)
	}
	c.Record("twitch:1", 1500) // 100 and 200 left the window
	if n := c.Count("twitch:1", 1500-1000); n != 1 {
		t.Fatalf("sends within the window: %d, want 1", n)
	}
	c.Forget("twitch:1")
	if n := c.Count("twitch:1", 0); n != 0 {
		t.Fatalf("a forgotten user still counts %d", n)
	}
}

// Drafts runs the contract of state.Drafts: copies in and out, insertion
// order, Change under the lock (an error keeps the draft as it was),
// Filter deleting and changing.
func Drafts(t *testing.T, ds state.Drafts) {
	d := &chat.Draft{Reply: chat.Reply{ID: "r-1", Stream: "s", To: []string{"u-1"}, Text: "soon"}, State: chat.DraftPending}
	if !ds.Add(d) || ds.Add(d) {
		t.Fatal("Add: want added once")
	}
	d.To[0] = "changed by the caller"
	ds.Add(&chat.Draft{Reply: chat.Reply{ID: "r-2", Stream: "t", To: []string{"u-2"}}, State: chat.DraftPending})
	got, ok := ds.Get("r-1")
	if !ok || got.To[0] != "u-1" {
		t.Fatalf("Get: %+v, %v; the caller's change leaked in", got, ok)
	}
	got.To[0] = "changed again"
	if again, _ := ds.Get("r-1"); again.To[0] != "u-1" {
		t.Fatal("a returned draft shares memory with the kept one")
	}
	refuse := errors.New("refused")
	if _, err := ds.Change("r-1", func(d *chat.Draft) error { d.State = chat.DraftApproved; return refuse }); !errors.Is(err, refuse) {
		t.Fatalf("Change: %v, want fn's error", err)
	}
	if d, _ := ds.Get("r-1"); d.State != chat.DraftPending {
		t.Fatal("a refused change was kept")
	}
	if _, err := ds.Change("r-404", func(*chat.Draft) error { return nil }); !errors.Is(err, state.ErrDraftNotFound) {
		t.Fatalf("Change of a missing draft: %v", err)
	}
	c, err := ds.Change("r-1", func(d *chat.Draft) error { d.State, d.DecidedBy = chat.DraftApproved, "mod"; return nil })
	if err != nil || c.State != chat.DraftApproved || c.DecidedBy != "mod" {
		t.Fatalf("Change: %+v, %v", c, err)
	}
	if l := ds.List("", ""); len(l) != 2 || l[0].ID != "r-1" || l[1].ID != "r-2" {
		t.Fatalf("List: %v, want r-1, r-2 oldest first", l)
	}
	if l := ds.List("t", chat.DraftPending); len(l) != 1 || l[0].ID != "r-2" {
		t.Fatalf("List(t, pending): %v", l)
	}
	ds.Filter(func(d *chat.Draft) bool {
		d.Text = "filtered"
		return d.ID != "r-1"
	})
	if _, ok := ds.Get("r-1"); ok || ds.Len() != 1 {
		t.Fatal("Filter did not delete r-1")
	}
	if d, _ := ds.Get("r-2"); d.Text != "filtered" {
		t.Fatal("Filter's change was not kept")
	}
}
