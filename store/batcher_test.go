package store

import (
	"sync"
	"testing"
	"time"
)

// TestBatcherPace: commits that barriers ask for start at least pace
// apart however many waiters keep asking, every barrier is answered by a
// commit that carried it, and a barrier after a quiet spell is committed
// without waiting out a pace.
func TestBatcherPace(t *testing.T) {
	t.Parallel()
	type item struct {
		done chan struct{}
	}
	const pace = 20 * time.Millisecond
	var mu sync.Mutex
	var starts []time.Time
	var sizes, waiters []int
	b := &batcher[item]{linger: time.Second, pace: pace, max: 1024,
		barrier: func(it item) bool { return it.done != nil },
		commit: func(batch []item) {
			mu.Lock()
			starts = append(starts, time.Now())
			sizes = append(sizes, len(batch))
			n := 0
			for _, it := range batch {
				if it.done != nil {
					n++
				}
			}
			waiters = append(waiters, n)
			mu.Unlock()
			for _, it := range batch {
				if it.done != nil {
					close(it.done)
				}
			}
		}}
	b.start(64)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for range 25 {
				// Half the waiters queue a change nobody waits for first,
				// as a ticket's write precedes its acknowledgement's
				// barrier: a batch that begins with one keeps the pace too.
				if w%2 == 0 {
					b.queue <- item{}
				}
				it := item{done: make(chan struct{})}
				b.queue <- it
				<-it.done
			}
		})
	}
	wg.Wait()
	mu.Lock()
	n := len(starts)
	paced := 0
	for i := 1; i < n; i++ {
		if waiters[i-1] < 2 {
			continue // after a lone waiter's commit the next need not wait
		}
		paced++
		if gap := starts[i].Sub(starts[i-1]); gap < pace {
			t.Fatalf("commit %d started %v after the one before, which carried %d barriers; pace %v", i, gap, waiters[i-1], pace)
		}
	}
	if paced == 0 {
		t.Fatalf("no commit carried two barriers or more (%v): eight waiters never shared one", waiters)
	}
	total := 0
	for _, s := range sizes {
		total += s
	}
	mu.Unlock()
	if total != 300 {
		t.Fatalf("commits carried %d items; want 300 (200 barriers, 100 changes)", total)
	}
	if n >= 200 {
		t.Fatalf("%d commits for 200 barriers of 8 waiters: none shared", n)
	}
	t.Logf("%d commits for 200 barriers", n)

	close(b.queue)
	<-b.done

	// A barrier with no commit within the pace before it is committed at
	// once: with a pace of an hour, the first one must not wait it out;
	// nor must a lone waiter that asks again and again, each time after a
	// change nobody waits for (a client that waits for every ack).
	lone := &batcher[item]{linger: time.Hour, pace: time.Hour, max: 16,
		barrier: func(it item) bool { return it.done != nil },
		commit: func(batch []item) {
			for _, it := range batch {
				if it.done != nil {
					close(it.done)
				}
			}
		}}
	lone.start(1)
	for i := range 20 {
		lone.queue <- item{}
		it := item{done: make(chan struct{})}
		lone.queue <- it
		select {
		case <-it.done:
		case <-time.After(10 * time.Second):
			t.Fatalf("lone barrier %d waited for the pace", i)
		}
	}
	close(lone.queue)
	<-lone.done
}
