package automate

import (
	"strings"
	"sync"

	"github.com/cespare/xxhash/v2"
	"github.com/livemod/livemod/classify"
)

// handoff opens the user's ticket in the stream, or adds the message to
// the one that is open, and sends the public notice once per ticket.
func (s *Stage) handoff(m *classify.Message, d *classify.Decision, wants bool, fx *effects) {
	var (
		orderID string
		recent  []classify.TicketMessage
	)
	if wants {
		orderID = classify.ExtractOrderID(m.Text)
		recent = s.recent.get(m.Stream, m.User.ID)
	}
	issue := issueOf(d)
	labels := d.Labels & ticketLabels // not d itself: the closure must not make d escape
	t, created := s.tickets.Upsert(m.Stream, m.User.ID, func(cur *classify.Ticket) *classify.Ticket {
		if cur == nil {
			if !wants {
				return nil
			}
			t := &classify.Ticket{
				ID:       s.nextID("h"),
				Stream:   m.Stream,
				User:     classify.User{ID: m.User.ID, Name: m.User.Name},
				Labels:   labels,
				OrderID:  orderID,
				Issue:    issue,
				Messages: recent,
				Created:  m.TS,
				State:    classify.TicketOpen,
			}
			t.Summary = s.summarize(t)
			return t
		}
		cur.Messages = append(cur.Messages, classify.TicketMessage{ID: m.ID, Text: m.Text, TS: m.TS})
		if n := len(cur.Messages); n > ticketMessagesMax {
			cur.Messages = cur.Messages[n-ticketMessagesMax:]
		}
		cur.Labels |= labels
		if cur.OrderID == "" && orderID != "" {
			cur.OrderID = orderID
		}
		if (cur.Issue == "" || cur.Issue == issueAgent || cur.Issue == issuePurchase) && wants && issue != issueAgent && issue != issuePurchase {
			cur.Issue = issue // a concrete support issue beats "agent_request"
		}
		cur.Summary = s.summarize(cur)
		return cur
	})
	if t == nil {
		return
	}
	d.Handoff = &classify.Handoff{ID: t.ID, OrderID: t.OrderID, Issue: t.Issue, Summary: t.Summary}
	if created {
		d.AddReason("handoff.open", t.ID+": "+t.Summary)
	} else {
		d.AddReason("handoff.join", t.ID)
	}
	if !t.Noticed && s.notice != "" && d.Action == classify.Allow {
		me := []asker{{user: m.User.ID, name: m.User.Name, msg: m.ID, ts: m.TS}}
		if ok, rule, detail := s.mayReply(m.User.ID, m.TS); !ok {
			d.AddReason(rule, "handoff notice: "+detail)
		} else {
			f := classify.TemplateFields{Stream: m.Stream, OrderID: orDefault(t.OrderID, notGiven), Issue: issueWords(t.Issue), ProductName: defaultProduct}
			r := s.newReply(m.Stream, me, s.render(s.notice, me, f), m.TS)
			r.Handoff = t.ID
			if t2, err := s.tickets.Update(t.ID, func(t *classify.Ticket) error { t.Noticed = true; return nil }); err == nil {
				t = t2
			}
			fx.replies = append(fx.replies, r)
			d.AddReason("handoff.notice", "reply "+r.ID+": "+r.Text)
		}
	}
	fx.tickets = append(fx.tickets, t)
	fx.created = append(fx.created, created)
}

const ticketLabels = classify.Labels(classify.LabelSupport | classify.LabelAgentRequest | classify.LabelPurchaseIntent)

const (
	issueAgent    = "agent_request"
	issuePurchase = "purchase"
)

// issueOf names what the user needs: the support rule's kind ("refund",
// "wrong_item", …), else agent_request or purchase.
func issueOf(d *classify.Decision) string {
	for _, r := range d.Reasons {
		if k, ok := strings.CutPrefix(r.Rule, "support."); ok {
			return k
		}
	}
	if d.Labels.Has(classify.LabelAgentRequest) {
		return issueAgent
	}
	if d.Labels.Has(classify.LabelPurchaseIntent) {
		return issuePurchase
	}
	return ""
}

// issueWords is an issue kind as people read it: "not_delivered" → "not
// delivered". Summaries reach agents, CRMs and (in notices) the audience.
func issueWords(issue string) string { return strings.ReplaceAll(issue, "_", " ") }

func (s *Stage) summarize(t *classify.Ticket) string {
	f := classify.TemplateFields{
		AuthorName:  mention(t.User.Name, t.User.ID),
		FirstName:   firstName(t.User.Name, t.User.ID),
		OrderID:     orDefault(t.OrderID, notGiven),
		Issue:       orDefault(issueWords(t.Issue), notGiven),
		ProductName: defaultProduct,
		Stream:      t.Stream,
	}
	return classify.RenderTemplate(s.summary, &f)
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// recentLog keeps each user's last few messages per stream, for the
// context a new ticket carries. It is two generations of maps: when the
// young one fills, it becomes the old one and the old one is dropped, so
// memory stays bounded without per-entry bookkeeping.
type recentLog struct {
	shards [recentShards]recentShard
}

const (
	recentShards = 16
	// recentPerShard bounds each generation: 2 × 16 × 4096 users, a few
	// hundred bytes each, is well under 64 MiB.
	recentPerShard = 4096
)

type recentShard struct {
	mu         sync.Mutex
	young, old map[userKey][]classify.TicketMessage
}

type userKey struct{ stream, user string }

func (l *recentLog) init() {
	for i := range l.shards {
		l.shards[i].young = map[userKey][]classify.TicketMessage{}
	}
}

func (l *recentLog) shard(k userKey) *recentShard {
	var d xxhash.Digest
	d.Reset()
	d.WriteString(k.stream)
	d.Write([]byte{0})
	d.WriteString(k.user)
	return &l.shards[d.Sum64()&(recentShards-1)]
}

// lookup returns k's messages from the young generation, else the old
// one, and whether they were young. The shard's lock must be held.
func (sh *recentShard) lookup(k userKey) ([]classify.TicketMessage, bool) {
	if msgs, ok := sh.young[k]; ok {
		return msgs, true
	}
	return sh.old[k], false
}

// add records m, keeping the user's last max messages in the stream.
func (l *recentLog) add(m *classify.Message, max int) {
	k := userKey{m.Stream, m.User.ID}
	sh := l.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	msgs, young := sh.lookup(k)
	if !young {
		if len(sh.young) >= recentPerShard {
			sh.old, sh.young = sh.young, map[userKey][]classify.TicketMessage{}
		}
	}
	tm := classify.TicketMessage{ID: m.ID, Text: m.Text, TS: m.TS}
	if len(msgs) < max {
		msgs = append(msgs, tm)
	} else { // full: shift in place, no allocation
		copy(msgs, msgs[1:])
		msgs[len(msgs)-1] = tm
	}
	sh.young[k] = msgs
}

// get returns a copy of the user's recent messages in stream, oldest first.
func (l *recentLog) get(stream, user string) []classify.TicketMessage {
	k := userKey{stream, user}
	sh := l.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	msgs, _ := sh.lookup(k)
	out := make([]classify.TicketMessage, len(msgs))
	copy(out, msgs)
	return out
}
