package state

import (
	"sync"

	"github.com/cespare/xxhash/v2"
	"github.com/livemod/livemod/chat"
)

// OptOuts remembers who sent STOP. Implementations are goroutine-safe;
// OptedOut sits on the reply path and must not do I/O (a durable
// implementation keeps the set in memory and writes behind).
type OptOuts interface {
	OptedOut(user string) bool
	SetOptOut(o chat.OptOut)
}

// MemoryOptOuts is an OptOuts in memory. The zero value is ready.
//
// Users are split over parts, each with its own lock: a STOP on one
// pipeline shard does not hold up the other's checks.
type MemoryOptOuts struct {
	parts [optOutParts]optOutPart
}

const optOutParts = 16

type optOutPart struct {
	mu sync.RWMutex
	m  map[string]chat.OptOut
	_  [64 - 24 - 8]byte // one cache line each
}

func (o *MemoryOptOuts) part(user string) *optOutPart {
	return &o.parts[xxhash.Sum64String(user)&(optOutParts-1)]
}

// OptedOut implements OptOuts.
func (o *MemoryOptOuts) OptedOut(user string) bool {
	v, _ := o.Get(user)
	return v.Out
}

// SetOptOut implements OptOuts.
func (o *MemoryOptOuts) SetOptOut(v chat.OptOut) {
	p := o.part(v.User)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]chat.OptOut{}
	}
	p.m[v.User] = v
}

// Before returns the users whose last choice was made before ts (Unix
// ms): the retention purge forgets them.
func (o *MemoryOptOuts) Before(ts int64) []string {
	var out []string
	for i := range o.parts {
		p := &o.parts[i]
		p.mu.RLock()
		for u, v := range p.m {
			if v.TS < ts {
				out = append(out, u)
			}
		}
		p.mu.RUnlock()
	}
	return out
}

// Forget removes the user's choice.
func (o *MemoryOptOuts) Forget(user string) {
	p := o.part(user)
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, user)
}

// Get returns the user's last choice.
func (o *MemoryOptOuts) Get(user string) (chat.OptOut, bool) {
	p := o.part(user)
	p.mu.RLock()
	defer p.mu.RUnlock()
	v, ok := p.m[user]
	return v, ok
}

// IDs hands out the numbers behind reply ("r-N") and ticket ("h-N") ids.
// A number is never handed out twice for a kind; a durable implementation
// keeps that promise across restarts.
type IDs interface {
	Next(kind string) uint64
}

// MemoryIDs counts from 1 per kind, so replay gives the same ids every
// run. The zero value is ready.
type MemoryIDs struct {
	mu sync.Mutex
	n  map[string]uint64
}

// Next implements IDs.
func (c *MemoryIDs) Next(kind string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]uint64{}
	}
	c.n[kind]++
	return c.n[kind]
}

var (
	_ OptOuts = (*MemoryOptOuts)(nil)
	_ IDs     = (*MemoryIDs)(nil)
)
