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

func TestMemoryDraftsContract(t *testing.T) {
	statetest.Drafts(t, &state.MemoryDrafts{})
}

// TestMemoryDraftsBounded: decided drafts beyond Keep go, oldest first;
// pending ones are never dropped.
func TestMemoryDraftsBounded(t *testing.T) {
	ds := &state.MemoryDrafts{Keep: 10}
	ds.Add(&chat.Draft{Reply: chat.Reply{ID: "p-0"}, State: chat.DraftPending})
	for i := range 50 {
		ds.Add(&chat.Draft{Reply: chat.Reply{ID: "d-" + strconv.Itoa(i)}, State: chat.DraftApproved})
	}
	if _, ok := ds.Get("p-0"); !ok {
		t.Fatal("a pending draft was dropped")
	}
	if n := ds.Len(); n > 10 {
		t.Errorf("kept %d drafts behind a pending one, bound 10", n)
	}
	ds.Change("p-0", func(d *chat.Draft) error { d.State = chat.DraftRejected; return nil })
	ds.Add(&chat.Draft{Reply: chat.Reply{ID: "d-last"}, State: chat.DraftApproved})
	if n := ds.Len(); n > 10 {
		t.Errorf("kept %d drafts, bound 10", n)
	}
	if _, ok := ds.Get("d-last"); !ok {
		t.Error("the newest draft was dropped")
	}
}

// TestMemoryReplyCapsSweepIsIncremental: users whose sends left the
// window are forgotten a few per Record, never all at once (a Record's
// cost does not grow with the users tracked), and all of them in time.
func TestMemoryReplyCapsSweepIsIncremental(t *testing.T) {
	const users = 50000
	c := state.NewMemoryReplyCaps(3, 1000)
	for i := range users {
		c.Record("u-"+strconv.Itoa(i), 0)
	}
	if n := c.Len(); n != users {
		t.Fatalf("%d users tracked within the window, want %d", n, users)
	}
	c.Record("late", 5000) // every earlier send has left the window
	if n := c.Len(); n < users-8 {
		t.Fatalf("one Record forgot %d users at once; the sweep must be incremental", users+1-n)
	}
	if n := c.Count("late", 4000); n != 1 {
		t.Fatalf("the new send counts %d", n)
	}
	for i := range users {
		c.Record("v-"+strconv.Itoa(i%100), 5000+int64(i)/1000)
	}
	if n := c.Len(); n > 200 {
		t.Errorf("%d users tracked after every old send left the window and was swept", n)
	}
}

// TestMemoryReplyCapsForgetLeavesNoTrace: an erased user is gone from the
// sweep's queue too, and a later Record starts from zero.
func TestMemoryReplyCapsForgetLeavesNoTrace(t *testing.T) {
	c := state.NewMemoryReplyCaps(3, 1000)
	c.Record("erase-me", 10)
	c.Record("erase-me", 20)
	c.Forget("erase-me")
	if n := c.Count("erase-me", 0); n != 0 {
		t.Fatalf("forgotten user counts %d", n)
	}
	c.Record("erase-me", 30)
	if n := c.Count("erase-me", 0); n != 1 {
		t.Fatalf("after Forget and one send: %d, want 1", n)
	}
	for i := range 100 {
		c.Record("x-"+strconv.Itoa(i), 2000+int64(i))
	}
	if n := c.Count("erase-me", 0); n != 0 {
		t.Errorf("a send outside the window still counts: %d", n)
	}
}
