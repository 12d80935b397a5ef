package cluster

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// chunkBytes bounds one forwarding log entry: lines of one stream taken in
// one flush are packed (uvarint length, bytes, …) into entries of at most
// about this size, so a burst costs a few XADDs, not one per line, and no
// entry is large enough to stall Redis.
const chunkBytes = 256 << 10

// Entry fields: the packed lines, the producing process and its sequence
// number for the entry. A pipeline cut by a lost connection is written
// again; entries Redis had already taken then appear twice in the log,
// and the owner skips an entry whose (producer, seq) is not above the
// last one it handed on (seq grows per producer, across streams).
const (
	field     = "b"
	fieldProd = "p"
	fieldSeq  = "q"
	maxProds  = 64 // producers remembered per owned stream
)

type fwdChunk struct {
	stream string
	buf    []byte
	lines  int
	seq    string // assigned when first written, kept on retries
}

// fwdBatch is what one flush writes: one XADD per chunk in one pipeline.
type fwdBatch struct {
	chunks  []fwdChunk
	index   map[string]int // stream → its last chunk in chunks
	waiters []chan error   // ForwardSync callers waiting for this batch
	lines   int
	bytes   int
}

func (b *fwdBatch) reset() {
	for i := range b.chunks {
		b.chunks[i].buf = b.chunks[i].buf[:0]
		b.chunks[i].lines = 0
	}
	b.chunks = b.chunks[:0]
	clear(b.index)
	b.waiters = b.waiters[:0]
	b.lines, b.bytes = 0, 0
}

// add appends one line to stream's last chunk (or a new one).
func (b *fwdBatch) add(stream string, line []byte) {
	i, ok := b.index[stream]
	if !ok || len(b.chunks[i].buf)+len(line) > chunkBytes && b.chunks[i].lines > 0 {
		i = len(b.chunks)
		if i < cap(b.chunks) {
			b.chunks = b.chunks[:i+1]
		} else {
			b.chunks = append(b.chunks, fwdChunk{})
		}
		b.chunks[i].stream = stream
		b.index[stream] = i
	}
	c := &b.chunks[i]
	c.buf = binary.AppendUvarint(c.buf, uint64(len(line)))
	c.buf = append(c.buf, line...)
	c.lines++
	b.lines++
	b.bytes += len(line)
}

// fwdQueue holds lines for Forward until the flusher writes them. The
// flusher swaps the pending batch for a spare one and writes it while new
// lines gather: under load batches grow by themselves, idle the first line
// goes at once.
type fwdQueue struct {
	n     *Node
	kickc chan struct{}
	idlec chan struct{} // signalled after each batch written or dropped

	mu      sync.Mutex
	pending *fwdBatch
	spare   *fwdBatch

	producer string // random per process: a restarted node is a new producer
	seq      uint64 // flusher only

	lines atomic.Int64 // pending + in flight
	bytes atomic.Int64
}

func (q *fwdQueue) init(n *Node) {
	q.n = n
	q.kickc = make(chan struct{}, 1)
	q.idlec = make(chan struct{}, 1)
	var tok [8]byte
	_, _ = rand.Read(tok[:])
	q.producer = n.o.NodeID + "/" + hex.EncodeToString(tok[:])
	q.pending = &fwdBatch{index: map[string]int{}}
	q.spare = &fwdBatch{index: map[string]int{}}
}

func (q *fwdQueue) kick() {
	select {
	case q.kickc <- struct{}{}:
	default:
	}
}

// Forward queues line for stream's owner (through the forwarding log
// lm:in:STREAM); it returns at once. The line is copied. The order of
// lines of one stream is kept (across Forward and ForwardSync). A full
// queue (ForwardQueue lines or ForwardQueueBytes) returns ErrQueueFull and
// counts the line as dropped; lines queued while Redis is unreachable are
// written when it is back.
func (n *Node) Forward(stream string, line []byte) error {
	if n.closed.Load() {
		return ErrClosed
	}
	if len(line) > n.o.MaxLine {
		return ErrTooLarge
	}
	q := &n.fwd
	q.mu.Lock()
	if !q.fits(1, len(line)) {
		q.mu.Unlock()
		n.m.fwdDropped.Inc()
		return ErrQueueFull
	}
	q.pending.add(stream, line)
	q.lines.Add(1)
	q.bytes.Add(int64(len(line)))
	q.mu.Unlock()
	q.kick()
	return nil
}

func (q *fwdQueue) fits(lines, bytes int) bool {
	return q.lines.Load()+int64(lines) <= int64(q.n.o.ForwardQueue) &&
		q.bytes.Load()+int64(bytes) <= int64(q.n.o.ForwardQueueBytes)
}

// ForwardSync forwards lines like Forward, all or none, and returns once
// Redis has taken them and every line queued before them (for an
// acknowledgement that must not be sent before the lines are durable in
// the forwarding log), or with ctx's error (the lines may still be
// written later). With no lines it waits for what is queued.
func (n *Node) ForwardSync(ctx context.Context, stream string, lines [][]byte) error {
	if n.closed.Load() {
		return ErrClosed
	}
	size := 0
	for _, l := range lines {
		if len(l) > n.o.MaxLine {
			return ErrTooLarge
		}
		size += len(l)
	}
	done := make(chan error, 1)
	q := &n.fwd
	q.mu.Lock()
	if !q.fits(len(lines), size) {
		q.mu.Unlock()
		n.m.fwdDropped.Add(float64(len(lines)))
		return ErrQueueFull
	}
	for _, l := range lines {
		q.pending.add(stream, l)
	}
	q.pending.waiters = append(q.pending.waiters, done)
	q.lines.Add(int64(len(lines)))
	q.bytes.Add(int64(size))
	q.mu.Unlock()
	q.kick()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// loop is the flusher.
func (q *fwdQueue) loop() {
	n := q.n
	for {
		select {
		case <-q.kickc:
		case <-n.ctx.Done():
			q.dropPending()
			return
		}
		for {
			q.mu.Lock()
			b := q.pending
			if len(b.chunks) == 0 && len(b.waiters) == 0 {
				q.mu.Unlock()
				break
			}
			q.pending, q.spare = q.spare, nil
			q.mu.Unlock()
			err := q.write(b)
			for _, w := range b.waiters {
				w <- err
			}
			q.lines.Add(-int64(b.lines))
			q.bytes.Add(-int64(b.bytes))
			b.reset()
			q.mu.Lock()
			q.spare = b
			q.mu.Unlock()
			select {
			case q.idlec <- struct{}{}:
			default:
			}
			if n.ctx.Err() != nil {
				q.dropPending()
				return
			}
		}
	}
}

// write XADDs b's chunks in one pipeline, retrying (after Redis is back)
// the chunks that failed for want of Redis, until the node closes. A
// chunk Redis refuses (a server error, such as a key of another type) is
// dropped, counted and logged. It returns nil, or the error of a dropped
// chunk.
func (q *fwdQueue) write(b *fwdBatch) error {
	n := q.n
	todo := b.chunks
	for i := range todo {
		q.seq++
		todo[i].seq = strconv.FormatUint(q.seq, 10)
	}
	var dropErr error
	backoff := 50 * time.Millisecond
	for len(todo) > 0 {
		if n.degraded.Load() && !n.waitUp() {
			break
		}
		ctx, cancel := context.WithTimeout(n.ctx, opTimeout)
		cmds := make([]*redis.StringCmd, len(todo))
		_, _ = n.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := range todo {
				cmds[i] = p.XAdd(ctx, &redis.XAddArgs{
					Stream: n.inKey(todo[i].stream), MaxLen: n.o.ForwardMaxLen, Approx: true,
					Values: []any{fieldProd, q.producer, fieldSeq, todo[i].seq, field, todo[i].buf},
				})
			}
			return nil
		})
		cancel()
		var retry []fwdChunk
		for i, c := range cmds {
			err := c.Err()
			switch {
			case err == nil:
				n.m.forwarded.Add(float64(todo[i].lines))
			case isServerErr(err):
				n.fail("xadd", err)
				n.m.fwdDropped.Add(float64(todo[i].lines))
				n.log.Printf("stream %q: %d forwarded lines refused by Redis, dropped: %v", todo[i].stream, todo[i].lines, err)
				dropErr = err
			default:
				n.fail("xadd", err)
				retry = append(retry, todo[i])
			}
		}
		todo = retry
		if len(todo) > 0 {
			select {
			case <-time.After(backoff):
			case <-n.ctx.Done():
			}
			backoff = min(2*backoff, time.Second)
			if n.ctx.Err() != nil {
				break
			}
		}
	}
	if len(todo) > 0 { // closed before Redis took them
		lost := 0
		for _, c := range todo {
			lost += c.lines
		}
		n.m.fwdDropped.Add(float64(lost))
		n.log.Printf("closing: %d forwarded lines not written to Redis, dropped", lost)
		return ErrClosed
	}
	return dropErr
}

// dropPending counts what is left when the flusher stops.
func (q *fwdQueue) dropPending() {
	q.mu.Lock()
	b := q.pending
	q.mu.Unlock()
	if b == nil || b.lines == 0 {
		return
	}
	q.n.m.fwdDropped.Add(float64(b.lines))
	q.n.log.Printf("closing: %d forwarded lines not written to Redis, dropped", b.lines)
	for _, w := range b.waiters {
		w <- ErrClosed
	}
	q.lines.Add(-int64(b.lines))
	q.bytes.Add(-int64(b.bytes))
	b.reset()
}

// drain waits until the queue is empty, Redis is unreachable, or ctx ends.
func (q *fwdQueue) drain(ctx context.Context) {
	for q.lines.Load() > 0 && !q.n.degraded.Load() {
		q.kick()
		select {
		case <-q.idlec:
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// isServerErr: Redis answered with an error that retrying will not cure,
// as against the connection failing or a server that is starting
// (LOADING after a restart) or failing over.
func isServerErr(err error) bool {
	var re redis.Error
	if !errors.As(err, &re) || errors.Is(err, redis.Nil) {
		return false
	}
	for _, p := range []string{"LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "READONLY"} {
		if strings.HasPrefix(re.Error(), p) {
			return false
		}
	}
	return true
}
