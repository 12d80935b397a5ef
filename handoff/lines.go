package handoff

import (
	"encoding/binary"
	"unsafe"

	"github.com/livemod/livemod/chat"
)

// Chat lines packed without pointers, for the structures that keep many
// of them for a long time (an open ticket's newest lines, a user's recent
// messages): the garbage collector never looks inside them, and adding one
// to a slice with room allocates nothing. A packed line is
//
//	ts i64 | len(id) u16 | len(text) u16 | id | text
//
// little endian; an id or a text longer than 65,535 bytes is cut.

// PackedHead is the size of a packed line without its id and text.
const PackedHead = 8 + 2 + 2

// AppendPacked appends m's packed line to b.
func AppendPacked(b []byte, m *chat.Message) []byte {
	id, text := m.ID[:min(len(m.ID), 0xFFFF)], m.Text[:min(len(m.Text), 0xFFFF)]
	b = binary.LittleEndian.AppendUint64(b, uint64(m.TS))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(id)))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(text)))
	return append(append(b, id...), text...)
}

// PackedSize returns the size of the packed line b starts with.
func PackedSize(b []byte) int {
	return PackedHead + int(binary.LittleEndian.Uint16(b[8:])) + int(binary.LittleEndian.Uint16(b[10:]))
}

// AppendUnpacked appends the n packed lines b starts with to out, their
// strings sharing one allocation.
func AppendUnpacked(out []chat.TicketMessage, b []byte, n int) []chat.TicketMessage {
	if n == 0 {
		return out
	}
	end := 0
	for range n {
		end += PackedSize(b[end:])
	}
	own := make([]byte, end) // b is reused; the strings keep their own copy
	copy(own, b)
	s := unsafe.String(&own[0], end) // own is never written again
	for off := 0; off < end; {
		ts := int64(binary.LittleEndian.Uint64(own[off:]))
		i, t := int(binary.LittleEndian.Uint16(own[off+8:])), int(binary.LittleEndian.Uint16(own[off+10:]))
		a := off + PackedHead
		out = append(out, chat.TicketMessage{ID: s[a : a+i], Text: s[a+i : a+i+t], TS: ts})
		off = a + i + t
	}
	return out
}

// packedRing keeps the newest lines added to it, at most a bound each
// add is given, packed in one slice. Dropping the oldest line moves a
// mark; the kept lines move to the front only when the slice is full, so
// it grows only when the kept lines themselves outgrow it.
type packedRing struct {
	buf []byte
	off int // where the oldest kept line starts
	n   int // lines kept
	// sizes of the newest kept lines (up to ringSizes), oldest at s0:
	// dropping the oldest line reads its size here, not from its header,
	// which is a cache line of its own, long unread.
	sizes [ringSizes]uint32
	s0, t int // t sizes kept
}

// ringSizes is how many line sizes a packedRing remembers: more than an
// open ticket keeps lines.
const ringSizes = 16

func (r *packedRing) add(m *chat.Message, max int) {
	if r.n >= max {
		var size int
		if r.n <= r.t { // the oldest line's size is kept
			size = int(r.sizes[r.s0])
			r.s0, r.t = (r.s0+1)%ringSizes, r.t-1
		} else {
			size = PackedSize(r.buf[r.off:])
		}
		r.off += size
		r.n--
	}
	size := PackedHead + min(len(m.ID), 0xFFFF) + min(len(m.Text), 0xFFFF)
	if r.off > 0 && len(r.buf)+size > cap(r.buf) {
		k := copy(r.buf, r.buf[r.off:])
		r.buf, r.off = r.buf[:k], 0
	}
	r.buf = AppendPacked(r.buf, m)
	r.n++
	r.sizes[(r.s0+r.t)%ringSizes] = uint32(size)
	if r.t < ringSizes {
		r.t++
	} else {
		r.s0 = (r.s0 + 1) % ringSizes
	}
}

// appendTo appends the kept lines to out, oldest first.
func (r *packedRing) appendTo(out []chat.TicketMessage) []chat.TicketMessage {
	return AppendUnpacked(out, r.buf[r.off:], r.n)
}

// reset empties the ring and keeps its room.
func (r *packedRing) reset() { r.buf, r.off, r.n, r.s0, r.t = r.buf[:0], 0, 0, 0, 0 }
