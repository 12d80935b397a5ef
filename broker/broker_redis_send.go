package broker

// The sending side of the Redis broker: the queue of lines waiting for
// Redis, and the flusher that publishes them to the nodes that watch.

import (
	"bytes"
	"context"
	"encoding/binary"
	"time"

	"github.com/redis/go-redis/v9"
)

// outEntry is one record of the queue: lines of one topic, already in
// the wire's form (stream, view, length, lines) at chunk c's [start:end];
// the length is written padded to lenBytes so that lines appended to the
// record later only rewrite it in place.
type outEntry struct {
	t          Topic
	c          int
	start, end int
	n, size    int // lines and their bytes, against the queue's bounds
}

// outQueue is the lines waiting for Redis, in chunks of up to chunkBytes
// (more only for a record bigger than that alone). Each chunk starts with
// the header of a lines message from this node and holds whole records,
// so that a chunk whose entries all go to the same nodes is a message as
// it is: take lends it to the flusher without a copy, and it comes back
// to the free list once sent. A chunk never grows: nothing is copied as
// the queue fills.
type outQueue struct {
	entries []outEntry
	chunks  [][]byte
}

// lenBytes is the width of a record's padded uvarint length: up to 2^35
// bytes of lines, far beyond a chunk and any queue bound.
const lenBytes = 5

// chunkBytes is the size of a queue chunk, so the most a lines message
// carries but for one big record: Redis copies a message into each
// receiver's output buffer at once, and a client's pub/sub buffer is
// limited (32 MiB hard by default); 256 KiB holds about 650 decisions,
// one PUBLISH (64 KiB made four times the PUBLISHes for no less CPU), and
// a pipeline carries many. maxFreeChunks bounds the chunks kept for
// reuse (4 MiB).
const (
	chunkBytes    = 256 << 10
	maxFreeChunks = 16
)

// putPaddedUvarint writes v into p[:lenBytes] as a uvarint of exactly
// lenBytes bytes (the reader takes non-minimal uvarints).
func putPaddedUvarint(p []byte, v uint64) {
	for i := range lenBytes - 1 {
		p[i] = byte(v>>(7*i))&0x7f | 0x80
	}
	p[lenBytes-1] = byte(v >> (7 * (lenBytes - 1)))
}

// outMsg is one PUBLISH: payload to a node's channel, with the lines and
// bytes it holds against the queue's bounds.
type outMsg struct {
	dest    string
	payload []byte
	lines   int
	bytes   int
	first   time.Time // when it was first sent and nobody heard it
	// lent: payload is a chunk of the queue, which goes back to the free
	// list after the send; a message kept for another attempt gets its
	// own copy.
	lent bool
}

// enqueue queues a copy of data (one line without its newline when
// single) for the nodes that watch t, or drops it when the queue is full.
func (b *Redis) enqueue(t Topic, data []byte, single bool, n int) {
	size := len(data)
	if single {
		size++
	}
	b.qmu.Lock()
	if b.qLines+n > b.maxLines || b.qBytes+size > b.maxBytes || b.ctx.Err() != nil {
		b.qmu.Unlock()
		b.m.droppedFull.Add(float64(n))
		b.m.droppedN.Add(uint64(n))
		return
	}
	q := &b.q
	k, c := len(q.entries), len(q.chunks)-1
	if k == 0 || q.entries[k-1].t != t || q.entries[k-1].c != c || len(q.chunks[c])+size > cap(q.chunks[c]) {
		rec := len(t.Stream) + 1 + binary.MaxVarintLen64 + lenBytes
		if c < 0 || len(q.chunks[c])+rec+size > cap(q.chunks[c]) {
			q.chunks = append(q.chunks, b.chunk(rec+size))
			c++
		}
		ch := q.chunks[c]
		start := len(ch)
		ch = append(appendString(ch, t.Stream), byte(t.View))
		ch = append(ch, make([]byte, lenBytes)...)
		q.chunks[c] = ch
		q.entries = append(q.entries, outEntry{t: t, c: c, start: start, end: len(ch)})
	}
	ch := append(q.chunks[c], data...)
	if single {
		ch = append(ch, '\n')
	}
	q.chunks[c] = ch
	e := &q.entries[len(q.entries)-1]
	e.n += n
	e.size += size
	e.end = len(ch)
	putPaddedUvarint(ch[e.end-e.size-lenBytes:], uint64(e.size))
	b.qLines += n
	b.qBytes += size
	b.qmu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// flush is the goroutine that sends the queue to Redis: it takes all that
// is queued, one message per chunk and receiving node, and sends them
// in one pipeline; while one round trip
// is in flight the next batch gathers. On a failure it keeps the batch
// and tries again with a backoff (new lines wait in the bounded queue).
func (b *Redis) flush() {
	defer b.wg.Done()
	var outbox []outMsg
	defer func() { b.outbox = outbox }() // for Close's last attempt
	backoff := 50 * time.Millisecond
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var last time.Time // when the last pipeline was sent
	for {
		if len(outbox) == 0 {
			select {
			case <-b.ctx.Done():
				return
			case <-b.wake:
			}
			if wait := publishPace - time.Since(last); wait > 0 {
				b.sleep(timer, wait) // more lines gather meanwhile
			}
		}
		outbox = b.take(outbox)
		if len(outbox) == 0 {
			continue
		}
		last = time.Now()
		kept, err := b.send(b.ctx, outbox)
		keep(kept)
		b.recycle()
		outbox = kept
		if b.ctx.Err() != nil {
			return
		}
		if err != nil {
			b.m.errors.WithLabelValues("publish").Inc()
			b.ioOK.Store(false)
			timer.Reset(backoff)
			select {
			case <-b.ctx.Done():
				return
			case <-b.back:
				timer.Stop()
			case <-timer.C:
			}
			backoff = min(backoff*2, maxBackoff)
			continue
		}
		b.ioOK.Store(true)
		backoff = 50 * time.Millisecond
		if len(outbox) > 0 { // unheard: pace the retry unless more comes
			timer.Reset(retryUnheard)
			select {
			case <-b.ctx.Done():
				return
			case <-b.wake:
				timer.Stop()
			case <-timer.C:
			}
		}
	}
}

func (b *Redis) sleep(timer *time.Timer, d time.Duration) {
	timer.Reset(d)
	select {
	case <-b.ctx.Done():
		timer.Stop()
	case <-timer.C:
	}
}

// chunk returns an empty chunk for a record of need bytes: one from the
// free list, or a new one. b.qmu is held.
func (b *Redis) chunk(need int) []byte {
	if b.hdr == nil {
		b.hdr = appendString([]byte{wireVersion, kindLines}, b.id)
	}
	if need+len(b.hdr) > chunkBytes {
		return append(make([]byte, 0, len(b.hdr)+need), b.hdr...)
	}
	if n := len(b.free); n > 0 {
		ch := b.free[n-1]
		b.free[n-1] = nil
		b.free = b.free[:n-1]
		return append(ch[:0], b.hdr...)
	}
	return append(make([]byte, 0, chunkBytes), b.hdr...)
}

// recycle puts the chunks lent by the last take back on the free list:
// their messages were sent, or copied by keep. Only the flusher calls it.
func (b *Redis) recycle() {
	b.qmu.Lock()
	for i, ch := range b.lent {
		if cap(ch) == chunkBytes && len(b.free) < maxFreeChunks {
			b.free = append(b.free, ch)
		}
		b.lent[i] = nil
	}
	b.qmu.Unlock()
	b.lent = b.lent[:0]
}

// take moves what is queued into outbox, after what outbox holds, and
// returns it. Lines of a topic nobody else watches any more are released.
// A chunk whose entries all go to the same nodes (the common case: one
// stream's watchers on one other node) is their message as it is, lent
// until recycle; else each node's message is built from copies of its
// entries' records. Only the flusher (and Close, after it stopped) calls
// it.
func (b *Redis) take(outbox []outMsg) []outMsg {
	b.qmu.Lock()
	q := b.q
	b.q = outQueue{entries: b.spare[:0]}
	outbox = append(outbox, b.replies...)
	clear(b.replies)
	b.replies = b.replies[:0]
	b.qmu.Unlock()
	first := len(outbox)
	released, releasedBytes := 0, 0
	var dests, more []string
	for c, entries := 0, q.entries; c < len(q.chunks); c++ {
		n := 0
		for n < len(entries) && entries[n].c == c {
			n++
		}
		es := entries[:n]
		entries = entries[n:]
		if len(es) == 0 {
			continue
		}
		lines := 0
		for _, e := range es {
			lines += e.n
			released += e.n
			releasedBytes += e.size
		}
		dests = b.remoteNodes(dests[:0], es[0].t)
		same := true
		for _, e := range es[1:] {
			if more = b.remoteNodes(more[:0], e.t); !sameNodes(dests, more) {
				same = false
				break
			}
		}
		ch := q.chunks[c]
		if same {
			for _, d := range dests {
				outbox = append(outbox, outMsg{dest: d, payload: ch, lines: lines, lent: true})
			}
			b.lent = append(b.lent, ch)
			continue
		}
		open := map[string]int{} // destination → index in outbox of its message
		for _, e := range es {
			dests = b.remoteNodes(dests[:0], e.t)
			for _, d := range dests {
				i, ok := open[d]
				if !ok {
					p := make([]byte, 0, len(ch))
					outbox = append(outbox, outMsg{dest: d, payload: append(p, b.hdr...)})
					i = len(outbox) - 1
					open[d] = i
				}
				m := &outbox[i]
				m.payload = append(m.payload, ch[e.start:e.end]...)
				m.lines += e.n
			}
		}
		b.lent = append(b.lent, ch) // not lent, but free again after the send
	}
	added, addedBytes := 0, 0
	for i := first; i < len(outbox); i++ {
		outbox[i].bytes = len(outbox[i].payload)
		added += outbox[i].lines
		addedBytes += outbox[i].bytes
	}
	b.qmu.Lock()
	b.qLines += added - released
	b.qBytes += addedBytes - releasedBytes
	b.qmu.Unlock()
	clear(q.entries) // drop the stream strings
	b.spare = q.entries[:0]
	return outbox
}

// sameNodes reports whether a and b hold the same nodes (each once).
func sameNodes(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		found := false
		for _, y := range b {
			if x == y {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// keep gives the messages of outbox that are kept for another attempt
// their own payloads: the chunk they were lent is written again once
// recycled.
func keep(outbox []outMsg) {
	for i := range outbox {
		if outbox[i].lent {
			outbox[i].payload = bytes.Clone(outbox[i].payload)
			outbox[i].lent = false
		}
	}
}

// send publishes outbox in one pipeline. It returns the messages to send
// again, in order: those that failed (with the error), and those of a
// destination none of whose messages was heard (it is resubscribing after
// Redis came back), for up to retainUnheard. The rest are released from
// the queue's bounds. (go-redis may itself send a pipeline again after a
// connection cut while it read the replies (its MaxRetries): then a
// receiver may get a message twice.)
func (b *Redis) send(ctx context.Context, outbox []outMsg) (kept []outMsg, err error) {
	pipe := b.c.Pipeline()
	cmds := make([]*redis.IntCmd, len(outbox))
	for i, m := range outbox {
		cmds[i] = pipe.Publish(ctx, b.nodeChannel(m.dest), m.payload)
	}
	_, err = pipe.Exec(ctx)
	heard := map[string]bool{}
	done := 0
	for i, m := range outbox {
		if cmds[i].Err() == nil {
			done++
			if cmds[i].Val() > 0 {
				heard[m.dest] = true
			}
		}
	}
	if done == 0 {
		return outbox, err
	}
	b.m.publishes.Add(float64(done))
	now := time.Now()
	released, releasedBytes := 0, 0
	watching := map[string]bool{}
	var deaf []string
	for i, m := range outbox {
		w, known := watching[m.dest]
		if !known && !heard[m.dest] && m.lines > 0 {
			w = b.watches(m.dest)
			watching[m.dest] = w
		}
		switch {
		case cmds[i].Err() != nil: // not sent: again, after a backoff
			kept = append(kept, m)
			continue
		case heard[m.dest]:
			b.m.sentLines.Add(float64(m.lines))
		case m.lines > 0 && w && (m.first.IsZero() || now.Sub(m.first) < retainUnheard):
			if m.first.IsZero() {
				outbox[i].first = now
			}
			kept = append(kept, outbox[i])
			continue
		case m.lines > 0:
			b.m.droppedDeaf.Add(float64(m.lines))
			b.m.droppedN.Add(uint64(m.lines))
			if w {
				deaf = append(deaf, m.dest)
				watching[m.dest] = false // once
			}
		}
		released += m.lines
		releasedBytes += m.bytes
	}
	b.qmu.Lock()
	b.qLines -= released
	b.qBytes -= releasedBytes
	b.qmu.Unlock()
	for _, d := range deaf {
		b.forget(d)
	}
	return kept, err
}
