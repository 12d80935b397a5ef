package state_test

import (
	"strconv"
	"testing"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/state"
	"github.com/livemod/livemod/state/statetest"
)

func TestMemoryOptOuts(t *testing.T) {
	var o state.MemoryOptOuts
	statetest.OptOuts(t, &o)
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
	var ids state.MemoryIDs
	statetest.IDs(t, &ids)
	var again state.MemoryIDs
	if again.Next("r") != 1 {
		t.Error("replay's ids do not start at 1")
	}
}

func TestMemoryReplyCapsContract(t *testing.T) {
	statetest.ReplyCaps(t, state.NewMemoryReplyCaps(3, 1000))
}

// TestMemoryReplyCapsBounded: a user's sends are kept to the cap, and
// users whose sends all left the window are forgotten.
func TestMemoryReplyCapsBounded(t *testing.T) {
	c := state.NewMemoryReplyCaps(3, 1000)
	for i := range 10 {
		c.Record("u", int64(i))
	}
	if n := c.Count("u", -1); n != 3 {
		t.Errorf("kept %d sends, cap 3", n)
	}
	for i := range 20000 {
		c.Record("u-"+strconv.Itoa(i), int64(i))
	}
	if n := c.Len(); n > 20000/2 {
		t.Errorf("%d users tracked after most left the window", n)
	}
}
