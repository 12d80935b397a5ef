// Command livemod is a real-time moderator for live-stream chat.
//
//	livemod demo      a server with a synthetic audience: the first command to run
//	livemod serve     the server
//	livemod replay    decide NDJSON messages offline, with the server's engine
//	livemod bench     load a running server from outside and report
//
// Run "livemod VERB --help" for a verb's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `livemod: a real-time moderator for live-stream chat.

Usage:
  livemod demo   [flags]   start a server with a built-in synthetic audience and print
                           the URLs to open (a newcomer's first command)
  livemod serve  [flags]   run the server: websocket ingest, classify, live decisions
  livemod replay [flags]   read NDJSON messages on stdin, write one decision per line
  livemod bench  [flags]   load a running server over websockets and report latency
  livemod train  [flags]   learn a model from labeled NDJSON (--data F --out model.bin)
  livemod eval   [flags]   per-label precision, recall, F1 on labeled NDJSON; --cv to cross-validate
  livemod labels export    moderators' approve/hide/unhide outcomes as labeled NDJSON for train

Run "livemod VERB --help" for the flags of a verb.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) && err != errUsage { // bare errUsage: usage is already printed
			fmt.Fprintln(os.Stderr, "livemod:", err)
		}
		os.Exit(exitCode(err))
	}
}

// errUsage marks a command line that could not be understood.
var errUsage = errors.New("usage")

func exitCode(err error) int {
	if errors.Is(err, flag.ErrHelp) || errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	verb, rest := args[0], args[1:]
	switch verb {
	case "serve":
		return runServe(ctx, rest, stdout, stderr)
	case "demo":
		return runDemo(ctx, rest, stdout, stderr)
	case "replay":
		return runReplay(ctx, rest, stdin, stdout, stderr)
	case "bench":
		return runBench(ctx, rest, stdout, stderr)
	case "train":
		return runTrain(ctx, rest, stdout, stderr)
	case "eval":
		return runEval(ctx, rest, stdout, stderr)
	case "labels":
		return runLabels(ctx, rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "livemod: unknown verb %q\n\n%s", verb, usage)
	return errUsage
}

// newFlagSet returns a flag set whose usage prints a one-line synopsis
// and the flags.
func newFlagSet(name, synopsis string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: livemod %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return fmt.Sprint(*m) }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
