package chat

import (
	"encoding/json"
)

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
