package store

import (
	"encoding/json"
	"testing"
)

// TestAuditEntryJSON: the hand-written encoder writes what encoding/json
// reads back, for awkward strings too.
func TestAuditEntryJSON(t *testing.T) {
	for _, e := range []AuditEntry{
		{Seq: 1, TS: 1795000000000, Actor: "auto", Action: "hide", Target: "m-1", Stream: "s", User: "u", Reason: "matched 'bit ly'", Rule: "spam.link"},
		{Seq: 2, Actor: `we"ird\\`, Action: "hold", Target: "नमस्ते <b>&", Reason: "line\nbreak"},
		{Seq: 3, Actor: "ops", Action: "hide", Erased: true},
		{},
	} {
		b := e.appendJSON(nil)
		var got AuditEntry
		if err := json.Unmarshal(b, &got); err != nil || got != e {
			t.Errorf("appendJSON(%+v) = %s → %+v, %v", e, b, got, err)
		}
	}
}

func BenchmarkAppendAudit(b *testing.B) {
	db, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	batch := make([]AuditEntry, 4096)
	for i := range batch {
		batch[i] = AuditEntry{TS: 1795000000000, Actor: "auto", Action: "hide", Target: "m-1234567", Stream: "show", User: "u-98765", Reason: "matched 'bit ly'", Rule: "spam.link"}
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i += len(batch) {
		if err := db.AppendAudit(batch...); err != nil {
			b.Fatal(err)
		}
	}
}
