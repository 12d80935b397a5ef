package chat

import (
	"encoding/json"
	"slices"
	"strconv"
	"unsafe"
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
	// HandoffCache is this version's Handoff, made when MemoryTickets stores
	// the version, so that the decisions naming it share one. It sits by
	// the fields a chat line joining the ticket reads (labels, order,
	// issue): one cache line for all of them.
	HandoffCache *Handoff        `json:"-"`
	OrderID      string          `json:"order_id"`
	Issue        string          `json:"issue"`
	Summary      string          `json:"summary"`
	Messages     []TicketMessage `json:"messages"`
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
	if h := t.HandoffCache; h != nil {
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
		h.Enc = h.appendJSON(nil)
		return h
	}
	b := make([]byte, 0, 2*n+64)
	b = append(append(append(append(b, t.ID...), t.OrderID...), t.Issue...), t.Summary...)
	s := unsafe.String(&b[0], n) // b[:n] is never written again
	i, j, k := len(t.ID), len(t.ID)+len(t.OrderID), len(t.ID)+len(t.OrderID)+len(t.Issue)
	h := &Handoff{ID: s[:i], OrderID: s[i:j], Issue: s[j:k], Summary: s[k:]}
	h.Enc = h.appendJSON(b[n:n:cap(b)]) // beyond b[:n]: a longer JSON moves, the strings stay
	return h
}

// shareHandoff makes t's Handoff, unless the one it was copied with still
// fits. t is not yet shared: MemoryTickets calls it before storing t.
func (t *Ticket) ShareHandoff() {
	if h := t.HandoffCache; h != nil && h.ID == t.ID && h.OrderID == t.OrderID && h.Issue == t.Issue && h.Summary == t.Summary {
		return
	}
	t.HandoffCache = t.newHandoff()
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

// appendJSONFloat writes v as encoding/json does for a float64.
func appendJSONFloat(b []byte, v float64) []byte {
	j, err := json.Marshal(v)
	if err != nil {
		return append(b, '0')
	}
	return append(b, j...)
}

// AppendLine appends t as one agent-view line (docs/WIRE.md):
// {"type":"handoff","handoff":{…the ticket…}}.
func (t *Ticket) AppendLine(b []byte) []byte {
	b = append(b, `{"type":"handoff","handoff":`...)
	return append(t.AppendJSON(b), '}')
}
