package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/livemod/livemod/store"
)

// runLabels is "livemod labels export": the examples moderators labeled
// (approve, hide, unhide, review) as labeled NDJSON for livemod train.
func runLabels(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const synopsis = "Usage: livemod labels export [--data DIR] [--out FILE]\n\nRun \"livemod labels export --help\" for the flags.\n"
	switch {
	case len(args) > 0 && (args[0] == "--help" || args[0] == "-help" || args[0] == "-h" || args[0] == "help"):
		fmt.Fprint(stdout, synopsis)
		return flag.ErrHelp
	case len(args) == 0:
		return usagef("labels: want the sub-verb export: livemod labels export [--data DIR] [--out FILE]")
	case args[0] != "export":
		return usagef("labels: unknown sub-verb %q; want export", args[0])
	}
	fs := newFlagSet("labels export", "labels export [--data DIR] [--out labeled.ndjson]", stderr)
	dir := fs.String("data", "./livemod-data", "the server's data `dir`ectory (stop the server first: the store is single-writer)")
	out := fs.String("out", "", "`file` to write (default: standard output)")
	if err := parseFlags(fs, args[1:], stdout); err != nil {
		return err
	}
	db, err := store.Open(*dir)
	if err != nil {
		return err
	}
	defer db.Close()
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("labels: %w", err)
		}
		defer f.Close()
		w = f
	}
	n, err := db.ExportLabels(w)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "livemod labels: exported %d labeled example(s); train with: livemod train --data FILE --data … --out model.bin\n", n)
	return nil
}
