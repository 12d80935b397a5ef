package state

import (
	"sync"

	"github.com/cespare/xxhash/v2"
)

// ReplyCaps counts the automated replies each user got, for the cap of
// replies a user may get in a window (automate's `replies.cap_per_hour`).
// Implementations are goroutine-safe. Count and Record sit on the message
// path: a durable or remote implementation keeps what they read in memory
// and writes behind (docs/ARCHITECTURE.md, "State").
type ReplyCaps interface {
	// Count returns how many replies to user were recorded after since
	// (Unix ms).
	Count(user string, since int64) int
	// Record counts a reply to user at ts (Unix ms); what is older than
	// ts-window no longer counts and may be forgotten.
	Record(user string, ts int64)
	// Forget drops everything about user (erasure).
	Forget(user string)
	// Len returns how many users are tracked (a gauge).
	Len() int
}

// MemoryReplyCaps is ReplyCaps in memory: per user, the last Cap send
// times within Window. A user whose sends all left the window is
// forgotten by an incremental sweep: each part keeps a queue of its users
// in the order they came, and each Record looks at the oldest few
// (capSweepPerRecord), so no Record costs more than a few map probes,
// however many users a part holds. Create it with NewMemoryReplyCaps.
type MemoryReplyCaps struct {
	max    int   // sends kept per user
	window int64 // ms
	parts  [capParts]capPart
}

const capParts = 16

// capSweepPerRecord is how many of the oldest records one Record looks
// at: more than one, so the queue of records drains faster than it
// fills once they leave the window.
const capSweepPerRecord = 4

type capPart struct {
	mu   sync.Mutex
	sent map[string][]int64 // user → send times (ms), oldest first
	// order is the sweep's queue, from head on: one entry per user of
	// the part (plus erased ones), in the order they were queued, each
	// with a send time. A user whose entry is swept while they have a
	// send within the window is queued again with their newest send.
	order []capRecord
	head  int
}

type capRecord struct {
	user string
	ts   int64
}

// NewMemoryReplyCaps keeps up to max sends per user within window ms.
func NewMemoryReplyCaps(max int, window int64) *MemoryReplyCaps {
	c := &MemoryReplyCaps{max: max, window: window}
	for i := range c.parts {
		c.parts[i].sent = map[string][]int64{}
	}
	return c
}

func (c *MemoryReplyCaps) part(user string) *capPart {
	return &c.parts[xxhash.Sum64String(user)&(capParts-1)]
}

// Count implements ReplyCaps.
func (c *MemoryReplyCaps) Count(user string, since int64) int {
	p := c.part(user)
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, t := range p.sent[user] {
		if t > since {
			n++
		}
	}
	return n
}

// Record implements ReplyCaps.
func (c *MemoryReplyCaps) Record(user string, ts int64) {
	if c.max <= 0 {
		return
	}
	p := c.part(user)
	p.mu.Lock()
	defer p.mu.Unlock()
	times := p.sent[user]
	// Keep only what can still count: the last max sends within the window.
	k := 0
	for _, t := range times {
		if t > ts-c.window {
			times[k] = t
			k++
		}
	}
	times = append(times[:k], ts)
	if len(times) > c.max {
		times = times[len(times)-c.max:]
	}
	if k == 0 && len(times) == 1 { // new to the part: queued for the sweep
		p.order = append(p.order, capRecord{user, ts})
	}
	p.sent[user] = times
	p.sweep(ts - c.window)
}

// sweep forgets the users of the oldest few records whose sends all left
// the window (made at or before before).
func (p *capPart) sweep(before int64) {
	for range capSweepPerRecord {
		if p.head == len(p.order) || p.order[p.head].ts > before {
			break
		}
		r := p.order[p.head]
		p.order[p.head] = capRecord{}
		p.head++
		t, ok := p.sent[r.user]
		switch {
		case !ok: // forgotten
		case len(t) == 0 || t[len(t)-1] <= before:
			delete(p.sent, r.user)
		default: // sent to again since: queued again at the newest send
			p.order = append(p.order, capRecord{r.user, t[len(t)-1]})
		}
	}
	// Compact when the swept half is the larger: each record is moved at
	// most once per halving, O(1) a Record amortised.
	if p.head > 64 && p.head*2 >= len(p.order) {
		n := copy(p.order, p.order[p.head:])
		clear(p.order[n:])
		p.order, p.head = p.order[:n], 0
		if cap(p.order) > 1024 && cap(p.order) > 4*n { // a burst's array
			p.order = append([]capRecord(nil), p.order...)
		}
	}
}

// Forget implements ReplyCaps.
func (c *MemoryReplyCaps) Forget(user string) {
	p := c.part(user)
	p.mu.Lock()
	delete(p.sent, user)
	// The sweep's queue names the user too: erasure forgets it there
	// (rare, so a pass over the part is fine).
	for i := p.head; i < len(p.order); i++ {
		if p.order[i].user == user {
			p.order[i].user = ""
		}
	}
	p.mu.Unlock()
}

// Len implements ReplyCaps.
func (c *MemoryReplyCaps) Len() int {
	n := 0
	for i := range c.parts {
		p := &c.parts[i]
		p.mu.Lock()
		n += len(p.sent)
		p.mu.Unlock()
	}
	return n
}
