package store

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/livemod/livemod/chat"
)

func TestLabelsExport(t *testing.T) {
	db, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	msg := chat.Message{ID: "m-1", Stream: "s", User: chat.User{ID: "u"}, Text: "check my channel", TS: 1}
	hide := LabelsFromAction("hide", 0, "")
	if err := db.AppendLabel(LabeledExample{Message: msg, Labels: hide, Source: "hide", Actor: "mod", At: 2}); err != nil {
		t.Fatal(err)
	}
	un := LabelsFromAction("unhide", hide.Labels, "")
	if err := db.AppendLabel(LabeledExample{Message: msg, Labels: un, Source: "unhide", Actor: "mod", At: 3}); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	n, err := db.ExportLabels(&b)
	if err != nil || n != 1 {
		t.Fatalf("exported %d, %v; want 1 (the later action supersedes)", n, err)
	}
	if !strings.Contains(b.String(), `"labels":[]`) || !strings.Contains(b.String(), `"source":"unhide"`) {
		t.Errorf("export = %s", b.String())
	}
	if got := LabelsFromAction("approve", chat.Labels(chat.LabelSpam|chat.LabelQuestion), ""); got.Labels != chat.Labels(chat.LabelQuestion) {
		t.Errorf("approve kept %v", got.Slice())
	}
}

// TestLabelsFromHide: a hide teaches the label its reason names, or
// unlabeled-hide — never spam by default.
func TestLabelsFromHide(t *testing.T) {
	q := chat.Labels(chat.LabelQuestion)
	for _, tc := range []struct {
		decided chat.Labels
		reason  string
		want    string
	}{
		{0, "", `["unlabeled-hide"]`},
		{0, "off topic", `["unlabeled-hide"]`},
		{q, "", `["question","unlabeled-hide"]`},
		{0, "toxic: slur", `["toxic"]`},
		{0, "Scam!", `["spam"]`},
		{q, "threat", `["threat","question"]`},
		{chat.Labels(chat.LabelSpam), "", `["spam"]`},
		{chat.Labels(chat.LabelSpam), "abuse", `["toxic"]`},
	} {
		got := LabelsFromAction("hide", tc.decided, tc.reason)
		b, err := json.Marshal(got)
		if err != nil || string(b) != tc.want {
			t.Errorf("hide %v with %q: %s %v, want %s", tc.decided.Slice(), tc.reason, b, err, tc.want)
		}
		var back ExampleLabels
		if err := json.Unmarshal(b, &back); err != nil || back != got {
			t.Errorf("round trip of %s: %+v %v", b, back, err)
		}
	}
}

// FuzzExampleLabels: any labels list that parses writes back to a list
// that parses to the same labels.
func FuzzExampleLabels(f *testing.F) {
	for _, s := range []string{`[]`, `["spam"]`, `["question","unlabeled-hide"]`, `["unlabeled-hide","unlabeled-hide"]`, `["nope"]`, `null`, `{"a":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var l ExampleLabels
		if json.Unmarshal(b, &l) != nil {
			return
		}
		out, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		var back ExampleLabels
		if err := json.Unmarshal(out, &back); err != nil || back != l {
			t.Fatalf("%s → %s → %+v (%v), want %+v", b, out, back, err, l)
		}
	})
}
