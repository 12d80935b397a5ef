package stream

import (
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
)

// Idempotent ingest: bridges retry, and a message resent after a lost ack
// must not be decided twice (a repeat would be hidden as flood, a ticket
// would list it twice, KPIs would count it twice). Ingest remembers the
// (stream, id) of every message it took for a window; a message seen
// again is acknowledged and not decided. Server-assigned ids are never
// seen twice and are not remembered.
//
// Memory is bounded: the ids are 64-bit hashes in two generations of
// sets, the current and the previous. A generation is retired when it is
// Window old, or when it holds MaxIDs/2 ids (then a burst shortens the
// window rather than growing memory; retirements for size are counted).
// An id is remembered for at least the window (or the time the last
// MaxIDs/2 ids took to arrive, if shorter) and at most twice it.

// The sets are open-addressing tables of the hashes (linear probing, at
// most half full) that grow by doubling up to their bound and are reused
// when a generation retires: 16–32 bytes an id, where Go maps took ~50
// and a new map every window (docs/PERFORMANCE.md, "A long show"). A
// quiet server holds no table at all.

// DefaultDedupWindow is how long a taken id is remembered unless
// IngestOptions.DedupWindow says otherwise.
const DefaultDedupWindow = 10 * time.Minute

// DefaultDedupMaxIDs bounds the remembered ids unless
// IngestOptions.DedupMaxIDs says otherwise: 16 bytes each, 16 MiB at
// most, allocated as ids arrive. At 20,000 msgs/s that remembers an id
// for 25–50 s (a bridge resends within seconds of a reconnect); below
// 1,700 msgs/s, for the whole window.
const DefaultDedupMaxIDs = 1 << 20

const dedupShards = 16 // a power of two

type dedup struct {
	window time.Duration
	perGen int // ids per generation and shard
	shards [dedupShards]dedupShard
	onFull func() // a generation was retired for size
}

type dedupShard struct {
	mu    sync.Mutex
	cur   hashSet
	prev  hashSet
	since time.Time // when cur began
	_     [40]byte  // keep shards off each other's cache lines
}

func newDedup(window time.Duration, maxIDs int) *dedup {
	d := &dedup{window: window, perGen: max(1, maxIDs/2/dedupShards)}
	for i := range d.shards {
		d.shards[i].cur = newHashSet(d.perGen)
		d.shards[i].prev = newHashSet(d.perGen)
	}
	return d
}

// key is the hash of stream and id.
func dedupKey(stream, id string) uint64 {
	var h xxhash.Digest
	h.Reset()
	h.WriteString(stream)
	h.Write([]byte{0})
	h.WriteString(id)
	return h.Sum64()
}

// take reports whether key is new, and remembers it.
func (d *dedup) take(key uint64, now time.Time) bool {
	s := &d.shards[key&(dedupShards-1)]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.since.IsZero() {
		s.since = now
	}
	if age := now.Sub(s.since); age >= d.window {
		if age >= 2*d.window {
			s.cur.clear()
		}
		s.retire(now)
	}
	if s.cur.has(key) || s.prev.has(key) {
		return false
	}
	if s.cur.n >= d.perGen {
		s.retire(now)
		if d.onFull != nil {
			d.onFull()
		}
	}
	s.cur.add(key)
	return true
}

// retire makes cur the previous generation and starts an empty one in the
// oldest's table.
func (s *dedupShard) retire(now time.Time) {
	s.prev, s.cur = s.cur, s.prev
	s.cur.clear()
	s.since = now
}

// forget drops key: its message was not taken after all (the pipeline
// closed), so a resend must be decided.
func (d *dedup) forget(key uint64) {
	s := &d.shards[key&(dedupShards-1)]
	s.mu.Lock()
	s.cur.remove(key)
	s.prev.remove(key)
	s.mu.Unlock()
}

// size returns how many ids are remembered.
func (d *dedup) size() int {
	n := 0
	for i := range d.shards {
		s := &d.shards[i]
		s.mu.Lock()
		n += s.cur.n + s.prev.n
		s.mu.Unlock()
	}
	return n
}

// hashSet is a set of 64-bit hashes: linear probing in a power-of-two
// table kept at most half full, grown by doubling up to maxSlots. Zero
// marks a free slot; the hash 0 is stored as 1 (a false "seen" for one id
// in 2^63 pairs).
type hashSet struct {
	slots    []uint64
	n        int
	maxSlots int
}

// minSlots is the size of a set's first table.
const minSlots = 64

// newHashSet returns an empty set for up to n hashes; it allocates as
// hashes are added.
func newHashSet(n int) hashSet {
	size := minSlots
	for size < 2*n {
		size <<= 1
	}
	return hashSet{maxSlots: size}
}

// grow doubles the table (or makes the first), moving the hashes over.
func (h *hashSet) grow() {
	old := h.slots
	h.slots = make([]uint64, max(minSlots, 2*len(old)))
	mask := len(h.slots) - 1
	for _, k := range old {
		if k == 0 {
			continue
		}
		i := h.home(k)
		for h.slots[i] != 0 {
			i = (i + 1) & mask
		}
		h.slots[i] = k
	}
}

func (h *hashSet) home(k uint64) int {
	// The low bits chose the shard: probe from the high ones.
	return int((k >> 20) & uint64(len(h.slots)-1))
}

func (h *hashSet) has(k uint64) bool {
	if h.n == 0 {
		return false
	}
	k = max(k, 1)
	mask := len(h.slots) - 1
	for i := h.home(k); ; i = (i + 1) & mask {
		switch h.slots[i] {
		case k:
			return true
		case 0:
			return false
		}
	}
}

// add inserts k, which must not be there; the caller keeps n at most half
// of maxSlots.
func (h *hashSet) add(k uint64) {
	if 2*(h.n+1) > len(h.slots) && len(h.slots) < h.maxSlots {
		h.grow()
	}
	k = max(k, 1)
	mask := len(h.slots) - 1
	i := h.home(k)
	for h.slots[i] != 0 {
		i = (i + 1) & mask
	}
	h.slots[i] = k
	h.n++
}

// remove deletes k if present, shifting the entries after it back so that
// no probe sequence is broken (no tombstones).
func (h *hashSet) remove(k uint64) {
	if h.n == 0 {
		return
	}
	k = max(k, 1)
	mask := len(h.slots) - 1
	i := h.home(k)
	for h.slots[i] != k {
		if h.slots[i] == 0 {
			return
		}
		i = (i + 1) & mask
	}
	h.slots[i] = 0
	h.n--
	for j := (i + 1) & mask; h.slots[j] != 0; j = (j + 1) & mask {
		home := h.home(h.slots[j])
		// Move slots[j] into the hole at i unless its home lies
		// cyclically in (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			h.slots[i], h.slots[j] = h.slots[j], 0
			i = j
		}
	}
}

func (h *hashSet) clear() {
	if h.n > 0 {
		clear(h.slots)
		h.n = 0
	}
}
