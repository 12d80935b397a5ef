package classify

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/internal/testenv"
)

// datasetDir finds the labeled sets: LIVEMOD_EVAL_DATA, else ../shared/data
// from the module root. It skips the test, saying where to put the files,
// when they are not there.
func datasetDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("LIVEMOD_EVAL_DATA")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		root := wd
		for {
			if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(root)
			if parent == root {
				t.Fatalf("no go.mod above %s", wd)
			}
			root = parent
		}
		dir = filepath.Join(root, "..", "shared", "data")
	}
	for _, f := range []string{"youtube_spam.ndjson", "davidson_toxic.ndjson"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			abs, _ := filepath.Abs(dir)
			testenv.Absent(t, "data", fmt.Sprintf("needs %s in %s (the directory shared/data beside the module root), or LIVEMOD_EVAL_DATA naming a directory that holds it; the sources are in classify/model/ATTRIBUTION.md", f, abs))
		}
	}
	return dir
}

// TestDatasetBaseline measures the rules alone on the shared labeled sets
// and logs precision, recall and F1; it checks nothing, so that a rule
// change that trades one for another is a decision, not a failure. Run:
//
//	go test ./classify -run TestDatasetBaseline -v
//
// The sets are not in the repository (see classify/model/ATTRIBUTION.md
// for where they come from): the test reads them from ../shared/data
// beside the module root, or from LIVEMOD_EVAL_DATA, and skips, saying
// where to put them, when they are absent.
func TestDatasetBaseline(t *testing.T) {
	dir := datasetDir(t)
	sets := []struct {
		file  string
		label chat.Label
		pred  chat.Labels // predicted positive if the decision has any of these
	}{
		{"youtube_spam.ndjson", chat.LabelSpam, chat.Labels(chat.LabelSpam)},
		{"youtube_spam.ndjson", chat.LabelSpam, chat.Labels(chat.LabelSpam | chat.LabelLink)},
		{"davidson_toxic.ndjson", chat.LabelToxic, chat.Labels(chat.LabelToxic)},
		{"davidson_toxic.ndjson", chat.LabelToxic, chat.Labels(chat.LabelToxic | chat.LabelThreat)},
	}
	for _, s := range sets {
		path := filepath.Join(dir, s.file)
		f, err := os.Open(path)
		if err != nil {
			t.Fatalf("%s: %v", s.file, err)
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
				chat.Message
				Labels chat.Labels `json:"labels"`
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
