package automate

import (
	"sync"

	"github.com/cespare/xxhash/v2"
)

// pairMap keeps a value per (stream, user), bounded: each of its shards
// holds two generations of at most per keys (put's bound), and when the
// young one fills it becomes the old one and the old one is dropped. The
// zero value is ready; goroutine-safe.
type pairMap[V any] struct {
	shards [recentShards]pairShard[V]
}

type pairShard[V any] struct {
	mu         sync.Mutex
	young, old map[uint64]V
}

// pairKey is the key of (stream, user).
func pairKey(stream, user string) uint64 {
	return xxhash.Sum64String(stream) ^ xxhash.Sum64String(user)*0x9E3779B97F4A7C15
}

// with runs f under the lock of (stream, user)'s shard, with its key.
func (m *pairMap[V]) with(stream, user string, f func(s *pairShard[V], k uint64)) {
	k := pairKey(stream, user)
	s := &m.shards[k&(recentShards-1)]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.young == nil {
		s.young = make(map[uint64]V)
	}
	f(s, k)
}

// get returns k's value, young or old.
func (s *pairShard[V]) get(k uint64) (V, bool) {
	if v, ok := s.young[k]; ok {
		return v, true
	}
	v, ok := s.old[k]
	return v, ok
}

// put sets k's value in the young generation, which becomes the old one
// first if it holds per keys and not k.
func (s *pairShard[V]) put(k uint64, v V, per int) {
	if _, ok := s.young[k]; !ok && len(s.young) >= per {
		s.old, s.young = s.young, make(map[uint64]V, per)
	}
	delete(s.old, k)
	s.young[k] = v
}

// take returns k's value and forgets it.
func (s *pairShard[V]) take(k uint64) (V, bool) {
	v, ok := s.get(k)
	delete(s.young, k)
	delete(s.old, k)
	return v, ok
}

// len returns how many keys the map holds.
func (m *pairMap[V]) len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.young) + len(s.old)
		s.mu.Unlock()
	}
	return n
}
