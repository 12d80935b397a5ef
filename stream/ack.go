package stream

import (
	"context"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// maxPendingErrorBytes bounds the error frames waiting for a client that
// sends bad messages faster than it reads the answers.
const maxPendingErrorBytes = 1 << 20

// replier writes an ingest connection's ack and error frames from its own
// goroutine, so that reading never waits on writing, and coalesces them:
// under load one ack covers every frame accepted since the last write
// (upto is the newest id, n their count), and one write carries it.
type replier struct {
	conn    *websocket.Conn
	delay   time.Duration // gathering time; negative: none
	notify  chan struct{} // capacity 1
	early   chan struct{} // capacity 1: enough is waiting, write now
	closing chan struct{} // closed by close: write what is pending now
	done    chan struct{}

	mu     sync.Mutex
	upto   string
	n      int
	frames int    // answered since the last write
	errs   []byte // error lines, each ending in '\n'
	closed bool
	failed bool
}

func newReplier(conn *websocket.Conn, delay time.Duration) *replier {
	r := &replier{conn: conn, delay: delay, notify: make(chan struct{}, 1), early: make(chan struct{}, 1), closing: make(chan struct{}), done: make(chan struct{})}
	go r.run()
	return r
}

// reply queues one frame's answer: its error lines, then an ack for the n
// messages accepted (the newest being upto), so that a client sees both
// together. It reports false when too many error lines are waiting: the
// client is not reading its answers.
func (r *replier) reply(errLines []byte, upto string, n int) bool {
	r.mu.Lock()
	ok := len(r.errs)+len(errLines) <= maxPendingErrorBytes && !r.failed
	if ok {
		r.errs = append(r.errs, errLines...)
	}
	if n > 0 {
		r.upto = upto
		r.n += n
	}
	r.frames++
	early := r.frames >= ackEarlyFrames || r.n >= ackEarlyMessages
	r.mu.Unlock()
	r.wake()
	if early {
		select {
		case r.early <- struct{}{}:
		default:
		}
	}
	return ok
}

// ok reports whether writes still succeed.
func (r *replier) ok() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.failed
}

func (r *replier) wake() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// close flushes what is pending and stops the goroutine.
func (r *replier) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	close(r.closing)
	r.wake()
	<-r.done
}

// defaultAckDelay is how long the replier gathers acks after the first
// one before writing (IngestOptions.AckDelay), unless ackEarlyFrames
// frames or ackEarlyMessages messages are waiting first. A write to a
// socket costs about as much as deciding a message, so at a thousand
// frames a second per connection, one write per frame was a fifth of
// the server's CPU. Acks say a message
// was taken, not decided, so waiting delays no decision, and a client
// with a window of unacked frames (the bench keeps 32) is acked before it
// fills. Error frames wait with the ack they come with.
const (
	defaultAckDelay  = 5 * time.Millisecond
	ackEarlyFrames   = 8
	ackEarlyMessages = 512
)

func (r *replier) run() {
	defer close(r.done)
	var frame []byte
	gather := time.NewTimer(time.Hour)
	gather.Stop()
	for range r.notify {
		if r.delay > 0 {
			gather.Reset(r.delay)
			select {
			case <-gather.C:
			case <-r.early:
				gather.Stop()
			case <-r.closing:
				gather.Stop()
			}
		}
		select { // an early signal for what this write takes is spent
		case <-r.early:
		default:
		}
		r.mu.Lock()
		r.frames = 0
		frame = append(frame[:0], r.errs...)
		r.errs = r.errs[:0]
		if r.n > 0 {
			frame = appendAck(frame, r.upto, r.n)
			r.n = 0
		}
		closed, failed := r.closed, r.failed
		r.mu.Unlock()
		if len(frame) > 0 && !failed {
			// A background context: a write is bounded by the connection
			// closing, which Ingest does on shutdown.
			if err := r.conn.Write(context.Background(), websocket.MessageText, frame[:len(frame)-1]); err != nil {
				r.mu.Lock()
				r.failed = true
				r.mu.Unlock()
			}
		}
		if closed {
			return
		}
	}
}
