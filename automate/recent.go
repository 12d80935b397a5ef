package automate

import (
	"encoding/binary"
	"sync"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/handoff"
)

// recentLog keeps each user's last few messages per stream, for the
// context a new ticket carries. It sits on the path of every message and
// holds hundreds of thousands of users in a big show, so it is built for
// the garbage collector as much as for speed: each user is one byte slice
// with no pointers in it (the stream, the user and the messages, packed),
// found by a 64-bit hash of (stream, user) in maps of two generations, and
// adding a message to a known user allocates nothing. When the young map
// fills, it becomes the old one and the old one is dropped, so memory
// stays bounded without per-entry bookkeeping; a user seen again moves
// back to the young map.
type recentLog struct {
	shards [recentShards]recentShard
}

const (
	recentShards = 16
	// recentPerShard bounds each generation: 2 × 16 × 2048 users (the last
	// 32,768 to 65,536 who chatted: the context of a ticket opened now), a few
	// hundred bytes each, is well under 32 MiB.
	recentPerShard = 2048
	// recentMaxMessages bounds the messages kept per user (the count is
	// one byte of the packed form).
	recentMaxMessages = 255
)

type recentShard struct {
	mu         sync.Mutex
	young, old map[uint64]recentRing
	_          [40]byte // one cache line each: the shards' locks are not shared
}

// recentRing is one user's recent messages in one stream, packed:
//
//	count u8 | len(stream) u16 | len(user) u16 | stream | user | lines…
//
// the lines packed as handoff.AppendPacked does, oldest first. Lengths
// are bounded by the message limits (chat.MaxTextBytes and friends);
// longer values are cut.
type recentRing []byte

const ringHead = 1 + 2 + 2

func newRecentRing(stream, user string, capHint int) recentRing {
	stream, user = cut16(stream), cut16(user)
	r := make(recentRing, ringHead, ringHead+len(stream)+len(user)+capHint)
	binary.LittleEndian.PutUint16(r[1:], uint16(len(stream)))
	binary.LittleEndian.PutUint16(r[3:], uint16(len(user)))
	r = append(r, stream...)
	return append(r, user...)
}

func cut16(s string) string { return s[:min(len(s), 0xFFFF)] }

func (r recentRing) count() int { return int(r[0]) }

func (r recentRing) stream() []byte {
	n := int(binary.LittleEndian.Uint16(r[1:]))
	return r[ringHead : ringHead+n]
}

func (r recentRing) user() []byte {
	s := int(binary.LittleEndian.Uint16(r[1:]))
	n := int(binary.LittleEndian.Uint16(r[3:]))
	return r[ringHead+s : ringHead+s+n]
}

// records returns where the first record starts.
func (r recentRing) records() int {
	return ringHead + int(binary.LittleEndian.Uint16(r[1:])) + int(binary.LittleEndian.Uint16(r[3:]))
}

func (r recentRing) is(stream, user string) bool {
	return string(r.stream()) == stream && string(r.user()) == user
}

// add appends m's line, first dropping the oldest if max are kept.
func (r recentRing) add(m *chat.Message, max int) recentRing {
	max = min(max, recentMaxMessages)
	if r.count() >= max {
		start := r.records()
		size := handoff.PackedSize(r[start:])
		n := copy(r[start:], r[start+size:])
		r = r[:start+n]
		r[0]--
	}
	r = handoff.AppendPacked(r, m)
	r[0]++
	return r
}

// appendTo appends the ring's messages to out, oldest first.
func (r recentRing) appendTo(out []chat.TicketMessage) []chat.TicketMessage {
	return handoff.AppendUnpacked(out, r[r.records():], r.count())
}

func (l *recentLog) init() {
	for i := range l.shards {
		l.shards[i].young = make(map[uint64]recentRing, recentPerShard)
	}
}

// shard picks by the low bits of the user key, as the pipeline does, so
// that each pipeline shard keeps to recent-log shards of its own and their
// locks stay in one core's cache.
func (l *recentLog) shard(k uint64) *recentShard {
	return &l.shards[k&(recentShards-1)]
}

// lookup returns the ring of (stream, user) under key k, moving it to the
// young generation, or nil. The shard's lock must be held.
func (sh *recentShard) lookup(k uint64, stream, user string) recentRing {
	r, young := sh.young[k]
	if !young {
		r = sh.old[k]
	}
	if r == nil || !r.is(stream, user) {
		return nil
	}
	if !young {
		delete(sh.old, k)
		sh.store(k, r)
	}
	return r
}

func (sh *recentShard) store(k uint64, r recentRing) {
	if _, ok := sh.young[k]; !ok && len(sh.young) >= recentPerShard {
		sh.old, sh.young = sh.young, make(map[uint64]recentRing, recentPerShard)
	}
	sh.young[k] = r
}

// add records m, keeping the user's last max messages in the stream.
func (l *recentLog) add(m *chat.Message, max int) {
	k := chat.UserKey(m.Stream, m.User.ID)
	sh := l.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	r := sh.lookup(k, m.Stream, m.User.ID)
	if r == nil {
		// A colliding user's ring is replaced: theirs is only context.
		// Room for one message: most viewers of a big show write one or
		// two, and append grows the ring of those who write more.
		r = newRecentRing(m.Stream, m.User.ID, handoff.PackedHead+len(m.ID)+len(m.Text))
	}
	sh.store(k, r.add(m, max))
}

// get returns a copy of the user's recent messages in stream, oldest first.
func (l *recentLog) get(stream, user string) []chat.TicketMessage {
	k := chat.UserKey(stream, user)
	sh := l.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	r := sh.lookup(k, stream, user)
	if r == nil {
		return nil
	}
	return r.appendTo(make([]chat.TicketMessage, 0, r.count()))
}

// ofUser appends user's recent messages in every stream to out.
func (l *recentLog) ofUser(user string, out []chat.TicketMessage) []chat.TicketMessage {
	l.each(user, func(gen map[uint64]recentRing, k uint64, r recentRing) {
		out = r.appendTo(out)
	})
	return out
}

// erase forgets user's recent messages in every stream and returns how
// many there were.
func (l *recentLog) erase(user string) int {
	n := 0
	l.each(user, func(gen map[uint64]recentRing, k uint64, r recentRing) {
		n += r.count()
		clear(r) // the bytes too, not only the reference
		delete(gen, k)
	})
	return n
}

// each calls fn, under the shard's lock, for every ring of user.
func (l *recentLog) each(user string, fn func(gen map[uint64]recentRing, k uint64, r recentRing)) {
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		for _, gen := range [2]map[uint64]recentRing{sh.old, sh.young} {
			for k, r := range gen {
				if string(r.user()) == user {
					fn(gen, k, r)
				}
			}
		}
		sh.mu.Unlock()
	}
}
