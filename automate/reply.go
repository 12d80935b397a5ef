package automate

import (
	"errors"
	"slices"
	"strconv"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
	"github.com/livemod/livemod/state"
)

// answer handles a message that matched an FAQ entry: answer now (naming
// everyone who asked during the cooldown), wait for the cooldown, or
// draft for approval.
func (s *Stage) answer(m *chat.Message, d *chat.Decision, match classify.FAQMatch, fx *effects) {
	entry := s.faq.Entries()[match.Entry]
	me := asker{user: chat.Subject(m.Platform, m.User.ID), name: m.User.Name, msg: m.ID, ts: m.TS}
	matchDetail := entry.ID + ": matched '" + match.Phrase + "' (score " + strconv.FormatFloat(match.Score, 'f', 2, 64) + ")"
	if ok, rule, detail := s.mayReply(me.user, m.TS); !ok {
		d.AddReason(rule, entry.ID+": "+detail)
		return
	}
	sh := s.shard(m.Stream)
	sh.mu.Lock()
	g := sh.groups[groupKey{m.Stream, entry.ID}]
	if g == nil {
		g = &group{lastSent: -1}
		sh.groups[groupKey{m.Stream, entry.ID}] = g
	}
	if entry.Approve {
		dr := s.draft(g, m, entry, me)
		sh.mu.Unlock()
		fx.drafts = append(fx.drafts, dr)
		d.AddReason("faq.draft", matchDetail+"; draft "+dr.ID+" waits for a moderator")
		return
	}
	if g.lastSent >= 0 && m.TS-g.lastSent < s.cooldown {
		if !slices.ContainsFunc(g.pending, func(a asker) bool { return a.user == me.user }) {
			me.text = m.Text // for Reply.Asked when the cooldown ends
			g.pending = append(g.pending, me)
			s.pending.Add(1)
		}
		ago := (m.TS - g.lastSent) / 1000
		sh.mu.Unlock()
		d.AddReason("faq.cooldown", matchDetail+"; answered "+strconv.FormatInt(ago, 10)+"s ago, the next answer names "+mention(me.name, me.user))
		return
	}
	askers := s.eligible(append(g.pending, me), m.TS)
	s.pending.Add(-int64(len(g.pending)))
	g.pending = nil
	g.lastSent = m.TS
	r := s.newReply(m.Stream, askers, s.render(entry.Answer, askers, s.fields(entry, m)), m.TS)
	r.FAQ = entry.ID
	if len(r.InReplyTo) > 0 && r.InReplyTo[0] == m.ID {
		r.Asked = m.Text
	} else if len(askers) > 0 {
		r.Asked = askers[0].text
	}
	sh.mu.Unlock()
	fx.replies = append(fx.replies, r)
	d.FAQ = &chat.FAQReply{ID: entry.ID, Reply: r.Text}
	d.AddReason("faq.answer", matchDetail+"; reply "+r.ID+" to "+strconv.Itoa(len(askers))+" asker(s)")
}

func (s *Stage) fields(entry classify.FAQEntry, m *chat.Message) classify.TemplateFields {
	f := classify.TemplateFields{Stream: m.Stream, ProductName: entry.Product, OrderID: notGiven, Issue: notGiven}
	if f.ProductName == "" {
		f.ProductName = defaultProduct
	}
	return f
}

// flushDue answers the askers of stream who waited for a cooldown that has
// now passed (except group faq, which the current message answers).
// Message time drives it, so replay sends what serve sends.
func (s *Stage) flushDue(stream string, ts int64, except string, fx *effects) {
	sh := s.shard(stream)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	// Visit due groups in the order of the FAQ entries, not of the map,
	// so that reply ids are the same on every run.
	for _, entry := range s.faq.Entries() {
		k := groupKey{stream, entry.ID}
		g := sh.groups[k]
		if g == nil || k.faq == except || len(g.pending) == 0 || ts-g.lastSent < s.cooldown {
			continue
		}
		askers := s.eligible(g.pending, ts)
		s.pending.Add(-int64(len(g.pending)))
		g.pending = nil
		if len(askers) == 0 {
			continue
		}
		g.lastSent = ts
		m := &chat.Message{Stream: stream, TS: ts}
		r := s.newReply(stream, askers, s.render(entry.Answer, askers, s.fields(entry, m)), ts)
		r.FAQ = entry.ID
		r.Asked = askers[0].text
		fx.replies = append(fx.replies, r)
	}
}

func (s *Stage) entry(id string) (classify.FAQEntry, bool) {
	for _, e := range s.faq.Entries() {
		if e.ID == id {
			return e, true
		}
	}
	return classify.FAQEntry{}, false
}

// draft adds me to the group's pending draft, or opens one. Called with
// the shard lock held.
func (s *Stage) draft(g *group, m *chat.Message, entry classify.FAQEntry, me asker) *chat.Draft {
	join := func(dr *chat.Draft) {
		if !slices.Contains(dr.To, me.user) {
			dr.To = append(dr.To, me.user)
			dr.Names = append(dr.Names, me.name)
			dr.InReplyTo = append(dr.InReplyTo, me.msg)
		}
		dr.TS = m.TS
		dr.Text = s.render(entry.Answer, draftAskers(dr), s.fields(entry, m))
	}
	if g.draft != "" {
		dr, err := s.drafts.Change(g.draft, func(dr *chat.Draft) error {
			if dr.State != chat.DraftPending {
				return ErrDraftDecided
			}
			join(dr)
			return nil
		})
		if err == nil {
			return dr
		}
	}
	dr := &chat.Draft{
		Reply: chat.Reply{ID: s.nextID("r"), Stream: m.Stream, FAQ: entry.ID},
		State: chat.DraftPending,
	}
	dr.Asked = m.Text
	join(dr)
	g.draft = dr.ID
	s.drafts.Add(dr)
	return dr
}

// RestoreDrafts puts drafts saved before a restart back in the queue
// (oldest first): pending ones can be approved or rejected as before.
// New askers of the same FAQ open a new draft. Call it before traffic.
func (s *Stage) RestoreDrafts(drafts []*chat.Draft) {
	for _, dr := range drafts {
		s.drafts.Add(dr)
	}
}

func draftAskers(dr *chat.Draft) []asker {
	out := make([]asker, len(dr.To))
	for i := range dr.To {
		out[i] = asker{user: dr.To[i], name: dr.Names[i], msg: dr.InReplyTo[i]}
	}
	return out
}

// Drafts returns the drafts of stream (all if empty) in state (all if
// empty), oldest first.
func (s *Stage) Drafts(stream, state string) []*chat.Draft {
	return s.drafts.List(stream, state)
}

// Draft returns a copy of draft id.
func (s *Stage) Draft(id string) (*chat.Draft, bool) { return s.drafts.Get(id) }

// DecideDraft approves or rejects draft id on behalf of by at (Unix ms).
// An approved draft is sent to the askers who have not opted out since;
// it counts against their hourly caps at the time of the last question.
func (s *Stage) DecideDraft(id string, approve bool, by string, at int64) (*chat.Draft, error) {
	var reply *chat.Reply
	c, err := s.drafts.Change(id, func(dr *chat.Draft) error {
		if dr.State != chat.DraftPending {
			return ErrDraftDecided
		}
		dr.DecidedBy, dr.DecidedAt = by, at
		if !approve {
			dr.State = chat.DraftRejected
			return nil
		}
		dr.State = chat.DraftApproved
		reply = s.approved(dr)
		return nil
	})
	switch {
	case errors.Is(err, state.ErrDraftNotFound):
		return nil, withStatus(ErrDraftNotFound)
	case err != nil:
		return nil, withStatus(err)
	}
	s.out.Drafted(c)
	if reply != nil {
		s.out.Replied(reply)
	}
	return c, nil
}

// approved renders approved draft dr for the askers who have not opted
// out since, counting it against their hourly caps at the time of the
// last question; nil if none is left.
func (s *Stage) approved(dr *chat.Draft) *chat.Reply {
	var keep []asker
	for _, a := range draftAskers(dr) {
		if !s.optouts.OptedOut(a.user) {
			keep = append(keep, a)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	entry, _ := s.entry(dr.FAQ)
	text := s.render(entry.Answer, keep, s.fields(entry, &chat.Message{Stream: dr.Stream}))
	reply := &chat.Reply{ID: dr.ID, Stream: dr.Stream, Text: text, FAQ: dr.FAQ, TS: dr.TS}
	if len(dr.InReplyTo) > 0 && keep[0].msg == dr.InReplyTo[0] {
		reply.Asked = dr.Asked
	}
	for _, a := range keep {
		reply.To = append(reply.To, a.user)
		reply.InReplyTo = append(reply.InReplyTo, a.msg)
		s.recordSent(a.user, dr.TS)
	}
	dr.Text = text
	return reply
}
