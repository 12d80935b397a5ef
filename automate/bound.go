package automate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/handoff"
)

// TicketBounds bound the open (unclaimed) tickets: how many a stream and
// all streams may have, and how long one may wait without a new line from
// its user. A ticket over a bound or past the age is closed — resolved by
// "system", with its reason in the ticket's "reason" — by the sweeper
// (SweepTickets, run by app on its clock), off the message path. Claimed tickets are
// never closed by a bound or an age and do not count toward the bounds:
// an agent has them (README.md, handoff.max_open).
type TicketBounds struct {
	// MaxOpenPerStream is the most open tickets a stream keeps; over it,
	// the stream's longest idle open tickets close first. Zero means
	// DefaultMaxOpenPerStream; negative means no bound.
	MaxOpenPerStream int
	// MaxOpen is the most open tickets of all streams; over it, the
	// longest idle open tickets of any stream close first. Zero means
	// DefaultMaxOpen; negative means no bound.
	MaxOpen int
	// IdleClose closes an open ticket whose newest line (or its opening)
	// is older than this. Zero means DefaultIdleClose; negative means
	// never.
	IdleClose time.Duration
}

// Defaults of TicketBounds: an open ticket costs about 1.5 KB of memory
// with its ten lines (docs/PERFORMANCE.md), and its close a write to the
// store. 10,000 waiting requests are days of work for a desk of agents,
// so a stream keeps that many (15 MB at most) and its longest idle
// beyond them close; all streams together keep 50,000 (75 MB).
const (
	DefaultMaxOpenPerStream = 10_000
	DefaultMaxOpen          = 50_000
	DefaultIdleClose        = 2 * time.Hour
)

// SystemActor is who the sweeper's closes are done and audited by.
const SystemActor = "system"

func (b TicketBounds) withDefaults() TicketBounds {
	if b.MaxOpenPerStream == 0 {
		b.MaxOpenPerStream = DefaultMaxOpenPerStream
	}
	if b.MaxOpen == 0 {
		b.MaxOpen = DefaultMaxOpen
	}
	if b.IdleClose == 0 {
		b.IdleClose = DefaultIdleClose
	}
	if b.MaxOpenPerStream < 0 {
		b.MaxOpenPerStream = math.MaxInt
	}
	if b.MaxOpen < 0 {
		b.MaxOpen = math.MaxInt
	}
	return b
}

// openTickets is a ticket store that counts and scans its open tickets
// (handoff.MemoryTickets, store.Automation). Without it the stage bounds
// nothing.
type openTickets interface {
	OpenCount(stream string) int
	OpenStreams(fn func(stream string, open int))
	ScanOpen(part int, out []handoff.OpenTicket) []handoff.OpenTicket
}

// OpenTickets returns the open tickets of stream (all streams if ""),
// for a gauge; 0 if the ticket store does not count them.
func (s *Stage) OpenTickets(stream string) int {
	if ot, ok := s.tickets.(openTickets); ok {
		return ot.OpenCount(stream)
	}
	return 0
}

// OpenStreams calls fn with each stream that has open tickets.
func (s *Stage) OpenStreams(fn func(stream string, open int)) {
	if ot, ok := s.tickets.(openTickets); ok {
		ot.OpenStreams(fn)
	}
}

// ClosedTickets returns how many tickets the sweeper closed for their
// age and for a bound, since the start.
func (s *Stage) ClosedTickets() (byAge, byBound int64) {
	return s.closedAge.Load(), s.closedBound.Load()
}

// opened is called on the message path for each new ticket: a stream
// over its bound wakes the sweeper at once (a counter read, and a send
// that never blocks), rather than at its next tick.
func (s *Stage) opened(t *chat.Ticket) {
	ot, ok := s.tickets.(openTickets)
	if !ok || ot.OpenCount(t.Stream) <= s.bounds.MaxOpenPerStream && ot.OpenCount("") <= s.bounds.MaxOpen {
		return
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// clockStep is how far Clock may lag the newest message.
const clockStep = 1000

// advance moves the clock to ts if that is later.
func (s *Stage) advance(ts int64) {
	for {
		c := s.clock.Load()
		if ts <= c || s.clock.CompareAndSwap(c, ts) {
			return
		}
	}
}

// Clock returns the newest message time the stage has seen (Unix ms, up
// to a second behind), 0 before the first: the now of SweepTickets.
// Tickets age in message time, as the rest of the stage decides
// (docs/ARCHITECTURE.md): a replay or a bench of old chat ages them as
// the show did, and a show with no chat ages none.
func (s *Stage) Clock() int64 { return s.clock.Load() }

// sweepBatch is the most tickets one sweep closes: a backlog (a restart
// after hours, a burst over a bound) is closed over a few sweeps, its
// writes and audit entries in steps, not all at once.
const sweepBatch = 4096

// Kicked receives when a new ticket took a stream (or all) over its
// bound: the sweeper's owner (app) then runs SweepTickets sooner than its
// next tick. The stage reads no clock of its own: time is the messages'
// (docs/ARCHITECTURE.md), and the sweeper's owner brings the wall clock.
func (s *Stage) Kicked() <-chan struct{} { return s.kick }

// SweepTickets closes, at now (Unix ms, Clock on a server), the open tickets idle for
// IdleClose, then the longest idle open tickets of each stream over
// MaxOpenPerStream and of all streams over MaxOpen, and returns them. It
// visits the open tickets one part of the index at a time
// (handoff.ScanParts), never all under one lock, and closes at most
// sweepBatch; it is not on the message path. Each close is Resolve's: the store writes it, the agent
// view gets it, and Options.OnClose (the CRM webhook, the audit log) is
// told of it.
func (s *Stage) SweepTickets(now int64) []*chat.Ticket {
	ot, ok := s.tickets.(openTickets)
	if !ok {
		return nil
	}
	s.sweepMu.Lock()
	defer s.sweepMu.Unlock()
	b := s.bounds
	idleBefore := int64(math.MinInt64)
	if b.IdleClose > 0 {
		idleBefore = now - b.IdleClose.Milliseconds()
	}
	overStream := map[string]int{} // stream → open tickets over its bound
	ot.OpenStreams(func(stream string, n int) {
		if n > b.MaxOpenPerStream {
			overStream[stream] = n
		}
	})
	overAll := ot.OpenCount("") > b.MaxOpen
	if b.IdleClose <= 0 && len(overStream) == 0 && !overAll {
		return nil
	}
	var closed []*chat.Ticket
	// The scan's buffers are kept from sweep to sweep (under sweepMu): a
	// sweep allocates nothing per open ticket.
	buf, cands := s.scanBuf[:0], s.cands[:0]
	defer func() {
		clear(cands) // no strings kept alive
		s.scanBuf, s.cands = buf[:0], cands[:0]
	}()
	idleReason := "idle: no message for " + shortDuration(b.IdleClose) + " (handoff.idle_close)"
	for part := range handoff.ScanParts {
		buf = ot.ScanOpen(part, buf[:0])
		for _, o := range buf {
			if o.Last <= idleBefore && len(closed) < sweepBatch {
				if t := s.closeOpen(o.ID, idleReason, now, idleBefore); t != nil {
					s.closedAge.Add(1)
					closed = append(closed, t)
				}
				continue
			}
			if overAll || overStream[o.Stream] > 0 {
				cands = append(cands, o)
			}
		}
	}
	if len(cands) == 0 {
		return closed
	}
	// The bounds, counted again after the idle closes: the longest idle
	// close first.
	slices.SortFunc(cands, func(x, y handoff.OpenTicket) int {
		return cmp.Or(cmp.Compare(x.Last, y.Last), cmp.Compare(x.ID, y.ID))
	})
	for stream := range overStream {
		overStream[stream] = ot.OpenCount(stream) - b.MaxOpenPerStream
	}
	reasons := map[string]string{} // one per stream
	for i, o := range cands {
		if len(closed) >= sweepBatch {
			return closed
		}
		if overStream[o.Stream] <= 0 {
			continue
		}
		reason, ok := reasons[o.Stream]
		if !ok {
			reason = fmt.Sprintf("bound: stream %q had more than %d open tickets (handoff.max_open_per_stream); the longest idle close first", o.Stream, b.MaxOpenPerStream)
			reasons[o.Stream] = reason
		}
		if t := s.closeOpen(o.ID, reason, now, math.MaxInt64); t != nil {
			s.closedBound.Add(1)
			closed = append(closed, t)
			overStream[o.Stream]--
			cands[i].ID = "" // closed
		}
	}
	over := ot.OpenCount("") - b.MaxOpen
	reason := fmt.Sprintf("bound: more than %d open tickets in all streams (handoff.max_open); the longest idle close first", b.MaxOpen)
	for _, o := range cands {
		if over <= 0 || len(closed) >= sweepBatch {
			break
		}
		if o.ID == "" {
			continue
		}
		if t := s.closeOpen(o.ID, reason, now, math.MaxInt64); t != nil {
			s.closedBound.Add(1)
			closed = append(closed, t)
			over--
		}
	}
	return closed
}

// closeOpen resolves ticket id at now, as "system", with reason, if it
// is still open and its newest line is at or before idleBefore; nil if it
// is not (claimed, resolved, or a line came meanwhile). It is Resolve
// without the rating request (no agent spoke to the user).
func (s *Stage) closeOpen(id, reason string, now, idleBefore int64) *chat.Ticket {
	t, err := s.tickets.Update(onMessagePath, id, func(t *chat.Ticket) error {
		if t.State != chat.TicketOpen || lastLine(t) > idleBefore {
			return handoff.ErrTicketState
		}
		if err := handoff.Resolve(t, SystemActor, now); err != nil { // the lifecycle's rule, as an agent's resolve
			return err
		}
		t.SetOutcome(func(o *chat.Outcome) { o.Reason = reason })
		return nil
	})
	if err != nil {
		return nil
	}
	s.out.TicketChanged(t, false)
	if s.onClose != nil {
		s.onClose(t)
	}
	return t
}

// lastLine is the time of t's newest line, or of its opening.
func lastLine(t *chat.Ticket) int64 {
	last := t.Created
	if n := len(t.Messages); n > 0 {
		last = max(last, t.Messages[n-1].TS)
	}
	return last
}

// shortDuration writes d as people do: "2h", "90m", "1h30m".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
