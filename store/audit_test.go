package store

import (
	"bytes"
	"fmt"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestAuditChunks: entries are kept auditChunk to a value; Audit reads
// them back newest first, across chunks and within one, and a limit cuts
// the newest.
func TestAuditChunks(t *testing.T) {
	db, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const n = 2*auditChunk + 88
	batch := make([]AuditEntry, n)
	for i := range batch {
		batch[i] = AuditEntry{TS: int64(i + 1), Actor: "auto", Action: "hide", Target: fmt.Sprint("m-", i), Stream: "s", User: fmt.Sprint("u-", i%7)}
	}
	if err := db.AppendAudit(batch...); err != nil {
		t.Fatal(err)
	}
	keys := 0
	db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAudit).ForEach(func(k, v []byte) error { keys++; return nil })
	})
	if keys != 3 {
		t.Errorf("%d entries in %d values, want 3 chunks", n, keys)
	}
	all, err := db.Audit(AuditQuery{Limit: 10 * n})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n {
		t.Fatalf("Audit returned %d entries, want %d", len(all), n)
	}
	for i, e := range all {
		if want := uint64(n - i); e.Seq != want || e.Target != fmt.Sprint("m-", n-i-1) {
			t.Fatalf("entry %d: seq %d target %s, want seq %d, newest first", i, e.Seq, e.Target, want)
		}
	}
	top, _ := db.Audit(AuditQuery{Limit: 3})
	if len(top) != 3 || top[0].Seq != n || top[2].Seq != n-2 {
		t.Errorf("Audit(limit 3) = %+v, want the three newest", top)
	}
	u3, _ := db.Audit(AuditQuery{User: "u-3", Limit: 10 * n})
	if want := (n + 3) / 7; len(u3) != want {
		t.Errorf("entries of u-3: %d, want %d", len(u3), want)
	}
}

// TestAuditOneEntryValues: a value of one JSON object, as earlier
// versions wrote each entry, is read, exported and erased like a chunk
// of one; erasing an entry in a chunk leaves its neighbours byte for byte.
func TestAuditOneEntryValues(t *testing.T) {
	db, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	old := []AuditEntry{
		{Seq: 1, TS: 1, Actor: "mods", Action: "hide", Target: "m-1", User: "gone", Reason: "said secret"},
		{Seq: 2, TS: 2, Actor: "mods", Action: "hide", Target: "m-2", User: "kept", Reason: "kept reason"},
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		for _, e := range old {
			if _, err := b.NextSequence(); err != nil {
				return err
			}
			if err := b.Put(seqKey(e.Seq), e.appendJSON(nil)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AppendAudit(
		AuditEntry{TS: 3, Actor: "auto", Action: "hide", Target: "m-3", User: "kept", Reason: "kept too"},
		AuditEntry{TS: 4, Actor: "auto", Action: "hide", Target: "m-4", User: "gone", Reason: "secret again"},
		AuditEntry{TS: 5, Actor: "auto", Action: "hold", Target: "m-5", User: "kept", Reason: "kept three"},
	); err != nil {
		t.Fatal(err)
	}
	all, _ := db.Audit(AuditQuery{})
	if len(all) != 5 || all[0].Seq != 5 || all[4].Seq != 1 {
		t.Fatalf("Audit = %+v, want seqs 5..1", all)
	}
	about, _ := db.AuditAbout("gone", nil)
	if len(about) != 2 || about[0].Seq != 1 || about[1].Seq != 4 {
		t.Fatalf("AuditAbout(gone) = %+v, want seqs 1 and 4, oldest first", about)
	}
	chunk := func() []byte {
		var v []byte
		db.bolt.View(func(tx *bolt.Tx) error {
			v = append(v, tx.Bucket(bucketAudit).Get(seqKey(3))...)
			return nil
		})
		return v
	}
	before := bytes.Split(chunk(), []byte("\n"))
	got, err := db.EraseUser("gone", nil, AuditEntry{TS: 9, Actor: "ops", Action: "erase", Target: "gone"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Audit != 2 {
		t.Errorf("redacted %d entries, want 2", got.Audit)
	}
	after := bytes.Split(chunk(), []byte("\n"))
	if len(after) != 3 || !bytes.Equal(after[0], before[0]) || !bytes.Equal(after[2], before[2]) || bytes.Equal(after[1], before[1]) {
		t.Errorf("chunk after erasure:\n%s\nbefore:\n%s", bytes.Join(after, []byte("\n")), bytes.Join(before, []byte("\n")))
	}
	all, _ = db.Audit(AuditQuery{})
	if len(all) != 6 || all[0].Action != "erase" {
		t.Fatalf("Audit after erasure = %+v", all)
	}
	for _, e := range all {
		if e.User == "gone" || bytes.Contains([]byte(e.Reason), []byte("secret")) {
			t.Errorf("entry about gone survived: %+v", e)
		}
		if (e.Seq == 1 || e.Seq == 4) && !e.Erased {
			t.Errorf("entry %d not marked erased: %+v", e.Seq, e)
		}
	}
}

// TestAuditBuffersReused: the sink's commits reuse one value buffer, and
// every entry of every commit reads back as written, its chain intact.
func TestAuditBuffersReused(t *testing.T) {
	db, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var bufs auditBufs
	const commits, per = 12, 300 // more than a chunk per commit
	for c := range commits {
		batch := make([]AuditEntry, per)
		for i := range batch {
			n := c*per + i
			// Lengths differ from commit to commit, so that a value
			// overwritten by a later commit's would show.
			batch[i] = AuditEntry{TS: int64(n + 1), Actor: "auto", Action: "hide", Target: fmt.Sprint("m-", n), Stream: "s", User: "u", Reason: string(bytes.Repeat([]byte{'a' + byte(c)}, 10+c*c))}
		}
		if err := db.appendAudit(&bufs, batch); err != nil {
			t.Fatal(err)
		}
		if cap(bufs.v) == 0 {
			t.Fatalf("commit %d: no value buffer kept for the next", c)
		}
	}
	all, err := db.Audit(AuditQuery{Limit: 2 * commits * per})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != commits*per {
		t.Fatalf("read back %d entries, want %d", len(all), commits*per)
	}
	for _, e := range all {
		n := int(e.Seq) - 1
		c := n / per
		if e.Target != fmt.Sprint("m-", n) || e.Reason != string(bytes.Repeat([]byte{'a' + byte(c)}, 10+c*c)) {
			t.Fatalf("entry %d read back as target %s reason %q", e.Seq, e.Target, e.Reason)
		}
	}
	if rep, err := db.VerifyAudit(); err != nil || rep.Entries != commits*per {
		t.Fatalf("VerifyAudit = %+v, %v; want %d entries on an intact chain", rep, err, commits*per)
	}
}
