package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/livemod/livemod/automate"
	"github.com/livemod/livemod/classify"
	"github.com/livemod/livemod/config"
)

func runReplay(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay", "replay [--config livemod.yaml] < messages.ndjson > decisions.ndjson", stderr)
	cfgPath := fs.String("config", "", "`file` to read (livemod.yaml), for the same rules as the server")
	modelPath := fs.String("model", "", "model `file` written by livemod train (default: the config's, else the embedded model; \"none\" for rules only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("replay: unexpected argument %q (messages come on stdin): %w", fs.Arg(0), errUsage)
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
	engine, err := newEngine(cfg)
	if err != nil {
		return err
	}
	stage, err := newStage(cfg, automate.Options{}) // memory state: ids from 1, every run alike
	if err != nil {
		return err
	}
	bad, err := replay(ctx, stage.Wrap(engine), stdin, stdout)
	if err != nil {
		return err
	}
	if bad > 0 {
		fmt.Fprintf(stderr, "livemod replay: %d line(s) could not be decided; see the {\"line\":N,\"error\":…} lines in the output\n", bad)
	}
	return nil
}

// replay decides each NDJSON line of r in order and writes one line per
// input line (blank lines skipped) to w: the decision, or {"line":N,"error":"…"} for a line that
// is not a valid message, so outputs stay aligned with inputs. Missing ids
// become "line-N"; a missing ts takes the previous message's, so the
// result never depends on the wall clock.
func replay(ctx context.Context, e automate.Decider, r io.Reader, w io.Writer) (bad int, err error) {
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
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue // blank lines separate, they are not messages
		}
		var m classify.Message
		buf = buf[:0]
		if err := json.Unmarshal(line, &m); err != nil {
			bad++
			buf = appendLineError(buf, n, "json: "+err.Error())
		} else {
			if m.ID == "" {
				m.ID = "line-" + strconv.Itoa(n)
			}
			if m.TS == 0 {
				m.TS = lastTS
			}
			lastTS = m.TS
			if err := m.Validate(); err != nil {
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
