package classify

import (
	"cmp"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/cespare/xxhash/v2"
)

// Ticket states.
const (
	TicketOpen     = "open"
	TicketClaimed  = "claimed"
	TicketResolved = "resolved"
)

// TicketMessage is one of the user's messages kept on a ticket.
type TicketMessage struct {
	ID   string `json:"id"`
	Text string `json:"text"`
	TS   int64  `json:"ts"`
}

// KeepMessage returns m's id, text and time for keeping in a ticket or a
// user's recent messages. Its strings get one allocation of their own:
// a decoded message's strings point into the line it was decoded from,
// and a ticket that kept them would keep every whole line alive.
func KeepMessage(m *Message) TicketMessage {
	n := len(m.ID) + len(m.Text)
	if n == 0 {
		return TicketMessage{TS: m.TS}
	}
	b := make([]byte, n)
	copy(b, m.ID)
	copy(b[len(m.ID):], m.Text)
	s := unsafe.String(&b[0], n) // b is never written again
	return TicketMessage{ID: s[:len(m.ID)], Text: s[len(m.ID):], TS: m.TS}
}

// KeepUser returns stream and u with strings of their own, in one
// allocation, for the same reason as KeepMessage: a ticket opened from a
// decoded message would otherwise keep the message's whole frame alive.
func KeepUser(stream string, u User) (string, User) {
	n := len(stream) + len(u.ID) + len(u.Name)
	if n == 0 {
		return "", User{}
	}
	b := make([]byte, 0, n)
	b = append(append(append(b, stream...), u.ID...), u.Name...)
	s := unsafe.String(&b[0], n) // b is never written again
	i, j := len(stream), len(stream)+len(u.ID)
	return s[:i], User{ID: s[i:j], Name: s[j:]}
}

// Ticket is a private handoff to a human agent, in the JSON the agent
// inbox, the agent view and the CRM webhook share:
//
//	{"id":"h-9","stream":"s","user":{"id":"u-7","name":"asha"},"labels":["support","agent_request"],
//	 "order_id":"5521","issue":"refund","summary":"…","messages":[{"id":"m-1","text":"…","ts":…}],
//	 "created":…,"state":"open","claimed_by":"name","claimed_at":…,"resolved_at":…}
//
// Outcome is how a ticket ended for the customer: Rating is the user's
// answer to the satisfaction question (1–5), RatedAt when it came,
// RatingAsk when it was asked; Converted marks a sale the agent closed, of
// OrderValue (in the shop's currency).
type Outcome struct {
	Rating     int     `json:"rating,omitempty"`
	RatedAt    int64   `json:"rated_at,omitempty"`
	RatingAsk  int64   `json:"rating_asked_at,omitempty"`
	Converted  bool    `json:"converted,omitempty"`
	OrderValue float64 `json:"order_value,omitempty"`
}

// Routing is a ticket's priority ("high" for a time-critical case,
// tagged "urgent"; "normal" otherwise) and tags.
type Routing struct {
	Priority string   `json:"priority,omitempty"`
	Tags     []string `json:"tags,omitempty"`
}

// PriorityOf returns the ticket's priority: "normal" unless set.
func (t *Ticket) PriorityOf() string {
	if t.Routing == nil || t.Routing.Priority == "" {
		return "normal"
	}
	return t.Routing.Priority
}

// TagsOf returns the ticket's tags.
func (t *Ticket) TagsOf() []string {
	if t.Routing == nil {
		return nil
	}
	return t.Routing.Tags
}

// MarshalJSON is AppendJSON: the priority is written even when Routing
// is nil.
func (t *Ticket) MarshalJSON() ([]byte, error) { return t.AppendJSON(nil), nil }

// GetOutcome returns the ticket's outcome, zero when there is none.
func (t *Ticket) GetOutcome() Outcome {
	if t.Outcome == nil {
		return Outcome{}
	}
	return *t.Outcome
}

// SetOutcome changes the outcome of this version of the ticket alone
// (versions share the pointer, so it is replaced, never written through).
func (t *Ticket) SetOutcome(change func(o *Outcome)) {
	o := t.GetOutcome()
	change(&o)
	t.Outcome = &o
}

type Ticket struct {
	ID     string `json:"id"`
	Stream string `json:"stream"`
	// Platform is the user's platform, when the messages named one: a
	// user's ticket is theirs on that platform (Twitch user 42 is not
	// YouTube user 42).
	Platform string `json:"platform,omitempty"`
	User     User   `json:"user"`
	Labels   Labels `json:"labels"`
	// handoff is this version's Handoff, made when MemoryTickets stores
	// the version, so that the decisions naming it share one. It sits by
	// the fields a chat line joining the ticket reads (labels, order,
	// issue): one cache line for all of them.
	handoff  *Handoff
	OrderID  string          `json:"order_id"`
	Issue    string          `json:"issue"`
	Summary  string          `json:"summary"`
	Messages []TicketMessage `json:"messages"`
	// Pinned is how many of the first Messages are the ones that opened
	// the ticket (the request and what the user said just before): they
	// stay, however much the user chats after.
	Pinned     int    `json:"pinned,omitempty"`
	Created    int64  `json:"created"`
	State      string `json:"state"`
	ClaimedBy  string `json:"claimed_by,omitempty"`
	ClaimedAt  int64  `json:"claimed_at,omitempty"`
	ResolvedAt int64  `json:"resolved_at,omitempty"`
	// Noticed is set once the public notice went out: at most one per ticket.
	Noticed bool `json:"noticed,omitempty"`
	// Routing is nil for an ordinary ticket (priority normal, no tags),
	// as most are; shared between versions like Outcome: replace it,
	// never write through it.
	*Routing
	// Outcome is nil until a rating is asked for or the ticket is marked
	// converted: most tickets never are, and a pointer keeps the open
	// tickets' memory as it was (TestMemoryMillionUsers). It is shared
	// between versions: change it only through SetOutcome.
	*Outcome
	// Rev counts the changes of the ticket, so that writers behind can
	// drop a stale version.
	Rev uint64 `json:"rev"`
}

// HandoffRef returns what a decision says about t. It is shared by every
// decision about this version of t: read it, never change it.
func (t *Ticket) HandoffRef() *Handoff {
	if h := t.handoff; h != nil {
		return h
	}
	return t.newHandoff()
}

// newHandoff makes t's Handoff with its strings and its JSON in one
// block: the decisions about a ticket read it, not the ticket.
func (t *Ticket) newHandoff() *Handoff {
	n := len(t.ID) + len(t.OrderID) + len(t.Issue) + len(t.Summary)
	if n == 0 {
		h := &Handoff{}
		h.enc = h.appendJSON(nil)
		return h
	}
	b := make([]byte, 0, 2*n+64)
	b = append(append(append(append(b, t.ID...), t.OrderID...), t.Issue...), t.Summary...)
	s := unsafe.String(&b[0], n) // b[:n] is never written again
	i, j, k := len(t.ID), len(t.ID)+len(t.OrderID), len(t.ID)+len(t.OrderID)+len(t.Issue)
	h := &Handoff{ID: s[:i], OrderID: s[i:j], Issue: s[j:k], Summary: s[k:]}
	h.enc = h.appendJSON(b[n:n:cap(b)]) // beyond b[:n]: a longer JSON moves, the strings stay
	return h
}

// shareHandoff makes t's Handoff, unless the one it was copied with still
// fits. t is not yet shared: MemoryTickets calls it before storing t.
func (t *Ticket) shareHandoff() {
	if h := t.handoff; h != nil && h.ID == t.ID && h.OrderID == t.OrderID && h.Issue == t.Issue && h.Summary == t.Summary {
		return
	}
	t.handoff = t.newHandoff()
}

// AppendJSON appends t as the JSON that encoding/json writes for it (the
// same fields, omissions and values), without reflection: the store
// encodes every new and changed ticket, thousands a second under load.
// FuzzTicketAppendJSON checks it against encoding/json.
func (t *Ticket) AppendJSON(b []byte) []byte {
	b = appendHead(b, t.ID, t.Stream, t.Platform, "", &t.User)
	if len(t.User.Badges) > 0 {
		b = append(b, `,"badges":[`...)
		for i, x := range t.User.Badges {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, x)
		}
		b = append(b, ']')
	}
	b = append(b, `},"labels":`...)
	b = t.Labels.AppendJSON(b)
	b = append(b, `,"order_id":`...)
	b = appendString(b, t.OrderID)
	b = append(b, `,"issue":`...)
	b = appendString(b, t.Issue)
	b = append(b, `,"summary":`...)
	b = appendString(b, t.Summary)
	b = append(b, `,"messages":`...)
	if t.Messages == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range t.Messages {
			m := &t.Messages[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"id":`...)
			b = appendString(b, m.ID)
			b = append(b, `,"text":`...)
			b = appendString(b, m.Text)
			b = append(b, `,"ts":`...)
			b = strconv.AppendInt(b, m.TS, 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if t.Pinned != 0 {
		b = append(b, `,"pinned":`...)
		b = strconv.AppendInt(b, int64(t.Pinned), 10)
	}
	b = append(b, `,"created":`...)
	b = strconv.AppendInt(b, t.Created, 10)
	b = append(b, `,"state":`...)
	b = appendString(b, t.State)
	if t.ClaimedBy != "" {
		b = append(b, `,"claimed_by":`...)
		b = appendString(b, t.ClaimedBy)
	}
	if t.ClaimedAt != 0 {
		b = append(b, `,"claimed_at":`...)
		b = strconv.AppendInt(b, t.ClaimedAt, 10)
	}
	if t.ResolvedAt != 0 {
		b = append(b, `,"resolved_at":`...)
		b = strconv.AppendInt(b, t.ResolvedAt, 10)
	}
	if t.Noticed {
		b = append(b, `,"noticed":true`...)
	}
	b = append(b, `,"priority":`...)
	b = appendString(b, t.PriorityOf())
	if tags := t.TagsOf(); len(tags) > 0 {
		b = append(b, `,"tags":[`...)
		for i, x := range tags {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, x)
		}
		b = append(b, ']')
	}
	o := t.GetOutcome()
	if o.Rating != 0 {
		b = append(b, `,"rating":`...)
		b = strconv.AppendInt(b, int64(o.Rating), 10)
	}
	if o.RatedAt != 0 {
		b = append(b, `,"rated_at":`...)
		b = strconv.AppendInt(b, o.RatedAt, 10)
	}
	if o.RatingAsk != 0 {
		b = append(b, `,"rating_asked_at":`...)
		b = strconv.AppendInt(b, o.RatingAsk, 10)
	}
	if o.Converted {
		b = append(b, `,"converted":true`...)
	}
	if o.OrderValue != 0 {
		b = append(b, `,"order_value":`...)
		b = appendJSONFloat(b, o.OrderValue)
	}
	b = append(b, `,"rev":`...)
	b = strconv.AppendUint(b, t.Rev, 10)
	return append(b, '}')
}

// Active reports whether the ticket still waits for or has an agent.
func (t *Ticket) Active() bool { return t.State == TicketOpen || t.State == TicketClaimed }

// Clone returns a deep copy.
func (t *Ticket) Clone() *Ticket {
	c := *t
	c.Messages = slices.Clone(t.Messages)
	c.User.Badges = slices.Clone(t.User.Badges)
	if t.Routing != nil {
		r := *t.Routing
		r.Tags = slices.Clone(r.Tags)
		c.Routing = &r
	}
	return &c
}

// Bounds of a ticket's messages.
const (
	// TicketMaxPinned is the most opening messages a ticket pins.
	TicketMaxPinned = 5
	// TicketRecentBytes bounds the text of the messages kept after the
	// pinned ones: an agent needs the latest context, not a transcript.
	TicketRecentBytes = 4096
)

// TrimMessages bounds a ticket's messages: the first pinned stay, and of
// the rest the newest, at most max messages in all (pinned ones count;
// at least one recent is kept) and TicketRecentBytes of text. It returns
// msgs when nothing goes, else a new slice: msgs may be shared by
// another version of the ticket.
func TrimMessages(msgs []TicketMessage, pinned, limit int) []TicketMessage {
	pinned = min(pinned, len(msgs))
	keep := len(msgs) - pinned // recent ones kept
	if room := limit - pinned; keep > room {
		keep = room
	}
	keep = max(keep, min(1, len(msgs)-pinned))
	size, n := 0, 0
	for i := len(msgs) - 1; i >= pinned && n < keep; i-- {
		size += len(msgs[i].Text)
		if size > TicketRecentBytes && n > 0 {
			break
		}
		n++
	}
	if pinned+n == len(msgs) {
		return msgs
	}
	out := make([]TicketMessage, 0, pinned+n)
	out = append(out, msgs[:pinned]...)
	return append(out, msgs[len(msgs)-n:]...)
}

// Errors of ticket transitions.
var (
	ErrTicketNotFound = errors.New("handoff: no such ticket")
	ErrTicketState    = errors.New("handoff: ticket is not in a state that allows this")
)

// A TicketChange changes a user's active ticket. Upsert calls Apply with a
// copy of the ticket, or nil if there is none, under its lock (Apply must
// not block); Apply returns the ticket to save, or nil to save nothing. It
// is an interface, not a func, so that the message path can pass a value
// it reuses instead of allocating a closure per message.
type TicketChange interface {
	Apply(cur *Ticket) *Ticket
}

// ChangeFunc adapts a function to a TicketChange.
type ChangeFunc func(cur *Ticket) *Ticket

// Apply implements TicketChange.
func (f ChangeFunc) Apply(cur *Ticket) *Ticket { return f(cur) }

// Tickets holds handoff tickets. Implementations are goroutine-safe, and
// run changes under their lock (a change must not block). Join, Upsert
// and Update sit on the message path: they must not do I/O (a durable
// implementation keeps tickets in memory and writes behind).
//
// Tickets are values once saved: the *Ticket that Join, Upsert, Update,
// Get and List return is never changed afterwards (a change saves a new one), so
// callers may keep and read it from any goroutine but must not modify it.
// fn gets a shallow copy: it may set fields and append to Messages (or
// reslice it), never change an element of Messages or Badges in place.
type Tickets interface {
	// HasActive reports whether user has an open or claimed ticket in stream.
	HasActive(stream, user string) bool
	// Upsert applies c to a copy of user's active ticket in stream, or to
	// nil; a ticket c returns is saved (Rev incremented) and returned,
	// created reporting whether it is new: one allocation, no deep copy.
	Upsert(stream, user string, c TicketChange) (saved *Ticket, created bool)
	// Join adds m as a chat line to its author's active ticket in m's
	// stream, keeping the ticket's last max lines, and returns the
	// ticket, or false if the author has none. The line is on the ticket
	// for every later read, but the returned version may not show it yet:
	// a join is the common case on the message path (every line of a
	// viewer with an open ticket), so it builds no new version of the
	// ticket, only reads do.
	Join(m *Message, max int) (*Ticket, bool)
	// Update calls fn with a copy of ticket id and saves it unless fn
	// returns an error.
	Update(id string, fn func(t *Ticket) error) (*Ticket, error)
	// Get returns ticket id.
	Get(id string) (*Ticket, bool)
	// List returns the tickets of stream (all streams if empty) in state
	// (all states if empty), oldest first.
	List(stream, state string) []*Ticket
	// Page returns one page of List's tickets (see TicketQuery).
	Page(q TicketQuery) (TicketPage, error)
}

// TicketQuery asks for one page of tickets, in List's order (oldest
// first): an agent's inbox on a big show has tens of thousands of open
// tickets, too many for one answer.
type TicketQuery struct {
	Stream string // "" for every stream
	State  string // "" for every state
	// After is the Next of the page before, or "" for the first page.
	After string
	// Limit is the most tickets on the page; zero or less for no limit.
	Limit int
	// Hide, if not nil, leaves out the tickets it returns true for, as
	// if they did not exist. It is called without any lock held.
	Hide func(id string) bool
}

// TicketPage is one page of tickets.
type TicketPage struct {
	Tickets []*Ticket
	// Total is how many tickets match the query's Stream and State, on
	// every page.
	Total int
	// Next is the After of the next page; "" on the last.
	Next string
}

// ErrBadCursor is returned for a TicketQuery.After that no page gave.
var ErrBadCursor = errors.New("after: not a cursor from an earlier page")

// ticketCursor is where a page ends: its last ticket's place in List's
// order (CompareTickets), written "created.id".
type ticketCursor struct {
	created int64
	id      string
}

func (c ticketCursor) String() string { return strconv.FormatInt(c.created, 10) + "." + c.id }

func parseCursor(s string) (c ticketCursor, ok bool) {
	created, id, found := strings.Cut(s, ".")
	n, err := strconv.ParseInt(created, 10, 64)
	if !found || err != nil || id == "" {
		return ticketCursor{}, false
	}
	return ticketCursor{n, id}, true
}

// before reports whether c sorts before t in List's order.
func (c ticketCursor) before(t *Ticket) bool {
	return CompareTickets(&Ticket{Created: c.created, ID: c.id}, t) < 0
}

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
	t  *Ticket
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
func (slot *ticketSlot) fold() *Ticket {
	j := &slot.joined
	if j.n == 0 {
		return slot.t
	}
	c := *slot.t
	pinned := min(c.Pinned, len(c.Messages))
	old := c.Messages[max(pinned, len(c.Messages)+j.n-slot.max):]
	all := append(make([]TicketMessage, 0, pinned+len(old)+j.n), c.Messages[:pinned]...)
	c.Messages = TrimMessages(j.appendTo(append(all, old...)), c.Pinned, slot.max)
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
	return userRef{UserKey(stream, user), d.Sum64()}
}

var _ Tickets = (*MemoryTickets)(nil)

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
func (m *MemoryTickets) Upsert(stream, user string, c TicketChange) (*Ticket, bool) {
	ref := refOf(stream, user)
	pt := m.part(ref)
	t, active, done := pt.upsertActive(ref, c)
	if done {
		return t, false
	}
	var built *Ticket
	if !active {
		if built = c.Apply(nil); built == nil {
			return nil, false
		}
		if refOf(built.Stream, Subject(built.Platform, built.User.ID)) != ref {
			panic("classify: a TicketChange opened a ticket for another user than Upsert's")
		}
		built.shareHandoff()
	}
	pt.mu.Lock()
	defer pt.mu.Unlock()
	var prev, cur *Ticket
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
		next.shareHandoff()
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
func (pt *ticketPart) upsertActive(ref userRef, c TicketChange) (t *Ticket, active, done bool) {
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
		next.shareHandoff()
		slot.t, slot.unsaved = next, false
		return next, true, true
	}
	return nil, true, false
}

// Join implements Tickets.
func (m *MemoryTickets) Join(msg *Message, max int) (*Ticket, bool) {
	t, _, ok := m.JoinLine(msg, max)
	return t, ok
}

// JoinLine is Join that also reports whether this is the first line
// joined since the ticket was last saved or taken with TakeJoined.
//
// A join takes its part's lock only for reading, and the ticket's own
// lock for the rest.
func (m *MemoryTickets) JoinLine(msg *Message, max int) (t *Ticket, first, ok bool) {
	max = cmp.Or(max, 1)
	ref := refOf(msg.Stream, Subject(msg.Platform, msg.User.ID))
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
func (m *MemoryTickets) TakeJoined(id string) (*Ticket, bool) {
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

// Update implements Tickets.
func (m *MemoryTickets) Update(id string, fn func(t *Ticket) error) (*Ticket, error) {
	t, _, err := m.update(id, fn, false)
	return t, err
}

// UpdateUnsaved is Update for a change a durable store writes later with
// the ticket's joined lines (TakeJoined) rather than at once: the change
// a chat line makes to its author's ticket. first reports whether the
// ticket had nothing unsaved before, as JoinLine does.
func (m *MemoryTickets) UpdateUnsaved(id string, fn func(t *Ticket) error) (t *Ticket, first bool, err error) {
	return m.update(id, fn, true)
}

// update saves fn's change of ticket id, marked unsaved or not (see
// ticketSlot.unsaved), and reports whether it was saved before.
//
// A change that keeps an active ticket active touches no index: it is
// made under the part's lock for reading and the ticket's own lock, as a
// join is. Any other change takes the part's lock exclusively; fn, which
// only changes its copy, then runs again on the current version.
func (m *MemoryTickets) update(id string, fn func(t *Ticket) error, unsaved bool) (*Ticket, bool, error) {
	slot := m.slot(id)
	if slot == nil {
		return nil, false, ErrTicketNotFound
	}
	pt := m.part(slot.key)
	if t, was, done, err := pt.updateActive(slot, fn, unsaved); done {
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
func (pt *ticketPart) updateActive(slot *ticketSlot, fn func(t *Ticket) error, unsaved bool) (t *Ticket, was, done bool, err error) {
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
	c.shareHandoff()
	was = slot.unsaved
	slot.t, slot.unsaved = &c, unsaved
	return &c, was, true, nil
}

// Put stores t as it is (Rev kept): for loading saved tickets.
func (m *MemoryTickets) Put(t *Ticket) {
	t = t.Clone()
	pt := m.part(refOf(t.Stream, Subject(t.Platform, t.User.ID)))
	pt.mu.Lock()
	defer pt.mu.Unlock()
	m.save(pt, t, true, false)
}

// save stores t in its ticket's slot (a new one if t is new), as the next
// version (the first, if new) unless keepRev, marked unsaved or not, and
// updates the indexes. pt, the part of t's slot, is locked.
func (m *MemoryTickets) save(pt *ticketPart, t *Ticket, keepRev, unsaved bool) *Ticket {
	t.shareHandoff()
	ip := m.idPart(t.ID)
	ip.mu.Lock()
	slot := ip.m[t.ID]
	isNew := slot == nil
	if isNew {
		if !keepRev {
			t.Rev = 1
		}
		// Whole before anyone can find it.
		slot = &ticketSlot{key: refOf(t.Stream, Subject(t.Platform, t.User.ID)), t: t, unsaved: unsaved}
		if ip.m == nil {
			ip.m = map[string]*ticketSlot{}
		}
		ip.m[t.ID] = slot
	}
	ip.mu.Unlock()
	wasResolved := false
	if !isNew {
		slot.mu.Lock()
		wasResolved = !slot.t.Active()
		if !keepRev {
			t.Rev = slot.fold().Rev + 1
		}
		slot.t, slot.unsaved = t, unsaved
		slot.mu.Unlock()
	}
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
func (m *MemoryTickets) Get(id string) (*Ticket, bool) {
	slot := m.slot(id)
	if slot == nil {
		return nil, false
	}
	slot.mu.Lock() // a read folds joined lines into a version
	defer slot.mu.Unlock()
	return slot.fold(), true
}

// List implements Tickets.
func (m *MemoryTickets) List(stream, state string) []*Ticket {
	p, _ := m.Page(TicketQuery{Stream: stream, State: state})
	return p.Tickets
}

// Page implements Tickets. It folds the lines joined since into the
// tickets of the page only: a page of a big listing costs a pass over the
// index and a sort of its matches, not a new version of every ticket.
func (m *MemoryTickets) Page(q TicketQuery) (TicketPage, error) {
	var after ticketCursor
	if q.After != "" {
		var ok bool
		if after, ok = parseCursor(q.After); !ok {
			return TicketPage{}, ErrBadCursor
		}
	}
	type match struct {
		t    *Ticket // the version seen: its Created and ID never change
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
	page.Tickets = make([]*Ticket, 0, len(all))
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

// appendJSONFloat writes v as encoding/json does for a float64.
func appendJSONFloat(b []byte, v float64) []byte {
	j, err := json.Marshal(v)
	if err != nil {
		return append(b, '0')
	}
	return append(b, j...)
}

// CompareTickets orders tickets oldest first, then by id ("h-9" before
// "h-10"): the order of List and of a user's export.
func CompareTickets(x, y *Ticket) int {
	if c := cmp.Compare(x.Created, y.Created); c != 0 {
		return c
	}
	if c := cmp.Compare(len(x.ID), len(y.ID)); c != 0 {
		return c
	}
	return cmp.Compare(x.ID, y.ID)
}
