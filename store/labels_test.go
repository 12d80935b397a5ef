package store

import (
	"bytes"
	"strings"
	"testing"

	"github.com/livemod/livemod/classify"
)

func TestLabelsExport(t *testing.T) {
	db, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	msg := classify.Message{ID: "m-1", Stream: "s", User: classify.User{ID: "u"}, Text: "check my channel", TS: 1}
	hide := LabelsFromAction("hide", 0, "")
	if err := db.AppendLabel(LabeledExample{Message: msg, Labels: hide, Source: "hide", Actor: "mod", At: 2}); err != nil {
		t.Fatal(err)
	}
	un := LabelsFromAction("unhide", hide, "")
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
	if got := LabelsFromAction("approve", classify.Labels(classify.LabelSpam|classify.LabelQuestion), ""); got != classify.Labels(classify.LabelQuestion) {
		t.Errorf("approve kept %v", got.Slice())
	}
}
