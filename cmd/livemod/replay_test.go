package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/livemod/livemod/app"
	"github.com/livemod/livemod/chat"
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
		err := run(context.Background(), []string{"replay"}, strings.NewReader(input), &out, &errb)
		// Lines that failed fail the run (exit 1), after every line is written.
		if err == nil || !strings.Contains(err.Error(), "2 line(s) could not be decided") || exitCode(err) != 1 {
			t.Errorf("err = %v (exit %d), want 2 lines undecided, exit 1", err, exitCode(err))
		}
		return out.String()
	}
	first := runOnce()
	if second := runOnce(); first != second {
		t.Fatalf("replay is not deterministic:\n%s\n---\n%s", first, second)
	}
	// One output line per input line, the blank one included.
	lines := strings.Split(strings.TrimSuffix(first, "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("got %d output lines for 6 input lines:\n%s", len(lines), first)
	}
	if lines[2] != "" {
		t.Errorf("blank input line 3 gave %q, want a blank line", lines[2])
	}
	lines = append(lines[:2], lines[3:]...)
	var bad struct {
		Line  int
		Error string
	}
	json.Unmarshal([]byte(lines[1]), &bad)
	if bad.Line != 2 || !strings.Contains(bad.Error, "json") {
		t.Errorf("line 2 = %s, want a json error for input line 2", lines[1])
	}
	var d chat.Decision
	json.Unmarshal([]byte(lines[2]), &d)
	if d.ID != "line-4" || d.TS != 1795000000000 || d.Action != chat.Hide {
		t.Errorf("line 4 decision = %+v; want id line-4, ts carried over, hidden", d)
	}
	json.Unmarshal([]byte(lines[4]), &d)
	if d.Action != chat.Allow || d.Labels != 0 {
		t.Errorf("ordinary chat = %+v, want allow with no labels", d)
	}
}

// TestReplayMatchesEngine: replay decides with the same engine as serve.
func TestReplayMatchesEngine(t *testing.T) {
	e, err := app.NewEngine(config.Defaults())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := replay(context.Background(), e, "replay", strings.NewReader(`{"id":"x","stream":"s","user":{"id":"u"},"text":"f u c k you","ts":1}`), &out, nil); err != nil {
		t.Fatal(err)
	}
	var d chat.Decision
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	if d.Action != chat.Hold || len(d.Reasons) == 0 {
		t.Errorf("evasive insult = %+v, want hold with a reason", d)
	}
	_ = io.Discard
}

// TestReplayShowsProgress: a run longer than a second reports on stderr
// how far it got; the output is untouched by it.
func TestReplayShowsProgress(t *testing.T) {
	var b bytes.Buffer
	p := replayProgress(&b)
	p(4096) // within the first second: nothing
	if b.Len() != 0 {
		t.Fatalf("progress within the first second: %q", b.String())
	}
	p(-1)
	if b.Len() != 0 {
		t.Fatalf("a short run printed a summary: %q", b.String())
	}
	eventually(t, 5*time.Second, "a progress line", func() bool { p(8192); return b.Len() > 0 })
	p(-1)
	if !strings.Contains(b.String(), "livemod replay: 8192 lines") || !strings.HasSuffix(b.String(), "\n") {
		t.Errorf("progress = %q", b.String())
	}
}

// TestReplayFillsTheStream: a recorded line that names no stream is
// decided in --stream's (the server fills it from the connection), one that
// names one keeps it.
func TestReplayFillsTheStream(t *testing.T) {
	e, err := app.NewEngine(config.Defaults())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	in := `{"user":{"id":"u"},"text":"hi"}` + "\n" + `{"stream":"other","user":{"id":"u"},"text":"hi again"}`
	bad, err := replay(context.Background(), e, "show", strings.NewReader(in), &out, nil)
	if err != nil || bad != 0 {
		t.Fatalf("bad %d, err %v: %s", bad, err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	for i, want := range []string{"show", "other"} {
		var d chat.Decision
		if err := json.Unmarshal([]byte(lines[i]), &d); err != nil || d.Stream != want {
			t.Errorf("line %d: stream %q (%v), want %q", i+1, d.Stream, err, want)
		}
	}
}
