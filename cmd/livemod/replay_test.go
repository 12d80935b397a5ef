package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/livemod/livemod/classify"
	"github.com/livemod/livemod/config"
)

func TestReplayIsDeterministicAndAligned(t *testing.T) {
	input := strings.Join([]string{
		`{"id":"a","stream":"s","user":{"id":"u1","name":"asha"},"text":"how much is the blue jacket?","ts":1795000000000}`,
		`not json`,
		``,
		`{"stream":"s","user":{"id":"u2"},"text":"check my channel bit.ly/abc"}`,
		`{"stream":"s","user":{"id":"u3"},"text":""}`,
		`{"stream":"s","user":{"id":"u4"},"text":"my order arrived and I love it"}`,
	}, "\n")
	runOnce := func() string {
		var out, errb bytes.Buffer
		if err := run(context.Background(), []string{"replay"}, strings.NewReader(input), &out, &errb); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(errb.String(), "2 line(s) could not be decided") {
			t.Errorf("stderr = %q", errb.String())
		}
		return out.String()
	}
	first := runOnce()
	if second := runOnce(); first != second {
		t.Fatalf("replay is not deterministic:\n%s\n---\n%s", first, second)
	}
	lines := strings.Split(strings.TrimSpace(first), "\n")
	if len(lines) != 5 {
		t.Fatalf("got %d output lines for 5 non-blank input lines:\n%s", len(lines), first)
	}
	var bad struct {
		Line  int
		Error string
	}
	json.Unmarshal([]byte(lines[1]), &bad)
	if bad.Line != 2 || !strings.Contains(bad.Error, "json") {
		t.Errorf("line 2 = %s, want a json error for input line 2", lines[1])
	}
	var d classify.Decision
	json.Unmarshal([]byte(lines[2]), &d)
	if d.ID != "line-4" || d.TS != 1795000000000 || d.Action != classify.Hide {
		t.Errorf("line 4 decision = %+v; want id line-4, ts carried over, hidden", d)
	}
	json.Unmarshal([]byte(lines[4]), &d)
	if d.Action != classify.Allow || d.Labels != 0 {
		t.Errorf("ordinary chat = %+v, want allow with no labels", d)
	}
}

// TestReplayMatchesEngine: replay decides with the same engine as serve.
func TestReplayMatchesEngine(t *testing.T) {
	e, err := newEngine(config.Defaults())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := replay(context.Background(), e, strings.NewReader(`{"id":"x","stream":"s","user":{"id":"u"},"text":"f u c k you","ts":1}`), &out); err != nil {
		t.Fatal(err)
	}
	var d classify.Decision
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	if d.Action != classify.Hold || len(d.Reasons) == 0 {
		t.Errorf("evasive insult = %+v, want hold with a reason", d)
	}
	_ = io.Discard
}
