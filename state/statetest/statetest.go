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
