package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// A Map is a small replicated map (timeouts, bans, opt-outs): a Redis
// hash plus a notice on the maps channel for each write. Every node keeps
// the whole map in memory and calls apply for each change, in Redis's
// order of writes; a node resyncs (HGETALL) at start, when a Map is
// opened, and after every reconnection, so notices lost while away are
// recovered.
type Map struct {
	n    *Node
	name string

	mu    sync.Mutex // held while apply runs: changes apply one at a time, in order
	data  map[string][]byte
	apply func(key string, val []byte)
	gen   uint64 // notices applied (under mu)
}

type mapOp struct {
	m   *Map
	key string
	val []byte // nil: delete
}

// mapEvent is what the maps worker does next, in arrival order: apply a
// notice, or resync (all maps, or one being opened).
type mapEvent struct {
	notice string
	resync bool
	m      *Map          // resync only this map (nil: all)
	done   chan struct{} // closed after a resync of m
}

// mapEvents bounds the notices waiting for the worker. When full the
// subscriber waits, and Redis, past its pub/sub output buffer limit,
// drops the connection: the node then resubscribes and resyncs.
const mapEvents = 4096

type mapSet struct {
	n      *Node
	events chan mapEvent
	kickc  chan struct{}
	idlec  chan struct{}
	ps     *redis.PubSub
	done   chan struct{}

	mu     sync.Mutex
	maps   map[string]*Map
	queue  []mapOp // writes waiting for Redis, oldest first (bounded by MapQueue)
	qlen   atomic.Int64
	resync atomic.Bool // a resync is owed (asked while Redis was away)
}

func (s *mapSet) init(n *Node) {
	s.n = n
	s.events = make(chan mapEvent, mapEvents)
	s.kickc = make(chan struct{}, 1)
	s.idlec = make(chan struct{}, 1)
	s.done = make(chan struct{})
	s.maps = map[string]*Map{}
}

func (n *Node) mapsChannel() string       { return n.o.Prefix + "maps" }
func (n *Node) mapKey(name string) string { return n.o.Prefix + "map:" + name }

func (s *mapSet) start() {
	s.ps = s.n.rdb.Subscribe(s.n.ctx, s.n.mapsChannel())
	s.n.start(s.receive)
	s.n.start(s.work)
}

func (s *mapSet) close() {
	_ = s.ps.Close()
}

func (s *mapSet) kick() {
	select {
	case s.kickc <- struct{}{}:
	default:
	}
}

// resyncAll asks for a resync of every map (Redis came back).
func (s *mapSet) resyncAll() {
	s.resync.Store(true)
	s.kick()
}

// receive reads the maps channel. A subscription confirmation (at start
// and after go-redis reconnected and resubscribed) asks for a resync in
// line with the notices, so no notice older than the snapshot is applied
// after it.
func (s *mapSet) receive() {
	n := s.n
	for {
		msg, err := s.ps.ReceiveTimeout(n.ctx, 5*time.Second)
		if n.ctx.Err() != nil {
			return
		}
		if err != nil {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				_ = s.ps.Ping(n.ctx) // a half-open connection fails here and reconnects
				continue
			}
			n.fail("subscribe", err)
			select {
			case <-time.After(100 * time.Millisecond):
			case <-n.ctx.Done():
				return
			}
			continue
		}
		var ev mapEvent
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind != "subscribe" {
				continue
			}
			ev.resync = true
		case *redis.Message:
			ev.notice = m.Payload
		default:
			continue
		}
		select {
		case s.events <- ev:
		case <-n.ctx.Done():
			return
		}
	}
}

func (s *mapSet) work() {
	defer close(s.done)
	n := s.n
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case ev := <-s.events:
			switch {
			case ev.notice != "":
				s.notice(ev.notice)
			case ev.m != nil:
				s.resyncMaps(ev.m)
				close(ev.done)
			case ev.resync:
				s.resync.Store(true)
			}
		case <-s.kickc:
		case <-t.C:
		}
		if n.degraded.Load() {
			continue
		}
		if !s.flush() {
			continue
		}
		if s.resync.Load() {
			s.resyncMaps(nil)
		}
	}
}

// Map opens the replicated map name (letters, digits, '-', '_', '.'),
// loading it from Redis before it returns (unless Redis is away: then it
// loads when Redis is back). apply is called for every change — val nil
// for a deletion — with the map's lock held, one at a time, in order; it
// must not call back into the Map. Opening a name twice panics.
func (n *Node) Map(name string, apply func(key string, val []byte)) *Map {
	if name == "" || strings.ContainsAny(name, "\x00: ") {
		panic(fmt.Sprintf("cluster: bad map name %q", name))
	}
	m := &Map{n: n, name: name, data: map[string][]byte{}, apply: apply}
	s := &n.maps
	s.mu.Lock()
	if _, dup := s.maps[name]; dup {
		s.mu.Unlock()
		panic(fmt.Sprintf("cluster: map %q opened twice", name))
	}
	s.maps[name] = m
	s.mu.Unlock()
	if n.degraded.Load() {
		s.resyncAll()
		return m
	}
	ev := mapEvent{m: m, done: make(chan struct{})}
	select {
	case s.events <- ev:
		select {
		case <-ev.done:
		case <-time.After(opTimeout):
		}
	case <-time.After(opTimeout):
	}
	return m
}

// Get returns key's value as this node knows it.
func (m *Map) Get(key string) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.data[key]
	return v, ok
}

// Len returns the number of keys.
func (m *Map) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.data)
}

// Range calls f for each key and value (under the map's lock).
func (m *Map) Range(f func(key string, val []byte) bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, v := range m.data {
		if !f(k, v) {
			return
		}
	}
}

// Set sets key to val on every node. It returns after Redis acknowledged
// it (HSET and PUBLISH in one MULTI), applied here. While Redis is
// unreachable (or earlier writes still wait for it), it applies the
// write here at once and queues it, to be written when Redis is back; a
// full queue (MapQueue) returns ErrQueueFull, counted, and applies
// nothing.
func (m *Map) Set(ctx context.Context, key string, val []byte) error {
	if val == nil {
		val = []byte{}
	}
	return m.write(ctx, []KV{{key, bytes.Clone(val)}})
}

// Delete removes key on every node, as Set does.
func (m *Map) Delete(ctx context.Context, key string) error {
	return m.write(ctx, []KV{{key, nil}})
}

// write makes kvs (a nil Val deletes its key) in one MULTI, or, degraded,
// applies them here and queues them: all or, when the queue cannot take
// them all, none.
func (m *Map) write(ctx context.Context, kvs []KV) error {
	n := m.n
	if n.closed.Load() {
		return ErrClosed
	}
	for _, kv := range kvs {
		if strings.ContainsRune(kv.Key, 0) {
			return fmt.Errorf("cluster: map %q: key with NUL", m.name)
		}
	}
	s := &n.maps
	if !n.degraded.Load() && s.qlen.Load() == 0 {
		m.mu.Lock()
		gen := m.gen
		m.mu.Unlock()
		_, err := n.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, kv := range kvs {
				m.queueCmds(ctx, p, kv.Key, kv.Val)
			}
			return nil
		})
		if err == nil {
			// Apply here at once (read your writes) unless a notice came
			// in meanwhile: it may be of a later write by another node,
			// which must not be overwritten here; this write's own notice
			// follows and applies it in Redis's order.
			m.mu.Lock()
			if m.gen == gen {
				for _, kv := range kvs {
					m.localLocked(kv.Key, kv.Val)
				}
			}
			m.mu.Unlock()
			return nil
		}
		n.fail("map", err)
		if isServerErr(err) || ctx.Err() != nil {
			return fmt.Errorf("cluster: map %q: %w", m.name, err)
		}
		// Redis failed us: as degraded.
	}
	s.mu.Lock()
	if len(s.queue)+len(kvs) > n.o.MapQueue {
		s.mu.Unlock()
		n.m.mapDropped.Add(float64(len(kvs)))
		return fmt.Errorf("cluster: map %q: %w", m.name, ErrQueueFull)
	}
	for _, kv := range kvs {
		s.queue = append(s.queue, mapOp{m: m, key: kv.Key, val: kv.Val})
		// Applied under s.mu so that the queue's order is the order of
		// local application.
		m.local(kv.Key, kv.Val)
	}
	s.qlen.Store(int64(len(s.queue)))
	s.mu.Unlock()
	s.kick()
	return nil
}

func (m *Map) queueCmds(ctx context.Context, p redis.Pipeliner, key string, val []byte) {
	hk := m.n.mapKey(m.name)
	op := "s"
	if val == nil {
		p.HDel(ctx, hk, key)
		op = "d"
	} else {
		p.HSet(ctx, hk, key, val)
	}
	p.Publish(ctx, m.n.mapsChannel(), m.name+"\x00"+op+"\x00"+key+"\x00"+string(val))
}

// local applies one change here.
func (m *Map) local(key string, val []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.localLocked(key, val)
}

func (m *Map) localLocked(key string, val []byte) {
	if val == nil {
		if _, ok := m.data[key]; !ok {
			return
		}
		delete(m.data, key)
	} else {
		if old, ok := m.data[key]; ok && bytes.Equal(old, val) {
			return
		}
		m.data[key] = val
	}
	if m.apply != nil {
		m.apply(key, val)
	}
}

// notice applies a write published by a node (this one included: a
// notice is applied in Redis's order, so concurrent writes of one key on
// two nodes end the same everywhere).
func (s *mapSet) notice(p string) {
	name, rest, ok1 := strings.Cut(p, "\x00")
	op, rest, ok2 := strings.Cut(rest, "\x00")
	key, val, ok3 := strings.Cut(rest, "\x00")
	if !ok1 || !ok2 || !ok3 {
		return
	}
	s.mu.Lock()
	m := s.maps[name]
	s.mu.Unlock()
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gen++
	if op == "d" {
		m.localLocked(key, nil)
	} else {
		m.localLocked(key, []byte(val))
	}
}

// flush writes the queued writes in order, in MULTI batches of up to
// 256; it reports whether the queue is empty.
func (s *mapSet) flush() bool {
	n := s.n
	for {
		s.mu.Lock()
		batch := s.queue[:min(len(s.queue), 256)]
		s.mu.Unlock()
		if len(batch) == 0 {
			select {
			case s.idlec <- struct{}{}:
			default:
			}
			return true
		}
		ctx, cancel := context.WithTimeout(n.ctx, opTimeout)
		// One MULTI for the batch: all of it is written or none (a batch
		// resent after a lost reply rewrites the same values and
		// republishes notices that apply to the same end).
		_, err := n.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, op := range batch {
				op.m.queueCmds(ctx, p, op.key, op.val)
			}
			return nil
		})
		cancel()
		done := len(batch)
		if err != nil {
			done = 0
			n.fail("map_flush", err)
		}
		s.mu.Lock()
		s.queue = append(s.queue[:0], s.queue[done:]...)
		s.qlen.Store(int64(len(s.queue)))
		s.mu.Unlock()
		if err != nil {
			return false
		}
	}
}

// resyncMaps replaces the in-memory maps (or only m) by Redis's, applying
// the differences.
func (s *mapSet) resyncMaps(only *Map) {
	n := s.n
	if n.degraded.Load() {
		s.resync.Store(true)
		return
	}
	var ms []*Map
	s.mu.Lock()
	if only != nil {
		ms = []*Map{only}
	} else {
		for _, m := range s.maps {
			ms = append(ms, m)
		}
	}
	s.mu.Unlock()
	if only == nil {
		s.resync.Store(false)
	}
	ctx, cancel := context.WithTimeout(n.ctx, opTimeout)
	defer cancel()
	cmds := make([]*redis.MapStringStringCmd, len(ms))
	_, err := n.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, m := range ms {
			cmds[i] = p.HGetAll(ctx, n.mapKey(m.name))
		}
		return nil
	})
	if err != nil {
		n.fail("map_resync", err)
		s.resync.Store(true)
		return
	}
	for i, m := range ms {
		snap := cmds[i].Val()
		m.mu.Lock()
		for k := range m.data {
			if _, ok := snap[k]; !ok {
				delete(m.data, k)
				if m.apply != nil {
					m.apply(k, nil)
				}
			}
		}
		for k, v := range snap {
			if old, ok := m.data[k]; ok && string(old) == v {
				continue
			}
			m.data[k] = []byte(v)
			if m.apply != nil {
				m.apply(k, m.data[k])
			}
		}
		m.mu.Unlock()
	}
}

// drain waits until the write queue is empty, Redis is away, or ctx ends.
func (s *mapSet) drain(ctx context.Context) {
	for s.qlen.Load() > 0 && !s.n.degraded.Load() {
		s.kick()
		select {
		case <-s.idlec:
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}
