package store

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func chainDB(t *testing.T, n int) *DB {
	t.Helper()
	db, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// Several batches and chunks: the chain runs across both.
	for b := 0; b < 3; b++ {
		batch := make([]AuditEntry, n)
		for i := range batch {
			batch[i] = AuditEntry{TS: int64(b*n + i + 1), Actor: "auto", Role: "system", Action: "hide", Target: fmt.Sprint("m-", b, "-", i),
				Stream: "s", User: fmt.Sprint("u-", i%5), Reason: "spam link", Rule: "spam.link"}
		}
		if err := db.AppendAudit(batch...); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// TestAuditChainVerifies: an untouched log verifies, an erasure keeps it
// valid, and each kind of change is found at the entry it touched.
func TestAuditChainVerifies(t *testing.T) {
	db := chainDB(t, auditChunk+10)
	rep, err := db.VerifyAudit()
	if err != nil || rep.Entries != 3*(auditChunk+10) || rep.First != 1 {
		t.Fatalf("VerifyAudit = %+v, %v", rep, err)
	}
	if _, err := db.EraseUser("u-3", nil, AuditEntry{TS: 99999, Actor: "ops", Role: "admin", Action: "erase", Target: "u-3"}); err != nil {
		t.Fatal(err)
	}
	rep, err = db.VerifyAudit()
	if err != nil || rep.Erased == 0 || rep.Last != uint64(3*(auditChunk+10)+1) {
		t.Fatalf("after erasure VerifyAudit = %+v, %v; want valid with erased entries", rep, err)
	}

	// Change one byte of entry 300's stream (a field the hash covers).
	tamper(t, db, 300, []byte(`"stream":"s"`), []byte(`"stream":"t"`))
	_, err = db.VerifyAudit()
	var br *ChainBreak
	if !errors.As(err, &br) || br.Seq != 300 {
		t.Fatalf("after changing entry 300: %v; want a break at 300", err)
	}
}

// TestAuditChainFindsPersonalChange: a changed reason (outside the
// redacted form) is found by its pd; a removed last entry by the tail.
func TestAuditChainFindsPersonalChange(t *testing.T) {
	db := chainDB(t, 20)
	tamper(t, db, 7, []byte(`"reason":"spam link"`), []byte(`"reason":"spam lint"`))
	_, err := db.VerifyAudit()
	var br *ChainBreak
	if !errors.As(err, &br) || br.Seq != 7 {
		t.Fatalf("after changing entry 7's reason: %v; want a break at 7", err)
	}

	db2 := chainDB(t, 20)
	db2.bolt.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAudit).Cursor()
		k, v := c.Last()
		i := bytes.LastIndexByte(v, '\n')
		return tx.Bucket(bucketAudit).Put(append([]byte(nil), k...), append([]byte(nil), v[:i]...))
	})
	if _, err := db2.VerifyAudit(); !errors.As(err, &br) || br.Seq != 60 {
		t.Fatalf("after removing the last entry: %v; want the tail (60) reported", err)
	}
}

// tamper replaces old by new in the line of entry seq, on disk.
func tamper(t *testing.T, db *DB, seq uint64, old, new []byte) {
	t.Helper()
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		c := b.Cursor()
		k, v := c.Seek(seqKey(seq + 1))
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		marker := []byte(fmt.Sprintf(`{"seq":%d,`, seq))
		i := bytes.Index(v, marker)
		if i < 0 {
			return fmt.Errorf("entry %d not in chunk %x", seq, k)
		}
		j := bytes.Index(v[i:], old)
		if j < 0 {
			return fmt.Errorf("entry %d has no %s", seq, old)
		}
		nv := append([]byte(nil), v...)
		copy(nv[i+j:], new)
		return b.Put(append([]byte(nil), k...), nv)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAuditBefore pages newest first with the seq cursor.
func TestAuditBefore(t *testing.T) {
	db := chainDB(t, auditChunk)
	var seen []uint64
	before := uint64(0)
	for {
		page, err := db.Audit(AuditQuery{Before: before, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			seen = append(seen, e.Seq)
		}
		before = page[len(page)-1].Seq
	}
	if len(seen) != 3*auditChunk {
		t.Fatalf("paged %d entries, want %d", len(seen), 3*auditChunk)
	}
	for i, s := range seen {
		if s != uint64(3*auditChunk-i) {
			t.Fatalf("entry %d of the pages is seq %d, want %d", i, s, 3*auditChunk-i)
		}
	}
}
