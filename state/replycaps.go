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
// times within Window; a user whose sends all left the window is
// forgotten by a sweep of their part every few thousand records. Create
// it with NewMemoryReplyCaps.
type MemoryReplyCaps struct {
	max    int   // sends kept per user
	window int64 // ms
	parts  [capParts]capPart
}

const capParts = 16

type capPart struct {
	mu    sync.Mutex
	sent  map[string][]int64 // user → send times (ms), oldest first
	sweep int
	_     [64 - 8 - 8 - 8]byte
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
	p.sent[user] = times
	p.sweep++
	if p.sweep >= 4096/capParts { // forget users whose sends all left the window
		p.sweep = 0
		for u, ts2 := range p.sent {
			if len(ts2) == 0 || ts2[len(ts2)-1] <= ts-c.window {
				delete(p.sent, u)
			}
		}
	}
}

// Forget implements ReplyCaps.
func (c *MemoryReplyCaps) Forget(user string) {
	p := c.part(user)
	p.mu.Lock()
	delete(p.sent, user)
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
