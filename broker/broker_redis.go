package broker

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// RedisOptions configures NewRedis. The zero value of every field is a
// documented default.
type RedisOptions struct {
	// NodeID names this node among the brokers sharing the Redis server;
	// it must be unique. Empty means the host name, "-" and 6 random hex
	// digits.
	NodeID string
	// Owner returns the node that answers snapshot requests for stream
	// (the stream's owner) and whether that is this node. Nil means this
	// node owns every stream.
	Owner func(stream string) (node string, self bool)
	// MaxQueue bounds the lines waiting to go to Redis while it is slow
	// or down; lines beyond it are dropped and counted. Zero means
	// 100,000 lines.
	MaxQueue int
	// MaxQueueBytes bounds the same queue in bytes. Zero means 64 MiB.
	MaxQueueBytes int
	// Prefix starts every Redis key and channel name. Empty means "lm:".
	Prefix string
	// WatchTTL is how long this node's watch set lives in Redis without
	// being refreshed (it is refreshed every WatchTTL/3, and every node
	// reloads the others' every WatchTTL). Zero means 15 s.
	WatchTTL time.Duration
	// SnapshotTimeout is how long Snapshot waits for the owner's answer
	// before it returns no lines. Zero means 1 s.
	SnapshotTimeout time.Duration
	// Registerer takes the broker's metrics. Nil means they are not
	// registered.
	Registerer prometheus.Registerer
}

// Bounds and pacing of the Redis broker, with their reasons.
const (
	// retainUnheard is how long messages that reached no receiver (the
	// destination is resubscribing after Redis came back) are kept and
	// sent again, in order, before they are dropped and counted.
	retainUnheard = 2 * time.Second
	// retryUnheard paces those retries.
	retryUnheard = 20 * time.Millisecond
	// maxPendingSnapshots bounds the snapshot requests this node waits
	// on at once; beyond it a new subscriber of a remote stream gets no
	// snapshot (as after a timeout).
	maxPendingSnapshots = 1024
	// snapshotRequestQueue bounds the requests waiting for this node's
	// snapshot functions; beyond it a request is dropped (the requester
	// times out).
	snapshotRequestQueue = 256
	// maxSnapshotBytes bounds one snapshot answer.
	maxSnapshotBytes = 8 << 20
	// maxPins bounds the watches made by snapshot requests and not yet
	// confirmed by a notice of the requester (one comes within a round
	// trip); beyond it a request still gets its snapshot, unpinned.
	maxPins = 4096
	// maxRemoteWatches bounds the (topic, node) pairs known to be watched
	// elsewhere; beyond it new pairs are ignored and counted.
	maxRemoteWatches = 1 << 20
	// maxBackoff caps the wait between attempts while Redis is down.
	maxBackoff = time.Second
	// publishPace spaces the flusher's pipelines: a line queued within
	// this long of the last pipeline waits for the rest of it, so that a
	// busy show's lines travel many to a PUBLISH (each costs the receiver
	// a wake-up and Redis a command, whatever it carries) while a lone
	// line after a quiet spell goes at once. At 20,000 msgs/s a PUBLISH
	// carried 8–15 lines without it (docs/PERFORMANCE.md, "Two nodes over
	// Redis").
	publishPace = 500 * time.Microsecond
)

// Message kinds on a node's channel and the watch channel.
const (
	wireVersion        = 1
	kindLines          = 'L' // records of (stream, view, lines)
	kindSnapReq        = 'Q' // reqid, view, stream, watching
	kindSnapReply      = 'S' // reqid, lines
	kindWatch          = 'W' // full flag, records of (view, stream, count)
	watchFull     byte = 1   // flag: the notice replaces all the origin's watches
	watchHello    byte = 2   // flag: the origin (re)joined; the others announce theirs
)

// Redis is a Broker shared by the nodes of one Redis server. Local
// subscribers get lines directly, through a Memory broker; lines of a
// topic that another node watches go out over Redis pub/sub to that
// node's channel, batched (many lines per PUBLISH) and pipelined (many
// PUBLISH per round trip) by one goroutine, so that per-topic order
// holds. Which node watches which topic lives in Redis, with an expiry
// and a notice on a channel, so that the publisher skips lines nobody
// anywhere reads. See doc.go for what it guarantees. Create it with
// NewRedis; Close it.
type Redis struct {
	c     redis.UniversalClient
	local *Memory
	id    string
	owner func(string) (string, bool)

	maxLines, maxBytes int
	ttl, snapTimeout   time.Duration
	prefix             string
	chWatch, keyNodes  string

	remote     [memoryShards]remoteShard
	remoteView [NumViews]atomic.Int64 // (topic, node) pairs per view
	remotePair atomic.Int64

	// The queue of lines for Redis (qmu): entries over one buffer, and
	// the snapshot answers, taken whole by the flusher.
	qmu     sync.Mutex
	q       outQueue
	spare   []outEntry // the flusher's: the entries q had before the last take
	free    [][]byte   // chunks sent and free again, at most maxFreeChunks
	hdr     []byte     // the header of a lines message from this node
	lent    [][]byte   // the flusher's: chunks in flight as messages of the last take
	outbox  []outMsg   // what the flusher had not sent when it stopped
	replies []outMsg
	qLines  int // queued and in flight, against maxLines
	qBytes  int
	wake    chan struct{}

	// The watch set changes waiting to be written (wmu).
	wmu      sync.Mutex
	dirty    map[Topic]struct{}
	wwake    chan struct{}
	restore  chan struct{} // the subscription is (re)established
	announce chan struct{} // another node said hello
	back     chan struct{} // Redis answers again: the flusher stops waiting

	// Applying what is known of the other nodes' watches (amu): notices
	// and reloads. A reload does not overwrite a node whose notice came
	// after the reload began.
	amu        sync.Mutex
	noticeSeq  uint64
	lastNotice map[string]uint64
	// originSeq is the sequence number of the last notice applied from
	// each node; pins are the watches a snapshot request made, each with
	// the request's sequence number: a notice the node wrote before the
	// request (a smaller number) may not know of the subscriber yet, and
	// does not remove it.
	originSeq map[string]uint64
	pins      map[pin]uint64

	// watchSeq numbers this node's notices and snapshot requests.
	watchSeq atomic.Uint64

	// Snapshot requests this node waits on (smu).
	smu     sync.Mutex
	nextReq uint64
	pending map[uint64]chan [][]byte
	reqs    chan snapRequest

	subOK atomic.Bool // the pub/sub subscription is live
	ioOK  atomic.Bool // the last command to Redis succeeded

	ps     *redis.PubSub
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	m redisMetrics
}

var _ Broker = (*Redis)(nil)

type pin struct {
	t    Topic
	node string
}

type remoteShard struct {
	mu sync.RWMutex
	m  map[Topic]map[string]int // topic → node → subscribers there
}

type snapRequest struct {
	from  string
	reqid uint64
	t     Topic
	watch bool   // the requester has a subscriber of t
	seq   uint64 // the requester's number of the request (watchSeq)
}

type redisMetrics struct {
	dropped                  *prometheus.CounterVec
	sentLines, recvLines     prometheus.Counter
	publishes                prometheus.Counter
	errors                   *prometheus.CounterVec
	snapshots                *prometheus.CounterVec
	droppedFull, droppedDeaf prometheus.Counter
	droppedN                 atomic.Uint64
}

// NewRedis returns a broker over c (which the caller owns and closes
// after Close) and starts its goroutines. Redis need not be reachable:
// the broker starts degraded and connects when it can.
func NewRedis(c redis.UniversalClient, o RedisOptions) *Redis {
	b := newRedis(c, o)
	b.ps = c.Subscribe(b.ctx) // the channels in receive: a dial must not hold up NewRedis
	b.wg.Add(4)
	go b.receive()
	go b.flush()
	go b.watch()
	go b.answer()
	return b
}

// newRedis returns the broker without its goroutines.
func newRedis(c redis.UniversalClient, o RedisOptions) *Redis {
	b := &Redis{
		c:           c,
		local:       NewMemory(),
		id:          o.NodeID,
		owner:       o.Owner,
		maxLines:    o.MaxQueue,
		maxBytes:    o.MaxQueueBytes,
		ttl:         o.WatchTTL,
		snapTimeout: o.SnapshotTimeout,
		prefix:      o.Prefix,
		wake:        make(chan struct{}, 1),
		dirty:       map[Topic]struct{}{},
		wwake:       make(chan struct{}, 1),
		restore:     make(chan struct{}, 1),
		announce:    make(chan struct{}, 1),
		back:        make(chan struct{}, 1),
		lastNotice:  map[string]uint64{},
		originSeq:   map[string]uint64{},
		pins:        map[pin]uint64{},
		pending:     map[uint64]chan [][]byte{},
		reqs:        make(chan snapRequest, snapshotRequestQueue),
	}
	if b.id == "" {
		b.id = defaultNodeID()
	}
	if b.maxLines <= 0 {
		b.maxLines = 100_000
	}
	if b.maxBytes <= 0 {
		b.maxBytes = 64 << 20
	}
	if b.ttl <= 0 {
		b.ttl = 15 * time.Second
	}
	if b.snapTimeout <= 0 {
		b.snapTimeout = time.Second
	}
	if b.prefix == "" {
		b.prefix = "lm:"
	}
	b.chWatch = b.prefix + "bk:watch"
	b.keyNodes = b.prefix + "bk:nodes"
	for i := range b.remote {
		b.remote[i].m = map[Topic]map[string]int{}
	}
	b.ioOK.Store(true)
	b.initMetrics(o.Registerer)
	b.ctx, b.cancel = context.WithCancel(context.Background())
	return b
}

func defaultNodeID() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "node"
	}
	var r [3]byte
	_, _ = rand.Read(r[:])
	return host + "-" + hex.EncodeToString(r[:])
}

func (b *Redis) initMetrics(reg prometheus.Registerer) {
	m := &b.m
	m.dropped = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "livemod_broker_redis_dropped_total",
		Help: "Lines for other nodes dropped: queue_full (Redis slow or down beyond the queue bound) or no_receiver (the node did not listen within 2 s)."}, []string{"reason"})
	m.droppedFull = m.dropped.WithLabelValues("queue_full")
	m.droppedDeaf = m.dropped.WithLabelValues("no_receiver")
	m.sentLines = prometheus.NewCounter(prometheus.CounterOpts{Name: "livemod_broker_redis_sent_lines_total", Help: "Lines published to other nodes (once per receiving node)."})
	m.recvLines = prometheus.NewCounter(prometheus.CounterOpts{Name: "livemod_broker_redis_received_lines_total", Help: "Lines received from other nodes."})
	m.publishes = prometheus.NewCounter(prometheus.CounterOpts{Name: "livemod_broker_redis_publishes_total", Help: "PUBLISH commands sent (each carries many lines)."})
	m.errors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "livemod_broker_redis_errors_total", Help: "Failed Redis operations of the broker, by operation."}, []string{"op"})
	m.snapshots = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "livemod_broker_redis_snapshot_requests_total", Help: "Snapshots asked of other nodes, by result (ok, timeout, unheard, error, busy, degraded)."}, []string{"result"})
	if reg == nil {
		return
	}
	reg.MustRegister(m.dropped, m.sentLines, m.recvLines, m.publishes, m.errors, m.snapshots,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "livemod_broker_redis_queue_lines", Help: "Lines queued or in flight to Redis (bound: MaxQueue)."},
			func() float64 { l, _ := b.queued(); return float64(l) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "livemod_broker_redis_queue_bytes", Help: "Bytes queued or in flight to Redis (bound: MaxQueueBytes)."},
			func() float64 { _, n := b.queued(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "livemod_broker_redis_degraded", Help: "1 while Redis is unreachable or the broker's subscription is not restored."},
			func() float64 {
				if b.Degraded() {
					return 1
				}
				return 0
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "livemod_broker_redis_snapshots_pending", Help: "Snapshots this node waits for from other nodes (bound: 1,024)."},
			func() float64 {
				b.smu.Lock()
				defer b.smu.Unlock()
				return float64(len(b.pending))
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "livemod_broker_redis_remote_watches", Help: "(topic, node) pairs watched on other nodes (bound: 1,048,576)."},
			func() float64 { return float64(b.remotePair.Load()) }),
	)
}

// ID returns this node's id.
func (b *Redis) ID() string { return b.id }

// Degraded reports whether Redis is unreachable now or the broker's
// subscription is not (yet) restored: local subscribers are served, lines
// for other nodes wait in the bounded queue.
func (b *Redis) Degraded() bool { return !b.subOK.Load() || !b.ioOK.Load() }

// RedisStats are the broker's counters, for tests and the status page.
type RedisStats struct {
	QueuedLines, QueuedBytes int    // waiting for or in flight to Redis
	Dropped                  uint64 // lines dropped (queue full or nobody heard them)
	RemoteWatches            int    // (topic, node) pairs watched elsewhere
}

// Stats returns the broker's counters now.
func (b *Redis) Stats() RedisStats {
	l, n := b.queued()
	return RedisStats{QueuedLines: l, QueuedBytes: n, Dropped: b.m.droppedN.Load(), RemoteWatches: int(b.remotePair.Load())}
}

func (b *Redis) queued() (lines, bytes int) {
	b.qmu.Lock()
	defer b.qmu.Unlock()
	return b.qLines, b.qBytes
}

func (b *Redis) nodeChannel(id string) string { return b.prefix + "bk:n:" + id }
func (b *Redis) watchKey(id string) string    { return b.prefix + "bk:w:" + id }

// Close stops the broker: it sends what is queued within a second,
// removes this node's watches from Redis and stops its goroutines. It
// does not close the Redis client.
func (b *Redis) Close() error {
	b.once.Do(func() {
		b.cancel()
		_ = b.ps.Close()
		b.wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		outbox := b.take(b.outbox)
		if len(outbox) > 0 {
			_, _ = b.send(ctx, outbox)
		}
		pipe := b.c.Pipeline()
		pipe.Del(ctx, b.watchKey(b.id))
		pipe.ZRem(ctx, b.keyNodes, b.id)
		pipe.Publish(ctx, b.chWatch, b.encodeWatch(watchFull, b.watchSeq.Add(1), nil))
		_, _ = pipe.Exec(ctx)
	})
	return nil
}

// --- publishing

// Publish implements Broker.
func (b *Redis) Publish(stream string, view View, line []byte) {
	b.local.Publish(stream, view, line)
	if b.remoteView[view].Load() != 0 && b.remoteWatched(Topic{stream, view}) {
		b.enqueue(Topic{stream, view}, line, true, 1)
	}
}

// PublishLines implements Broker.
func (b *Redis) PublishLines(stream string, view View, lines []byte) {
	b.local.PublishLines(stream, view, lines)
	if len(lines) > 0 && b.remoteView[view].Load() != 0 && b.remoteWatched(Topic{stream, view}) {
		b.enqueue(Topic{stream, view}, lines, false, bytes.Count(lines, []byte{'\n'}))
	}
}

func (b *Redis) remoteShard(stream string) *remoteShard {
	return &b.remote[xxhash.Sum64String(stream)&(memoryShards-1)]
}

func (b *Redis) remoteWatched(t Topic) bool {
	s := b.remoteShard(t.Stream)
	s.mu.RLock()
	n := len(s.m[t])
	s.mu.RUnlock()
	return n > 0
}

// remoteNodes appends the nodes that watch t to dst.
func (b *Redis) remoteNodes(dst []string, t Topic) []string {
	s := b.remoteShard(t.Stream)
	s.mu.RLock()
	for node := range s.m[t] {
		dst = append(dst, node)
	}
	s.mu.RUnlock()
	return dst
}

// forget drops what this node knows of node's watches: node heard nothing
// for retainUnheard (it died, or its subscription is down). When it
// subscribes again it says hello and announces them (or the next reload
// finds them).
func (b *Redis) forget(node string) {
	b.amu.Lock()
	defer b.amu.Unlock()
	b.replaceRemote(nil, func(n string) bool { return n == node })
	delete(b.lastNotice, node)
	b.m.errors.WithLabelValues("node_deaf").Inc()
}

// watches reports whether node watches any topic, as far as this node
// knows.
func (b *Redis) watches(node string) bool {
	for i := range b.remote {
		s := &b.remote[i]
		s.mu.RLock()
		for _, nodes := range s.m {
			if nodes[node] > 0 {
				s.mu.RUnlock()
				return true
			}
		}
		s.mu.RUnlock()
	}
	return false
}

// --- receiving

// receive is the goroutine that reads this node's channel and the watch
// channel. go-redis reconnects and subscribes again after an error; the
// confirmation of both channels ends the degraded state of the
// subscription and has the watch set written and reloaded.
func (b *Redis) receive() {
	defer b.wg.Done()
	backoff := 50 * time.Millisecond
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	_ = b.ps.Subscribe(b.ctx, b.nodeChannel(b.id), b.chWatch) // kept and sent again by go-redis on failure
	for {
		msg, err := b.ps.ReceiveTimeout(b.ctx, 5*time.Second)
		if b.ctx.Err() != nil {
			return
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if b.ps.Ping(b.ctx) == nil {
					continue
				}
			}
			if b.subOK.Swap(false) {
				b.m.errors.WithLabelValues("subscribe").Inc()
			}
			b.sleep(timer, backoff)
			backoff = min(backoff*2, maxBackoff)
			continue
		}
		backoff = 50 * time.Millisecond
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" && m.Count == 2 && !b.subOK.Swap(true) {
				for _, ch := range []chan struct{}{b.restore, b.back} {
					select {
					case ch <- struct{}{}:
					default:
					}
				}
			}
		case *redis.Message:
			b.dispatch(m.Channel, m.Payload)
		}
	}
}

// dispatch decodes and applies one message. It reads payload in place,
// without copying it: a message carries up to a chunk (256 KiB) of lines,
// and copying each (as []byte(payload) would) was a quarter of a
// receiving node's CPU in a two-node bench. Nothing here writes into
// what it reads, and what it hands on it hands to Push/PushLines (which
// copy, and may not keep the slice) or copies itself (string fields).
func (b *Redis) dispatch(channel, payload string) {
	r := reader{p: unsafe.Slice(unsafe.StringData(payload), len(payload))}
	if r.byte() != wireVersion {
		b.m.errors.WithLabelValues("decode").Inc()
		return
	}
	kind := r.byte()
	origin := r.string()
	if r.err || origin == b.id { // never deliver a line of our own twice
		return
	}
	switch {
	case kind == kindWatch && channel == b.chWatch:
		flags := r.byte()
		seq := r.uvarint()
		set := map[Topic]int{}
		for !r.done() {
			v := View(r.byte())
			s := r.string()
			c := int(r.uvarint())
			if r.err || v >= NumViews {
				b.m.errors.WithLabelValues("decode").Inc()
				return
			}
			set[Topic{s, v}] = c
		}
		b.amu.Lock()
		b.noticeSeq++
		b.lastNotice[origin] = b.noticeSeq
		b.originSeq[origin] = seq // notices of a node come in order; a smaller one: it restarted
		for p, at := range b.pins {
			if p.node != origin {
				continue
			}
			if at <= seq { // the notice knows of the subscriber
				delete(b.pins, p)
			} else if c, ok := set[p.t]; flags&watchFull != 0 || (ok && c == 0) {
				set[p.t] = max(c, 1) // written before the request: keep the watch
			}
		}
		if flags&watchFull != 0 {
			b.replaceRemote(map[string]map[Topic]int{origin: set}, func(n string) bool { return n == origin })
		} else {
			for t, c := range set {
				b.setRemote(t, origin, c, false)
			}
		}
		b.amu.Unlock()
		if flags&watchHello != 0 {
			select {
			case b.announce <- struct{}{}:
			default:
			}
		}
	case kind == kindLines:
		n := 0
		for !r.done() {
			s := r.string()
			v := View(r.byte())
			lines := r.bytes()
			if r.err || v >= NumViews || len(lines) == 0 {
				b.m.errors.WithLabelValues("decode").Inc()
				break
			}
			k := bytes.Count(lines, []byte{'\n'})
			n += k
			if k == 1 {
				b.local.Publish(s, v, lines[:len(lines)-1])
			} else {
				b.local.PublishLines(s, v, lines)
			}
		}
		b.m.recvLines.Add(float64(n))
	case kind == kindSnapReq:
		req := snapRequest{from: origin, reqid: r.uvarint()}
		req.t.View = View(r.byte())
		req.t.Stream = r.string()
		req.watch = r.byte() == 1
		req.seq = r.uvarint()
		if r.err || req.t.View >= NumViews {
			b.m.errors.WithLabelValues("decode").Inc()
			return
		}
		select {
		case b.reqs <- req:
		default:
			b.m.errors.WithLabelValues("snapshot_busy").Inc()
		}
	case kind == kindSnapReply:
		id := r.uvarint()
		var lines [][]byte
		for n := r.uvarint(); n > 0 && !r.err; n-- {
			lines = append(lines, bytes.Clone(r.bytes())) // kept by the subscriber: not a view of payload
		}
		if r.err {
			b.m.errors.WithLabelValues("decode").Inc()
			return
		}
		b.smu.Lock()
		ch := b.pending[id]
		delete(b.pending, id)
		b.smu.Unlock()
		if ch != nil {
			ch <- lines // buffered: never blocks
		}
	}
}

// --- snapshots

// AddSnapshot implements Broker.
func (b *Redis) AddSnapshot(f SnapshotFunc) { b.local.AddSnapshot(f) }

// Snapshot implements Broker. For a stream this node owns (or when
// Options.Owner is nil) it is this node's snapshot; otherwise it is asked
// of the owner over Redis, which first records this node as a watcher of
// the topic (so that every line it publishes after the snapshot comes
// here) and then answers, within SnapshotTimeout; after that, when the
// owner does not listen, or while this node's subscription is down, it is
// empty.
func (b *Redis) Snapshot(stream string, view View) [][]byte {
	if b.owner == nil {
		return b.local.Snapshot(stream, view)
	}
	node, self := b.owner(stream)
	if self || node == b.id || node == "" {
		return b.local.Snapshot(stream, view)
	}
	if !b.subOK.Load() { // the answer could not reach us: do not wait for it
		b.m.snapshots.WithLabelValues("degraded").Inc()
		return nil
	}
	ch := make(chan [][]byte, 1)
	b.smu.Lock()
	if len(b.pending) >= maxPendingSnapshots {
		b.smu.Unlock()
		b.m.snapshots.WithLabelValues("busy").Inc()
		return nil
	}
	b.nextReq++
	id := b.nextReq
	b.pending[id] = ch
	b.smu.Unlock()
	defer func() {
		b.smu.Lock()
		delete(b.pending, id)
		b.smu.Unlock()
	}()
	p := []byte{wireVersion, kindSnapReq}
	p = appendString(p, b.id)
	p = appendUvarint(p, id)
	p = append(p, byte(view))
	p = appendString(p, stream)
	if b.local.Subscribers(stream, view) > 0 { // a watcher here: the owner sends what follows
		p = append(p, 1)
	} else {
		p = append(p, 0)
	}
	p = appendUvarint(p, b.watchSeq.Add(1))
	ctx, cancel := context.WithTimeout(b.ctx, b.snapTimeout)
	defer cancel()
	heard, err := b.c.Publish(ctx, b.nodeChannel(node), p).Result()
	switch {
	case err != nil:
		b.m.snapshots.WithLabelValues("error").Inc()
		return nil
	case heard == 0:
		b.m.snapshots.WithLabelValues("unheard").Inc()
		return nil
	}
	select {
	case lines := <-ch:
		b.m.snapshots.WithLabelValues("ok").Inc()
		return lines
	case <-ctx.Done():
		b.m.snapshots.WithLabelValues("timeout").Inc()
		return nil
	}
}

// answer is the goroutine that answers other nodes' snapshot requests:
// it records the requester as a watcher of the topic before it builds
// the snapshot, so that a line published after the snapshot was built
// goes to the requester, and queues the answer to the requester's
// channel with the lines.
func (b *Redis) answer() {
	defer b.wg.Done()
	for {
		select {
		case <-b.ctx.Done():
			return
		case req := <-b.reqs:
			if req.watch {
				b.watchFor(req)
			}
			lines := b.local.Snapshot(req.t.Stream, req.t.View)
			p := []byte{wireVersion, kindSnapReply}
			p = appendString(p, b.id)
			p = appendUvarint(p, req.reqid)
			size := 0
			for i, l := range lines {
				if size += len(l); size > maxSnapshotBytes {
					lines = lines[:i]
					break
				}
			}
			p = appendUvarint(p, uint64(len(lines)))
			for _, l := range lines {
				p = appendBytes(p, l)
			}
			b.qmu.Lock()
			if b.qBytes+len(p) <= b.maxBytes {
				b.replies = append(b.replies, outMsg{dest: req.from, payload: p, bytes: len(p)})
				b.qBytes += len(p)
			}
			b.qmu.Unlock()
			select {
			case b.wake <- struct{}{}:
			default:
			}
		}
	}
}

// watchFor records req's node as a watcher of req's topic, unless a
// notice it wrote after the request came already (it is exact), and pins
// it until one comes.
func (b *Redis) watchFor(req snapRequest) {
	b.amu.Lock()
	defer b.amu.Unlock()
	if b.originSeq[req.from] > req.seq {
		return
	}
	b.setRemote(req.t, req.from, 1, true)
	if len(b.pins) < maxPins {
		b.pins[pin{req.t, req.from}] = req.seq
	}
}
