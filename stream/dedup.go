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

// DefaultDedupWindow is how long a taken id is remembered unless
// IngestOptions.DedupWindow says otherwise.
const DefaultDedupWindow = 10 * time.Minute

// DefaultDedupMaxIDs bounds the remembered ids unless
// IngestOptions.DedupMaxIDs says otherwise: about 16 bytes each, 32 MiB
// at most.
const DefaultDedupMaxIDs = 2 << 20

const dedupShards = 16 // a power of two

type dedup struct {
	window time.Duration
	perGen int // ids per generation and shard
	shards [dedupShards]dedupShard
	onFull func() // a generation was retired for size
}

type dedupShard struct {
	mu    sync.Mutex
	cur   map[uint64]struct{}
	prev  map[uint64]struct{}
	since time.Time // when cur began
	_     [40]byte  // keep shards off each other's cache lines
}

func newDedup(window time.Duration, maxIDs int) *dedup {
	d := &dedup{window: window, perGen: max(1, maxIDs/2/dedupShards)}
	for i := range d.shards {
		d.shards[i].cur = map[uint64]struct{}{}
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
			s.prev = nil
		} else {
			s.prev = s.cur
		}
		s.cur, s.since = make(map[uint64]struct{}, len(s.cur)), now
	}
	if _, ok := s.cur[key]; ok {
		return false
	}
	if _, ok := s.prev[key]; ok {
		return false
	}
	if len(s.cur) >= d.perGen {
		s.prev, s.cur, s.since = s.cur, make(map[uint64]struct{}, d.perGen), now
		if d.onFull != nil {
			d.onFull()
		}
	}
	s.cur[key] = struct{}{}
	return true
}

// forget drops key: its message was not taken after all (the pipeline
// closed), so a resend must be decided.
func (d *dedup) forget(key uint64) {
	s := &d.shards[key&(dedupShards-1)]
	s.mu.Lock()
	delete(s.cur, key)
	delete(s.prev, key)
	s.mu.Unlock()
}

// size returns how many ids are remembered.
func (d *dedup) size() int {
	n := 0
	for i := range d.shards {
		s := &d.shards[i]
		s.mu.Lock()
		n += len(s.cur) + len(s.prev)
		s.mu.Unlock()
	}
	return n
}
