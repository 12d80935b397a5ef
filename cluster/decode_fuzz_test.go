package cluster

import (
	"encoding/binary"
	"testing"

	"github.com/redis/go-redis/v9"
)

// FuzzDecode: whatever a forwarding log entry holds (it is read from
// Redis, where anything with the key's name may have written), decode does
// not panic, hands on only whole lines that lie inside the entry, and
// skips a producer's sequence it has seen.
func FuzzDecode(f *testing.F) {
	entry := func(lines ...string) string {
		var b []byte
		for _, l := range lines {
			b = binary.AppendUvarint(b, uint64(len(l)))
			b = append(b, l...)
		}
		return string(b)
	}
	f.Add("p1", "1", entry(`{"id":"m-1"}`, `{"id":"m-2"}`))
	f.Add("p1", "x", entry(`{"id":"m-3"}`)+"\xff\xff\xff")
	f.Add("", "", "\x05abc")
	f.Fuzz(func(t *testing.T, prod, seq, body string) {
		msgs := []redis.XMessage{
			{ID: "1-0", Values: map[string]any{fieldProd: prod, fieldSeq: seq, field: body}},
			{ID: "2-0", Values: map[string]any{fieldProd: prod, fieldSeq: seq, field: body}},
		}
		lines, seqs := decode(msgs, nil)
		total := 0
		for _, l := range lines {
			total += len(l)
		}
		if total > 2*len(body) {
			t.Fatalf("%d bytes of lines from two entries of %d", total, len(body))
		}
		if prod != "" && len(seqs) > 1 {
			t.Fatalf("one producer, %d sequences kept", len(seqs))
		}
		if again, _ := decode(msgs[1:], seqs); prod != "" && seqs[prod] > 0 && len(again) != 0 {
			t.Fatalf("a seen sequence handed on again: %d lines", len(again))
		}
	})
}
