package broker

import (
	"sync"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
)

const memoryShards = 16 // a power of two; spreads subscribe/publish lock traffic

// Memory is a Broker within one process: the subscribers of each topic
// in a copy-on-write slice, in shards by stream, each with its own lock.
// Create it with NewMemory.
type Memory struct {
	shards [memoryShards]memoryShard
	// perView counts the subscribers of each view over all streams, so
	// that publishing to a view nobody watches (the agent view of most
	// shows, on every ticket join) costs one atomic load, no lock and no
	// hash of the stream name.
	perView [NumViews]atomic.Int64

	mu        sync.Mutex
	snapshots []SnapshotFunc
}

type memoryShard struct {
	mu   sync.RWMutex
	subs map[Topic][]Subscriber // copy-on-write: Publish reads without copying
}

var _ Broker = (*Memory)(nil)

// NewMemory returns an empty Memory broker.
func NewMemory() *Memory {
	b := &Memory{}
	for i := range b.shards {
		b.shards[i].subs = map[Topic][]Subscriber{}
	}
	return b
}

func (b *Memory) shard(stream string) *memoryShard {
	return &b.shards[xxhash.Sum64String(stream)&(memoryShards-1)]
}

func (b *Memory) subscribers(stream string, view View) []Subscriber {
	s := b.shard(stream)
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.subs[Topic{stream, view}]
}

// Publish implements Broker.
func (b *Memory) Publish(stream string, view View, line []byte) {
	if b.perView[view].Load() == 0 {
		return
	}
	for _, sub := range b.subscribers(stream, view) {
		sub.Push(line)
	}
}

// PublishLines implements Broker.
func (b *Memory) PublishLines(stream string, view View, lines []byte) {
	if b.perView[view].Load() == 0 {
		return
	}
	for _, sub := range b.subscribers(stream, view) {
		sub.PushLines(lines)
	}
}

// Watched implements Broker.
func (b *Memory) Watched(view View) bool { return b.perView[view].Load() != 0 }

// Subscribers implements Broker.
func (b *Memory) Subscribers(stream string, view View) int {
	if b.perView[view].Load() == 0 {
		return 0
	}
	s := b.shard(stream)
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.subs[Topic{stream, view}])
}

// Subscribe implements Broker.
func (b *Memory) Subscribe(t Topic, sub Subscriber) {
	b.perView[t.View].Add(1) // before it can be found: no publish misses it
	s := b.shard(t.Stream)
	s.mu.Lock()
	old := s.subs[t]
	next := make([]Subscriber, len(old), len(old)+1)
	copy(next, old)
	s.subs[t] = append(next, sub)
	s.mu.Unlock()
}

// Unsubscribe implements Broker.
func (b *Memory) Unsubscribe(t Topic, sub Subscriber) {
	s := b.shard(t.Stream)
	s.mu.Lock()
	old := s.subs[t]
	next := make([]Subscriber, 0, len(old))
	for _, o := range old {
		if o != sub {
			next = append(next, o)
		}
	}
	if len(next) == 0 {
		delete(s.subs, t)
	} else {
		s.subs[t] = next
	}
	s.mu.Unlock()
	b.perView[t.View].Add(-1)
}

// AddSnapshot implements Broker.
func (b *Memory) AddSnapshot(f SnapshotFunc) {
	b.mu.Lock()
	b.snapshots = append(b.snapshots, f)
	b.mu.Unlock()
}

// Snapshot implements Broker.
func (b *Memory) Snapshot(stream string, view View) [][]byte {
	b.mu.Lock()
	fs := b.snapshots
	b.mu.Unlock()
	var out [][]byte
	for _, f := range fs {
		out = append(out, f(stream, view)...)
	}
	return out
}
