package moderate

import (
	"math"
)

// ring holds a stream's recent decisions, oldest overwritten first.
type ring struct {
	ents  []entry
	next  int   // slot written next
	n     int   // slots in use
	touch int64 // Unix ms of the last decision, for eviction
	lines lineRing
	// keepFrom is at most where the oldest kept line starts in lines.
	keepFrom int64
}

// lineRing keeps the decision lines of a ring's entries, copied one after
// another into one circular buffer: a decision costs the desk a copy, not
// an allocation (it is one for every message). A line is found by where
// it starts in the stream of every byte written (never reused); the
// buffer grows when the newest line would overwrite a line an entry still
// holds.
type lineRing struct {
	buf     []byte
	written int64 // bytes written since the ring began
}

// add copies line in and returns where it starts; keepFrom is the start
// of the oldest line still needed.
func (l *lineRing) add(line []byte, keepFrom int64) int64 {
	if need := int(l.written + int64(len(line)) - keepFrom); need > len(l.buf) {
		l.grow(max(2*len(l.buf), need, 64<<10), keepFrom)
	}
	at := l.written
	i := int(at % int64(len(l.buf)))
	n := copy(l.buf[i:], line)
	copy(l.buf, line[n:])
	l.written += int64(len(line))
	return at
}

// grow moves the bytes from keepFrom on into a buffer of size n, at the
// same positions modulo n.
func (l *lineRing) grow(n int, keepFrom int64) {
	old := l.buf
	l.buf = make([]byte, n)
	for p := keepFrom; p < l.written; {
		i := int(p % int64(len(old)))
		seg := old[i:min(len(old), i+int(l.written-p))]
		j := int(p % int64(n))
		k := copy(l.buf[j:], seg)
		copy(l.buf, seg[k:])
		p += int64(len(seg))
	}
}

// line returns a copy of the line of size n at at.
func (l *lineRing) line(at int64, n int) []byte {
	out := make([]byte, n)
	i := int(at % int64(len(l.buf)))
	k := copy(out, l.buf[i:])
	copy(out[k:], l.buf)
	return out
}

// wipe zeroes the line of size n at at (an erased user's message).
func (l *lineRing) wipe(at int64, n int) {
	i := int(at % int64(len(l.buf)))
	k := min(n, len(l.buf)-i)
	clear(l.buf[i : i+k])
	clear(l.buf[:n-k])
}

type entry struct {
	id       string
	user     string
	platform string // the message's platform, "" if not named
	ts       int64
	state    string
	first    string   // state the decision gave it
	auto     bool     // hidden or held by a rule, not by a person
	rules    []string // the reasons' rules, for undo
	// The decision as published is in the ring's lines, lineLen bytes at
	// lineAt; lineLen is 0 once the user is erased.
	lineAt  int64
	lineLen int
	change  []byte // the latest event line, if the state changed since
}

// put adds e, overwriting the oldest entry once the ring is full. It
// keeps no index: put runs for every message, a lookup by id only for a
// moderator's click, and scanning a few thousand ids (newest first) costs
// a click microseconds, where an index cost every message a map update.
func (r *ring) put(e entry, line []byte) {
	if r.n < len(r.ents) {
		r.n++
	}
	// Where the oldest kept line starts only grows, so a value read
	// before is a bound, good until the buffer would reach it: reading
	// the oldest entry (thousands of decisions old, out of cache) every
	// time was most of the cost of a put.
	if r.lines.written+int64(len(line))-int64(len(r.lines.buf)) > r.keepFrom {
		// Once the ring is full, the entry after this one is the oldest kept.
		r.keepFrom = r.lines.written
		if r.n == len(r.ents) {
			if o := &r.ents[(r.next+1)%len(r.ents)]; o != &r.ents[r.next] {
				r.keepFrom = o.lineAt
			}
		} else if r.n > 1 {
			r.keepFrom = r.ents[(r.next-r.n+1+len(r.ents))%len(r.ents)].lineAt
		}
	}
	e.lineAt, e.lineLen = r.lines.add(line, r.keepFrom), len(line)
	r.ents[r.next] = e
	r.next = (r.next + 1) % len(r.ents)
}

// line returns a copy of e's decision line, nil if it was erased.
func (r *ring) line(e *entry) []byte {
	if e.lineLen == 0 {
		return nil
	}
	return r.lines.line(e.lineAt, e.lineLen)
}

// find returns the entry of message id, newest first, or nil.
func (r *ring) find(id string) *entry {
	if id == "" {
		return nil
	}
	for i := 1; i <= r.n; i++ {
		e := &r.ents[(r.next-i+len(r.ents))%len(r.ents)]
		if e.id == id {
			return e
		}
	}
	return nil
}

// each calls f on the kept entries, oldest first.
func (r *ring) each(f func(*entry)) {
	start := (r.next - r.n + len(r.ents)) % len(r.ents)
	for i := 0; i < r.n; i++ {
		f(&r.ents[(start+i)%len(r.ents)])
	}
}

func (sh *deskShard) dropQuietest() {
	var victim string
	oldest := int64(math.MaxInt64)
	for name, r := range sh.streams {
		if r.touch < oldest {
			victim, oldest = name, r.touch
		}
	}
	delete(sh.streams, victim)
}
