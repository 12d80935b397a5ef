package classify

import (
	"encoding/json"
	"sync"

	"github.com/cespare/xxhash/v2"
)

// Automated replies and the state they need. The policy (caps, cooldowns,
// approval, opt-out) lives in package automate; the wire types and the
// state interfaces that store implements live here, so that store depends
// on classify only.

// Reply is one automated reply, as sent on the replies view:
//
//	{"type":"reply","id":"r-1","stream":"s","to":["u-7"],"text":"Automated reply: …",
//	 "faq":"shipping","in_reply_to":["m-42"],"ts":1795000000000}
//
// A reply names every user it answers; FAQ is set for an FAQ answer and
// Handoff for the public notice of a handoff.
type Reply struct {
	ID        string   `json:"id"`
	Stream    string   `json:"stream"`
	To        []string `json:"to"`
	Text      string   `json:"text"`
	FAQ       string   `json:"faq,omitempty"`
	Handoff   string   `json:"handoff,omitempty"`
	InReplyTo []string `json:"in_reply_to"`
	TS        int64    `json:"ts"` // the message time it was sent at, Unix ms
	// Asked is the text of the message InReplyTo[0], when the stage
	// knows it: review sampling keeps it, so that a reply a reviewer
	// marks wrong becomes a labeled example of what was asked. Not on
	// the wire.
	Asked string `json:"-"`
}

// AppendLine appends r as one replies-view line: the reply with
// "type":"reply".
func (r *Reply) AppendLine(b []byte) []byte {
	j, _ := json.Marshal(struct {
		Type string `json:"type"`
		*Reply
	}{"reply", r})
	return append(b, j...)
}

// Draft states.
const (
	DraftPending  = "pending"
	DraftApproved = "approved"
	DraftRejected = "rejected"
)

// Draft is a reply to an FAQ entry marked approve: it waits for a
// moderator. While it waits, later askers of the same question join it.
type Draft struct {
	Reply
	Names     []string `json:"names"` // display names of To, for the text
	State     string   `json:"state"` // pending | approved | rejected
	DecidedBy string   `json:"decided_by,omitempty"`
	DecidedAt int64    `json:"decided_at,omitempty"`
	// Asked is the text of the first asker's message (Reply.Asked).
	Asked string `json:"asked,omitempty"`
}

// OptOut is a user's choice about automated replies.
type OptOut struct {
	User string `json:"user"`
	Out  bool   `json:"out"` // true after STOP, false after START
	TS   int64  `json:"ts"`  // when they sent it, Unix ms
}

// OptOuts remembers who sent STOP. Implementations are goroutine-safe;
// OptedOut sits on the reply path and must not do I/O (a durable
// implementation keeps the set in memory and writes behind).
type OptOuts interface {
	OptedOut(user string) bool
	SetOptOut(o OptOut)
}

// MemoryOptOuts is an OptOuts in memory. The zero value is ready.
//
// Users are split over parts, each with its own lock: a STOP on one
// pipeline shard does not hold up the other's checks.
type MemoryOptOuts struct {
	parts [optOutParts]optOutPart
}

const optOutParts = 16

type optOutPart struct {
	mu sync.RWMutex
	m  map[string]OptOut
	_  [64 - 24 - 8]byte // one cache line each
}

func (o *MemoryOptOuts) part(user string) *optOutPart {
	return &o.parts[xxhash.Sum64String(user)&(optOutParts-1)]
}

var _ OptOuts = (*MemoryOptOuts)(nil)

// OptedOut implements OptOuts.
func (o *MemoryOptOuts) OptedOut(user string) bool {
	v, _ := o.Get(user)
	return v.Out
}

// SetOptOut implements OptOuts.
func (o *MemoryOptOuts) SetOptOut(v OptOut) {
	p := o.part(v.User)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]OptOut{}
	}
	p.m[v.User] = v
}

// Before returns the users whose last choice was made before ts (Unix
// ms): the retention purge forgets them.
func (o *MemoryOptOuts) Before(ts int64) []string {
	var out []string
	for i := range o.parts {
		p := &o.parts[i]
		p.mu.RLock()
		for u, v := range p.m {
			if v.TS < ts {
				out = append(out, u)
			}
		}
		p.mu.RUnlock()
	}
	return out
}

// Forget removes the user's choice.
func (o *MemoryOptOuts) Forget(user string) {
	p := o.part(user)
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, user)
}

// Get returns the user's last choice.
func (o *MemoryOptOuts) Get(user string) (OptOut, bool) {
	p := o.part(user)
	p.mu.RLock()
	defer p.mu.RUnlock()
	v, ok := p.m[user]
	return v, ok
}

// IDs hands out the numbers behind reply ("r-N") and ticket ("h-N") ids.
// A number is never handed out twice for a kind; a durable implementation
// keeps that promise across restarts.
type IDs interface {
	Next(kind string) uint64
}

// MemoryIDs counts from 1 per kind, so replay gives the same ids every
// run. The zero value is ready.
type MemoryIDs struct {
	mu sync.Mutex
	n  map[string]uint64
}

var _ IDs = (*MemoryIDs)(nil)

// Next implements IDs.
func (c *MemoryIDs) Next(kind string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]uint64{}
	}
	c.n[kind]++
	return c.n[kind]
}
