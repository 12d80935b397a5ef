package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify/train"
	"github.com/livemod/livemod/config"
	"github.com/livemod/livemod/store"
)

// TestReviewSampling: with a share of one in two, each rule's automatic
// hides are sampled half each (stratified: the rare rule gets its share
// too); a reviewer marks one right and one wrong; the wrong one becomes a
// clean labeled example for livemod train, both are audited, a second
// mark is a 409, and the KPIs give each rule's precision.
func TestReviewSampling(t *testing.T) {
	ta := runApp(t, t.TempDir(), func(c *config.Config) { c.Review.Share = 0.5 })
	base := "http://" + ta.Addr()
	var msgs []string
	for i := 0; i < 8; i++ {
		msgs = append(msgs, msg(fmt.Sprint("s-", i), fmt.Sprint("spammer-", i), fmt.Sprintf("FREE followers at bit.ly/x%d", i), 0))
	}
	brIngest(t, ta.Addr(), "rv", msgs...)
	var res struct{ Reviews []store.Review }
	callJSON(t, "GET", base+"/v1/reviews?stream=rv&state=open", modSecret, "", &res)
	byRule := map[string]int{}
	for _, r := range res.Reviews {
		byRule[r.Rule]++
		if r.Action != "hide" && r.Action != "hold" {
			t.Errorf("review of a %s", r.Action)
		}
	}
	total := 0
	for _, n := range byRule {
		total += n
	}
	if total != 4 {
		t.Fatalf("%d of 8 hides sampled at 1 in 2 (by rule %v); want 4", total, byRule)
	}
	first, second := res.Reviews[0], res.Reviews[1]
	var marked store.Review
	callJSON(t, "POST", base+"/v1/reviews/"+first.ID+"/wrong", modSecret, `{"note":"a real giveaway by the channel"}`, &marked)
	if marked.State != "wrong" || marked.By != "mods" {
		t.Errorf("marked = %+v", marked)
	}
	callJSON(t, "POST", base+"/v1/reviews/"+second.ID+"/right", modSecret, `{}`, &marked)
	if code, body := call(t, "POST", base+"/v1/reviews/"+first.ID+"/right", modSecret, `{}`); code != 409 || !strings.Contains(body, `"state":"wrong"`) {
		t.Errorf("second mark: %d %s; want 409", code, body)
	}
	var out bytes.Buffer
	if _, err := ta.DB.ExportLabels(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"id":"`+first.MessageID+`"`) || !strings.Contains(out.String(), `"source":"review"`) {
		t.Errorf("labels export lacks the wrong hide %s as a review example:\n%s", first.MessageID, out.String())
	}
	acts := auditActions(t, base, "rv")
	if len(acts["review.wrong"]) != 1 || len(acts["review.right"]) != 1 {
		t.Errorf("review marks audited: %d wrong, %d right; want 1 each", len(acts["review.wrong"]), len(acts["review.right"]))
	}
	var k struct {
		Reviews map[string]store.RulePrecision `json:"review_precision"`
	}
	callJSON(t, "GET", base+"/v1/kpis?stream=rv", modSecret, "", &k)
	n := 0
	for _, p := range k.Reviews {
		n += p.Right + p.Wrong
	}
	if n != 2 {
		t.Errorf("review precision = %+v; want two marks", k.Reviews)
	}
	if first.Rule == second.Rule && k.Reviews[first.Rule].Precision != 0.5 {
		t.Errorf("precision of %s = %v, want 0.5", first.Rule, k.Reviews[first.Rule].Precision)
	}
}

// TestReviewedRepliesTrain: a sampled automated reply marked wrong
// becomes a labeled example of the message it answered (not of the
// reply), judged on question only: "not a question" without labels, or
// what the reviewer says it is. livemod train reads both.
func TestReviewedRepliesTrain(t *testing.T) {
	ta := runApp(t, t.TempDir(), func(c *config.Config) {
		c.Review.Share = 1
		c.FAQ = []config.FAQ{{ID: "shipping", Match: []string{"shipping", "delivery time"}, Answer: "{author_name}, shipping takes 3–5 days."}}
	})
	base := "http://" + ta.Addr()
	asked := map[string]string{"rr-1": "how long does shipping take?", "rr-2": "what is the delivery time to Pune?"}
	brIngest(t, ta.Addr(), "rr-a", msg("rr-1", "u-1", asked["rr-1"], 0))
	brIngest(t, ta.Addr(), "rr-b", msg("rr-2", "u-2", asked["rr-2"], 0))
	mark := map[string]string{"rr-a": `{"note":"a joke, not a question"}`, "rr-b": `{"note":"asked about Pune, not shipping in general","labels":["question"]}`}
	for stream, body := range mark {
		var res struct{ Reviews []store.Review }
		callJSON(t, "GET", base+"/v1/reviews?stream="+stream+"&state=open", modSecret, "", &res)
		if len(res.Reviews) != 1 || res.Reviews[0].Action != "reply" || res.Reviews[0].Asked != asked[res.Reviews[0].MessageID] {
			t.Fatalf("reviews of %s: %+v; want the reply to the question, with the question", stream, res.Reviews)
		}
		if code, out := call(t, "POST", base+"/v1/reviews/"+res.Reviews[0].ID+"/wrong", modSecret, body); code != 200 {
			t.Fatalf("mark wrong: %d %s", code, out)
		}
	}
	if code, _ := call(t, "POST", base+"/v1/reviews/none/wrong", modSecret, `{"labels":["nonsense"]}`); code != 400 {
		t.Errorf("an unknown label: %d, want 400", code)
	}
	var out bytes.Buffer
	if _, err := ta.DB.ExportLabels(&out); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "labels.ndjson")
	if err := os.WriteFile(file, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	ex, err := readData([]dataSpec{{path: file}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]train.Example{}
	for _, e := range ex {
		got[e.msg.ID] = e.Example
	}
	q := chat.Labels(chat.LabelQuestion)
	if e := got["rr-1"]; e.Text != asked["rr-1"] || e.Labels != 0 || e.Annotated != q {
		t.Errorf("wrong reply without labels: %+v; want the question's text, no label, judged on question", e)
	}
	if e := got["rr-2"]; e.Text != asked["rr-2"] || e.Labels != q || e.Annotated != q {
		t.Errorf("wrong reply labelled question: %+v; want the question's text labelled question, judged on question", e)
	}
	var stdout, stderr bytes.Buffer
	model := filepath.Join(t.TempDir(), "model.bin")
	if err := runTrain(context.Background(), []string{"--data", file, "--out", model, "--min-examples", "0"}, &stdout, &stderr); err != nil {
		t.Fatalf("train: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "question 1/2") {
		t.Errorf("train output: %s; want question 1/2 (one positive, two judged on it)", stdout.String())
	}
}
