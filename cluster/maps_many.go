package cluster

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// KV is one key and value for SetMany.
type KV struct {
	Key string
	Val []byte
}

// SetMany sets every kv on every node in one MULTI (one round trip), as
// Set does each: after Redis acknowledged them all, or, degraded, applied
// here and queued (ErrQueueFull when the queue cannot take them all; then
// none is queued). A store's group commit of many opt-outs uses it.
func (m *Map) SetMany(ctx context.Context, kvs []KV) error {
	if len(kvs) == 0 {
		return nil
	}
	n := m.n
	if n.closed.Load() {
		return ErrClosed
	}
	for i := range kvs {
		if strings.ContainsRune(kvs[i].Key, 0) {
			return fmt.Errorf("cluster: map %q: key with NUL", m.name)
		}
		if kvs[i].Val == nil {
			kvs[i].Val = []byte{}
		} else {
			kvs[i].Val = bytes.Clone(kvs[i].Val)
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
			m.mu.Lock()
			if m.gen == gen { // as in write: a notice since may be newer
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
	}
	s.mu.Lock()
	if len(s.queue)+len(kvs) > n.o.MapQueue {
		s.mu.Unlock()
		n.m.mapDropped.Add(float64(len(kvs)))
		return fmt.Errorf("cluster: map %q: %w", m.name, ErrQueueFull)
	}
	for _, kv := range kvs {
		s.queue = append(s.queue, mapOp{m: m, key: kv.Key, val: kv.Val})
		m.local(kv.Key, kv.Val)
	}
	s.qlen.Store(int64(len(s.queue)))
	s.mu.Unlock()
	s.kick()
	return nil
}
