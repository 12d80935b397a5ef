package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

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
