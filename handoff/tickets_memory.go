package handoff

import (
	"cmp"
	"context"
	"encoding/binary"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
	"github.com/livemod/livemod/chat"
)

// MemoryTickets is Tickets in memory. The zero value is ready.
//
// Each ticket has a slot that both indexes point to: a change that keeps
// the ticket active swaps one pointer and touches no map, and a chat line
// joining it (Join, on the message path) is kept on the slot until a read
// folds it into a new version.
//
// The index of active tickets is split into parts by the low bits of the
// user key, as the pipeline splits users between its shards, each part
// with its own lock: a shard's joins, changes and new tickets take only
// its own parts' locks, and the other shard never waits for them. (With
// one lock, a new ticket on one shard held it exclusively while the other
// joined a line, thousands of times a second, and each wait sent the
// waiting shard through the scheduler for up to milliseconds.) The index
// by id (split too, by id) and the resolved tickets have locks of their
// own, taken only briefly. Lock order: a part's, the resolved tickets',
// an id part's, a ticket's.
type MemoryTickets struct {
	// MaxResolved bounds the resolved tickets kept: when more are, the
	// longest resolved leave memory (a durable store keeps them on disk).
	// Active tickets are always kept. Zero keeps every ticket. Set it
	// before the first use.
	MaxResolved int

	parts [ticketParts]ticketPart
	ids   [idParts]idPart // the index by id

	resMu    sync.Mutex // guards resolved and resHead
	resolved []string   // ids in the order they were resolved; [resHead:] are live
	resHead  int

	// The open (unclaimed) tickets counted, in all and per stream: the
	// bounds on them (automate's ticket sweeper) and their gauges read
	// these, never a pass over the tickets.
	openAll atomic.Int64
	openMu  sync.RWMutex
	openBy  map[string]*atomic.Int64
}

// idParts is a power of two: the index by id is split too, so that new
// tickets on both shards rarely meet on its locks.
const idParts = 16

// slotIndex is one part of an index of ticket slots, with its own lock,
// on a cache line of its own.
type slotIndex[K comparable] struct {
	mu sync.RWMutex
	m  map[K]*ticketSlot
	_  [64 - 24 - 8]byte
}

// idPart is one part of the index by id.
type idPart = slotIndex[string]

func (m *MemoryTickets) idPart(id string) *idPart {
	return &m.ids[xxhash.Sum64String(id)&(idParts-1)]
}

// ticketParts is a power of two, at least the pipeline's shards on any
// machine we run on.
const ticketParts = 64

// A ticketPart indexes the active tickets of its users. The map's key is
// the first half of the userRef (a 64-bit key probes faster, in smaller
// groups, than the 128-bit one: the probe is a cache miss for nearly every
// message of a big show); the slot has the whole key, and slots whose
// first halves collide (about 2⁻⁶⁴ per pair) are chained by next.
type ticketPart struct{ slotIndex[uint64] }

// get returns ref's active ticket's slot, or nil. pt.mu is held.
func (pt *ticketPart) get(ref userRef) *ticketSlot {
	for s := pt.m[ref.a]; s != nil; s = s.next {
		if s.key == ref {
			return s
		}
	}
	return nil
}

// set makes slot its key's active ticket. pt.mu is held exclusively.
func (pt *ticketPart) set(slot *ticketSlot) {
	if pt.m == nil {
		pt.m = map[uint64]*ticketSlot{}
	}
	head := pt.m[slot.key.a]
	for p := &head; *p != nil; p = &(*p).next {
		if (*p).key == slot.key {
			if *p != slot {
				slot.next, *p = (*p).next, slot
				pt.m[slot.key.a] = head
			}
			return
		}
	}
	slot.next = head
	pt.m[slot.key.a] = slot
}

// drop removes slot if it is its key's active ticket. pt.mu is held
// exclusively.
func (pt *ticketPart) drop(slot *ticketSlot) {
	head := pt.m[slot.key.a]
	for p := &head; *p != nil; p = &(*p).next {
		if *p == slot {
			*p, slot.next = slot.next, nil
			if head == nil {
				delete(pt.m, slot.key.a)
			} else {
				pt.m[slot.key.a] = head
			}
			return
		}
	}
}

func (m *MemoryTickets) part(ref userRef) *ticketPart {
	return &m.parts[ref.a&(ticketParts-1)]
}

// ticketSlot holds the current version of one ticket; key is the
// (stream, user) it was opened for, which no later version changes (an
// erased ticket's husk has no user, and must still leave the index).
type ticketSlot struct {
	key userRef
	// mu guards the fields below (see MemoryTickets for the lock order).
	mu sync.Mutex
	t  *chat.Ticket
	// joined are the lines added by Join since t, at most max (the bound
	// Join was given), packed without pointers: tens of thousands of
	// chatty open tickets add no work to the garbage collector and no
	// allocation per line. Reads fold them into a new version (fold).
	joined packedRing
	max    int
	// unsaved is set by the first Join after the ticket was last saved or
	// taken with TakeJoined: a durable store writes it once, later.
	unsaved bool

	// next chains the slots of a ticketPart whose keys' first halves are
	// equal; guarded by the part's lock, not mu.
	next *ticketSlot
}

// fold makes the lines joined since slot.t part of a new version, and
// returns the current version.
func (slot *ticketSlot) fold() *chat.Ticket {
	j := &slot.joined
	if j.n == 0 {
		return slot.t
	}
	c := *slot.t
	pinned := min(c.Pinned, len(c.Messages))
	old := c.Messages[max(pinned, len(c.Messages)+j.n-slot.max):]
	all := append(make([]chat.TicketMessage, 0, pinned+len(old)+j.n), c.Messages[:pinned]...)
	c.Messages = chat.TrimMessages(j.appendTo(append(all, old...)), c.Pinned, slot.max)
	c.Rev++
	j.reset()
	slot.t = &c
	return slot.t
}

// userRef names a (stream, user) pair by two independent 64-bit hashes of
// it. As a map key it is compared without reading the strings, which on a
// table of a million users costs a cache miss or two per message; two
// pairs share a userRef with odds of about 2⁻¹²⁸.
type userRef struct{ a, b uint64 }

// refSeed is the second hash's seed (any constant other than 0 makes the
// two hashes independent).
const refSeed = 0x9E3779B97F4A7C15

func refOf(stream, user string) userRef {
	var d xxhash.Digest
	d.ResetWithSeed(refSeed)
	d.WriteString(stream)
	d.Write([]byte{0})
	d.WriteString(user)
	return userRef{chat.UserKey(stream, user), d.Sum64()}
}

// slot returns ticket id's slot, or nil.
func (m *MemoryTickets) slot(id string) *ticketSlot {
	ip := m.idPart(id)
	ip.mu.RLock()
	defer ip.mu.RUnlock()
	return ip.m[id]
}

// HasActive implements Tickets.
func (m *MemoryTickets) HasActive(stream, user string) bool {
	ref := refOf(stream, user)
	pt := m.part(ref)
	pt.mu.RLock()
	defer pt.mu.RUnlock()
	return pt.get(ref) != nil
}

// Upsert implements Tickets.
//
// A change that keeps the user's active ticket active is made under the
// part's lock for reading and the ticket's own lock. A new ticket is
// built, and its handoff block encoded, before the part's lock is taken
// exclusively; if a ticket was opened meanwhile, c applies to that one
// instead.
func (m *MemoryTickets) Upsert(stream, user string, c TicketChange) (*chat.Ticket, bool) {
	ref := refOf(stream, user)
	pt := m.part(ref)
	t, active, done := pt.upsertActive(m, ref, c)
	if done {
		return t, false
	}
	var built *chat.Ticket
	if !active {
		if built = c.Apply(nil); built == nil {
			return nil, false
		}
		if refOf(built.Stream, chat.Subject(built.Platform, built.User.ID)) != ref {
			panic("classify: a TicketChange opened a ticket for another user than Upsert's")
		}
		built.ShareHandoff()
	}
	pt.mu.Lock()
	defer pt.mu.Unlock()
	var prev, cur *chat.Ticket
	slot := pt.get(ref)
	if slot != nil {
		slot.mu.Lock()
		prev = slot.fold()
		slot.mu.Unlock()
		cp := *prev
		cur = &cp
	}
	next := built
	if cur != nil || next == nil {
		next = c.Apply(cur)
	}
	switch {
	case next == nil:
		return nil, false
	case next == cur && next.ID == prev.ID && next.Active():
		next.Rev = prev.Rev + 1 // no index changes
		next.ShareHandoff()
		m.countOpen(prev, next)
		slot.mu.Lock()
		slot.t, slot.unsaved = next, false
		slot.mu.Unlock()
		return next, false
	}
	return m.save(pt, next, false, false), cur == nil
}

// upsertActive is Upsert's path for a user with an active ticket that c
// keeps active; active reports whether the user had one, done whether
// the change is made (or c made none).
func (pt *ticketPart) upsertActive(m *MemoryTickets, ref userRef, c TicketChange) (t *chat.Ticket, active, done bool) {
	pt.mu.RLock()
	defer pt.mu.RUnlock()
	slot := pt.get(ref)
	if slot == nil {
		return nil, false, false
	}
	slot.mu.Lock()
	defer slot.mu.Unlock()
	prev := slot.fold()
	cp := *prev
	next := c.Apply(&cp)
	switch {
	case next == nil:
		return nil, true, true
	case next == &cp && next.ID == prev.ID && next.Active():
		next.Rev = prev.Rev + 1
		next.ShareHandoff()
		m.countOpen(prev, next)
		slot.t, slot.unsaved = next, false
		return next, true, true
	}
	return nil, true, false
}

// Join implements Tickets.
func (m *MemoryTickets) Join(msg *chat.Message, max int) (*chat.Ticket, bool) {
	t, _, ok := m.JoinLine(msg, max)
	return t, ok
}

// JoinLine is Join that also reports whether this is the first line
// joined since the ticket was last saved or taken with TakeJoined.
//
// A join takes its part's lock only for reading, and the ticket's own
// lock for the rest.
func (m *MemoryTickets) JoinLine(msg *chat.Message, max int) (t *chat.Ticket, first, ok bool) {
	max = cmp.Or(max, 1)
	ref := refOf(msg.Stream, chat.Subject(msg.Platform, msg.User.ID))
	pt := m.part(ref)
	pt.mu.RLock()
	defer pt.mu.RUnlock()
	slot := pt.get(ref)
	if slot == nil {
		return nil, false, false
	}
	slot.mu.Lock()
	defer slot.mu.Unlock()
	if slot.max != max { // the bound changed: lines beyond it must not survive
		slot.fold()
		slot.max = max
	}
	slot.joined.add(msg, max)
	first = !slot.unsaved
	slot.unsaved = true
	return slot.t, first, true
}

// TakeJoined returns ticket id with the lines joined since it was last
// saved or taken, for a durable store to write, and marks it saved; false
// if there are none (a later change wrote them, or the ticket is gone).
func (m *MemoryTickets) TakeJoined(id string) (*chat.Ticket, bool) {
	slot := m.slot(id)
	if slot == nil {
		return nil, false
	}
	slot.mu.Lock()
	defer slot.mu.Unlock()
	if !slot.unsaved {
		return nil, false
	}
	slot.unsaved = false
	return slot.fold(), true
}

// Update implements Tickets. It does no I/O; an ended ctx refuses it.
func (m *MemoryTickets) Update(ctx context.Context, id string, fn func(t *chat.Ticket) error) (*chat.Ticket, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, _, err := m.update(id, fn, false)
	return t, err
}

// UpdateUnsaved is Update for a change a durable store writes later with
// the ticket's joined lines (TakeJoined) rather than at once: the change
// a chat line makes to its author's ticket. first reports whether the
// ticket had nothing unsaved before, as JoinLine does.
func (m *MemoryTickets) UpdateUnsaved(id string, fn func(t *chat.Ticket) error) (t *chat.Ticket, first bool, err error) {
	return m.update(id, fn, true)
}

// update saves fn's change of ticket id, marked unsaved or not (see
// ticketSlot.unsaved), and reports whether it was saved before.
//
// A change that keeps an active ticket active touches no index: it is
// made under the part's lock for reading and the ticket's own lock, as a
// join is. Any other change takes the part's lock exclusively; fn, which
// only changes its copy, then runs again on the current version.
func (m *MemoryTickets) update(id string, fn func(t *chat.Ticket) error, unsaved bool) (*chat.Ticket, bool, error) {
	slot := m.slot(id)
	if slot == nil {
		return nil, false, ErrTicketNotFound
	}
	pt := m.part(slot.key)
	if t, was, done, err := pt.updateActive(m, slot, fn, unsaved); done {
		return t, !was, err
	}
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if m.slot(id) != slot { // left memory meanwhile
		return nil, false, ErrTicketNotFound
	}
	slot.mu.Lock()
	was := slot.unsaved
	c := *slot.fold()
	slot.mu.Unlock()
	if err := fn(&c); err != nil {
		return nil, false, err
	}
	c.Rev++ // set here: the slot may leave memory meanwhile (a resolved ticket)
	return m.save(pt, &c, true, unsaved), !was, nil
}

// updateActive is update's path for an active ticket that stays active;
// done is false when the change needs the part's lock exclusively.
func (pt *ticketPart) updateActive(m *MemoryTickets, slot *ticketSlot, fn func(t *chat.Ticket) error, unsaved bool) (t *chat.Ticket, was, done bool, err error) {
	pt.mu.RLock()
	defer pt.mu.RUnlock()
	slot.mu.Lock()
	defer slot.mu.Unlock()
	cur := slot.fold()
	if !cur.Active() {
		return nil, false, false, nil
	}
	c := *cur
	if err := fn(&c); err != nil {
		return nil, false, true, err
	}
	if !c.Active() || c.ID != cur.ID || c.Stream != cur.Stream || c.Platform != cur.Platform || c.User.ID != cur.User.ID {
		return nil, false, false, nil // the indexes change
	}
	c.Rev = cur.Rev + 1
	c.ShareHandoff()
	m.countOpen(cur, &c)
	was = slot.unsaved
	slot.t, slot.unsaved = &c, unsaved
	return &c, was, true, nil
}

// Put stores t as it is (Rev kept): for loading saved tickets.
func (m *MemoryTickets) Put(t *chat.Ticket) {
	t = t.Clone()
	pt := m.part(refOf(t.Stream, chat.Subject(t.Platform, t.User.ID)))
	pt.mu.Lock()
	defer pt.mu.Unlock()
	m.save(pt, t, true, false)
}

// save stores t in its ticket's slot (a new one if t is new), as the next
// version (the first, if new) unless keepRev, marked unsaved or not, and
// updates the indexes. pt, the part of t's slot, is locked.
func (m *MemoryTickets) save(pt *ticketPart, t *chat.Ticket, keepRev, unsaved bool) *chat.Ticket {
	t.ShareHandoff()
	ip := m.idPart(t.ID)
	ip.mu.Lock()
	slot := ip.m[t.ID]
	isNew := slot == nil
	if isNew {
		if !keepRev {
			t.Rev = 1
		}
		// Whole before anyone can find it.
		slot = &ticketSlot{key: refOf(t.Stream, chat.Subject(t.Platform, t.User.ID)), t: t, unsaved: unsaved}
		if ip.m == nil {
			ip.m = map[string]*ticketSlot{}
		}
		ip.m[t.ID] = slot
	}
	ip.mu.Unlock()
	wasResolved := false
	var prev *chat.Ticket
	if !isNew {
		slot.mu.Lock()
		prev = slot.t
		wasResolved = !slot.t.Active()
		if !keepRev {
			t.Rev = slot.fold().Rev + 1
		}
		slot.t, slot.unsaved = t, unsaved
		slot.mu.Unlock()
	}
	m.countOpen(prev, t)
	if !t.Active() && !wasResolved && m.MaxResolved > 0 {
		m.resMu.Lock()
		m.resolved = append(m.resolved, t.ID)
		m.evictLocked()
		m.resMu.Unlock()
	}
	if t.Active() {
		pt.set(slot)
	} else {
		pt.drop(slot)
	}
	return t // a value from now on: the next change saves a copy
}

// evictLocked drops the longest resolved tickets beyond MaxResolved from
// the index by id. m.resMu is locked.
func (m *MemoryTickets) evictLocked() {
	for len(m.resolved)-m.resHead > m.MaxResolved {
		id := m.resolved[m.resHead]
		m.resolved[m.resHead] = ""
		m.resHead++
		ip := m.idPart(id)
		ip.mu.Lock()
		if slot := ip.m[id]; slot != nil {
			slot.mu.Lock()
			resolved := !slot.t.Active()
			slot.mu.Unlock()
			if resolved {
				delete(ip.m, id)
			}
		}
		ip.mu.Unlock()
	}
	if m.resHead > len(m.resolved)/2 && m.resHead > 1024 { // compact the FIFO
		m.resolved = append(m.resolved[:0], m.resolved[m.resHead:]...)
		m.resHead = 0
	}
}

// Get implements Tickets.
func (m *MemoryTickets) Get(id string) (*chat.Ticket, bool) {
	slot := m.slot(id)
	if slot == nil {
		return nil, false
	}
	slot.mu.Lock() // a read folds joined lines into a version
	defer slot.mu.Unlock()
	return slot.fold(), true
}

// List implements Tickets.
func (m *MemoryTickets) List(stream, state string) []*chat.Ticket {
	p, _ := m.page(TicketQuery{Stream: stream, State: state})
	return p.Tickets
}

// Page implements Tickets. It folds the lines joined since into the
// tickets of the page only: a page of a big listing costs a pass over the
// index and a sort of its matches, not a new version of every ticket.
func (m *MemoryTickets) Page(ctx context.Context, q TicketQuery) (TicketPage, error) {
	if err := ctx.Err(); err != nil {
		return TicketPage{}, err
	}
	return m.page(q)
}

func (m *MemoryTickets) page(q TicketQuery) (TicketPage, error) {
	var after ticketCursor
	if q.After != "" {
		var ok bool
		if after, ok = parseCursor(q.After); !ok {
			return TicketPage{}, ErrBadCursor
		}
	}
	type match struct {
		t    *chat.Ticket // the version seen: its Created and ID never change
		slot *ticketSlot
	}
	var all []match
	for i := range m.ids {
		ip := &m.ids[i]
		ip.mu.RLock()
		for _, slot := range ip.m {
			slot.mu.Lock()
			if t := slot.t; (q.Stream == "" || t.Stream == q.Stream) && (q.State == "" || t.State == q.State) {
				all = append(all, match{t, slot})
			}
			slot.mu.Unlock()
		}
		ip.mu.RUnlock()
	}
	if q.Hide != nil {
		all = slices.DeleteFunc(all, func(x match) bool { return q.Hide(x.t.ID) })
	}
	page := TicketPage{Total: len(all)}
	if q.After != "" {
		all = slices.DeleteFunc(all, func(x match) bool { return !after.before(x.t) })
	}
	slices.SortFunc(all, func(x, y match) int { return CompareTickets(x.t, y.t) })
	if q.Limit > 0 && len(all) > q.Limit {
		all = all[:q.Limit]
		last := all[len(all)-1].t
		page.Next = ticketCursor{last.Created, last.ID}.String()
	}
	page.Tickets = make([]*chat.Ticket, 0, len(all))
	for _, x := range all {
		x.slot.mu.Lock() // a read folds joined lines into a version
		t := x.slot.fold()
		x.slot.mu.Unlock()
		if q.State == "" || t.State == q.State { // else changed since the pass
			page.Tickets = append(page.Tickets, t)
		}
	}
	return page, nil
}

// countOpen counts the change from prev (nil for a new ticket) to next
// in the open tickets' counts. It runs where the version is swapped, under
// the part's lock (for reading at least) and, on the paths that keep a
// ticket active, the ticket's: a ticket's changes are counted in order.
func (m *MemoryTickets) countOpen(prev, next *chat.Ticket) {
	was, is := prev != nil && prev.State == chat.TicketOpen, next != nil && next.State == chat.TicketOpen
	if was == is && (!was || prev.Stream == next.Stream) {
		return
	}
	if was {
		m.openAll.Add(-1)
		m.streamOpen(prev.Stream).Add(-1)
	}
	if is {
		m.openAll.Add(1)
		m.streamOpen(next.Stream).Add(1)
	}
}

// streamOpen returns stream's open count. The map has an entry for each
// stream that ever had an open ticket (a stream name is bounded by the
// ingest's limits, and streams are few: docs/ARCHITECTURE.md).
func (m *MemoryTickets) streamOpen(stream string) *atomic.Int64 {
	m.openMu.RLock()
	n := m.openBy[stream]
	m.openMu.RUnlock()
	if n != nil {
		return n
	}
	m.openMu.Lock()
	defer m.openMu.Unlock()
	if n = m.openBy[stream]; n == nil {
		if m.openBy == nil {
			m.openBy = map[string]*atomic.Int64{}
		}
		n = new(atomic.Int64)
		m.openBy[stream] = n
	}
	return n
}

// OpenCount returns how many open (unclaimed) tickets stream has; all
// streams' if stream is "".
func (m *MemoryTickets) OpenCount(stream string) int {
	if stream == "" {
		return int(m.openAll.Load())
	}
	m.openMu.RLock()
	defer m.openMu.RUnlock()
	if n := m.openBy[stream]; n != nil {
		return int(n.Load())
	}
	return 0
}

// OpenStreams calls fn with each stream that has open tickets and their
// count.
func (m *MemoryTickets) OpenStreams(fn func(stream string, open int)) {
	m.openMu.RLock()
	defer m.openMu.RUnlock()
	for s, n := range m.openBy {
		if v := n.Load(); v > 0 {
			fn(s, int(v))
		}
	}
}

// OpenTicket is what a sweep needs of an open ticket: Last is the time
// (Unix ms) of its newest line, or of its creation if it has none.
type OpenTicket struct {
	ID, Stream string
	Last       int64
}

// ScanParts is how many batches ScanOpen splits the open tickets into.
const ScanParts = ticketParts

// ScanOpen appends to out the open tickets of one part (0 ≤ part <
// ScanParts) of the index: a sweep visits the parts one at a time, off
// the message path, holding each part's lock for reading only while it
// reads that part (about 1/ScanParts of the active tickets).
func (m *MemoryTickets) ScanOpen(part int, out []OpenTicket) []OpenTicket {
	pt := &m.parts[part&(ticketParts-1)]
	pt.mu.RLock()
	defer pt.mu.RUnlock()
	for _, head := range pt.m {
		for slot := head; slot != nil; slot = slot.next {
			slot.mu.Lock()
			if t := slot.t; t.State == chat.TicketOpen {
				out = append(out, OpenTicket{ID: t.ID, Stream: t.Stream, Last: slot.last()})
			}
			slot.mu.Unlock()
		}
	}
	return out
}

// last returns the time of the ticket's newest line, or of its creation.
// slot.mu is held.
func (slot *ticketSlot) last() int64 {
	last := slot.t.Created
	if n := len(slot.t.Messages); n > 0 {
		last = max(last, slot.t.Messages[n-1].TS)
	}
	if j := &slot.joined; j.n > 0 && j.t > 0 {
		size := int(j.sizes[(j.s0+j.t-1)%ringSizes])
		last = max(last, int64(binary.LittleEndian.Uint64(j.buf[len(j.buf)-size:])))
	}
	return last
}

// CompareTickets orders tickets oldest first, then by id ("h-9" before
// "h-10"): the order of List and of a user's export.
func CompareTickets(x, y *chat.Ticket) int {
	if c := cmp.Compare(x.Created, y.Created); c != 0 {
		return c
	}
	if c := cmp.Compare(len(x.ID), len(y.ID)); c != 0 {
		return c
	}
	return cmp.Compare(x.ID, y.ID)
}

var _ Tickets = (*MemoryTickets)(nil)
