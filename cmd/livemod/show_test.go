package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateShow = flag.Bool("update-show", false, "rewrite testdata/show/show.golden")

// TestShowGolden runs "livemod replay --config testdata/show/livemod.yaml"
// over the hand-written show script and compares the decisions with
// show.golden: FAQ answers in three languages, a grouped answer after a
// cooldown, the hourly cap, STOP and START, an approval draft, handoff
// tickets with their notice, and no answer to hidden or held messages.
func TestShowGolden(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "show")
	in, err := os.ReadFile(filepath.Join(dir, "show.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	runOnce := func() string {
		var out, errb bytes.Buffer
		if err := run(context.Background(), []string{"replay", "--config", filepath.Join(dir, "livemod.yaml")}, bytes.NewReader(in), &out, &errb); err != nil {
			t.Fatalf("%v: %s", err, errb.String())
		}
		return out.String()
	}
	got := runOnce()
	if again := runOnce(); again != got {
		t.Fatal("replay of the show is not deterministic")
	}
	golden := filepath.Join(dir, "show.golden")
	if *updateShow {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("line %d differs:\n got %s\nwant %s\n(run go test ./cmd/livemod -run TestShowGolden -update-show if the change is meant)", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("output has %d lines, golden %d", len(gl), len(wl))
	}
	for _, must := range []string{
		`"faq":{"id":"shipping","reply":"Automated reply: @ravi @priya @kiran, shipping`, // grouped after cooldown
		`"rule":"reply.cap"`, `"rule":"reply.optout"`, `"rule":"faq.draft"`,
		`"handoff":{"id":"h-1","order_id":"5521","issue":"refund"`,
		`"handoff":{"id":"h-2","issue":"not_delivered"`,
	} {
		if !strings.Contains(got, must) {
			t.Errorf("replay output lacks %s", must)
		}
	}
}
