package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/livemod/livemod/store"
)

// runAudit is "livemod audit verify --data DIR": it walks the audit
// log's hash chain and reports the first broken link (exit 1), or how
// many entries it checked (exit 0). The server must be stopped: the store
// is held by one process at a time.
func runAudit(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fmt.Fprintln(stdout, "Usage: livemod audit verify --data DIR")
			return nil
		}
		return usagef("audit: want the sub-verb verify (livemod audit verify --data DIR)")
	}
	fs := newFlagSet("audit verify", "audit verify --data DIR", stderr)
	data := fs.String("data", "", "the server's data directory (the server must be stopped)")
	if err := parseFlags(fs, args[1:], stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("audit: unexpected argument %q", fs.Arg(0))
	}
	if *data == "" {
		return usagef("audit: --data is required")
	}
	db, err := store.OpenExisting(*data)
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := db.VerifyAudit()
	var br *store.ChainBreak
	if errors.As(err, &br) {
		fmt.Fprintf(stdout, "BROKEN at entry %d: %s\n", br.Seq, br.Reason)
		fmt.Fprintf(stdout, "%d entries before it verified\n", rep.Entries)
		return fmt.Errorf("audit verify: %w", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ok: %d entries verified (seq %d to %d), %d of them erased", rep.Entries, rep.First, rep.Last, rep.Erased)
	if rep.Legacy > 0 {
		fmt.Fprintf(stdout, ", %d older entries written before the chain (not checked)", rep.Legacy)
	}
	if rep.Anchored {
		fmt.Fprint(stdout, ", starting after a retention purge")
	}
	fmt.Fprintln(stdout)
	return nil
}
