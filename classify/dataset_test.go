package classify

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"
)

// TestDatasetBaseline measures the rules alone on the shared labeled sets
// and logs precision, recall and F1; it checks nothing, so that a rule
// change that trades one for another is a decision, not a failure. Run:
//
//	go test ./classify -run TestDatasetBaseline -v
//
// LIVEMOD_DATA points at the data directory (default /work/shared/data).
func TestDatasetBaseline(t *testing.T) {
	dir := os.Getenv("LIVEMOD_DATA")
	if dir == "" {
		dir = "/work/shared/data"
	}
	sets := []struct {
		file  string
		label Label
		pred  Labels // predicted positive if the decision has any of these
	}{
		{"youtube_spam.ndjson", LabelSpam, Labels(LabelSpam)},
		{"youtube_spam.ndjson", LabelSpam, Labels(LabelSpam | LabelLink)},
		{"davidson_toxic.ndjson", LabelToxic, Labels(LabelToxic)},
		{"davidson_toxic.ndjson", LabelToxic, Labels(LabelToxic | LabelThreat)},
	}
	for _, s := range sets {
		path := dir + "/" + s.file
		f, err := os.Open(path)
		if err != nil {
			t.Logf("skip %s: %v (set LIVEMOD_DATA to the data directory)", s.file, err)
			continue
		}
		e, err := New(rulesOnly())
		if err != nil {
			t.Fatal(err)
		}
		var tp, fp, fn, n int
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var m struct {
				Message
				Labels Labels `json:"labels"`
			}
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			n++
			d := e.Decide(&m.Message)
			got, want := d.Labels&s.pred != 0, m.Labels.Has(s.label)
			switch {
			case got && want:
				tp++
			case got:
				fp++
			case want:
				fn++
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		p := float64(tp) / float64(max(tp+fp, 1))
		r := float64(tp) / float64(max(tp+fn, 1))
		f1 := 2 * p * r / max(p+r, 1e-9)
		t.Logf("%-22s %-8s predicted by %-18s n=%5d P=%.3f R=%.3f F1=%.3f",
			s.file, s.label, s.pred.AppendJSON(nil), n, p, r, f1)
	}
}
