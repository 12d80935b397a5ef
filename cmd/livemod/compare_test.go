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
)

func TestPairedBootstrap(t *testing.T) {
	t.Parallel()
	y := []bool{true, true, true, false, false, false, true, false}
	a := []bool{true, true, true, false, false, false, true, false}  // perfect
	b := []bool{true, false, false, true, true, false, false, false} // F1 2·1/(2+2+3) = 0.286
	fa, fb, lo, hi := pairedBootstrap(y, a, a, 500, 1)
	if fa != 1 || fb != 1 || lo != 0 || hi != 0 {
		t.Errorf("same predictions: %v %v [%v, %v], want 1 1 [0, 0]", fa, fb, lo, hi)
	}
	fa, fb, lo, hi = pairedBootstrap(y, a, b, 500, 1)
	if fa != 1 || fb < 0.285 || fb > 0.286 {
		t.Errorf("F1 %v and %v, want 1 and 0.286", fa, fb)
	}
	if !(lo <= fa-fb && fa-fb <= hi) || lo <= 0 || hi > 1 {
		t.Errorf("interval [%v, %v] for a gap of %v", lo, hi, fa-fb)
	}
	_, _, lo2, hi2 := pairedBootstrap(y, a, b, 500, 1)
	if lo2 != lo || hi2 != hi {
		t.Error("the bootstrap is not deterministic for a seed")
	}
}

// TestEvalVsBaseline: eval --vs-baseline prints a line per language with
// both F1s and an interval, and is refused without --holdout.
func TestEvalVsBaseline(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	texts := []string{"worst service ever, so angry", "bahut bekar quality hai paise barbaad", "nice stream", "bahut accha laga yaar"}
	for i := range 80 {
		labels := []string{}
		if i%len(texts) < 2 {
			labels = []string{"negative"}
		}
		line, _ := json.Marshal(map[string]any{"id": fmt.Sprint(i), "stream": "s", "user": map[string]string{"id": fmt.Sprint("u", i)},
			"text": texts[i%len(texts)] + fmt.Sprint(" ", i), "ts": i, "labels": labels})
		b.Write(append(line, '\n'))
	}
	path := filepath.Join(t.TempDir(), "d.ndjson")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if err := runEval(context.Background(), []string{"--holdout", "0.5", "--vs-baseline", "--data", path + ":negative"}, &out, &errb); err != nil {
		t.Fatalf("eval: %v (%s)", err, errb.String())
	}
	s := out.String()
	for _, want := range []string{"engine minus baseline F1", "\n       all  negative", "\n        en  negative", "\n  hinglish  negative", "95% interval"} {
		if !strings.Contains(s, want) {
			t.Errorf("eval --vs-baseline output lacks %q:\n%s", want, s)
		}
	}
	for _, args := range [][]string{{"--vs-baseline"}, {"--holdout", "0.5", "--vs-baseline", "--mode", "rules"}, {"--holdout", "0.5", "--vs-baseline", "--mode", "baseline"}} {
		if err := runEval(context.Background(), append(args, "--data", path), &out, &errb); err == nil {
			t.Errorf("eval %v was accepted", args)
		}
	}
}
