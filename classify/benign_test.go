package classify

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/livemod/livemod/chat"
)

// TestBenignChat decides the benign-chat regression set of the repository
// (testdata/benign/chat.ndjson: shopping chat, Hindi and Hinglish small
// talk, names and places that share letters with abuse, @mentions,
// idioms): the engine as shipped must neither hide nor hold any of it,
// nor call any of it spam, toxic, threat or a link.
func TestBenignChat(t *testing.T) {
	f, err := os.Open("../testdata/benign/chat.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	bad := chat.Labels(chat.LabelSpam | chat.LabelToxic | chat.LabelThreat | chat.LabelLink | chat.LabelFlood)
	n, blocked := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m chat.Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		n++
		d := e.Decide(&m)
		if d.Action != chat.Allow || d.Labels&bad != 0 {
			blocked++
			t.Errorf("%q: action %s labels %v reasons %v", m.Text, d.Action, d.Labels.Slice(), d.Reasons)
		}
	}
	if n < 250 {
		t.Fatalf("benign set has %d lines, want at least 250", n)
	}
	t.Logf("benign chat: %d lines, %d blocked or mislabelled", n, blocked)
}
