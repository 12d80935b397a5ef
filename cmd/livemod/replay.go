package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/livemod/livemod/app"
	"github.com/livemod/livemod/automate"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
	"github.com/livemod/livemod/config"
	"github.com/livemod/livemod/policy"
)

func runReplay(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay", "replay [--config livemod.yaml] [--policy new.yaml [--diff old.yaml]] < messages.ndjson > decisions.ndjson", stderr)
	cfgPath := fs.String("config", "", "`file` to read (livemod.yaml), for the same rules as the server")
	modelPath := fs.String("model", "", "model `file` written by livemod train (default: the config's, else the embedded model; \"none\" for rules only)")
	quiet := fs.Bool("quiet", false, "no progress on stderr (it is shown once a run takes more than a second)")
	policyPath := fs.String("policy", "", "policy `file` to decide with instead of the config's (a livemod.yaml policy: section, or one policy)")
	stream := fs.String("stream", "replay", "stream `ID` for the lines that name none")
	diffPath := fs.String("diff", "", "with --policy: the current policy `file`; write what --policy would change (newly hidden, released, by rule) instead of decisions")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("replay: unexpected argument %q (messages come on stdin)", fs.Arg(0))
	}
	if *diffPath != "" && *policyPath == "" {
		return usagef("replay: --diff needs --policy (the proposed policy to compare with it)")
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	if *modelPath != "" {
		cfg.Classify.Model = *modelPath
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if *policyPath != "" {
		if cfg.Policy, err = loadPolicy(*policyPath); err != nil {
			return err
		}
	}
	if *diffPath != "" {
		before, err := loadPolicy(*diffPath)
		if err != nil {
			return err
		}
		return replayDiff(ctx, cfg, before, cfg.Policy, *stream, stdin, stdout, stderr)
	}
	engine, err := app.NewEngine(cfg)
	if err != nil {
		return err
	}
	book, err := policy.New(engine, cfg.Policy, policy.Options{RecentBytes: -1})
	if err != nil {
		return err
	}
	defer book.Close(context.Background())
	stage, err := app.NewStage(cfg, automate.Options{}) // memory state: ids from 1, every run alike
	if err != nil {
		return err
	}
	var progress func(lines int)
	if !*quiet {
		progress = replayProgress(stderr)
	}
	bad, err := replay(ctx, stage.Wrap(book), *stream, stdin, stdout, progress)
	if progress != nil {
		progress(-1)
	}
	if err != nil {
		return err
	}
	if bad > 0 {
		return fmt.Errorf("replay: %d line(s) could not be decided; see the {\"line\":N,\"error\":…} lines in the output", bad)
	}
	return nil
}

// replayProgress returns a function replay calls every few thousand lines
// (and with -1 at the end): once a second it writes how far it got to w,
// so a large file shows it is moving. A run under a second prints nothing.
func replayProgress(w io.Writer) func(lines int) {
	start := time.Now()
	last, shown, n := start, false, 0
	return func(lines int) {
		now := time.Now()
		if lines < 0 {
			if shown {
				fmt.Fprintf(w, "\rlivemod replay: %d lines in %.1fs\n", n, now.Sub(start).Seconds())
			}
			return
		}
		n = lines
		if now.Sub(last) < time.Second {
			return
		}
		last, shown = now, true
		fmt.Fprintf(w, "\rlivemod replay: %d lines, %.0f lines/s…", n, float64(n)/now.Sub(start).Seconds())
	}
}

// replay decides each NDJSON line of r in order and writes one line per
// input line to w: the decision, {"line":N,"error":"…"} for a line that
// is not a valid message, or a blank line for a blank line, so that line N
// of the output always answers line N of the input. Missing ids
// become "line-N"; a missing ts takes the previous message's, so the
// result never depends on the wall clock.
// progress, when not nil, is called with the lines read so far every 4096
// lines.
func replay(ctx context.Context, e chat.Decider, stream string, r io.Reader, w io.Writer, progress func(int)) (bad int, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	out := bufio.NewWriterSize(w, 64<<10)
	var (
		buf    []byte
		lastTS int64
		n      int
	)
	for sc.Scan() {
		n++
		if n%1024 == 0 && ctx.Err() != nil {
			return bad, ctx.Err()
		}
		if progress != nil && n%4096 == 0 {
			progress(n)
		}
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			// Blank lines are not messages, but they keep their place.
			if err := out.WriteByte('\n'); err != nil {
				return bad, err
			}
			continue
		}
		var m chat.Message
		buf = buf[:0]
		if err := json.Unmarshal(line, &m); err != nil {
			bad++
			buf = appendLineError(buf, n, "json: "+err.Error())
		} else {
			var err error
			if lastTS, err = admitLine(&m, n, stream, lastTS); err != nil {
				bad++
				buf = appendLineError(buf, n, err.Error())
			} else {
				d := e.Decide(&m)
				buf = d.AppendJSON(buf)
			}
		}
		buf = append(buf, '\n')
		if _, err := out.Write(buf); err != nil {
			return bad, err
		}
	}
	if err := sc.Err(); err != nil {
		return bad, fmt.Errorf("read line %d: %w", n+1, err)
	}
	return bad, out.Flush()
}

func appendLineError(b []byte, line int, reason string) []byte {
	j, _ := json.Marshal(struct {
		Line  int    `json:"line"`
		Error string `json:"error"`
	}{line, reason})
	return append(b, j...)
}

// loadPolicy reads a policy file for replay.
func loadPolicy(path string) (policy.Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return policy.Config{}, fmt.Errorf("policy: %w", err)
	}
	c, err := policy.ParseYAML(b)
	if err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// replayDiff reads messages and writes the report of what after would
// change over before, as JSON, with a summary on stderr.
func replayDiff(ctx context.Context, cfg config.Config, before, after policy.Config, stream string, stdin io.Reader, stdout, stderr io.Writer) error {
	var msgs []*chat.Message
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n, bad := 0, 0
	var lastTS int64
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		m := new(chat.Message)
		if err := json.Unmarshal(line, m); err != nil {
			bad++
			continue
		}
		var err error
		if lastTS, err = admitLine(m, n, stream, lastTS); err != nil {
			bad++
			continue
		}
		msgs = append(msgs, m)
		if len(msgs) > policy.MaxTrialMessages {
			return fmt.Errorf("replay --diff: more than %d messages; split the file", policy.MaxTrialMessages)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read line %d: %w", n+1, err)
	}
	rep, err := policy.Compare(ctx, func() (*classify.Engine, error) { return app.NewEngine(cfg) }, before, after, msgs)
	if err != nil {
		return err
	}
	out, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if _, err := stdout.Write(append(out, '\n')); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "livemod replay: %d messages: %d newly hidden or held, %d released, %d changed in all", rep.Messages, rep.NewlyHidden, rep.Released, rep.Changed)
	if bad > 0 {
		fmt.Fprintf(stderr, "; %d line(s) skipped as not valid messages", bad)
	}
	fmt.Fprintln(stderr)
	return nil
}

// admitLine admits input line n as the server would (chat.Admit), with
// what replay has instead of a server: an id from the line number, the
// stream named on the command line when the line names none, and the
// previous line's time when it has none (replay is deterministic; no ts is
// clamped). It returns the time to carry to the next line.
func admitLine(m *chat.Message, n int, stream string, lastTS int64) (int64, error) {
	a := chat.Admission{Stream: stream, AnyStream: true, ID: func() string { return "line-" + strconv.Itoa(n) }, Now: lastTS}
	_, err := chat.Admit(m, &a)
	return m.TS, err
}
