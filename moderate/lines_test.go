package moderate

import (
	"bytes"
	"fmt"
	"testing"
)

// FuzzDeskLineRing puts lines of the sizes the input spells into a ring of
// entries of a size it also gives, and after every put expects each kept
// entry's line back intact, the buffer no bigger than twice the most the
// kept lines ever needed (or its first 64 KiB), and an erased line wiped.
func FuzzDeskLineRing(f *testing.F) {
	f.Add(uint8(4), []byte{10, 200, 3, 255, 255, 255, 1, 0, 9})
	f.Add(uint8(1), []byte{255, 255, 1})
	f.Add(uint8(16), bytes.Repeat([]byte{250}, 600)) // grows past 64 KiB
	f.Fuzz(func(t *testing.T, size uint8, sizes []byte) {
		n := int(size%16) + 1
		r := &ring{ents: make([]entry, n)}
		want := map[string][]byte{}
		maxLive := 0
		for i, sz := range sizes {
			id := fmt.Sprintf("m-%d", i)
			line := bytes.Repeat([]byte{byte('a' + i%26)}, int(sz)*7+1) // 1 to 1,786 bytes
			line = append(line, id...)
			r.put(entry{id: id}, line)
			clear(line) // as the pipeline reuses it
			want[id] = append(line[:0:0], bytes.Repeat([]byte{byte('a' + i%26)}, int(sz)*7+1)...)
			want[id] = append(want[id], id...)
			live := 0
			r.each(func(e *entry) {
				live += e.lineLen
				if got := r.line(e); !bytes.Equal(got, want[e.id]) {
					t.Fatalf("after %d puts (ring of %d): line of %s = %q…, want %q…", i+1, n, e.id, got[:min(20, len(got))], want[e.id][:min(20, len(want[e.id]))])
				}
			})
			maxLive = max(maxLive, live)
			if len(r.lines.buf) > max(64<<10, 2*maxLive) {
				t.Fatalf("after %d puts: buffer of %d bytes for at most %d bytes of kept lines", i+1, len(r.lines.buf), maxLive)
			}
		}
		// Erase the newest: its bytes are gone from the buffer.
		if len(sizes) > 0 {
			e := &r.ents[(r.next-1+n)%n]
			mark := want[e.id]
			r.lines.wipe(e.lineAt, e.lineLen)
			if bytes.Contains(r.lines.buf, mark) {
				t.Fatalf("an erased line is still in the buffer")
			}
		}
	})
}
