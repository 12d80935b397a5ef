package stream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/livemod/livemod/broker"
	"github.com/livemod/livemod/chat"
)

// ErrSlowConsumer is the reason a subscriber is disconnected when it
// falls behind: its queue passes its byte limit, a write stalls, or a
// ping goes unanswered. Each closes with 1008 (policy) and a reason, and
// is counted in livemod_fanout_slow_disconnects_total by reason.
var ErrSlowConsumer = errors.New("stream: slow consumer")

// The reasons of livemod_fanout_slow_disconnects_total.
const (
	slowQueue = "queue" // more than MaxQueueBytes waiting
	slowWrite = "write" // one write stalled past WriteTimeout
	slowPing  = "ping"  // no pong within PongTimeout
)

// HubOptions configure a Hub. Every zero value means its documented default.
type HubOptions struct {
	// MaxQueueBytes is how many bytes may wait for one subscriber before it
	// is disconnected as slow. Zero means 8 MiB: several seconds of a busy
	// show, so a browser tab that stalls briefly survives.
	MaxQueueBytes int
	// MaxFrameBytes is the most that one websocket frame to a subscriber
	// carries; queued lines are coalesced up to it. Zero means 64 KiB.
	MaxFrameBytes int
	// WriteTimeout bounds one frame write: a subscriber whose write
	// stalls this long is disconnected as slow. Zero means 10s.
	WriteTimeout time.Duration
	// PingInterval is how often a subscriber is pinged; one that does not
	// answer within PongTimeout is disconnected as slow. Zero means 30s;
	// negative sends no pings.
	PingInterval time.Duration
	// PongTimeout is how long a ping waits for its pong. Zero means 10s.
	PongTimeout time.Duration
	// OriginPatterns are the extra origins allowed to open a websocket
	// (the request's own host always is). Empty means same origin only.
	OriginPatterns []string
	// Broker carries the lines to the subscribers; nil means a new
	// broker.Memory (one process).
	Broker broker.Broker
}

// coalesceDelay is how long a subscriber's writer gathers lines before a
// write that would not fill a frame.
const coalesceDelay = 500 * time.Microsecond

// Hub fans lines out to the websocket subscribers of a stream and view,
// through a broker.Broker (HubOptions.Broker; a broker.Memory unless
// set). Publishing never blocks on a subscriber. Create it with NewHub.
type Hub struct {
	opts    HubOptions
	metrics *Metrics
	broker  broker.Broker

	mu     sync.Mutex
	closed bool
	all    map[*subscriber]struct{}
	wg     sync.WaitGroup
}

// NewHub returns a Hub. metrics may be nil.
func NewHub(opts HubOptions, metrics *Metrics) *Hub {
	if opts.MaxQueueBytes <= 0 {
		opts.MaxQueueBytes = 8 << 20
	}
	if opts.MaxFrameBytes <= 0 {
		opts.MaxFrameBytes = 64 << 10
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 10 * time.Second
	}
	if opts.PingInterval == 0 {
		opts.PingInterval = 30 * time.Second
	}
	if opts.PongTimeout <= 0 {
		opts.PongTimeout = 10 * time.Second
	}
	if metrics == nil {
		metrics = NewMetrics(nil)
	}
	if opts.Broker == nil {
		opts.Broker = broker.NewMemory()
	}
	return &Hub{opts: opts, metrics: metrics, broker: opts.Broker, all: map[*subscriber]struct{}{}}
}

// Broker returns the broker the hub publishes through.
func (h *Hub) Broker() broker.Broker { return h.broker }

// AddSnapshot adds f to the sources of the lines a new subscriber gets
// first (broker.Broker.AddSnapshot); add them before serving.
func (h *Hub) AddSnapshot(f broker.SnapshotFunc) { h.broker.AddSnapshot(f) }

// Decided publishes every decision to the moderator view of its stream.
func (h *Hub) Decided(d *chat.Decision, line []byte) {
	h.Publish(d.Stream, broker.ViewModerator, line)
}

// ForShard implements ShardSink: a shard's decisions are gathered per
// stream and published once per run, one lock and one wake-up of each
// subscriber per run instead of per decision.
func (h *Hub) ForShard(int) FlushSink { return &hubGather{h: h} }

// hubGather is one shard's decisions waiting to be published: lines, each
// followed by a newline, in runs of one stream each.
type hubGather struct {
	h    *Hub
	buf  []byte
	runs []streamRun
}

type streamRun struct {
	stream string
	end    int // where the run ends in buf
}

// Decided gathers every decision, watched or not: whether anyone watches
// is asked at Flush, after the desk has kept the run. Asked here, a
// moderator who subscribed between a decision and the flush missed it
// both ways: not published (nobody watched yet) and not in the snapshot
// (the desk had not kept it yet).
func (g *hubGather) Decided(d *chat.Decision, line []byte) {
	if n := len(g.runs); n == 0 || g.runs[n-1].stream != d.Stream {
		g.runs = append(g.runs, streamRun{stream: d.Stream})
	}
	g.buf = append(append(g.buf, line...), '\n')
	g.runs[len(g.runs)-1].end = len(g.buf)
}

func (g *hubGather) Flush() {
	start := 0
	if !g.h.broker.Watched(broker.ViewModerator) {
		g.runs = g.runs[:0] // kept by the desk: a new subscriber's snapshot has them
	}
	for _, r := range g.runs {
		g.h.publishLines(r.stream, broker.ViewModerator, g.buf[start:r.end])
		start = r.end
	}
	clear(g.runs)
	g.runs, g.buf = g.runs[:0], g.buf[:0]
}

// Publish queues a copy of line (one JSON object, no newline) for every
// subscriber of stream and view; the caller may reuse line at once.
func (h *Hub) Publish(stream string, view broker.View, line []byte) {
	h.broker.Publish(stream, view, line)
}

// publishLines queues lines, one or more JSON objects each followed by a
// newline, for every subscriber of stream and view.
func (h *Hub) publishLines(stream string, view broker.View, lines []byte) {
	h.broker.PublishLines(stream, view, lines)
}

// Subscribers returns how many subscribers stream and view have.
func (h *Hub) Subscribers(stream string, view broker.View) int {
	return h.broker.Subscribers(stream, view)
}

func (h *Hub) add(sub *subscriber) error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return ErrClosed
	}
	h.all[sub] = struct{}{}
	h.wg.Add(1)
	h.mu.Unlock()

	h.broker.Subscribe(sub.topic, sub)
	h.metrics.Subscribers.WithLabelValues(sub.topic.View.String()).Inc()
	return nil
}

func (h *Hub) remove(sub *subscriber) {
	h.broker.Unsubscribe(sub.topic, sub)
	h.metrics.Subscribers.WithLabelValues(sub.topic.View.String()).Dec()

	h.mu.Lock()
	delete(h.all, sub)
	h.mu.Unlock()
	h.wg.Done()
}

// Serve upgrades the request to a websocket and sends it the lines of
// stream and view until the client leaves, falls behind, or the hub
// closes. Authorization is the caller's job. snapshot, if not nil, is
// called once the subscriber is registered and its lines are sent before
// any published line: nothing published in between is lost (a line may
// arrive both in the snapshot and live; pages dedupe by id).
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, stream string, view broker.View, snapshot func() [][]byte) {
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: h.opts.OriginPatterns})
	if err != nil {
		return // Accept has written the HTTP error
	}
	sub := &subscriber{
		topic:  broker.Topic{Stream: stream, View: view},
		max:    h.opts.MaxQueueBytes,
		notify: make(chan struct{}, 1),
		quit:   make(chan struct{}),
	}
	if err := h.add(sub); err != nil {
		conn.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	defer h.remove(sub)
	if snapshot != nil {
		sub.prepend(snapshot())
	}
	// Subscribers send nothing; CloseRead handles pings and the close
	// handshake and ends ctx when the client goes.
	ctx := conn.CloseRead(r.Context())
	pingLost := make(chan struct{})
	if h.opts.PingInterval > 0 {
		pctx, stopPing := context.WithCancel(ctx)
		defer stopPing()
		go h.ping(pctx, conn, pingLost)
	}
	code, reason := h.write(ctx, conn, sub, pingLost)
	conn.Close(code, reason)
}

// ping pings conn every PingInterval until ctx ends, and closes lost when
// a pong does not come within PongTimeout.
func (h *Hub) ping(ctx context.Context, conn *websocket.Conn, lost chan<- struct{}) {
	t := time.NewTicker(h.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, h.opts.PongTimeout)
		err := conn.Ping(pctx)
		late := pctx.Err() == context.DeadlineExceeded
		cancel()
		if err != nil {
			if late && ctx.Err() == nil {
				close(lost)
			}
			return
		}
	}
}

// write drains sub's queue into conn until something ends it, and returns
// the close code and reason.
func (h *Hub) write(ctx context.Context, conn *websocket.Conn, sub *subscriber, pingLost <-chan struct{}) (websocket.StatusCode, string) {
	// Two buffers taken in turn: the writer sends one while publishers
	// fill the other, and neither is allocated again in steady state.
	var spare []byte
	var keep spareKeeper
	bg := context.WithoutCancel(ctx)
	// One watchdog timer, re-armed per frame, instead of a context with
	// a deadline per write (no allocation). When a write stalls past
	// WriteTimeout the subscriber is counted as slow and, once the write
	// ends, closed with 1008 and a reason; a frame half written cannot be
	// followed by a close frame sooner. If the write is still stuck
	// after another WriteTimeout, the client reads nothing any more: the
	// connection is dropped without a close frame.
	var hard atomic.Pointer[time.Timer] // set once the watchdog fired
	watchdog := time.AfterFunc(time.Hour, func() {
		h.metrics.SlowDisconnects.WithLabelValues(slowWrite).Inc()
		hard.Store(time.AfterFunc(h.opts.WriteTimeout, func() { conn.CloseNow() }))
	})
	watchdog.Stop()
	defer watchdog.Stop()
	stallReason := func() (websocket.StatusCode, string) {
		return websocket.StatusPolicyViolation, fmt.Sprintf("%v: a write stalled for %v (fanout.write_timeout)", ErrSlowConsumer, h.opts.WriteTimeout)
	}
	gather := time.NewTimer(time.Hour)
	gather.Stop()
	for {
		select {
		case <-ctx.Done():
			return websocket.StatusNormalClosure, ""
		case <-sub.quit:
			return websocket.StatusGoingAway, "server shutting down"
		case <-pingLost:
			h.metrics.SlowDisconnects.WithLabelValues(slowPing).Inc()
			return websocket.StatusPolicyViolation, fmt.Sprintf("%v: no pong within %v (fanout.pong_timeout)", ErrSlowConsumer, h.opts.PongTimeout)
		case <-sub.notify:
		}
		// Gather for a moment before writing: at thousands of decisions
		// a second this turns one write per decision into one per
		// millisecond, for at most coalesceDelay of added latency.
		if sub.queued() < h.opts.MaxFrameBytes {
			gather.Reset(coalesceDelay)
			select {
			case <-gather.C:
			case <-sub.quit:
				gather.Stop()
				return websocket.StatusGoingAway, "server shutting down"
			}
		}
		buf, slow := sub.take(spare)
		if slow {
			h.metrics.SlowDisconnects.WithLabelValues(slowQueue).Inc()
			return websocket.StatusPolicyViolation, fmt.Sprintf("%v: more than %d bytes waiting (fanout.max_queue_bytes)", ErrSlowConsumer, sub.max)
		}
		for rest := buf; len(rest) > 0; {
			n := frameEnd(rest, h.opts.MaxFrameBytes)
			watchdog.Reset(h.opts.WriteTimeout)
			err := conn.Write(bg, websocket.MessageText, rest[:n])
			if !watchdog.Stop() { // it fired: this write stalled
				for hard.Load() == nil { // its func is still running
					runtime.Gosched()
				}
				hard.Load().Stop()
				return stallReason()
			}
			if err != nil {
				return websocket.StatusGoingAway, "write failed"
			}
			h.metrics.FanoutBytes.Add(float64(n))
			rest = rest[n:]
		}
		spare = keep.spare(buf, time.Now())
	}
}

// spareMin is the size up to which a subscriber's writer always keeps its
// buffer for reuse.
const spareMin = 256 << 10

// spareKeep is how long a writer keeps a big buffer that stays mostly
// empty.
const spareKeep = 2 * time.Second

// A spareKeeper decides whether a subscriber's writer keeps the buffer it
// has just sent for the next lines. A burst may have grown it to
// MaxQueueBytes: a big buffer is kept while it is in use (a subscriber of
// a busy show takes megabytes each time) and dropped once it has been
// mostly empty for spareKeep. Dropping it at the first small take made a
// busy subscriber grow a new one by doubling, over and over: half of all
// the bytes the server allocated at full load.
type spareKeeper struct {
	lowSince time.Time // since when the buffers have been mostly empty
}

// spare returns buf emptied for reuse, or nil to let it go.
func (k *spareKeeper) spare(buf []byte, now time.Time) []byte {
	switch {
	case cap(buf) <= spareMin || cap(buf) <= 4*len(buf):
		k.lowSince = time.Time{}
	case k.lowSince.IsZero():
		k.lowSince = now
	case now.Sub(k.lowSince) > spareKeep:
		k.lowSince = time.Time{}
		return nil
	}
	return buf[:0]
}

// frameEnd returns how many bytes of buf, a run of newline-terminated
// lines, the next frame carries: as many whole lines as fit in max, or
// one line alone if it is longer.
func frameEnd(buf []byte, max int) int {
	if len(buf) <= max {
		return len(buf)
	}
	if i := bytes.LastIndexByte(buf[:max], '\n'); i >= 0 {
		return i + 1
	}
	if i := bytes.IndexByte(buf[max:], '\n'); i >= 0 {
		return max + i + 1
	}
	return len(buf)
}

// Close disconnects every subscriber with "going away" and waits for their
// writers to stop, or for ctx to end.
func (h *Hub) Close(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	for sub := range h.all {
		sub.stop()
	}
	h.mu.Unlock()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// subscriber is one connection's queue, a broker.Subscriber. Push never
// blocks.
type subscriber struct {
	topic  broker.Topic
	max    int
	notify chan struct{} // capacity 1: "there is something to write"
	quit   chan struct{}
	once   sync.Once

	mu sync.Mutex
	// buf holds the queued lines, each followed by a newline: a publisher
	// copies its line in, so it may reuse its buffer at once, and the
	// writer sends frames straight out of it.
	buf  []byte
	slow bool
}

func (s *subscriber) Push(line []byte) { s.add(line, true) }

// PushLines queues lines that end in a newline each.
func (s *subscriber) PushLines(lines []byte) { s.add(lines, false) }

func (s *subscriber) add(b []byte, newline bool) {
	n := len(b)
	if newline {
		n++
	}
	s.mu.Lock()
	if s.slow {
		s.mu.Unlock()
		return
	}
	if len(s.buf)+n > s.max {
		s.slow = true
		s.buf = nil
	} else {
		s.buf = append(s.buf, b...)
		if newline {
			s.buf = append(s.buf, '\n')
		}
	}
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// prepend puts lines ahead of everything queued (a snapshot taken after
// the subscriber was registered).
func (s *subscriber) prepend(lines [][]byte) {
	if len(lines) == 0 {
		return
	}
	n := 0
	for _, l := range lines {
		n += len(l) + 1
	}
	s.mu.Lock()
	if !s.slow {
		if len(s.buf)+n > s.max {
			s.slow = true
			s.buf = nil
		} else {
			b := make([]byte, 0, n+len(s.buf))
			for _, l := range lines {
				b = append(append(b, l...), '\n')
			}
			s.buf = append(b, s.buf...)
		}
	}
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// queued returns the bytes waiting.
func (s *subscriber) queued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.buf)
}

// take returns the queued lines and leaves spare (emptied) to queue the
// next ones in, or reports that the subscriber fell too far behind.
func (s *subscriber) take(spare []byte) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.slow {
		return nil, true
	}
	buf := s.buf
	s.buf = spare[:0]
	return buf, false
}

func (s *subscriber) stop() { s.once.Do(func() { close(s.quit) }) }

// ServeSubscribe is Serve with the view given by name; it answers 400 for
// an unknown view. It lets the HTTP layer stay ignorant of View.
func (h *Hub) ServeSubscribe(w http.ResponseWriter, r *http.Request, stream, view string) {
	v, err := broker.ParseView(view)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.Serve(w, r, stream, v, func() [][]byte { return h.broker.Snapshot(stream, v) })
}
