// Command livemod is a real-time moderator for live-stream chat.
//
//	livemod demo      a server with a synthetic audience: the first command to run
//	livemod serve     the server
//	livemod replay    decide NDJSON messages offline, with the server's engine
//	livemod bench     load a running server from outside and report
//	livemod version   version, commit, Go version, build settings
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
	"strings"
	"syscall"

	"github.com/livemod/livemod/config"
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
  livemod audit verify     check the audit log's hash chain (--data DIR); reports the first broken link
  livemod version          the version, commit, Go version and build settings

Run "livemod VERB --help" for the flags of a verb. Exit status: 0 done,
1 failed, 2 the command line or the configuration could not be understood.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if msg := errorLine(err); msg != "" {
		fmt.Fprintln(os.Stderr, msg)
	}
	os.Exit(exitCode(err))
}

// errUsage marks a command line that could not be understood; errors.Is
// finds it in every usageError.
var errUsage = errors.New("usage")

// usageError is a command line that could not be understood: its message
// is the one line the user needs, and the exit status is 2.
type usageError struct{ msg string }

func (e usageError) Error() string        { return e.msg }
func (e usageError) Is(target error) bool { return target == errUsage }

// usagef makes a usageError; format starts with the verb ("bench: …").
func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// exitCode: 0 for success and for --help, 2 for a command line or a
// configuration that could not be understood, 1 for everything else.
func exitCode(err error) int {
	var ps config.Problems
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage), errors.As(err, &ps):
		return 2
	}
	return 1
}

// errorLine is what main prints for err: "livemod VERB: what is wrong
// (see livemod VERB --help)" for a command line, "livemod: …" otherwise;
// nothing for --help or a usage already printed.
func errorLine(err error) string {
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return ""
	case errors.As(err, &ue):
		if ue.msg == "" {
			return ""
		}
		verb, _, _ := strings.Cut(ue.msg, ":")
		if strings.ContainsAny(verb, " \"") || verb == ue.msg {
			return "livemod: " + ue.msg + ` (see "livemod --help")`
		}
		return "livemod " + ue.msg + ` (see "livemod ` + verb + ` --help")`
	}
	return "livemod: " + err.Error()
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{} // the usage is the message
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
	case "audit":
		return runAudit(ctx, rest, stdout, stderr)
	case "version":
		return runVersion(rest, stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usagef("unknown verb %q; verbs: demo, serve, replay, bench, train, eval, labels, audit, version", verb)
}

// newFlagSet returns a flag set whose usage prints a one-line synopsis
// and the flags to the set's output.
func newFlagSet(name, synopsis string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: livemod %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args: --help prints the usage on stdout and returns
// flag.ErrHelp (exit 0); a bad flag returns one line naming it (exit 2),
// without the whole usage before it.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	out := fs.Output()
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.Usage()
		fs.SetOutput(out)
		return flag.ErrHelp
	case err != nil:
		return usagef("%s: %v", fs.Name(), err)
	}
	return nil
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return fmt.Sprint(*m) }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
