package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livemod/livemod/classify/train"
)

func TestLanguageOf(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		text string
		want int
	}{
		{"how much is the blue jacket?", langEn},
		{"the host is here, ho ho ho", langEn},
		{"यह लाल वाला कितने का है?", langHi},
		{"नमस्ते didi", langHi},
		{"kitne ka hai ye wala bhai", langHinglish},
		{"price kya hai", langHinglish},
	} {
		if got := languageOf(c.text); got != c.want {
			t.Errorf("languageOf(%q) = %s, want %s", c.text, langNames[got], langNames[c.want])
		}
	}
}

// TestHeldOutSplit: the held-out part and the training part of --holdout
// are disjoint, cover every line, and are the same in every run.
func TestHeldOutSplit(t *testing.T) {
	t.Parallel()
	var ex []example
	for i := range 1000 {
		ex = append(ex, example{Example: train.Example{Text: fmt.Sprint("line ", i)}})
	}
	test, train := heldOut(ex, 0.2, true), heldOut(ex, 0.2, false)
	if len(test)+len(train) != len(ex) {
		t.Fatalf("%d + %d lines, want %d", len(test), len(train), len(ex))
	}
	if len(test) < 150 || len(test) > 250 {
		t.Errorf("held out %d of 1000 at 0.2", len(test))
	}
	in := map[string]bool{}
	for _, e := range test {
		in[e.Text] = true
	}
	for _, e := range train {
		if in[e.Text] {
			t.Fatalf("%q is in both parts", e.Text)
		}
	}
	again := heldOut(ex, 0.2, true)
	for i := range again {
		if again[i].Text != test[i].Text {
			t.Fatal("the split changed between runs")
		}
	}
}

// TestEvalHoldoutByLanguage: eval --holdout evaluates the held-out part
// only and prints every label per language.
func TestEvalHoldoutByLanguage(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	texts := []string{"fuck you idiot", "tu chutiya hai", "तू चूतिया है", "nice stream", "bahut accha laga", "बहुत बढ़िया"}
	for i := range 60 {
		text := texts[i%len(texts)] + fmt.Sprint(" ", i)
		labels := []string{}
		if i%len(texts) < 3 {
			labels = []string{"toxic"}
		}
		line, _ := json.Marshal(map[string]any{"id": fmt.Sprint(i), "stream": "s", "user": map[string]string{"id": fmt.Sprint("u", i)}, "text": text, "ts": i, "labels": labels})
		b.Write(append(line, '\n'))
	}
	path := filepath.Join(t.TempDir(), "d.ndjson")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if err := runEval(context.Background(), []string{"--holdout", "0.5", "--mode", "rules", "--data", path + ":toxic"}, &out, &errb); err != nil {
		t.Fatalf("eval: %v (%s)", err, errb.String())
	}
	s := out.String()
	for _, want := range []string{"(held-out 50%)", "by language", "\n        en  toxic", "\n        hi  toxic", "\n  hinglish  toxic"} {
		if !strings.Contains(s, want) {
			t.Errorf("eval output lacks %q:\n%s", want, s)
		}
	}
	if err := runEval(context.Background(), []string{"--holdout", "1.5", "--data", path}, &out, &errb); err == nil {
		t.Error("--holdout 1.5 was accepted")
	}
}
