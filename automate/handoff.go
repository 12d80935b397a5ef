package automate

import (
	"strings"

	"github.com/livemod/livemod/classify"
)

// handoff opens the user's ticket in the stream, or adds the message to
// the one that is open, and sends the public notice once per ticket.
//
// It reports whether the user had an active ticket before m: if not, m
// goes to the recent log (and, when it opens a ticket, onto it as well).
func (s *Stage) handoff(m *classify.Message, d *classify.Decision, wants bool, fx *effects) (had bool) {
	var (
		orderID string
		recent  []classify.TicketMessage
	)
	if wants {
		orderID = classify.ExtractOrderID(m.Text)
		recent = s.recent.get(m.Stream, m.User.ID)
	}
	issue := issueOf(d)
	labels := d.Labels & ticketLabels
	fx.join = joinChange{s: s, m: m, wants: wants, recent: recent, labels: labels, orderID: orderID, issue: issue}
	t, created := s.tickets.Upsert(m.Stream, m.User.ID, &fx.join)
	if t == nil {
		return false
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
	return !created
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

// joinChange opens the user's ticket (if wanted) or adds m to it. One
// lives in each pooled effects, so the message path allocates no closure.
type joinChange struct {
	s       *Stage
	m       *classify.Message
	wants   bool
	recent  []classify.TicketMessage // the user's recent log, if wants
	labels  classify.Labels
	orderID string
	issue   string
}

// Apply implements classify.TicketChange.
func (c *joinChange) Apply(cur *classify.Ticket) *classify.Ticket {
	if cur == nil {
		if !c.wants {
			return nil
		}
		// The context: what the user said before, then m.
		if n := len(c.recent); n >= c.s.recentMax {
			c.recent = c.recent[n-c.s.recentMax+1:]
		}
		c.recent = append(c.recent, classify.KeepMessage(c.m))
		stream, user := classify.KeepUser(c.m.Stream, classify.User{ID: c.m.User.ID, Name: c.m.User.Name})
		t := &classify.Ticket{
			ID:       c.s.nextID("h"),
			Stream:   stream,
			User:     user,
			Labels:   c.labels,
			OrderID:  c.orderID,
			Issue:    c.issue,
			Messages: c.recent,
			Created:  c.m.TS,
			State:    classify.TicketOpen,
		}
		t.Summary = c.s.summarize(t)
		return t
	}
	cur.Messages = append(cur.Messages, classify.KeepMessage(c.m))
	if n := len(cur.Messages); n > ticketMessagesMax {
		cur.Messages = cur.Messages[n-ticketMessagesMax:]
	}
	cur.Labels |= c.labels
	changed := false
	if cur.OrderID == "" && c.orderID != "" {
		cur.OrderID, changed = c.orderID, true
	}
	if (cur.Issue == "" || cur.Issue == issueAgent || cur.Issue == issuePurchase) && c.wants && c.issue != issueAgent && c.issue != issuePurchase && c.issue != cur.Issue {
		cur.Issue, changed = c.issue, true // a concrete support issue beats "agent_request"
	}
	if changed { // most joins are chat lines: the summary stays
		cur.Summary = c.s.summarize(cur)
	}
	return cur
}
