// Package statetest is the contract of the state ports, as tests any
// implementation runs: the memory ones (package state), the durable ones
// (store.Automation), a remote one later. It is imported by tests only.
package statetest

import (
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
