package automate

import (
	"encoding/binary"
	"sync"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/handoff"
)

// recentLog keeps each user's last few messages per stream, for the
// context a new ticket carries. It sits on the path of every message and
// holds tens of thousands of users in a big show, so it is built for the
// cache and the garbage collector as much as for speed: each user is one
// byte slice with no pointers in it (the stream, the user and the
// messages, packed), found by a 64-bit hash of (stream, user) in a
// set-associative table of recentWays users a set, the most recently
// used first. A lookup reads one cache line of keys; a new user takes the
// place of the least recently used of its set, reusing that user's
// (small) ring, so that the common case, a viewer the log does not know,
// allocates nothing and needs no map. Memory is bounded by the table:
// recentShards × recentSets × recentWays users.
type recentLog struct {
	shards [recentShards]recentShard
}

const (
	recentShards = 16
	// recentWays is how many users a set holds: their keys fill one
	// 64-byte cache line.
	recentWays = 8
	// recentSets is how many sets a shard has: 16 × 512 × 8 = 65,536 users
	// (the last ones who chatted: the context of a ticket opened now), a
	// few hundred bytes each, is well under 32 MiB. A user is dropped
	// when eight users more recent than them share their set: of the last
	// 32,768 (as many as the two map generations this table replaced
	// always kept), about one in a thousand.
	recentSets = 512
	// recentMaxMessages bounds the messages kept per user (the count is
	// one byte of the packed form).
	recentMaxMessages = 255
	// recentReuseMax is the largest ring a new user inherits from the one
	// it replaces: a bigger one (a chatty user's) is left to the GC, so
	// that the table does not hold the largest ring each slot ever had.
	recentReuseMax = 512
	// recentRingMin is the least room a new ring is given: a line of
	// ordinary chat fits with room to spare, so that the ring a new user
	// inherits is nearly always big enough (a big show's audience is
	// mostly users the table no longer holds: each takes the ring of the
	// one it replaces), and a second short line fits without growing it.
	recentRingMin = 160
)

type recentShard struct {
	mu sync.Mutex
	// keys and rings hold recentSets sets of recentWays slots, the most
	// recently used slot of a set first. A key of 0 is an empty slot (a
	// user whose key is 0 is kept under 1; rings are checked by name).
	keys  []uint64
	rings []recentRing
	_     [8]byte // one cache line each: the shards' locks are not shared
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
	r := make(recentRing, ringHead, max(ringHead+len(stream)+len(user)+capHint, recentRingMin))
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
		l.shards[i].keys = make([]uint64, recentSets*recentWays)
		l.shards[i].rings = make([]recentRing, recentSets*recentWays)
	}
}

// shard picks by the low bits of the user key, as the pipeline does, so
// that each pipeline shard keeps to recent-log shards of its own and their
// locks stay in one core's cache.
func (l *recentLog) shard(k uint64) *recentShard {
	return &l.shards[k&(recentShards-1)]
}

// slotKey is k as the table stores it: never 0, the empty slot.
func slotKey(k uint64) uint64 { return max(k, 1) }

// setOf returns where k's set starts; the shard's bits of k are not used.
func setOf(k uint64) int {
	return (int(k>>8) & (recentSets - 1)) * recentWays
}

// find returns the slot of (stream, user) under key k in the set
// starting at set, or -1. The shard's lock must be held.
func (sh *recentShard) find(set int, k uint64, stream, user string) int {
	keys := sh.keys[set : set+recentWays : set+recentWays]
	for i, key := range keys {
		if key == k {
			if r := sh.rings[set+i]; r != nil && r.is(stream, user) {
				return set + i
			}
		}
	}
	return -1
}

// front moves slot i of the set starting at set to its front, the most
// recently used place, the slots before it one place back.
func (sh *recentShard) front(set, i int) {
	if i == set {
		return
	}
	k, r := sh.keys[i], sh.rings[i]
	copy(sh.keys[set+1:i+1], sh.keys[set:i])
	copy(sh.rings[set+1:i+1], sh.rings[set:i])
	sh.keys[set], sh.rings[set] = k, r
}

// add records m, keeping the user's last max messages in the stream.
func (l *recentLog) add(m *chat.Message, max int) {
	k := chat.UserKey(m.Stream, m.User.ID)
	sh := l.shard(k)
	sk, set := slotKey(k), setOf(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i := sh.find(set, sk, m.Stream, m.User.ID)
	if i < 0 {
		// A new user takes the last (least recently used) slot of the
		// set, or a colliding user's slot: theirs is only context. Room
		// for one message: most viewers of a big show write one or two,
		// and append grows the ring of those who write more.
		i = set + recentWays - 1
		if j := sh.colliding(set, sk); j >= 0 {
			i = j
		}
		sh.keys[i] = sk
		sh.rings[i] = newRecentRingIn(sh.rings[i], m.Stream, m.User.ID, handoff.PackedHead+len(m.ID)+len(m.Text))
	}
	sh.rings[i] = sh.rings[i].add(m, max)
	sh.front(set, i)
}

// colliding returns the slot of the set holding key k for another
// (stream, user), or -1.
func (sh *recentShard) colliding(set int, k uint64) int {
	for i, key := range sh.keys[set : set+recentWays] {
		if key == k {
			return set + i
		}
	}
	return -1
}

// newRecentRingIn is newRecentRing reusing old's storage when it is
// small enough to keep and big enough to hold the head and capHint.
func newRecentRingIn(old recentRing, stream, user string, capHint int) recentRing {
	stream, user = cut16(stream), cut16(user)
	need := ringHead + len(stream) + len(user) + capHint
	if cap(old) < need || cap(old) > recentReuseMax {
		return newRecentRing(stream, user, capHint)
	}
	r := old[:ringHead]
	r[0] = 0
	binary.LittleEndian.PutUint16(r[1:], uint16(len(stream)))
	binary.LittleEndian.PutUint16(r[3:], uint16(len(user)))
	r = append(r, stream...)
	return append(r, user...)
}

// get returns a copy of the user's recent messages in stream, oldest first.
func (l *recentLog) get(stream, user string) []chat.TicketMessage {
	k := chat.UserKey(stream, user)
	sh := l.shard(k)
	set := setOf(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i := sh.find(set, slotKey(k), stream, user)
	if i < 0 {
		return nil
	}
	r := sh.rings[i]
	sh.front(set, i)
	return r.appendTo(make([]chat.TicketMessage, 0, r.count()))
}

// ofUser appends user's recent messages in every stream to out.
func (l *recentLog) ofUser(user string, out []chat.TicketMessage) []chat.TicketMessage {
	l.each(user, func(sh *recentShard, i int) {
		out = sh.rings[i].appendTo(out)
	})
	return out
}

// erase forgets user's recent messages in every stream and returns how
// many there were.
func (l *recentLog) erase(user string) int {
	n := 0
	l.each(user, func(sh *recentShard, i int) {
		r := sh.rings[i]
		n += r.count()
		clear(r[:cap(r)]) // the bytes too, not only the reference
		// The emptied slot goes to the back of its set, the next to be
		// taken.
		end := i - i%recentWays + recentWays
		copy(sh.keys[i:end-1], sh.keys[i+1:end])
		copy(sh.rings[i:end-1], sh.rings[i+1:end])
		sh.keys[end-1], sh.rings[end-1] = 0, nil
	})
	return n
}

// each calls fn, under the shard's lock, for every slot of user, from
// the last slot to the first: fn may move the slots after the one it is
// given.
func (l *recentLog) each(user string, fn func(sh *recentShard, i int)) {
	for s := range l.shards {
		sh := &l.shards[s]
		sh.mu.Lock()
		for i := len(sh.rings) - 1; i >= 0; i-- {
			if r := sh.rings[i]; r != nil && string(r.user()) == user {
				fn(sh, i)
			}
		}
		sh.mu.Unlock()
	}
}

// users returns how many users the log holds.
func (l *recentLog) users() int {
	n := 0
	for s := range l.shards {
		sh := &l.shards[s]
		sh.mu.Lock()
		for _, k := range sh.keys {
			if k != 0 {
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n
}
