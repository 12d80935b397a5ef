package state

import "testing"

// TestReplyCapsForgetClearsQueue: erasure leaves the user's id nowhere in
// the sweep's queue.
func TestReplyCapsForgetClearsQueue(t *testing.T) {
	c := NewMemoryReplyCaps(3, 1000)
	c.Record("erase-me", 10)
	c.Record("keep-me", 15)
	c.Record("erase-me", 20)
	c.Forget("erase-me")
	for i := range c.parts {
		p := &c.parts[i]
		for _, r := range p.order[p.head:] {
			if r.user == "erase-me" {
				t.Fatalf("the sweep's queue still names the erased user: %+v", r)
			}
		}
	}
	if c.Count("keep-me", 0) != 1 {
		t.Error("another user's send was lost")
	}
}
