package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/livemod/livemod/bench"
)

// runBench loads a running server from outside over websockets: live
// progress on stderr, the report on stdout (a table, or JSON with --json).
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", "bench --url ws://HOST:PORT --token T [--conns N] [--rate R] [--duration D] [--batch K] [--subs N] [--mix hard|realistic|neutral] [--users N] [--window D] [--json] [--svg FILE]", stderr)
	var opts bench.Options
	fs.StringVar(&opts.URL, "url", bench.DefaultURL, "server `base URL` to load (ws:// or wss://)")
	// The default is read after parsing so that --help never prints a secret.
	fs.StringVar(&opts.SubURL, "sub-url", "", "server `base URL` the subscribers connect to (default --url): another node of a cluster")
	fs.StringVar(&opts.Token, "token", "", "bearer `token` with the ingest role, and moderator for the subscriber (an admin token has both); empty means $LIVEMOD_TOKEN")
	fs.StringVar(&opts.Stream, "stream", bench.DefaultStream, "`stream` to send to and subscribe on")
	fs.IntVar(&opts.Conns, "conns", bench.DefaultConns, "number of ingest websocket connections")
	fs.Float64Var(&opts.Rate, "rate", 0, "total `msgs/s` over all connections, sent on a fixed schedule (open loop); 0 sends as fast as the server acks, with a bounded number of frames in flight")
	fs.DurationVar(&opts.Duration, "duration", bench.DefaultDuration, "how long to send")
	fs.IntVar(&opts.Batch, "batch", 1, "messages per websocket frame, as NDJSON lines")
	fs.BoolVar(&opts.Subscribe, "subscribe", true, "measure latency to the decision on /v1/subscribe?view=moderator; false measures to the ack")
	fs.IntVar(&opts.Subs, "subs", 1, "moderator `subscribers` (with --subscribe): the first measures latency, each must receive every decision")
	mix := fs.String("mix", "hard", "the audience: `hard` (most viewers end up with an open ticket), realistic (about 1 viewer in 100 ever asks for an agent) or neutral (ordinary chat that opens nothing)")
	fs.IntVar(&opts.Users, "users", 0, "distinct `viewers` over all connections (0: 5,000 a connection)")
	fs.DurationVar(&opts.Window, "window", bench.DefaultWindow, "length of one window of the report (latency and counts per window)")
	fs.DurationVar(&opts.Drain, "drain", bench.DefaultDrain, "how long to wait after sending for outstanding decisions")
	fs.Int64Var(&opts.Seed, "seed", 1, "seed of the synthetic chat")
	jsonOut := fs.Bool("json", false, "print only the JSON report on stdout")
	svgPath := fs.String("svg", "", "write a chart of throughput and p50/p99 latency over time to `file` (SVG)")
	quiet := fs.Bool("quiet", false, "no per-second progress on stderr")
	cpuProfile := fs.String("cpuprofile", "", "write the load generator's own CPU profile to `file` (the bench shares the machine: profile it too)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if opts.Token == "" {
		opts.Token = os.Getenv("LIVEMOD_TOKEN")
	}
	if fs.NArg() > 0 {
		return usagef("bench: unexpected argument %q", fs.Arg(0))
	}
	switch {
	case opts.Conns < 1:
		return usagef("bench: --conns %d: want 1 or more", opts.Conns)
	case opts.Batch < 1:
		return usagef("bench: --batch %d: want 1 or more", opts.Batch)
	case opts.Duration <= 0:
		return usagef("bench: --duration %v: want a positive duration such as 10s", opts.Duration)
	case opts.Rate < 0:
		return usagef("bench: --rate %g: want messages a second, or 0 for as fast as acked", opts.Rate)
	case opts.Subs < 1:
		return usagef("bench: --subs %d: want 1 or more", opts.Subs)
	case opts.Users < 0:
		return usagef("bench: --users %d: want 1 or more, or 0 for 5,000 a connection", opts.Users)
	case opts.Window <= 0:
		return usagef("bench: --window %v: want a positive duration such as 10s", opts.Window)
	case opts.Drain <= 0:
		opts.Drain = time.Millisecond // "don't wait"; zero would mean the default
	}
	m, err := bench.ParseMix(*mix)
	if err != nil {
		return usagef("bench: --%v", err)
	}
	opts.Mix = m
	if !*quiet {
		opts.Progress = stderr
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("bench: cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := bench.Run(ctx, opts)
	if err != nil {
		return err
	}
	if *svgPath != "" {
		if err := writeSVG(*svgPath, rep); err != nil {
			return err
		}
	}
	if *jsonOut {
		return rep.WriteJSON(stdout)
	}
	return rep.WriteText(stdout)
}

func writeSVG(path string, rep *bench.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("bench: --svg: %w", err)
	}
	if err := rep.WriteSVG(f); err != nil {
		f.Close()
		return fmt.Errorf("bench: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("bench: write %s: %w", path, err)
	}
	return nil
}
