package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/livemod/livemod/app"
	"github.com/livemod/livemod/automate"
	"github.com/livemod/livemod/bench"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/config"
	"github.com/livemod/livemod/trend"
)

// demoShow is the demo's audience (livemod demo: seed 1, 8 messages a
// second, a scene every 30 seconds) for n messages, as NDJSON, with the
// kind the generator meant each line to be.
func demoShow(n int) ([]byte, []bench.Kind) {
	const rate = 8
	aud := bench.NewAudience(bench.AudienceOptions{Seed: 1, Stream: "demo", SceneEvery: rate * 30})
	var b []byte
	kinds := make([]bench.Kind, 0, n)
	ts := int64(1795000000000)
	for i := range n {
		b = aud.AppendNextSeq(b, "m-", uint64(i), ts+int64(i)*1000/rate)
		b = append(b, '\n')
		kinds = append(kinds, aud.Kind())
	}
	return b, kinds
}

func hasRule(d *chat.Decision, rule string) bool {
	for _, r := range d.Reasons {
		if r.Rule == rule {
			return true
		}
	}
	return false
}

// TestReplayDemoShowRaidHiddenCrowdShown replays ten minutes of the
// demo's show through "livemod replay": copypasta raids (the same long or
// shouted line from many users) are hidden once they are a raid, the
// reactions viewers happen to share ("your voice is so sweet", "video
// lag ho raha hai") are shown, and the trending panel — followed through
// the same engine as replay — never shows a raid's text, nor any text
// that was hidden or held.
func TestReplayDemoShowRaidHiddenCrowdShown(t *testing.T) {
	const n = 4800 // 10 minutes at 8/s: 20 scenes, 5 of them raids
	input, kinds := demoShow(n)
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"replay"}, bytes.NewReader(input), &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	var decs []chat.Decision
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var d chat.Decision
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("decision %d: %v", len(decs), err)
		}
		decs = append(decs, d)
	}
	if len(decs) != n {
		t.Fatalf("%d decisions for %d messages", len(decs), n)
	}

	raidTexts := map[string]bool{}
	raid, raidHidden, crowdShared, crowdShown := 0, 0, 0, 0
	for i := range decs {
		d := &decs[i]
		switch kinds[i] {
		case bench.KindCopypasta:
			raidTexts[d.Text] = true
			raid++
			if d.Action == chat.Hide && hasRule(d, "flood.copypasta") {
				raidHidden++
			}
			// "NOBODY DOES IT LIKE DIDI" asks nothing: a shouted line's
			// mid-sentence "does it" is no question word.
			if hasRule(d, "question.word") {
				t.Errorf("raid line %s labelled a question by its words: %q %v", d.ID, d.Text, d.Reasons)
			}
		case bench.KindChat, bench.KindQuestion, bench.KindBuyer, bench.KindSupport, bench.KindAgent:
			if hasRule(d, "flood.copypasta") {
				t.Errorf("crowd line %s hidden as copypasta: %q (dup %d)", d.ID, d.Text, d.Dup.Count)
			}
			if d.Dup.Count >= 4 {
				crowdShared++
				if d.Action == chat.Allow {
					crowdShown++
				}
			}
		}
	}
	t.Logf("raid lines %d, hidden as copypasta %d; crowd lines shared by ≥4 users %d, shown %d", raid, raidHidden, crowdShared, crowdShown)
	// Each raid lets through at most the copies sent before it is one
	// (copypasta_users-1 = 3 users), and everything after is hidden.
	if raid < 100 || raid-raidHidden > 5*3+5 {
		t.Errorf("raid lines %d, hidden %d; want all but the first few of each of the 5 raids hidden", raid, raidHidden)
	}
	if crowdShared == 0 || crowdShown != crowdShared {
		t.Errorf("crowd lines shared by 4 or more users: %d, shown %d; want some, all shown", crowdShared, crowdShown)
	}

	// The trending panel, through the engine replay runs.
	cfg := config.Defaults()
	engine, err := app.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stage, err := app.NewStage(cfg, automate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dec := stage.Wrap(engine)
	// Text hidden or held for what it says (not for one user repeating
	// it: others may ask the same and be shown).
	unfit := map[string]bool{}
	const says = chat.Labels(chat.LabelSpam | chat.LabelToxic | chat.LabelThreat | chat.LabelLink)
	lines := bytes.Split(bytes.TrimSpace(input), []byte("\n"))
	for i, l := range lines {
		var m chat.Message
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		d := dec.Decide(&m)
		if d.Action != chat.Allow && d.Labels&says != 0 {
			unfit[d.Text] = true
		}
		snap := engine.Trending().(*trend.Trending).Snapshot("demo", m.TS, 5)
		for _, q := range snap.Questions {
			if raidTexts[q.Text] || strings.Contains(q.Text, "GOAT") || strings.Contains(q.Text, "legally required") {
				t.Fatalf("after message %d the trending panel shows raid text %q (%d askers)", i, q.Text, q.Askers)
			}
			if unfit[q.Text] {
				t.Fatalf("after message %d the trending panel shows %q, which was hidden or held", i, q.Text)
			}
		}
	}
}
