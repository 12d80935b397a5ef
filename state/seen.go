package state

import (
	"math"
	"sync"

	"github.com/cespare/xxhash/v2"
)

const (
	// seenShards is a power of two: a shard is picked with a mask. 64 keeps
	// lock contention negligible at the core counts we run on.
	seenShards = 64
	// seenCap bounds the entries of the memory table: each costs about
	// 170 bytes, so the table stays under ~11 MiB however busy the chat.
	SeenCap = 1 << 16
	// seenRing is how many recent senders an entry remembers. Counts
	// saturate at it, far above the flood thresholds (3 repeats, 4 users).
	SeenRing = 16
)

// seenEvent is one sender of a text, packed in 8 bytes so that an
// entry's ring fits in two cache lines: the low 32 bits of the user's hash
// (two of the at most 16 senders of one text share them with odds of
// about 2⁻²⁸) and the time in ms from the entry's base (±12 days; an
// entry kept longer is rebased, see at).
type seenEvent struct {
	user uint32
	dt   int32
}

type seenEntry struct {
	key  uint64
	last int64
	base int64 // the time events' dt count from
	n    int32 // events in ring, ≤ seenRing
	head int32 // next slot to write
	ring [SeenRing]seenEvent
}

// at returns ts as an offset from e.base, rebasing the ring first when
// ts is too far from it for 31 bits. An event 2³⁰ ms (12 days) or more
// from ts is outside any window a chat rule uses: it becomes gone.
func (e *seenEntry) at(ts int64) int32 {
	const far = 1 << 30
	if d := ts - e.base; d > -far && d < far {
		return int32(d)
	}
	for k := range e.ring {
		if d := e.base + int64(e.ring[k].dt) - ts; e.ring[k].dt != gone && d > -far && d < far {
			e.ring[k].dt = int32(d)
		} else {
			e.ring[k].dt = gone
		}
	}
	e.base = ts
	return 0
}

// gone marks an event too old to count (see at).
const gone = math.MinInt32

type seenShard struct {
	mu   sync.Mutex
	idx  map[uint64]int32
	ents []seenEntry
	free []int32
	// fifo holds entry indexes in creation order; the oldest is evicted
	// first, when it has expired or the shard is full.
	fifo       []int32
	fifoHead   int
	fifoLen    int
	maxWindow  int64
	_          [32]byte // keep shards on separate cache lines
	shardLimit int
}

// MemorySeen is the default Seen: an in-memory table, sharded by key with
// one lock each, bounded in size, evicting entries oldest first once their
// window has passed or the table is full. It is safe for concurrent use.
type MemorySeen struct {
	shards [seenShards]seenShard
}

// NewMemorySeen returns an empty in-memory dedup table.
func NewMemorySeen() *MemorySeen {
	s := new(MemorySeen)
	for i := range s.shards {
		sh := &s.shards[i]
		sh.shardLimit = SeenCap / seenShards
		sh.idx = make(map[uint64]int32, 64)
		sh.fifo = make([]int32, sh.shardLimit)
	}
	return s
}

// Observe implements Seen.
func (s *MemorySeen) Observe(stream string, h, user uint64, ts int64, userWindow, crowdWindow int64) (userCount, crowdUsers int) {
	key := h ^ (xxhash.Sum64String(stream) * 0x9E3779B97F4A7C15)
	sh := &s.shards[(key>>32^key)&(seenShards-1)]
	maxW := max(userWindow, crowdWindow)

	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.maxWindow = max(sh.maxWindow, maxW)
	sh.expire(ts)
	i, ok := sh.idx[key]
	if !ok {
		i = sh.alloc()
		sh.ents[i] = seenEntry{key: key, base: ts}
		sh.idx[key] = i
		sh.fifo[(sh.fifoHead+sh.fifoLen)%len(sh.fifo)] = i
		sh.fifoLen++
	}
	e := &sh.ents[i]
	now := e.at(ts)
	u := uint32(user)
	e.ring[e.head] = seenEvent{user: u, dt: now}
	e.head = (e.head + 1) % SeenRing
	if e.n < SeenRing {
		e.n++
	}
	e.last = max(e.last, ts)

	// Count over the ring, newest first. Messages may arrive slightly out
	// of order: only events within the window on either side count.
	var users [SeenRing]uint32
	nu := 0
	for k := int32(0); k < e.n; k++ {
		ev := e.ring[(e.head-1-k+2*SeenRing)%SeenRing]
		if ev.dt == gone {
			continue
		}
		d := int64(now) - int64(ev.dt)
		if d < 0 {
			d = -d
		}
		if ev.user == u && d <= userWindow {
			userCount++
		}
		if d <= crowdWindow {
			dup := false
			for _, u := range users[:nu] {
				if u == ev.user {
					dup = true
					break
				}
			}
			if !dup {
				users[nu] = ev.user
				nu++
			}
		}
	}
	return userCount, nu
}

// alloc returns a free entry index, evicting the oldest entry if the
// shard is full.
func (sh *seenShard) alloc() int32 {
	if n := len(sh.free); n > 0 {
		i := sh.free[n-1]
		sh.free = sh.free[:n-1]
		return i
	}
	if len(sh.ents) < sh.shardLimit {
		sh.ents = append(sh.ents, seenEntry{})
		return int32(len(sh.ents) - 1)
	}
	i := sh.popOldest()
	return i
}

// popOldest removes the oldest entry from the index and returns its slot.
func (sh *seenShard) popOldest() int32 {
	i := sh.fifo[sh.fifoHead]
	sh.fifoHead = (sh.fifoHead + 1) % len(sh.fifo)
	sh.fifoLen--
	delete(sh.idx, sh.ents[i].key)
	return i
}

// expire frees up to a few entries whose newest event is older than the
// widest window; a few per call keeps Observe's cost flat.
func (sh *seenShard) expire(now int64) {
	for k := 0; k < 4 && sh.fifoLen > 0; k++ {
		e := &sh.ents[sh.fifo[sh.fifoHead]]
		if now-e.last <= sh.maxWindow {
			return
		}
		sh.free = append(sh.free, sh.popOldest())
	}
}

// Len returns the number of texts the table remembers.
func (s *MemorySeen) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.idx)
		sh.mu.Unlock()
	}
	return n
}
