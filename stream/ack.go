package stream

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/livemod/livemod/chat"
)

// An ack means: these messages were decided, and the state their
// decisions promise (a ticket opened, an opt-out recorded) is on disk. A
// client that crashes or reconnects may forget every acked message and
// resend the rest; the server takes a resent id once (see dedup.go).
//
// Each frame read becomes one answer in the connection's replier: its
// error lines, and an ack for its messages once every shard that got a
// part of them has decided it (a receipt). Answers leave in the order the
// frames came, so an ack's upto covers every frame before it. When a
// decision changed durable state, the shard that decided the frame's last
// part asks the store for a commit at once (Committer), and the answer
// waits for it: the store shares one fsync among every frame and
// connection waiting.

// maxPendingErrorBytes bounds the error frames waiting for a client that
// sends bad messages faster than it reads the answers.
const maxPendingErrorBytes = 1 << 20

// maxPendingAnswers bounds the frames read but not yet answered on one
// connection; reading waits while it is reached. It is far above what the
// shard queues let a connection have in flight (Submit blocks first); it
// holds when answers cannot be written.
const maxPendingAnswers = 4096

// replyWriteTimeout bounds one write of answers: a client that stops
// reading its acks for this long is closed as slow.
const replyWriteTimeout = 10 * time.Second

// A Committer makes durable the state that decisions change; an ingest
// ack that covers such a decision waits for it.
type Committer interface {
	// Changed reports whether deciding d changed state that its ack
	// promises is durable. It is called from the shard goroutines.
	Changed(d *chat.Decision) bool
	// Committed returns a channel that receives nil once every change
	// made before the call is on disk, or the error that kept it off.
	Committed() <-chan error
}

// receipt follows one frame's messages through the shards.
type receipt struct {
	parts   atomic.Int32 // batches not yet decided
	changed atomic.Bool  // a decision changed durable state
	done    atomic.Bool  // every part decided, and commit set if needed
	queued  atomic.Bool  // its answer is in the replier's list
	counted atomic.Bool  // counted as ready: by whichever of done and queued came last
	commit  <-chan error // the store's commit of the changes; set before done
	rep     *replier

	// Without a replier (POST /v1/messages), the caller waits on wake,
	// closed once every part is decided and commit is set, and asks
	// commitTo for the commit.
	commitTo Committer
	wake     chan struct{}
}

// readyOnce tells the replier the answer can be taken, once it is both
// decided and queued.
func (rc *receipt) readyOnce() {
	if rc.done.Load() && rc.queued.Load() && rc.counted.CompareAndSwap(false, true) {
		rc.rep.ready()
	}
}

// decided is called by a shard when it has decided its part of the frame.
// The last part asks for the commit at once, from the shard, so that the
// commit runs while the replier gathers: a frame's changes are queued to
// the store before its parts are counted down.
func (rc *receipt) decided(changed bool) {
	if changed {
		rc.changed.Store(true)
	}
	if rc.parts.Add(-1) != 0 {
		return
	}
	c := rc.commitTo
	if rc.rep != nil {
		c = rc.rep.commit
	}
	if rc.changed.Load() && c != nil {
		rc.commit = c.Committed()
	}
	rc.done.Store(true)
	if rc.rep == nil {
		close(rc.wake)
		return
	}
	rc.readyOnce()
}

// answer is one frame's reply: error lines, and an ack for n messages
// (upto the newest) once rc is done.
type answer struct {
	errs []byte
	upto string
	n    int
	rc   *receipt // nil: nothing to wait for
}

func (a *answer) done() bool { return a.rc == nil || a.rc.done.Load() }

// replier writes an ingest connection's ack and error frames from its own
// goroutine, so that reading never waits on writing, and coalesces them:
// one write carries every answer ready since the last (one ack, upto the
// newest id, n their count).
type replier struct {
	conn    *wsConn
	commit  Committer     // nil: no durable state
	delay   time.Duration // gathering time; negative: none
	notify  chan struct{} // capacity 1
	early   chan struct{} // capacity 1: enough is waiting, write now
	closing chan struct{} // closed by close: write what is pending now
	done    chan struct{}

	readyN atomic.Int32 // answers done and not yet taken
	// lastFrame is when the reader last read a frame (Unix ns; the idle
	// watch's clock); nil: gather for the delay only.
	lastFrame *atomic.Int64
	pending   *atomic.Int64 // answers queued on every connection (a gauge); may be nil

	mu      sync.Mutex
	room    *sync.Cond // on mu: an answer was taken, or writing failed
	answers []answer
	errN    int // bytes of error lines waiting
	closed  bool
	failed  bool
	slow    bool // failed because a write timed out: the client stopped reading
}

func newReplier(conn *wsConn, delay time.Duration, commit Committer) *replier {
	r := &replier{conn: conn, commit: commit, delay: delay, notify: make(chan struct{}, 1), early: make(chan struct{}, 1), closing: make(chan struct{}), done: make(chan struct{})}
	r.room = sync.NewCond(&r.mu)
	go r.run()
	return r
}

// reply queues one frame's answer: its error lines, then an ack for the n
// messages taken (the newest being upto), sent together once rc (if not
// nil) is done. It waits while maxPendingAnswers are queued. It reports
// false when too many error lines are waiting or writing failed: the
// client is not reading its answers.
func (r *replier) reply(errLines []byte, upto string, n int, rc *receipt) bool {
	r.mu.Lock()
	for len(r.answers) >= maxPendingAnswers && !r.failed {
		r.room.Wait()
	}
	ok := r.errN+len(errLines) <= maxPendingErrorBytes && !r.failed
	if ok {
		a := answer{upto: upto, n: n, rc: rc}
		if len(errLines) > 0 {
			a.errs = append([]byte(nil), errLines...)
			r.errN += len(errLines)
		}
		r.answers = append(r.answers, a)
		if r.pending != nil {
			r.pending.Add(1)
		}
	}
	r.mu.Unlock()
	switch {
	case !ok:
	case rc == nil:
		r.ready()
	default:
		rc.queued.Store(true)
		rc.readyOnce() // if it was decided first
	}
	return ok
}

// ready counts an answer that is done and wakes the writer.
func (r *replier) ready() {
	r.readyN.Add(1)
	r.wake()
	r.earlyIfReady()
}

// earlyIfReady ends the writer's gathering when enough answers are done.
func (r *replier) earlyIfReady() {
	if r.readyN.Load() >= ackEarlyFrames {
		select {
		case r.early <- struct{}{}:
		default:
		}
	}
}

// ok reports whether writes still succeed.
func (r *replier) ok() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.failed
}

// timedOut reports whether a write failed for taking too long.
func (r *replier) timedOut() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.slow
}

func (r *replier) wake() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// close writes what is pending, once it is decided, and stops the
// goroutine.
func (r *replier) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	close(r.closing)
	r.wake()
	<-r.done
}

// defaultAckDelay is how long the replier gathers answers after the first
// one is ready before writing (IngestOptions.AckDelay), unless
// ackEarlyFrames are ready first. A write to a socket costs about as much
// as deciding a message, so at a thousand frames a second per connection,
// one write per frame was a fifth of the server's CPU. A client with a
// window of unacked frames (the bench keeps 32) is acked before it fills.
//
// ackGatherMax bounds, in delays, how long acks are gathered for a client
// that keeps sending (see gather).
const (
	defaultAckDelay = 5 * time.Millisecond
	ackEarlyFrames  = 8
	ackGatherMax    = 4
)

// gather waits before a write: for the delay, and on while the client
// keeps sending (it is not waiting for this ack: it keeps a window of
// unacked frames) up to ackGatherMax delays, until ackEarlyFrames answers
// are ready, or the connection closes. A client that waits for each ack
// sends nothing meanwhile and gets it after the delay, as before; one
// that sends a frame every 2.5 ms (50 connections at 20,000 msgs/s) gets
// an ack per 8 frames instead of one per 2, and each ack is a write(2)
// that costs about as much as deciding a message.
func (r *replier) gather(t *time.Timer) {
	start := time.Now()
	wait := r.delay
	for {
		t.Reset(wait)
		select {
		case <-t.C:
		case <-r.early:
			t.Stop()
			return
		case <-r.closing:
			t.Stop()
			return
		}
		if r.lastFrame == nil {
			return
		}
		now := time.Now()
		quiet := now.Sub(time.Unix(0, r.lastFrame.Load()))
		left := start.Add(ackGatherMax * r.delay).Sub(now)
		if quiet >= r.delay || left <= 0 {
			return
		}
		wait = min(r.delay-quiet, left)
	}
}

func (r *replier) run() {
	defer close(r.done)
	var (
		frame []byte
		take  []answer
	)
	gather := time.NewTimer(time.Hour)
	gather.Stop()
	// One watchdog timer, re-armed per write, instead of a context with
	// a deadline per write (coder/websocket arms a context.AfterFunc for
	// each, and WithTimeout allocates a timer: a tenth of the replier's
	// CPU at one ack per two frames). A write that stalls past
	// replyWriteTimeout has its connection dropped; the write then fails
	// and the reader closes the connection as slow.
	var stalled atomic.Bool
	watchdog := time.AfterFunc(time.Hour, func() {
		stalled.Store(true)
		r.conn.CloseNow()
	})
	watchdog.Stop()
	defer watchdog.Stop()
	for range r.notify {
		if r.delay > 0 && r.readyN.Load() < ackEarlyFrames {
			r.gather(gather)
		}
		select { // an early signal for what this write takes is spent
		case <-r.early:
		default:
		}
		// Take the answers that are done, in order, up to the first
		// that is not.
		r.mu.Lock()
		k := 0
		for k < len(r.answers) && r.answers[k].done() {
			k++
		}
		take = append(take[:0], r.answers[:k]...)
		// The answers left (few: those behind one not yet decided) move
		// to the front, so the array is reused, not grown anew for
		// every write; one grown by a backlog goes once it is mostly empty.
		if n := len(r.answers) - k; n <= 64 {
			copy(r.answers, r.answers[k:])
			clear(r.answers[n:])
			r.answers = r.answers[:n]
		} else { // a backlog: not copied at every write
			clear(r.answers[:k])
			r.answers = r.answers[k:]
		}
		if n := len(r.answers); cap(r.answers) > 256 && n < cap(r.answers)/4 {
			r.answers = append([]answer(nil), r.answers...)
		}
		for _, a := range take {
			r.errN -= len(a.errs)
		}
		closed, failed, left := r.closed, r.failed, len(r.answers)
		r.room.Broadcast()
		r.mu.Unlock()
		r.readyN.Add(-int32(k))
		if r.pending != nil {
			r.pending.Add(-int64(k))
		}

		// Commits are FIFO and were asked for as each frame was decided:
		// most are done by now.
		var commitErr error
		for _, a := range take {
			if a.rc != nil && a.rc.commit != nil {
				if err := <-a.rc.commit; err != nil && commitErr == nil {
					commitErr = err
				}
			}
		}
		frame = frame[:0]
		upto, n := "", 0
		for _, a := range take {
			frame = append(frame, a.errs...)
			if a.n > 0 {
				upto, n = a.upto, n+a.n
			}
		}
		if n > 0 {
			if commitErr != nil {
				frame = appendError(frame, upto, 0, "server: not saved ("+commitErr.Error()+"); the "+strconv.Itoa(n)+" messages up to this id were not acknowledged, resend them")
			} else {
				frame = appendAck(frame, upto, n)
			}
		}
		clear(take)
		if len(frame) > 0 && !failed {
			watchdog.Reset(replyWriteTimeout)
			err := r.conn.write(ws.OpText, frame[:len(frame)-1])
			fired := !watchdog.Stop()
			slow := fired || stalled.Load()
			if err != nil || slow {
				r.mu.Lock()
				r.failed, r.slow = true, slow
				r.room.Broadcast()
				r.mu.Unlock()
			}
		}
		// Answers that became ready meanwhile left a notify behind; ready
		// answers stuck behind one that is not will be woken by it.
		if closed && left == 0 {
			return
		}
	}
}
