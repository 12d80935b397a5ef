package classify

import (
	"fmt"
	"testing"

	"github.com/livemod/livemod/chat"
)

// TestChorusIsNotCopypasta: many viewers asking the same question, wanting
// the same item or reporting the same problem is demand, not a raid; the
// same line with a link is still a flood.
func TestChorusIsNotCopypasta(t *testing.T) {
	e, err := New(rulesOnly())
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{
		"what is the price of the blue jacket?",
		"ye jacket kitne ka hai bhai batao",
		"I want to buy the red saree now",
		"मेरा ऑर्डर अभी तक नहीं आया है",
	} {
		for i := 0; i < 8; i++ {
			d := e.Decide(&chat.Message{Stream: "s", User: chat.User{ID: fmt.Sprint("chorus-", i)}, Text: text, TS: int64(1000 + i)})
			if d.Labels.Has(chat.LabelFlood) || d.Action != chat.Allow {
				t.Fatalf("viewer %d asking %q: %v %v %v", i, text, d.Labels.Slice(), d.Action, d.Reasons)
			}
			if i == 7 && d.Dup.Count < 8 {
				t.Errorf("%q: dup count %d, want the chorus counted", text, d.Dup.Count)
			}
		}
	}
	var last chat.Decision
	for i := 0; i < 6; i++ {
		last = e.Decide(&chat.Message{Stream: "s", User: chat.User{ID: fmt.Sprint("raid-", i)}, Text: "what is the price? see bit.ly/cheap-deal now", TS: int64(2000 + i)})
	}
	if !last.Labels.Has(chat.LabelFlood) || last.Action != chat.Hide {
		t.Errorf("copypasta with a link from 6 users: %v %v", last.Labels.Slice(), last.Action)
	}
}
