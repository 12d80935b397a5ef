package store

import (
	"encoding/json"
	"errors"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// FuzzVerifyAudit: whatever bytes an audit chunk holds on disk, verify
// answers (a break or a valid chain) without a panic, and a chunk that
// is not the one written is never reported valid unless it decodes to
// the very same entries.
func FuzzVerifyAudit(f *testing.F) {
	f.Add([]byte(`{"seq":1,"ts":1,"actor":"auto","action":"hide","target":"m"}`))
	f.Add([]byte("not json"))
	f.Add([]byte(`{"seq":1,"ts":1,"actor":"auto","action":"hide","target":"m","hash":"00"}` + "\n" + `{}`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, chunk []byte) {
		db, err := Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.AppendAudit(AuditEntry{TS: 1, Actor: "auto", Action: "hide", Target: "m"}); err != nil {
			t.Fatal(err)
		}
		var orig []byte
		db.bolt.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketAudit)
			orig = append([]byte(nil), b.Get(seqKey(1))...)
			return b.Put(seqKey(1), chunk)
		})
		_, err = db.VerifyAudit()
		var br *ChainBreak
		if err != nil && !errors.As(err, &br) {
			t.Fatalf("verify: %v, not a chain break", err)
		}
		if err == nil && len(chunk) > 0 && string(chunk) != string(orig) {
			// Only a re-encoding of the same entry (JSON key order,
			// spaces) may pass.
			var a, b AuditEntry
			if jsonEntry(chunk, &a) != nil || jsonEntry(orig, &b) != nil || a != b {
				t.Fatalf("a changed chunk %q verified", chunk)
			}
		}
	})
}

func jsonEntry(b []byte, e *AuditEntry) error {
	n := 0
	return eachAuditLine(b, func(line []byte) error {
		n++
		if n > 1 {
			return errors.New("more than one entry")
		}
		return json.Unmarshal(line, e)
	})
}
