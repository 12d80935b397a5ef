package store

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/handoff"
	"github.com/livemod/livemod/state"
	bolt "go.etcd.io/bbolt"
)

// Durable automation state: handoff tickets, opt-outs and ids. Each keeps
// its records in memory (the message path reads them without I/O) and
// writes behind through one goroutine that batches many changes into one
// transaction. Close flushes what is queued.

// behind is the write queue of the automation records: one goroutine
// commits what is queued in group commits. A change nobody waits for
// lingers up to behindLinger so that one transaction carries a burst; a
// barrier (someone waits: an acknowledgement, a REST answer) ends the
// linger at once, and the commit takes everything queued by then, so many
// waiters share one fsync.
type behind struct {
	db   *DB
	b    batcher[write]
	once sync.Once
	// after runs after each committed batch (the outbox wakes its
	// deliverer).
	after func()
	// A mirror (AutomationOptions.Mirror) copies each committed batch's
	// records to a cluster's shared store before the batch's waiters are
	// told. It runs on a goroutine of its own, in commit order, so that
	// the next batch's write and fsync overlap this one's copy: takeRecs
	// (on the writer goroutine) hands over what the batch's writes
	// collected, runMirror (on the mirror goroutine) copies it.
	takeRecs   func() []MirrorRecord
	runMirror  func([]MirrorRecord)
	mirrorJobs chan mirrorJob // nil without a mirror
	mirrorDone chan struct{}
	onError    func(error)
	observe    func(time.Duration) // each commit's time; nil: none

	mirrorOnce sync.Once

	cmu    sync.RWMutex // held for reading by send; close takes it
	closed bool
}

// write is one queued change, or a barrier: done receives the error of
// the commit that carried everything queued before it (nil when it is on
// disk).
type write struct {
	f    func(tx *bolt.Tx) error
	done chan error // cap 1; nil for a change
}

// behindQueueLen holds a burst of ticket and opt-out changes; a full
// queue makes the caller wait (backpressure), never drops a change.
const behindQueueLen = 4096

// behindBatch and behindLinger bound one write transaction: at most this
// many changes, gathered for at most this long after the first unless a
// barrier asks for the commit sooner. What nobody waits for (a chat line
// joined to a ticket, see joinPersistEvery) may be lost in a crash; what
// an acknowledgement waits for is not.
//
// behindPace spaces the commits barriers ask for while several wait (see
// batcher), however a batch began: an acknowledgement already gathers for
// ack_delay (5 ms, up to 4 × that while a client keeps sending), so a
// commit that waits up to 20 ms costs it little, while each commit costs
// an fsync and a rewrite of the tree's upper pages and the meta page. On
// a hard show at 20,000 msgs/s, commits 440/s → 48/s, the server's CPU
// −20% (docs/PERFORMANCE.md, "Group commits keep their pace").
const (
	behindBatch  = 4096
	behindLinger = 50 * time.Millisecond
	behindPace   = 20 * time.Millisecond
)

func newBehind(db *DB) *behind {
	w := &behind{db: db}
	w.b = batcher[write]{linger: behindLinger, pace: behindPace, max: behindBatch,
		barrier: func(x write) bool { return x.done != nil }, commit: w.commit}
	w.b.start(behindQueueLen)
	return w
}

// commit writes batch in one transaction; its barriers learn of the
// commit only after it.
func (b *behind) commit(batch []write) {
	began := time.Now()
	err := b.db.bolt.Update(func(tx *bolt.Tx) error {
		for _, w := range batch {
			if w.f == nil {
				continue
			}
			if err := w.f(tx); err != nil {
				return err
			}
		}
		return nil
	})
	var recs []MirrorRecord
	if b.takeRecs != nil {
		recs = b.takeRecs() // taken even when the commit failed: not to be copied
	}
	if b.observe != nil {
		b.observe(time.Since(began))
	}
	if err == nil && b.mirrorJobs != nil {
		j := mirrorJob{recs: recs}
		for _, w := range batch {
			if w.done != nil {
				j.waiters = append(j.waiters, w.done)
			}
		}
		b.mirrorJobs <- j // bounded: a slow mirror holds the writer back
	} else {
		for _, w := range batch {
			if w.done != nil {
				w.done <- err
			}
		}
	}
	if err != nil && b.onError != nil {
		b.onError(err)
	}
	if b.after != nil {
		b.after()
	}
}

// mirrorJob is one committed batch for the mirror goroutine: its records
// and the waiters it tells once they are copied.
type mirrorJob struct {
	recs    []MirrorRecord
	waiters []chan error
}

// mirrorLoop copies each committed batch's records, in commit order, then
// tells the batch's waiters the commit is done.
func (b *behind) mirrorLoop() {
	defer close(b.mirrorDone)
	for j := range b.mirrorJobs {
		b.runMirror(j.recs)
		for _, d := range j.waiters {
			d <- nil
		}
	}
}

// send queues w unless the writer is closed, and reports whether it did.
func (b *behind) send(w write) bool {
	b.cmu.RLock()
	defer b.cmu.RUnlock()
	if b.closed {
		return false
	}
	b.b.queue <- w
	return true
}

// barrier queues a barrier after f (which may be nil) and returns the
// channel that receives its commit's error. After close it receives
// errClosing at once.
func (b *behind) barrier(f func(tx *bolt.Tx) error) <-chan error {
	done := make(chan error, 1)
	if !b.send(write{f: f, done: done}) {
		done <- errClosing
	}
	return done
}

// errClosing is a barrier's answer once the writer is closed.
var errClosing = errors.New("store: closing; the change was not saved")

func (b *behind) close(ctx context.Context) error {
	b.once.Do(func() {
		b.cmu.Lock()
		b.closed = true
		close(b.b.queue)
		b.cmu.Unlock()
	})
	select {
	case <-b.b.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if b.mirrorJobs != nil {
		b.mirrorOnce.Do(func() { close(b.mirrorJobs) })
		select {
		case <-b.mirrorDone:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Automation is the durable state of the automation stage: it implements
// handoff.Tickets, state.OptOuts and state.IDs over the store.
// Create it with OpenAutomation; Close it after the pipeline has drained.
type Automation struct {
	db      *DB
	w       *behind
	tickets handoff.MemoryTickets
	optouts state.MemoryOptOuts
	outbox  bool
	gone    goneTickets // erased tickets: hidden, never written again

	idMu   sync.Mutex
	ids    map[string]*idBlock
	idWG   sync.WaitGroup // reservations ahead under way
	idCond *sync.Cond     // on idMu: a reservation ahead is done

	// Ticket writes are coalesced: dirty holds the newest version of each
	// changed ticket until the writer takes it, so a ticket that changes
	// many times in a burst is encoded and written once. written is the
	// revision on disk, so a late older version never overwrites a newer;
	// only the writer goroutine (writeDirty) touches it. A late version is
	// late by microseconds (it was made before the newer one and queued
	// after it), so written forgets a ticket 10–20 s after its last
	// write (writtenOld holds the previous generation's), instead of
	// growing with every ticket a long show ever had (a generation of a
	// minute held 7.7 MB on a hard show: docs/PERFORMANCE.md).
	bufs         valueBufs // writeDirty's, the writer goroutine's own
	writtenOld   map[string]uint64
	writtenSince time.Time
	dmu          sync.Mutex
	dirty        map[string]dirtyTicket
	spare        map[string]dirtyTicket // the last batch, emptied, for reuse
	dirtyQueued  bool                   // a writeDirty is in the writer's queue
	written      map[string]uint64
	// A chat line added to a ticket (Join), and what such a line changes
	// on it (UpdateLater), stay in memory, and the ticket is written by
	// the sweeper joinPersistEvery after its first unwritten line or
	// change, so a chatty viewer with an open ticket costs no write per
	// message; any other change writes the ticket at once, lines and
	// all. lazyQ holds the tickets with unwritten lines or changes,
	// oldest first (and some already written since: the sweeper skips
	// those).
	lazyQ     []lazyJoin
	lazyHead  int // lazyQ[:lazyHead] is taken
	sweepStop chan struct{}
	sweepDone chan struct{}

	// The cluster's copy (AutomationOptions.Mirror, Reserve): the writes
	// of a batch collect its records in newRecs (the writer goroutine's
	// own); committed, they wait in mirrorQ (the mirror goroutine's own)
	// until the mirror took them; mirrorDropped counts those given up when
	// it was unreachable for longer than mirrorQueueMax records.
	mirrorFn      func([]MirrorRecord) error
	reserveFn     func(kind string, count uint64) (uint64, error)
	newRecs       []MirrorRecord
	mirrorQ       []MirrorRecord
	mirrorPending atomic.Int64
	mirrorDropped atomic.Int64
}

// MirrorRecord is one committed change copied to a cluster's shared store:
// a ticket (Kind "ticket", Key its id, Value its JSON) or an opt-out (Kind
// "optout", Key the user, Value its JSON).
type MirrorRecord struct {
	Kind, Stream, Key string
	Value             []byte
}

// mirrorQueueMax bounds the committed changes kept for a mirror that
// fails (the cluster's Redis is down): beyond it the oldest are dropped
// and counted; the local store still has them.
const mirrorQueueMax = 100_000

// joinPersistEvery bounds how long a ticket's newest chat lines, and what
// they changed on it, may stay unwritten: a crash loses at most this much
// of them, never a ticket or a change an agent, the host or an API call
// made.
const joinPersistEvery = 10 * time.Second

// lazyJoin is a ticket with unwritten chat lines (or changes they made),
// and when the first of them was added.
type lazyJoin struct {
	id    string
	since time.Time
}

// sweepEvery is how often the sweeper looks for joins that have waited
// joinPersistEvery: often, so that it writes a few at a time, never a
// burst of every ticket at once.
const sweepEvery = 100 * time.Millisecond

type dirtyTicket struct {
	t      *chat.Ticket
	outbox bool // the ticket is new: queue it for the webhook too
}

var (
	_ handoff.Tickets = (*Automation)(nil)
	_ state.OptOuts   = (*Automation)(nil)
	_ state.IDs       = (*Automation)(nil)
)

// AutomationOptions configure OpenAutomation.
type AutomationOptions struct {
	// Outbox queues every new ticket for the CRM webhook, in the same
	// transaction that saves it. False means no webhook is configured.
	Outbox bool
	// OnCommit runs after each batch of changes is committed; nil means
	// nothing does. The webhook deliverer's wake-up goes here.
	OnCommit func()
	// OnError receives write errors; nil drops them.
	OnError func(error)
	// ObserveCommit receives the time each commit took (write and
	// fsync); nil means nothing does. The store's commit histogram.
	ObserveCommit func(time.Duration)
	// Mirror, when set, receives every committed ticket and opt-out after
	// the local commit and before anyone waiting for that commit (an ack,
	// a REST answer) is told: a cluster copies them to its shared store,
	// where a node that takes a stream over finds them. When it fails the
	// records are kept (at most mirrorQueueMax) and given again with the
	// next commit; the commit itself does not fail.
	Mirror func([]MirrorRecord) error
	// Reserve, when set, reserves blocks of ids (state.IDs) instead of the
	// store's meta bucket: a cluster's shared counter, so that ids are
	// unique across nodes. When it fails the store's own counter is used.
	Reserve func(kind string, count uint64) (first uint64, err error)
	// KeepResolved is how many resolved tickets stay in memory, the most
	// recently resolved; older ones are read from disk when asked for by
	// id or by a user's data export. Zero means DefaultKeepResolved; a
	// negative value keeps them all.
	KeepResolved int
}

// DefaultKeepResolved bounds the resolved tickets in memory (about 1.2 KB
// each): a show that runs for weeks does not grow without end, and a
// desk over its bound (which closes hundreds a second) does not fill
// memory with what it closed.
const DefaultKeepResolved = 2_000

// OpenAutomation loads tickets and opt-outs and starts the writer.
func (db *DB) OpenAutomation(opts AutomationOptions) (*Automation, error) {
	a := &Automation{db: db, outbox: opts.Outbox, ids: map[string]*idBlock{}}
	switch keep := opts.KeepResolved; {
	case keep == 0:
		a.tickets.MaxResolved = DefaultKeepResolved
	case keep > 0:
		a.tickets.MaxResolved = keep
	}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if err := a.loadTickets(tx.Bucket(bucketHandoffs)); err != nil {
			return err
		}
		return tx.Bucket(bucketOptouts).ForEach(func(k, v []byte) error {
			var o chat.OptOut
			if err := json.Unmarshal(v, &o); err != nil {
				return fmt.Errorf("opt-out %s: %w", k, err)
			}
			a.optouts.SetOptOut(o)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load automation state from %s: %w", db.path, err)
	}
	a.w = newBehind(db)
	a.w.after, a.w.onError, a.w.observe = opts.OnCommit, opts.OnError, opts.ObserveCommit
	a.mirrorFn, a.reserveFn = opts.Mirror, opts.Reserve
	if a.mirrorFn != nil {
		a.w.takeRecs = func() []MirrorRecord {
			r := a.newRecs
			a.newRecs = nil
			return r
		}
		a.w.runMirror = a.mirror
		a.w.mirrorJobs, a.w.mirrorDone = make(chan mirrorJob, 64), make(chan struct{})
		go a.w.mirrorLoop()
	}
	a.sweepStop, a.sweepDone = make(chan struct{}), make(chan struct{})
	go a.sweep(a.sweepStop)
	return a, nil
}

// loadTickets puts the active tickets and the most recently resolved ones
// (MaxResolved) in memory, the resolved in the order they were resolved.
func (a *Automation) loadTickets(b *bolt.Bucket) error {
	type res struct {
		at int64
		t  *chat.Ticket
	}
	var resolved []res
	keep := a.tickets.MaxResolved
	err := b.ForEach(func(k, v []byte) error {
		var t chat.Ticket
		if err := json.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("handoff %s: %w", k, err)
		}
		if t.Active() || keep <= 0 {
			a.tickets.Put(&t)
			return nil
		}
		resolved = append(resolved, res{t.ResolvedAt, &t})
		// Keep the newest keep of them without holding them all.
		if len(resolved) >= 2*keep {
			slices.SortFunc(resolved, func(x, y res) int { return cmp.Compare(y.at, x.at) })
			clear(resolved[keep:])
			resolved = resolved[:keep]
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(resolved, func(x, y res) int { return cmp.Compare(x.at, y.at) })
	for _, r := range resolved[max(0, len(resolved)-keep):] {
		a.tickets.Put(r.t)
	}
	return nil
}

// ticketOnDisk reads ticket id from disk: a resolved ticket that has left
// memory. A version waiting for the writer is newer than the disk's.
func (a *Automation) ticketOnDisk(id string) (*chat.Ticket, bool) {
	a.dmu.Lock()
	d, queued := a.dirty[id]
	a.dmu.Unlock()
	if queued {
		return d.t, true
	}
	var t *chat.Ticket
	a.db.bolt.View(func(tx *bolt.Tx) error {
		t, _ = ticketIn(tx.Bucket(bucketHandoffs), []byte(id))
		return nil
	})
	return t, t != nil
}

// ticketIn decodes ticket key of the handoffs bucket b, if it is there.
func ticketIn(b *bolt.Bucket, key []byte) (*chat.Ticket, bool) {
	v := b.Get(key)
	if v == nil {
		return nil, false
	}
	var t chat.Ticket
	if json.Unmarshal(v, &t) != nil {
		return nil, false
	}
	return &t, true
}

// Close writes what is queued and stops the writer.
func (a *Automation) Close(ctx context.Context) error {
	a.stopSweep()
	a.idWG.Wait() // a reservation ahead writes through bolt, not the writer
	return a.w.close(ctx)
}

// Committed returns a channel that receives nil once every ticket and
// opt-out change made before the call is on disk, or the error that kept
// it off. Chat lines joined to a ticket (Join, UpdateLater) wait for the
// sweeper and are not included. Many callers share one commit (group
// commit): an acknowledgement that promises a ticket or an opt-out waits
// on it.
func (a *Automation) Committed() <-chan error {
	// The barrier writes the coalesced tickets itself: a change that
	// found a write already promised (dirtyQueued) may sit in a.dirty
	// while that write is still on its way to the queue, behind us.
	return a.w.barrier(a.writeDirty)
}

// Sync waits until every change made before the call is committed (see
// Committed).
func (a *Automation) Sync(ctx context.Context) error { return a.waitWritten(ctx) }

// stopSweep stops the sweeper and queues what it had not written yet.
func (a *Automation) stopSweep() {
	a.dmu.Lock()
	stop := a.sweepStop
	a.sweepStop = nil // joins from now on are written at once
	a.dmu.Unlock()
	if stop != nil {
		close(stop)
		<-a.sweepDone
	}
	a.flushLazy()
}

// HasActive implements handoff.Tickets.
func (a *Automation) HasActive(stream, user string) bool { return a.tickets.HasActive(stream, user) }

// Upsert implements handoff.Tickets; the change is written behind, and a
// new ticket is queued for the webhook in the same transaction.
func (a *Automation) Upsert(stream, user string, c handoff.TicketChange) (*chat.Ticket, bool) {
	t, created := a.tickets.Upsert(stream, user, c)
	if t != nil {
		a.queueTicket(t, created)
	}
	return t, created
}

// Join implements handoff.Tickets: the line is written with the ticket
// by the sweeper, at most joinPersistEvery after the ticket's first
// unwritten line, or sooner with any other change of the ticket.
func (a *Automation) Join(m *chat.Message, max int) (*chat.Ticket, bool) {
	t, first, ok := a.tickets.JoinLine(m, max)
	if ok && first {
		a.writeLater(t.ID)
	}
	return t, ok
}

// UpdateLater is Update for the change a chat line makes to its author's
// ticket (a label, an order number, a sharper issue): it is written with
// the ticket's joined lines, by the sweeper, at most joinPersistEvery
// later, or sooner with any other change. A crash loses it only with the
// line that made it. At full load most writes of tickets were these,
// each a random page write.
func (a *Automation) UpdateLater(id string, fn func(t *chat.Ticket) error) (*chat.Ticket, error) {
	if a.gone.has(id) {
		return nil, handoff.ErrTicketNotFound
	}
	t, first, err := a.tickets.UpdateUnsaved(id, fn)
	if err == handoff.ErrTicketNotFound {
		return a.Update(context.Background(), id, fn) // a resolved ticket that left memory: read back from disk
	}
	if err == nil && first {
		a.writeLater(t.ID)
	}
	return t, err
}

// writeLater queues ticket id, whose unsaved lines or changes were just
// the first since it was last written, for the sweeper; while closing, it
// is written at once.
func (a *Automation) writeLater(id string) {
	a.dmu.Lock()
	sweeping := a.sweepStop != nil
	if sweeping {
		a.lazyQ = append(a.lazyQ, lazyJoin{id: id, since: time.Now()})
	}
	a.dmu.Unlock()
	if !sweeping { // closing: write it now
		if ft, ok := a.tickets.TakeJoined(id); ok {
			a.queueTicket(ft, false)
		}
	}
}

// Update implements handoff.Tickets.
func (a *Automation) Update(ctx context.Context, id string, fn func(t *chat.Ticket) error) (*chat.Ticket, error) {
	if a.gone.has(id) {
		return nil, handoff.ErrTicketNotFound
	}
	t, err := a.tickets.Update(ctx, id, fn)
	if err == handoff.ErrTicketNotFound {
		// A resolved ticket that left memory: back in, then changed (most
		// changes refuse a resolved ticket, with the usual error).
		if old, ok := a.ticketOnDisk(id); ok {
			a.tickets.Put(old)
			t, err = a.tickets.Update(ctx, id, fn)
		}
	}
	if err == nil {
		a.queueTicket(t, false)
	}
	return t, err
}

// Get implements handoff.Tickets. A resolved ticket that left memory is
// read from disk.
func (a *Automation) Get(id string) (*chat.Ticket, bool) {
	if a.gone.has(id) {
		return nil, false
	}
	if t, ok := a.tickets.Get(id); ok {
		return t, true
	}
	return a.ticketOnDisk(id)
}

// List implements handoff.Tickets: every active ticket, and of the
// resolved ones those still in memory (KeepResolved, the most recent).
func (a *Automation) List(stream, state string) []*chat.Ticket {
	return a.gone.filter(a.tickets.List(stream, state))
}

// Page implements handoff.Tickets; erased tickets are not on it.
func (a *Automation) Page(ctx context.Context, q handoff.TicketQuery) (handoff.TicketPage, error) {
	hide := q.Hide
	q.Hide = func(id string) bool { return a.gone.has(id) || hide != nil && hide(id) }
	return a.tickets.Page(ctx, q)
}

// sweep writes the waiting joins every joinPersistEvery until stopped.
func (a *Automation) sweep(stop <-chan struct{}) {
	defer close(a.sweepDone)
	tick := time.NewTicker(sweepEvery)
	defer tick.Stop()
	for {
		select {
		case now := <-tick.C:
			a.flushLazyBefore(now.Add(-joinPersistEvery))
		case <-stop:
			return
		}
	}
}

// flushLazy queues every waiting join for writing.
func (a *Automation) flushLazy() { a.flushLazyBefore(time.Now().Add(time.Hour)) }

// flushLazyBefore queues the joins that have waited since before cut. It
// takes them from the front of lazyQ (oldest first), so a sweep costs the
// joins it writes, not every ticket waiting: with tens of thousands of
// chatty tickets, a scan of the map under dmu every sweep held up the
// shards for a millisecond at a time.
func (a *Automation) flushLazyBefore(cut time.Time) {
	var take []string
	a.dmu.Lock()
	for a.lazyHead < len(a.lazyQ) {
		l := a.lazyQ[a.lazyHead]
		if !l.since.Before(cut) {
			break
		}
		a.lazyQ[a.lazyHead] = lazyJoin{}
		a.lazyHead++
		take = append(take, l.id)
	}
	if a.lazyHead > 1024 && a.lazyHead*2 > len(a.lazyQ) { // reuse the front
		n := copy(a.lazyQ, a.lazyQ[a.lazyHead:])
		clear(a.lazyQ[n:])
		a.lazyQ, a.lazyHead = a.lazyQ[:n], 0
	}
	a.dmu.Unlock()
	for _, id := range take {
		if t, ok := a.tickets.TakeJoined(id); ok { // else written since, or gone
			a.queueTicket(t, false)
		}
	}
}

// queueTicket hands the newest version of t to the writer. Changes
// gather in a.dirty, and one queued write takes all of them: one
// closure and one channel send per transaction, not per ticket, and a
// ticket changed many times meanwhile is encoded once.
func (a *Automation) queueTicket(t *chat.Ticket, created bool) {
	a.dmu.Lock()
	if a.dirty == nil {
		a.dirty = map[string]dirtyTicket{}
	}
	d := a.dirty[t.ID]
	if d.t == nil || t.Rev >= d.t.Rev {
		d.t = t // saved tickets are values nobody changes
	}
	d.outbox = d.outbox || (created && a.outbox)
	a.dirty[t.ID] = d
	queued := a.dirtyQueued
	a.dirtyQueued = true
	a.dmu.Unlock()
	if !queued {
		a.w.b.queue <- write{f: a.writeDirty}
	}
}

// writeDirty writes every ticket changed since the last call, in tx.
// writtenGeneration is how long written keeps a generation of revisions.
const writtenGeneration = 10 * time.Second

func (a *Automation) writeDirty(tx *bolt.Tx) error {
	a.dmu.Lock()
	batch := a.dirty
	a.dirty, a.spare = a.spare, nil
	if a.dirty == nil {
		a.dirty = make(map[string]dirtyTicket, len(batch))
	}
	a.dirtyQueued = false
	a.dmu.Unlock()
	if now := time.Now(); a.written == nil || now.Sub(a.writtenSince) > writtenGeneration {
		a.writtenOld, a.written, a.writtenSince = a.written, map[string]uint64{}, now
	}
	for id, d := range batch { // written is the writer goroutine's own: no lock
		if max(a.written[id], a.writtenOld[id]) > d.t.Rev {
			delete(batch, id) // a newer version is on disk
			continue
		}
		a.written[id] = d.t.Rev
	}
	defer func() {
		clear(batch)
		a.dmu.Lock()
		a.spare = batch
		a.dmu.Unlock()
	}()
	hb := tx.Bucket(bucketHandoffs)
	// bbolt keeps each value until the commit: every ticket gets its own
	// piece of a buffer that is replaced, never overwritten, when full.
	// The buffers of an earlier transaction are done with (it ended
	// before this one began) unless a mirror still holds its records: they
	// are reused, so a busy show does not allocate megabytes a second for
	// values that live until the commit (docs/PERFORMANCE.md). Two calls
	// in one transaction (a barrier's and a queued one) keep them.
	if a.mirrorFn == nil {
		a.bufs.recycle(tx)
	}
	var buf []byte
	for id, d := range batch {
		if a.gone.has(id) {
			continue // erased
		}
		if cap(buf)-len(buf) < 4096 {
			buf = a.bufs.get()
		}
		start := len(buf)
		buf = d.t.AppendJSON(buf) // by hand: 3.4× encoding/json, no allocation
		v := buf[start:len(buf):len(buf)]
		if err := hb.Put([]byte(id), v); err != nil { // bbolt keeps the key until commit
			return err
		}
		if a.mirrorFn != nil {
			a.newRecs = append(a.newRecs, MirrorRecord{Kind: "ticket", Stream: d.t.Stream, Key: id, Value: v})
		}
		if d.outbox {
			if err := enqueueOutbox(tx, id, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// valueBufs hands out the buffers writeDirty encodes tickets into, and
// takes back those of an ended transaction. Only the writer goroutine uses
// it. At most valueBufsKept are kept for reuse (4 MiB).
type valueBufs struct {
	used, free [][]byte
	tx         *bolt.Tx // the transaction the used buffers were written in
}

const (
	valueBufBytes = 64 << 10
	valueBufsKept = 64
)

// get returns an empty buffer, counted as used until recycle.
func (v *valueBufs) get() []byte {
	var b []byte
	if n := len(v.free); n > 0 {
		b, v.free[n-1] = v.free[n-1][:0], nil
		v.free = v.free[:n-1]
	} else {
		b = make([]byte, 0, valueBufBytes)
	}
	v.used = append(v.used, b)
	return b
}

// recycle makes the used buffers free again if they were written in a
// transaction other than tx (held here, so no later one shares its
// address), and remembers tx as the one of what is used from now on.
func (v *valueBufs) recycle(tx *bolt.Tx) {
	if v.tx == tx {
		return
	}
	v.tx = tx
	for i, b := range v.used {
		if len(v.free) < valueBufsKept {
			v.free = append(v.free, b)
		}
		v.used[i] = nil
	}
	v.used = v.used[:0]
}

// OptedOut implements state.OptOuts.
func (a *Automation) OptedOut(user string) bool { return a.optouts.OptedOut(user) }

// SetOptOut implements state.OptOuts: the choice and its time are
// kept until the user changes it (or is erased).
func (a *Automation) SetOptOut(o chat.OptOut) {
	a.optouts.SetOptOut(o)
	v, _ := json.Marshal(o)
	a.w.b.queue <- write{f: func(tx *bolt.Tx) error {
		if a.mirrorFn != nil {
			a.newRecs = append(a.newRecs, MirrorRecord{Kind: "optout", Key: o.User, Value: v})
		}
		return tx.Bucket(bucketOptouts).Put([]byte(o.User), v)
	}}
}

// ApplyOptOut records o, a choice another node of the cluster took, in
// memory and in the store, without mirroring it back.
func (a *Automation) ApplyOptOut(o chat.OptOut) {
	if cur, ok := a.optouts.Get(o.User); ok && cur.TS > o.TS {
		return // a newer choice is here already
	}
	a.optouts.SetOptOut(o)
	v, _ := json.Marshal(o)
	a.w.send(write{f: func(tx *bolt.Tx) error { return tx.Bucket(bucketOptouts).Put([]byte(o.User), v) }})
}

// mirror hands recs, just committed, and those a failed call kept, to the
// mirror (AutomationOptions.Mirror); on the mirror goroutine.
func (a *Automation) mirror(recs []MirrorRecord) {
	a.mirrorQ = append(a.mirrorQ, recs...)
	if len(a.mirrorQ) == 0 {
		return
	}
	if err := a.mirrorFn(a.mirrorQ); err != nil {
		if over := len(a.mirrorQ) - mirrorQueueMax; over > 0 {
			a.mirrorDropped.Add(int64(over))
			a.mirrorQ = append(a.mirrorQ[:0], a.mirrorQ[over:]...)
		}
		a.mirrorPending.Store(int64(len(a.mirrorQ)))
		if a.w.onError != nil {
			a.w.onError(fmt.Errorf("mirror %d records to the cluster: %w (kept; retried with the next commit)", len(a.mirrorQ), err))
		}
		return
	}
	clear(a.mirrorQ)
	a.mirrorQ = a.mirrorQ[:0]
	a.mirrorPending.Store(0)
}

// MirrorPending returns how many committed records wait for the mirror,
// and how many it gave up (both 0 without a mirror).
func (a *Automation) MirrorPending() (pending, dropped int64) {
	return a.mirrorPending.Load(), a.mirrorDropped.Load()
}

// Adopt takes tickets kept elsewhere (a cluster's shared store, when this
// node takes a stream over): each one newer than the version here (by Rev)
// replaces it in memory and is written to the store.
func (a *Automation) Adopt(ts []*chat.Ticket) int {
	n := 0
	for _, t := range ts {
		if a.gone.has(t.ID) {
			continue
		}
		if cur, ok := a.tickets.Get(t.ID); ok && cur.Rev >= t.Rev {
			continue
		}
		a.tickets.Put(t)
		if cur, ok := a.tickets.Get(t.ID); ok {
			a.queueTicket(cur, false)
		}
		n++
	}
	return n
}

// OptOut returns the user's last STOP or START.
func (a *Automation) OptOut(user string) (chat.OptOut, bool) {
	o, ok := a.optouts.Get(user)
	if ok && o == (chat.OptOut{User: user}) {
		return chat.OptOut{}, false // erased
	}
	return o, ok
}

// idBlockSize ids are reserved per write, and the next block is reserved
// in the background once half of the current one is used, so the message
// path does not wait for the disk: a reservation is a transaction with an
// fsync, and it held every shard that wanted an id meanwhile.
const idBlockSize = 4096

type idBlock struct {
	next, end uint64
	spare     uint64 // start of the next block, reserved ahead; 0 if none
	fetching  bool   // a reservation of spare is under way
}

// Next implements state.IDs. Numbers are reserved in blocks in the
// store, so that ids never repeat across restarts (a restart skips the
// rest of a block and its spare).
func (a *Automation) Next(kind string) uint64 {
	a.idMu.Lock()
	defer a.idMu.Unlock()
	if a.idCond == nil {
		a.idCond = sync.NewCond(&a.idMu)
	}
	b := a.ids[kind]
	if b == nil {
		start := a.reserve(kind, 1)
		b = &idBlock{next: start, end: start + idBlockSize}
		a.ids[kind] = b
	}
	if b.next >= b.end {
		for b.spare == 0 && b.fetching { // the reservation ahead is late: wait for it, so ids keep rising
			a.idCond.Wait()
		}
		start := b.spare
		if start == 0 {
			start = a.reserve(kind, b.end)
		}
		b.next, b.end, b.spare = start, start+idBlockSize, 0
	}
	n := b.next
	b.next++
	if b.spare == 0 && !b.fetching && b.end-b.next < idBlockSize/2 {
		b.fetching = true
		fallback := b.end
		a.idWG.Go(func() {
			start := a.reserve(kind, fallback)
			a.idMu.Lock()
			b.spare, b.fetching = start, false
			a.idCond.Broadcast()
			a.idMu.Unlock()
		})
	}
	return n
}

// reserve takes the next block of kind from the store and returns its
// start; if the store fails, it returns fallback (numbering then goes on
// in memory, above anything handed out in this run).
func (a *Automation) reserve(kind string, fallback uint64) uint64 {
	if a.reserveFn != nil {
		start, err := a.reserveFn(kind, idBlockSize)
		if err == nil {
			return start
		}
		if a.w.onError != nil {
			a.w.onError(fmt.Errorf("reserve %s ids in the cluster: %w; using this node's counter", kind, err))
		}
	}
	key := []byte("ids/" + kind)
	var start uint64 = 1
	err := a.db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		if v := b.Get(key); len(v) == 8 {
			start = binary.BigEndian.Uint64(v)
		}
		var next [8]byte
		binary.BigEndian.PutUint64(next[:], start+idBlockSize)
		return b.Put(key, next[:])
	})
	if err != nil {
		if a.w.onError != nil {
			a.w.onError(fmt.Errorf("reserve %s ids: %w", kind, err))
		}
		return fallback
	}
	return start
}

// OpenCount returns how many open (unclaimed) tickets stream has, all
// streams' if stream is "" (handoff.MemoryTickets.OpenCount).
func (a *Automation) OpenCount(stream string) int { return a.tickets.OpenCount(stream) }

// OpenStreams calls fn with each stream that has open tickets and their count.
func (a *Automation) OpenStreams(fn func(stream string, open int)) { a.tickets.OpenStreams(fn) }

// ScanOpen appends one part's open tickets to out (handoff.MemoryTickets.ScanOpen).
func (a *Automation) ScanOpen(part int, out []handoff.OpenTicket) []handoff.OpenTicket {
	return a.tickets.ScanOpen(part, out)
}
