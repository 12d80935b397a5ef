package store

import "time"

// batcher is the store's one write-behind: a goroutine that commits what
// is queued in group commits. An item nobody waits for lingers up to
// linger so that one transaction (one fsync) carries a burst; a barrier
// (an item someone waits for: an acknowledgement, a REST answer) ends the
// linger at once, and the commit takes everything queued by then, so many
// waiters share one fsync. The audit sink and the automation records
// (behind) each run one.
//
// pace, when set, spaces commits that barriers ask for while several
// wait: one starts at least pace after the one before started, gathering
// meanwhile, so that under a steady stream of barriers (every
// acknowledged frame that opened a ticket, from many connections)
// commits do not run back to back, each with its own fsync and its own
// rewrite of the tree's upper pages, but carry a few milliseconds of
// changes each. It applies when the last commit carried two barriers or
// more: a lone waiter (a client that waits for each ack, one REST call
// after another) gains nothing from waiting, and is committed at once.
type batcher[T any] struct {
	queue   chan T
	done    chan struct{}
	linger  time.Duration
	pace    time.Duration
	max     int             // the most items one commit carries
	barrier func(T) bool    // whether someone waits for the item
	commit  func(batch []T) // writes batch and answers its waiters
}

// start makes the queue (queueLen items: a full queue makes senders wait,
// backpressure, never a loss) and starts the goroutine. Closing queue
// stops it once the queue is drained; done is closed then.
func (b *batcher[T]) start(queueLen int) {
	b.queue = make(chan T, queueLen)
	b.done = make(chan struct{})
	go b.run()
}

func (b *batcher[T]) run() {
	defer close(b.done)
	batch := make([]T, 0, b.max)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var last time.Time // when the last commit started
	busy := false      // the last commit carried two barriers or more
	for it := range b.queue {
		batch = append(batch[:0], it)
		waited := b.barrier(it)
		if !waited {
			timer.Reset(b.linger)
			batch, waited = b.untilBarrier(batch, timer.C)
			timer.Stop()
		}
		if waited {
			// However the batch began (a barrier, or changes nobody waited
			// for until one came), its commit keeps the pace.
			if wait := b.pace - time.Since(last); busy && wait > 0 {
				timer.Reset(wait)
				batch = b.gather(batch, timer.C)
				timer.Stop()
			}
			batch = b.drain(batch)
		}
		last = time.Now()
		busy = b.barriers(batch) >= 2
		b.commit(batch)
		clear(batch) // drop references until the next batch
	}
}

// barriers counts the items of batch someone waits for.
func (b *batcher[T]) barriers(batch []T) int {
	n := 0
	for _, it := range batch {
		if b.barrier(it) {
			n++
		}
	}
	return n
}

// gather adds to batch what arrives until deadline fires or batch is
// full, barriers and all.
func (b *batcher[T]) gather(batch []T, deadline <-chan time.Time) []T {
	for len(batch) < cap(batch) {
		select {
		case it, ok := <-b.queue:
			if !ok {
				return batch
			}
			batch = append(batch, it)
		case <-deadline:
			return batch
		}
	}
	return batch
}

// untilBarrier adds to batch what arrives until a barrier does (waited),
// linger fires or batch is full.
func (b *batcher[T]) untilBarrier(batch []T, linger <-chan time.Time) (_ []T, waited bool) {
	for len(batch) < cap(batch) {
		select {
		case it, ok := <-b.queue:
			if !ok {
				return batch, false
			}
			batch = append(batch, it)
			if b.barrier(it) {
				return batch, true
			}
		case <-linger:
			return batch, false
		}
	}
	return batch, false
}

// drain adds to batch what the queue holds already, so that a commit
// someone waits for starts at once.
func (b *batcher[T]) drain(batch []T) []T {
	for len(batch) < cap(batch) {
		select {
		case it, ok := <-b.queue:
			if !ok {
				return batch
			}
			batch = append(batch, it)
		default:
			return batch
		}
	}
	return batch
}
