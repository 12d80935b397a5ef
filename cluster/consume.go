package cluster

import (
	"context"
	_ "embed"
	"encoding/binary"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

var (
	//go:embed lua/commit.lua
	commitLua    string
	commitScript = redis.NewScript(commitLua)
)

// readCount is how many forwarding log entries (each a batch of lines) one
// XREAD takes per stream; readBlock how long it waits for any.
const (
	readCount = 32
	readBlock = 2 * time.Second
)

// Consume sets the function that receives the lines forwarded to the
// streams this node owns, in order per stream, from one goroutine. One
// XREAD (blocking, up to readCount entries per stream) covers every owned
// stream; after f returns nil for a stream, its position is committed in
// Redis (with a lease check: a node that lost the lease commits nothing)
// and the committed entries are trimmed. A new owner resumes after the
// committed position: lines are delivered at least once; duplicates are
// only of lines whose batch was not committed. If f returns an error the
// same lines are offered again (after 100ms). f may keep lines. A slow f
// holds up every owned stream (one reader). Ownership is checked just
// before f is called, but a release can still race with f: the commit
// then fails and the next owner gets those lines again. Set it once,
// before streams are owned.
func (n *Node) Consume(f func(stream string, lines [][]byte) error) {
	n.cons.mu.Lock()
	n.cons.f = f
	n.cons.mu.Unlock()
	n.cons.wake()
}

type cursor struct {
	gen       uint64
	last      string            // last entry handed to f with success
	committed string            // last entry committed in Redis
	seqs      map[string]uint64 // producer → last seq handed on (duplicates skipped)
}

type consumer struct {
	n     *Node
	wakec chan struct{}
	stopc chan struct{}
	done  chan struct{}
	once  sync.Once

	mu sync.Mutex
	f  func(stream string, lines [][]byte) error
}

func (c *consumer) init(n *Node) {
	c.n = n
	c.wakec = make(chan struct{}, 1)
	c.stopc = make(chan struct{})
	c.done = make(chan struct{})
}

func (n *Node) wakeKey() string { return n.o.Prefix + "wake:" + n.o.NodeID }

// wake makes the loop re-read the owned set: locally, and through the
// node's wake stream when it is blocked in XREAD.
func (c *consumer) wake() {
	select {
	case c.wakec <- struct{}{}:
	default:
	}
	n := c.n
	if n.degraded.Load() || n.ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(n.ctx, opTimeout)
	defer cancel()
	if err := n.rdb.XAdd(ctx, &redis.XAddArgs{Stream: n.wakeKey(), MaxLen: 1, Values: []any{"w", 1}}).Err(); err != nil {
		n.fail("wake", err)
	}
}

// stop ends the loop (used by Close before releasing the leases) and
// waits for it, committing what was handed on.
func (c *consumer) stop() {
	c.once.Do(func() { close(c.stopc) })
	c.wake()
	select {
	case <-c.done:
	case <-time.After(closeFlush + readBlock):
	}
}

func (c *consumer) stopped() bool {
	select {
	case <-c.stopc:
		return true
	default:
		return false
	}
}

// pause waits for d, a wake, or stop; false on stop.
func (c *consumer) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.wakec:
	case <-c.stopc:
		return false
	case <-c.n.ctx.Done():
		return false
	}
	return true
}

func (c *consumer) loop() {
	defer close(c.done)
	n := c.n
	cursors := map[string]*cursor{}
	wakeID := "0-0"
	var streams []string // XREAD arguments: keys then ids
	var names []string   // stream names, aligned with the keys
	inPrefix := n.inKey("")
	defer func() { c.commit(cursors) }()
	for !c.stopped() {
		c.mu.Lock()
		f := c.f
		c.mu.Unlock()
		if f == nil || n.degraded.Load() {
			if !c.pause(time.Second) {
				return
			}
			continue
		}
		// Align the cursors with the owned set.
		owned := n.ownedLeases()
		keep := make(map[string]bool, len(owned))
		n.leases.mu.Lock()
		for _, l := range owned {
			keep[l.stream] = true
			if cur, ok := cursors[l.stream]; !ok || cur.gen != l.gen {
				cursors[l.stream] = &cursor{gen: l.gen, last: l.pos, committed: l.pos}
			}
		}
		n.leases.mu.Unlock()
		for s := range cursors {
			if !keep[s] {
				delete(cursors, s)
			}
		}
		names = names[:0]
		for s := range cursors {
			names = append(names, s)
		}
		streams = streams[:0]
		for _, s := range names {
			streams = append(streams, n.inKey(s))
		}
		streams = append(streams, n.wakeKey())
		for _, s := range names {
			streams = append(streams, cursors[s].last)
		}
		streams = append(streams, wakeID)
		select { // consume a pending local wake: the set was just re-read
		case <-c.wakec:
		default:
		}
		res, err := n.rdb.XRead(n.ctx, &redis.XReadArgs{Streams: streams, Count: readCount, Block: readBlock}).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			if n.ctx.Err() != nil {
				return
			}
			n.fail("xread", err)
			if !c.pause(100 * time.Millisecond) {
				return
			}
			continue
		}
		failed := false
		for _, xs := range res {
			if xs.Stream == n.wakeKey() {
				if len(xs.Messages) > 0 {
					wakeID = xs.Messages[len(xs.Messages)-1].ID
				}
				continue
			}
			s, ok := strings.CutPrefix(xs.Stream, inPrefix)
			if !ok || cursors[s] == nil || len(xs.Messages) == 0 {
				continue
			}
			if !n.owns(s) { // released since the read began: the next owner reads these
				delete(cursors, s)
				continue
			}
			cur := cursors[s]
			lines, seqs := decode(xs.Messages, cur.seqs)
			if len(lines) == 0 { // only duplicates
				cur.last, cur.seqs = xs.Messages[len(xs.Messages)-1].ID, seqs
				continue
			}
			if err := f(s, lines); err != nil {
				n.m.consumeErrors.Inc()
				n.log.Printf("stream %q: consuming %d forwarded lines failed (%v): offered again", s, len(lines), err)
				failed = true
				continue
			}
			n.m.consumed.Add(float64(len(lines)))
			cur.last, cur.seqs = xs.Messages[len(xs.Messages)-1].ID, seqs
		}
		c.commit(cursors)
		if failed && !c.pause(100*time.Millisecond) {
			return
		}
	}
}

// commit writes the positions that moved, in one script call per chunk.
// A stream whose lease this node no longer holds is dropped from the
// cursors, and the lease loop is woken to notice.
func (c *consumer) commit(cursors map[string]*cursor) {
	n := c.n
	var dirty []string
	for s, cur := range cursors {
		if cur.last != cur.committed {
			dirty = append(dirty, s)
		}
	}
	if len(dirty) == 0 || n.degraded.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	for chunk := range slices.Chunk(dirty, scriptChunk/3) {
		keys := make([]string, 0, 3*len(chunk))
		args := make([]any, 0, 1+len(chunk))
		args = append(args, n.o.NodeID)
		for _, s := range chunk {
			keys = append(keys, n.leaseKey(s), n.posKey(s), n.inKey(s))
			args = append(args, cursors[s].last)
		}
		res, err := commitScript.Run(ctx, n.rdb, keys, args...).Int64Slice()
		if err != nil || len(res) != len(chunk) {
			n.fail("commit", err)
			continue // committed with the next batch, or re-read by the next owner
		}
		for i, s := range chunk {
			if res[i] == 1 {
				cursors[s].committed = cursors[s].last
				continue
			}
			delete(cursors, s)
			n.leases.wake()
		}
	}
}

// decode unpacks forwarding log entries into lines, skipping entries a
// producer wrote twice (see fieldSeq); it returns the producers' last
// sequence numbers after these entries (a new map: seen is left as it is,
// for the handler may fail). The lines share one fresh buffer per entry;
// nothing else refers to it.
func decode(msgs []redis.XMessage, seen map[string]uint64) ([][]byte, map[string]uint64) {
	var lines [][]byte
	seqs := make(map[string]uint64, len(seen)+1)
	if len(seen) < maxProds {
		maps.Copy(seqs, seen)
	}
	for _, m := range msgs {
		prod, _ := m.Values[fieldProd].(string)
		qs, _ := m.Values[fieldSeq].(string)
		if q, err := strconv.ParseUint(qs, 10, 64); prod != "" && err == nil {
			if q <= seqs[prod] {
				continue
			}
			seqs[prod] = q
		}
		v, _ := m.Values[field].(string)
		buf := []byte(v)
		for len(buf) > 0 {
			size, k := binary.Uvarint(buf)
			if k <= 0 || uint64(len(buf)-k) < size {
				break // not ours, or cut: skip the rest of the entry
			}
			lines = append(lines, buf[k:k+int(size):k+int(size)])
			buf = buf[k+int(size):]
		}
	}
	return lines, seqs
}
