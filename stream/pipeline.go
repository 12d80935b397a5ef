package stream

import (
	"context"
	"errors"
	"math/bits"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/prometheus/client_golang/prometheus"
)

// ErrClosed is returned by Submit after Shutdown has begun.
var ErrClosed = errors.New("stream: pipeline closed")

// Sink receives every decision. line is the decision's JSON, encoded once
// for all sinks. Both d and line are valid only during the call (the shard
// reuses them): a sink copies what it keeps.
// Decided is called from the shard goroutines and must not block on I/O:
// a sink that does I/O queues the work.
type Sink interface {
	Decided(d *chat.Decision, line []byte)
}

// A ShardSink gives each shard goroutine a Sink of its own, so that its
// work per decision needs no lock or cache line that the other shards
// write too: the shard's sink gathers, and hands on once per run of
// decisions (Flush).
type ShardSink interface {
	Sink
	ForShard(shard int) FlushSink
}

// A FlushSink is one shard's Sink of a ShardSink. The shard calls Flush
// when its queue is empty, and at least every flushEvery decisions, so
// what Decided gathered waits for at most one run of batches; it flushes
// the sinks in their order in NewPipeline's list, and then calls
// Flushed on those that have it (AfterFlush).
type FlushSink interface {
	Sink
	Flush()
}

// An AfterFlush is a FlushSink with work that must wait until every sink
// of the shard has flushed: the desk publishes the events its decisions
// cause only after the hub has published the decisions.
type AfterFlush interface {
	Flushed()
}

// flushEvery bounds how many decisions a shard's sinks gather before they
// flush, while the shard has more batches queued.
const flushEvery = 256

// ackFlushAfter bounds how long a decided frame waits for the flush that
// lets its ack go (acks follow the sinks' flush: an acked message is on
// the desk), while the shard has more batches queued.
const ackFlushAfter = time.Millisecond

// Options configure a Pipeline. Every zero value means its documented default.
type Options struct {
	// Shards is the number of shard goroutines, rounded up to a power of
	// two. Zero means the next power of two ≥ GOMAXPROCS.
	Shards int
	// QueueLen is the number of batches a shard queue holds before Submit
	// blocks. Zero means 256: deep enough to ride out a GC pause at full
	// rate, shallow enough that backpressure reaches the sender in
	// milliseconds.
	QueueLen int
	// Commit makes durable the state decisions change; an ingest ack of
	// a message whose decision changed such state waits for its commit.
	// Nil means acks wait for decisions only.
	Commit Committer
	// Forward, when set, takes the messages of streams another node of a
	// cluster decides (docs/SCALING.md); nil decides everything here.
	Forward Forwarder
}

// A Forwarder hands messages to the node of a cluster that decides their
// stream.
type Forwarder interface {
	// Elsewhere reports whether stream is decided on another node. It is
	// asked for every frame, so it must answer from memory.
	Elsewhere(stream string) bool
	// Forward hands msgs, all of streams Elsewhere reported, to their
	// deciding nodes, returning once they were taken (an ack then says
	// "taken by the cluster"). On error the pipeline decides them here.
	Forward(ctx context.Context, msgs []*chat.Message) error
}

// Batch is messages that arrived together (one frame), all for one shard.
type batch struct {
	msgs []*chat.Message
	recv time.Time
	rc   *receipt // told when the batch is decided; nil: nobody waits
}

// Pipeline is the sharded classify stage. Create it with NewPipeline.
type Pipeline struct {
	decider chat.Decider
	commit  Committer
	forward Forwarder
	sinks   []Sink
	metrics *Metrics
	shards  []*shard
	mask    uint64

	mu       sync.RWMutex
	closed   bool
	inflight sync.WaitGroup
	workers  sync.WaitGroup
	stopOnce sync.Once
	done     chan struct{}
}

// NewPipeline starts the shard goroutines. metrics may be nil.
func NewPipeline(d chat.Decider, sinks []Sink, opts Options, metrics *Metrics) *Pipeline {
	if metrics == nil {
		metrics = NewMetrics(nil)
	}
	n := opts.Shards
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	n = 1 << bits.Len(uint(n-1)) // next power of two ≥ n
	qlen := opts.QueueLen
	if qlen <= 0 {
		qlen = 256
	}
	p := &Pipeline{
		decider: d,
		commit:  opts.Commit,
		forward: opts.Forward,
		sinks:   sinks,
		metrics: metrics,
		shards:  make([]*shard, n),
		mask:    uint64(n - 1),
		done:    make(chan struct{}),
	}
	for i := range p.shards {
		q := make(chan batch, qlen)
		p.shards[i] = p.newShard(q, i)
		metrics.register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "livemod_pipeline_queue_batches",
			Help:        "Batches waiting in each shard queue.",
			ConstLabels: prometheus.Labels{"shard": strconv.Itoa(i)},
		}, func() float64 { return float64(len(q)) }))
		p.workers.Add(1)
		go p.shards[i].run()
	}
	return p
}

// Shards returns the number of shards.
func (p *Pipeline) Shards() int { return len(p.shards) }

// ShardOf returns the shard that decides m: xxhash(stream, user) & (n-1).
func (p *Pipeline) ShardOf(m *chat.Message) int {
	return int(chat.UserKey(m.Stream, m.User.ID) & p.mask)
}

// Submit hands msgs to their shards, in order per user. It blocks while a
// shard queue is full (backpressure) until ctx ends. On error, the
// messages that were not queued are counted by the caller as refused; the
// ones already queued will be decided.
func (p *Pipeline) Submit(ctx context.Context, msgs []*chat.Message) error {
	return p.submit(ctx, msgs, nil)
}

// submit is Submit that tells rc (if not nil) when each shard has decided
// its part: it sets rc.parts to the number of parts before queueing any.
// On error, the parts not queued are taken off rc.parts.
func (p *Pipeline) submit(ctx context.Context, msgs []*chat.Message, rc *receipt) error {
	p.mu.RLock()
	if p.closed {
		p.mu.RUnlock()
		return ErrClosed
	}
	p.inflight.Add(1)
	p.mu.RUnlock()
	defer p.inflight.Done()

	recv := time.Now()
	if len(msgs) == 0 {
		return nil
	}
	if p.forward != nil {
		if msgs = p.forwardElsewhere(ctx, msgs); len(msgs) == 0 {
			if rc != nil { // every message was taken by its node
				rc.parts.Store(1)
				rc.decided(false)
			}
			return nil
		}
	}
	if len(p.shards) == 1 || len(msgs) == 1 {
		if rc != nil {
			rc.parts.Store(1)
		}
		err := p.send(ctx, p.ShardOf(msgs[0]), batch{msgs: msgs, recv: recv, rc: rc})
		if err != nil && rc != nil {
			rc.parts.Add(-1)
		}
		return err
	}
	// Group by shard so that each queue is visited once per frame.
	var groups [64][]*chat.Message
	var big map[int][]*chat.Message
	for _, m := range msgs {
		s := p.ShardOf(m)
		if s < len(groups) {
			groups[s] = append(groups[s], m)
		} else {
			if big == nil {
				big = map[int][]*chat.Message{}
			}
			big[s] = append(big[s], m)
		}
	}
	parts := int32(len(big))
	for _, g := range groups {
		if len(g) > 0 {
			parts++
		}
	}
	if rc != nil {
		rc.parts.Store(parts)
	}
	sent := int32(0)
	fail := func(err error) error {
		if rc != nil {
			rc.parts.Add(-(parts - sent))
		}
		return err
	}
	for s, g := range groups {
		if len(g) > 0 {
			if err := p.send(ctx, s, batch{msgs: g, recv: recv, rc: rc}); err != nil {
				return fail(err)
			}
			sent++
		}
	}
	for s, g := range big {
		if err := p.send(ctx, s, batch{msgs: g, recv: recv, rc: rc}); err != nil {
			return fail(err)
		}
		sent++
	}
	return nil
}

// forwardElsewhere forwards the messages of msgs whose streams another
// node decides, and returns the rest (msgs itself when there is none, or
// when forwarding failed: then this node decides them).
func (p *Pipeline) forwardElsewhere(ctx context.Context, msgs []*chat.Message) []*chat.Message {
	first, same := msgs[0].Stream, true
	for _, m := range msgs[1:] {
		if m.Stream != first {
			same = false
			break
		}
	}
	if same { // the common case: a frame of one stream
		if !p.forward.Elsewhere(first) {
			return msgs
		}
		if err := p.forward.Forward(ctx, msgs); err != nil {
			p.metrics.ForwardFailed.Add(float64(len(msgs)))
			return msgs
		}
		p.metrics.Forwarded.Add(float64(len(msgs)))
		return nil
	}
	var local, remote []*chat.Message
	for _, m := range msgs {
		if p.forward.Elsewhere(m.Stream) {
			remote = append(remote, m)
		} else {
			local = append(local, m)
		}
	}
	if len(remote) == 0 {
		return msgs
	}
	if err := p.forward.Forward(ctx, remote); err != nil {
		p.metrics.ForwardFailed.Add(float64(len(remote)))
		return msgs
	}
	p.metrics.Forwarded.Add(float64(len(remote)))
	return local
}

// send hands b to its shard. A shard with nothing queued and nobody
// deciding decides b at once, on the caller's goroutine: at one message
// a frame and a shard idle most of the time, waking the shard goroutine
// for each message (and the idle processor it is put on) cost more than
// deciding the message. Otherwise b is queued for the shard goroutine,
// blocking while the queue is full until ctx ends.
func (p *Pipeline) send(ctx context.Context, shard int, b batch) error {
	sh := p.shards[shard]
	if sh.queued.Load() == 0 && sh.mu.TryLock() {
		// Nothing queued, under the lock: every batch queued before b
		// (by the caller too: in order per user) is decided, and the
		// shard has flushed after the last of them.
		if sh.queued.Load() == 0 {
			sh.decide(b)
			sh.flush()
			sh.mu.Unlock()
			return nil
		}
		sh.mu.Unlock()
	}
	sh.queued.Add(1)
	select {
	case sh.q <- b:
		return nil
	default:
	}
	select {
	case sh.q <- b:
		return nil
	case <-ctx.Done():
		sh.queued.Add(-1)
		return ctx.Err()
	}
}

// shard is one shard's queue and the state of deciding it: the decision,
// the sinks and the counts gathered between flushes. The state is used
// under mu, by the shard goroutine or by a caller of send deciding at
// once.
type shard struct {
	p *Pipeline
	q chan batch
	// queued counts the batches given to q and not yet decided: added to
	// before the send, taken from under mu once the batch is decided. A
	// caller that finds it 0 under mu may decide without the queue.
	queued atomic.Int64
	mu     sync.Mutex

	actionCounters [3]prometheus.Counter // by chat.Action
	// One counter per label bit, found without a map or a slice per
	// decision.
	labelCounters [64]prometheus.Counter
	// Decisions are encoded into scratch, reused for every decision: the
	// sinks copy what they keep (the hub copies each line into the
	// queues of the stream's subscribers, if it has any).
	scratch []byte
	// One Decision per shard, not one per message: handing d to the sinks
	// (interfaces) puts it on the heap, so it is put there once.
	d        *chat.Decision
	sinks    []Sink
	flushers []FlushSink
	afters   []AfterFlush
	into     chat.IntoDecider
	// Counters are counted here and added once per run of decisions: the
	// shards would otherwise take turns owning each counter's cache line.
	actions [3]int
	labels  [64]int
	pending int
	// Receipts are told after the sinks have flushed: an acked message
	// is on the desk, so a REST action by its id finds it.
	receipts  []told
	firstTold time.Time // when receipts[0] was decided
}

type told struct {
	rc      *receipt
	changed bool
}

func (p *Pipeline) newShard(q chan batch, i int) *shard {
	m := p.metrics
	sh := &shard{p: p, q: q, scratch: make([]byte, 0, 4096), d: new(chat.Decision)}
	for _, a := range [...]chat.Action{chat.Allow, chat.Hide, chat.Hold} {
		sh.actionCounters[a] = m.Decisions.WithLabelValues(a.String())
	}
	for _, l := range chat.AllLabels() {
		sh.labelCounters[bits.TrailingZeros64(uint64(l))] = m.DecisionLabels.WithLabelValues(l.String())
	}
	sh.sinks = make([]Sink, len(p.sinks))
	for j, s := range p.sinks {
		sh.sinks[j] = s
		if ss, ok := s.(ShardSink); ok {
			f := ss.ForShard(i)
			sh.sinks[j], sh.flushers = f, append(sh.flushers, f)
			if a, ok := f.(AfterFlush); ok {
				sh.afters = append(sh.afters, a)
			}
		}
	}
	sh.into, _ = p.decider.(chat.IntoDecider)
	return sh
}

func (sh *shard) run() {
	defer sh.p.workers.Done()
	for b := range sh.q {
		sh.mu.Lock()
		now := sh.decide(b)
		// A client waiting for acks waits for this flush: under load the
		// queue is never empty, so acks do not wait for flushEvery
		// decisions, only for ackFlushAfter.
		if sh.pending >= flushEvery || len(sh.q) == 0 || len(sh.receipts) > 0 && now.Sub(sh.firstTold) >= ackFlushAfter {
			sh.flush()
		}
		sh.queued.Add(-1)
		sh.mu.Unlock()
	}
}

// decide decides b's messages and hands them to the sinks, and returns
// the time it finished. sh.mu must be held.
func (sh *shard) decide(b batch) time.Time {
	p, d := sh.p, sh.d
	changed := false
	for _, msg := range b.msgs {
		if sh.into != nil {
			sh.into.DecideInto(d, msg)
		} else {
			*d = p.decider.Decide(msg)
		}
		if b.rc != nil && p.commit != nil && !changed {
			changed = p.commit.Changed(d)
		}
		sh.scratch = d.AppendJSON(sh.scratch[:0])
		for _, s := range sh.sinks {
			s.Decided(d, sh.scratch)
		}
		sh.actions[min(int(d.Action), len(sh.actions)-1)]++
		for set := uint64(d.Labels); set != 0; set &= set - 1 {
			sh.labels[bits.TrailingZeros64(set)]++
		}
	}
	sh.pending += len(b.msgs)
	now := time.Now()
	if b.rc != nil {
		if len(sh.receipts) == 0 {
			sh.firstTold = now
		}
		sh.receipts = append(sh.receipts, told{b.rc, changed})
	}
	p.metrics.DecisionLatency.Observe(now.Sub(b.recv).Seconds())
	return now
}

// flush flushes the sinks, tells the receipts and adds the counts.
// sh.mu must be held.
func (sh *shard) flush() {
	for _, f := range sh.flushers {
		f.Flush()
	}
	for _, a := range sh.afters {
		a.Flushed()
	}
	for i, t := range sh.receipts {
		t.rc.decided(t.changed)
		sh.receipts[i] = told{}
	}
	sh.receipts = sh.receipts[:0]
	for a, n := range sh.actions {
		if n > 0 {
			sh.actionCounters[a].Add(float64(n))
		}
	}
	for l, n := range sh.labels {
		if n > 0 && sh.labelCounters[l] != nil {
			sh.labelCounters[l].Add(float64(n))
		}
	}
	sh.actions, sh.labels, sh.pending = [3]int{}, [64]int{}, 0
}

// Shutdown stops accepting messages, waits for queued ones to be decided
// and handed to the sinks, and stops the shard goroutines. If ctx ends
// first it returns ctx.Err() and the goroutines finish in the background.
func (p *Pipeline) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.stopOnce.Do(func() {
		go func() {
			p.inflight.Wait()
			for _, sh := range p.shards {
				close(sh.q)
			}
			p.workers.Wait()
			close(p.done)
		}()
	})
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
