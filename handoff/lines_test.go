package handoff

import (
	"strconv"
	"strings"
	"testing"

	"github.com/livemod/livemod/chat"
)

// FuzzPackedRing adds lines of the lengths the input spells to a ring of
// a bound it also gives, and expects the ring to hold the newest lines,
// in order, intact, after every add and after the ring is read and reused.
func FuzzPackedRing(f *testing.F) {
	f.Add(uint8(3), []byte{1, 2, 3, 200, 0, 7, 9, 255, 4, 4, 4})
	f.Add(uint8(1), []byte{10, 0, 10})
	f.Add(uint8(10), []byte("a chat of many lines of many lengths, hindi हिंदी too"))
	f.Fuzz(func(t *testing.T, b uint8, lens []byte) {
		bound := int(b%40) + 1 // past ringSizes too: the sizes kept run out
		var r packedRing
		var all []chat.TicketMessage
		for i, n := range lens {
			m := chat.Message{ID: "m-" + strconv.Itoa(i), Text: strings.Repeat(string(rune('a'+i%26)), int(n)), TS: int64(i) * 1000}
			r.add(&m, bound)
			all = append(all, chat.TicketMessage{ID: m.ID, Text: m.Text, TS: m.TS})
			want := all[max(0, len(all)-bound):]
			got := r.appendTo(nil)
			if len(got) != len(want) {
				t.Fatalf("after %d adds (bound %d): %d lines, want %d", i+1, bound, len(got), len(want))
			}
			for k := range want {
				if got[k] != want[k] {
					t.Fatalf("after %d adds (bound %d): line %d = %+v, want %+v", i+1, bound, k, got[k], want[k])
				}
			}
			if i%5 == 4 { // read, then reuse, as a fold does
				r.reset()
				all = all[:0]
			}
		}
	})
}

// TestUnpackedOwnsItsStrings: lines read from a ring stay as they were
// when the ring's buffer is reused.
func TestUnpackedOwnsItsStrings(t *testing.T) {
	var r packedRing
	r.add(&chat.Message{ID: "m1", Text: "first", TS: 1}, 2)
	got := r.appendTo(nil)
	r.reset()
	r.add(&chat.Message{ID: "xx", Text: "XXXXX", TS: 9}, 2)
	if got[0].ID != "m1" || got[0].Text != "first" {
		t.Fatalf("a line read before the ring was reused changed to %+v", got[0])
	}
}
