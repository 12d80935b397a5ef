package stream

import (
	"context"
	"errors"
	"math/bits"
	"runtime"
	"strconv"
	"sync"
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
	shards  []chan batch
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
		shards:  make([]chan batch, n),
		mask:    uint64(n - 1),
		done:    make(chan struct{}),
	}
	for i := range p.shards {
		q := make(chan batch, qlen)
		p.shards[i] = q
		metrics.register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "livemod_pipeline_queue_batches",
			Help:        "Batches waiting in each shard queue.",
			ConstLabels: prometheus.Labels{"shard": strconv.Itoa(i)},
		}, func() float64 { return float64(len(q)) }))
		p.workers.Add(1)
		go p.run(q, i)
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

func (p *Pipeline) send(ctx context.Context, shard int, b batch) error {
	select {
	case p.shards[shard] <- b:
		return nil
	default:
	}
	select {
	case p.shards[shard] <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Pipeline) run(q chan batch, shard int) {
	defer p.workers.Done()
	m := p.metrics
	var actionCounters [3]prometheus.Counter // by chat.Action
	for _, a := range [...]chat.Action{chat.Allow, chat.Hide, chat.Hold} {
		actionCounters[a] = m.Decisions.WithLabelValues(a.String())
	}
	// One counter per label bit, found without a map or a slice per
	// decision.
	var labelCounters [64]prometheus.Counter
	for _, l := range chat.AllLabels() {
		labelCounters[bits.TrailingZeros64(uint64(l))] = m.DecisionLabels.WithLabelValues(l.String())
	}
	// Decisions are encoded into scratch, reused for every decision: the
	// sinks copy what they keep (the hub copies each line into the
	// queues of the stream's subscribers, if it has any).
	scratch := make([]byte, 0, 4096)
	// One Decision per shard, not one per message: handing &d to the sinks
	// (interfaces) puts it on the heap, so it is put there once.
	d := new(chat.Decision)
	sinks := make([]Sink, len(p.sinks))
	var flushers []FlushSink
	var afters []AfterFlush
	for i, s := range p.sinks {
		sinks[i] = s
		if ss, ok := s.(ShardSink); ok {
			f := ss.ForShard(shard)
			sinks[i], flushers = f, append(flushers, f)
			if a, ok := f.(AfterFlush); ok {
				afters = append(afters, a)
			}
		}
	}
	// Counters are counted here and added once per run of decisions: the
	// shards would otherwise take turns owning each counter's cache line.
	into, _ := p.decider.(chat.IntoDecider)
	var actions [3]int
	var labels [64]int
	pending := 0
	// Receipts are told after the sinks have flushed: an acked message
	// is on the desk, so a REST action by its id finds it.
	type told struct {
		rc      *receipt
		changed bool
	}
	var receipts []told
	var firstTold time.Time // when receipts[0] was decided
	for b := range q {
		changed := false
		for _, msg := range b.msgs {
			if into != nil {
				into.DecideInto(d, msg)
			} else {
				*d = p.decider.Decide(msg)
			}
			if b.rc != nil && p.commit != nil && !changed {
				changed = p.commit.Changed(d)
			}
			scratch = d.AppendJSON(scratch[:0])
			for _, s := range sinks {
				s.Decided(d, scratch)
			}
			actions[min(int(d.Action), len(actions)-1)]++
			for set := uint64(d.Labels); set != 0; set &= set - 1 {
				labels[bits.TrailingZeros64(set)]++
			}
		}
		pending += len(b.msgs)
		now := time.Now()
		if b.rc != nil {
			if len(receipts) == 0 {
				firstTold = now
			}
			receipts = append(receipts, told{b.rc, changed})
		}
		// A client waiting for acks waits for this flush: under load the
		// queue is never empty, so acks do not wait for flushEvery
		// decisions, only for ackFlushAfter.
		if pending >= flushEvery || len(q) == 0 || len(receipts) > 0 && now.Sub(firstTold) >= ackFlushAfter {
			for _, f := range flushers {
				f.Flush()
			}
			for _, a := range afters {
				a.Flushed()
			}
			for i, t := range receipts {
				t.rc.decided(t.changed)
				receipts[i] = told{}
			}
			receipts = receipts[:0]
			for a, n := range actions {
				if n > 0 {
					actionCounters[a].Add(float64(n))
				}
			}
			for l, n := range labels {
				if n > 0 && labelCounters[l] != nil {
					labelCounters[l].Add(float64(n))
				}
			}
			actions, labels, pending = [3]int{}, [64]int{}, 0
		}
		m.DecisionLatency.Observe(time.Since(b.recv).Seconds())
	}
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
			for _, q := range p.shards {
				close(q)
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
