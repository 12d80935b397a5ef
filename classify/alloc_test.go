//go:build !race

package classify

import (
	"testing"
	"unsafe"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/trend"
)

// TestDecideIntoAllocatesNothing: a question decided into a reused
// Decision allocates neither its reasons nor its question ref. (Not under
// -race, which drops pooled scratch buffers at random.)
func TestDecideIntoAllocatesNothing(t *testing.T) {
	e, err := New(Options{Trending: trend.NewTrending(trend.TrendOptions{})})
	if err != nil {
		t.Fatal(err)
	}
	m := chat.Message{ID: "q", Stream: "show", User: chat.User{ID: "u1"}, Text: benchTexts[0], TS: 1795000000000}
	var d chat.Decision
	allocs := testing.AllocsPerRun(100, func() {
		m.TS += 1_000_000
		e.DecideInto(&d, &m)
	})
	if d.Question == nil || len(d.Reasons) == 0 {
		t.Fatalf("%q: question %v, reasons %v; want both", m.Text, d.Question, d.Reasons)
	}
	if allocs > 0 {
		t.Errorf("DecideInto of %q into a reused Decision: %.1f allocations, want 0", m.Text, allocs)
	}
}

// TestTokSize: the matcher reads every word's tok; it stays 16 bytes.
func TestTokSize(t *testing.T) {
	if n := unsafe.Sizeof(tok{}); n != 16 {
		t.Errorf("tok is %d bytes, want 16", n)
	}
}
