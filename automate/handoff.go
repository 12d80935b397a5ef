package automate

import (
	"context"
	"slices"
	"strings"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
)

// handoff opens the user's ticket in the stream, or adds the message to
// the one that is open, and sends the public notice once per ticket.
//
// It reports whether the user had an active ticket before m: if not, m
// goes to the recent log (and, when it opens a ticket, onto it as well).
func (s *Stage) handoff(m *chat.Message, d *chat.Decision, wants bool, issue, priority string, fx *effects) (had bool) {
	c := ticketChange{labels: d.Labels & ticketLabels, wants: wants, priority: priority}
	if wants {
		c.orderID, c.issue = classify.ExtractOrderID(m.Text), issueOf(d)
		if issue != "" {
			c.issue = issue
		}
	}
	// The line joins the user's ticket, if they have one, without a new
	// version of the ticket (Tickets.Join): most lines of a viewer with an
	// open ticket are chat. Only a line that changes what the ticket says
	// (an order number, a sharper issue, a new label) saves a version.
	t, joined := s.tickets.Join(m, ticketMessagesMax)
	created := false
	switch {
	case joined && c.changes(t):
		c := c // only this copy escapes, into the closure
		if t2, err := s.updateLater(t.ID, func(cur *chat.Ticket) error { c.apply(s, cur); return nil }); err == nil {
			t, joined = t2, false
		}
	case joined:
	case wants:
		fx.join = joinChange{s: s, m: m, recent: s.recent.get(m.Stream, m.User.ID), c: c}
		if t, created = s.tickets.Upsert(m.Stream, chat.Subject(m.Platform, m.User.ID), &fx.join); t == nil {
			return false
		}
	default:
		return false
	}
	d.Handoff = t.HandoffRef() // shared by the decisions about this version
	if created {
		d.AddReason("handoff.open", t.ID+": "+t.Summary)
	} else {
		d.AddReason("handoff.join", d.Handoff.ID) // t's ID, in the block the decision reads anyway
	}
	if !t.Noticed && s.notice != "" && d.Action == chat.Allow {
		me := []asker{{user: chat.Subject(m.Platform, m.User.ID), name: m.User.Name, msg: m.ID, ts: m.TS}}
		if ok, rule, detail := s.mayReply(me[0].user, m.TS); !ok {
			d.AddReason(rule, "handoff notice: "+detail)
		} else {
			f := classify.TemplateFields{Stream: m.Stream, OrderID: orDefault(t.OrderID, notGiven), Issue: issueWords(t.Issue), ProductName: defaultProduct}
			r := s.newReply(m.Stream, me, s.render(s.notice, me, f), m.TS)
			r.Handoff = t.ID
			r.Asked = m.Text
			if t2, err := s.tickets.Update(onMessagePath, t.ID, func(t *chat.Ticket) error { t.Noticed = true; return nil }); err == nil {
				t, joined = t2, false
			}
			fx.replies = append(fx.replies, r)
			d.AddReason("handoff.notice", "reply "+r.ID+": "+r.Text)
		}
	}
	if joined {
		// The agents' live view shows every line; build the version
		// with it only when someone watches.
		if !s.out.Watching(m.Stream) {
			return true
		}
		if t, _ = s.tickets.Get(t.ID); t == nil {
			return true
		}
	}
	fx.tickets = append(fx.tickets, t)
	fx.created = append(fx.created, created)
	return !created
}

// laterUpdater is a ticket store that can write a change later, with the
// chat line that made it (store.Automation.UpdateLater).
type laterUpdater interface {
	UpdateLater(id string, fn func(t *chat.Ticket) error) (*chat.Ticket, error)
}

// onMessagePath is the context of the ticket changes a message or the
// sweeper makes: the Tickets port promises no I/O on the message path
// (docs/ARCHITECTURE.md, "State"), so nothing there waits to cancel.
var onMessagePath = context.Background()

// updateLater changes ticket id as a chat line asks: written with the
// line where the store can, else at once.
func (s *Stage) updateLater(id string, fn func(t *chat.Ticket) error) (*chat.Ticket, error) {
	if lu, ok := s.tickets.(laterUpdater); ok {
		return lu.UpdateLater(id, fn)
	}
	return s.tickets.Update(onMessagePath, id, fn)
}

const ticketLabels = chat.Labels(chat.LabelSupport | chat.LabelAgentRequest | chat.LabelPurchaseIntent | chat.LabelNegative)

const (
	issueAgent    = "agent_request"
	issuePurchase = "purchase"
)

// issueOf names what the user needs: the support rule's kind ("refund",
// "wrong_item", …), else agent_request or purchase.
func issueOf(d *chat.Decision) string {
	for _, r := range d.Reasons {
		if k, ok := strings.CutPrefix(r.Rule, "support."); ok {
			return k
		}
	}
	if d.Labels.Has(chat.LabelAgentRequest) {
		return issueAgent
	}
	if d.Labels.Has(chat.LabelPurchaseIntent) {
		return issuePurchase
	}
	return ""
}

// issueWords is an issue kind as people read it: "not_delivered" → "not
// delivered". Summaries reach agents, CRMs and (in notices) the audience.
func issueWords(issue string) string { return strings.ReplaceAll(issue, "_", " ") }

func (s *Stage) summarize(t *chat.Ticket) string {
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

// ticketChange is what a line that asks for a human tells about the
// ticket: labels, an order number, the issue.
type ticketChange struct {
	labels   chat.Labels
	wants    bool
	orderID  string
	issue    string
	priority string // "high" raises the ticket's priority and tags it urgent
}

// changes reports whether c would change t.
func (c *ticketChange) changes(t *chat.Ticket) bool {
	return c.labels&^t.Labels != 0 || t.OrderID == "" && c.orderID != "" || c.sharperIssue(t) ||
		c.priority == PriorityHigh && t.PriorityOf() != PriorityHigh
}

// sharperIssue: a concrete support issue beats "agent_request" and
// "purchase".
func (c *ticketChange) sharperIssue(t *chat.Ticket) bool {
	return (t.Issue == "" || t.Issue == issueAgent || t.Issue == issuePurchase || t.Issue == IssueVIP) && c.wants &&
		c.issue != "" && c.issue != issueAgent && c.issue != issuePurchase && c.issue != IssueVIP && c.issue != t.Issue
}

// apply changes t; the summary is rendered again if the order or the
// issue changed.
func (c *ticketChange) apply(s *Stage, t *chat.Ticket) {
	t.Labels |= c.labels
	changed := false
	if t.OrderID == "" && c.orderID != "" {
		t.OrderID, changed = c.orderID, true
	}
	if c.sharperIssue(t) {
		t.Issue, changed = c.issue, true
	}
	if c.priority == PriorityHigh && t.PriorityOf() != PriorityHigh {
		tags := t.TagsOf()
		if !slices.Contains(tags, TagUrgent) {
			tags = append(slices.Clip(tags), TagUrgent)
		}
		t.Routing = &chat.Routing{Priority: PriorityHigh, Tags: tags}
	}
	if changed {
		t.Summary = s.summarize(t)
	}
}

// joinChange opens the user's ticket with m and their recent lines as
// its context. One lives in each pooled effects, so the message path
// allocates no closure.
type joinChange struct {
	s      *Stage
	m      *chat.Message
	recent []chat.TicketMessage // the user's recent log
	c      ticketChange
}

// Apply implements handoff.TicketChange.
func (j *joinChange) Apply(cur *chat.Ticket) *chat.Ticket {
	if cur != nil { // opened since Join looked: m joins it
		cur.Messages = chat.TrimMessages(append(cur.Messages, chat.KeepMessage(j.m)), cur.Pinned, ticketMessagesMax)
		j.c.apply(j.s, cur)
		return cur
	}
	if !j.c.wants {
		return nil
	}
	// The context: what the user said before, then m.
	recent := j.recent
	if n := len(recent); n >= j.s.recentMax {
		recent = recent[n-j.s.recentMax+1:]
	}
	recent = append(recent, chat.KeepMessage(j.m))
	// The opening: what the user said just before and the request itself
	// stay pinned on the ticket; later chat comes and goes after them.
	if n := len(recent); n > chat.TicketMaxPinned {
		recent = recent[n-chat.TicketMaxPinned:]
	}
	stream, user := chat.KeepUser(j.m.Stream, chat.User{ID: j.m.User.ID, Name: j.m.User.Name})
	t := &chat.Ticket{
		ID:       j.s.nextID("h"),
		Stream:   stream,
		Platform: strings.Clone(j.m.Platform), // not a piece of the frame's line
		User:     user,
		Labels:   j.c.labels,
		OrderID:  j.c.orderID,
		Issue:    j.c.issue,
		Messages: recent,
		Pinned:   len(recent),
		Created:  j.m.TS,
		State:    chat.TicketOpen,
	}
	if j.c.priority == PriorityHigh {
		t.Routing = &chat.Routing{Priority: PriorityHigh, Tags: []string{TagUrgent}}
	}
	t.Summary = j.s.summarize(t)
	return t
}
