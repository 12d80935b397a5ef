package state

import (
	"sync"
	"testing"

	"github.com/livemod/livemod/chat"
)

// testOptOuts is the contract of OptOuts: the last choice wins, per user,
// and users do not share choices. A store-backed or remote OptOuts runs
// it too.
func testOptOuts(t *testing.T, o OptOuts) {
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

// testIDs is the contract of IDs: per kind, increasing, never repeated,
// from many goroutines at once.
func testIDs(t *testing.T, ids IDs) {
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

func TestMemoryOptOuts(t *testing.T) {
	var o MemoryOptOuts
	testOptOuts(t, &o)
	o.SetOptOut(chat.OptOut{User: "u-old", Out: true, TS: 10})
	if got := o.Before(11); len(got) != 2 || o.Before(2) != nil {
		t.Errorf("Before(11) = %v, Before(2) = %v", got, o.Before(2))
	}
	o.Forget("u-old")
	if _, ok := o.Get("u-old"); ok {
		t.Error("a forgotten user is kept")
	}
}

func TestMemoryIDs(t *testing.T) {
	var ids MemoryIDs
	testIDs(t, &ids)
	var again MemoryIDs
	if again.Next("r") != 1 {
		t.Error("replay's ids do not start at 1")
	}
}
