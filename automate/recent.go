package automate

import (
	"sync"

	"github.com/cespare/xxhash/v2"
	"github.com/livemod/livemod/classify"
)

// recentLog keeps each user's last few messages per stream, for the
// context a new ticket carries. It sits on the path of every message, so
// it is built to cost no allocation once a user is known: each user has a
// fixed ring, found by a 64-bit hash of (stream, user) in maps of two
// generations. When the young map fills, it becomes the old one and the
// old one is dropped, so memory stays bounded without per-entry
// bookkeeping; a user seen again moves back to the young map.
type recentLog struct {
	shards [recentShards]recentShard
}

const (
	recentShards = 16
	// recentPerShard bounds each generation: 2 × 16 × 4096 users, a few
	// hundred bytes each, is well under 64 MiB.
	recentPerShard = 4096
)

type recentShard struct {
	mu         sync.Mutex
	young, old map[uint64]*recentRing
}

// recentRing is one user's last messages in one stream, oldest at next
// once full. stream and user tell the rare hash collision apart.
type recentRing struct {
	stream, user string
	msgs         []classify.TicketMessage // len ≤ cap = the stage's recentMax
	next         int                      // where the next message goes once full
}

func (l *recentLog) init() {
	for i := range l.shards {
		l.shards[i].young = make(map[uint64]*recentRing, recentPerShard)
	}
}

func recentKey(stream, user string) uint64 {
	var d xxhash.Digest
	d.Reset()
	d.WriteString(stream)
	d.Write([]byte{0})
	d.WriteString(user)
	return d.Sum64()
}

func (l *recentLog) shard(k uint64) *recentShard {
	return &l.shards[k>>60&(recentShards-1)] // the top bits: maps use the low ones
}

// lookup returns the ring of (stream, user) under key k, moving it to the
// young generation, or nil. The shard's lock must be held.
func (sh *recentShard) lookup(k uint64, stream, user string) *recentRing {
	r, young := sh.young[k], true
	if r == nil {
		r, young = sh.old[k], false
	}
	if r == nil || r.stream != stream || r.user != user {
		return nil
	}
	if !young {
		delete(sh.old, k)
		sh.store(k, r)
	}
	return r
}

func (sh *recentShard) store(k uint64, r *recentRing) {
	if len(sh.young) >= recentPerShard {
		sh.old, sh.young = sh.young, make(map[uint64]*recentRing, recentPerShard)
	}
	sh.young[k] = r
}

// add records m, keeping the user's last max messages in the stream.
func (l *recentLog) add(m *classify.Message, max int) {
	k := recentKey(m.Stream, m.User.ID)
	sh := l.shard(k)
	tm := classify.KeepMessage(m)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	r := sh.lookup(k, m.Stream, m.User.ID)
	if r == nil {
		r = &recentRing{stream: m.Stream, user: m.User.ID, msgs: make([]classify.TicketMessage, 0, max)}
		sh.store(k, r) // replaces a colliding user's ring: theirs is only context
	}
	if len(r.msgs) < cap(r.msgs) {
		r.msgs = append(r.msgs, tm)
		return
	}
	r.msgs[r.next] = tm
	r.next = (r.next + 1) % len(r.msgs)
}

// appendTo appends the ring's messages to out, oldest first.
func (r *recentRing) appendTo(out []classify.TicketMessage) []classify.TicketMessage {
	out = append(out, r.msgs[r.next:]...)
	return append(out, r.msgs[:r.next]...)
}

// get returns a copy of the user's recent messages in stream, oldest first.
func (l *recentLog) get(stream, user string) []classify.TicketMessage {
	k := recentKey(stream, user)
	sh := l.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	r := sh.lookup(k, stream, user)
	if r == nil {
		return nil
	}
	return r.appendTo(make([]classify.TicketMessage, 0, len(r.msgs)))
}

// ofUser appends user's recent messages in every stream to out.
func (l *recentLog) ofUser(user string, out []classify.TicketMessage) []classify.TicketMessage {
	l.each(user, func(gen map[uint64]*recentRing, k uint64, r *recentRing) {
		out = r.appendTo(out)
	})
	return out
}

// erase forgets user's recent messages in every stream and returns how
// many there were.
func (l *recentLog) erase(user string) int {
	n := 0
	l.each(user, func(gen map[uint64]*recentRing, k uint64, r *recentRing) {
		n += len(r.msgs)
		delete(gen, k)
	})
	return n
}

// each calls fn, under the shard's lock, for every ring of user.
func (l *recentLog) each(user string, fn func(gen map[uint64]*recentRing, k uint64, r *recentRing)) {
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		for _, gen := range [2]map[uint64]*recentRing{sh.old, sh.young} {
			for k, r := range gen {
				if r.user == user {
					fn(gen, k, r)
				}
			}
		}
		sh.mu.Unlock()
	}
}
