package automate

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
	"github.com/livemod/livemod/handoff"
	"github.com/livemod/livemod/state"
)

// Output receives what the stage did. Calls come from the pipeline's
// shard goroutines (and from DecideDraft's caller) with no lock held; an
// implementation that does I/O queues the work.
type Output interface {
	// Replied is an automated reply to send.
	Replied(r *chat.Reply)
	// Drafted is a new or changed approval draft.
	Drafted(d *chat.Draft)
	// TicketChanged is a handoff ticket that was created or changed.
	TicketChanged(t *chat.Ticket, created bool)
	// Watching reports whether anyone follows the stream's tickets live
	// (an agent page): a chat line joining a ticket is then sent as a
	// TicketChanged too, else only other changes are.
	Watching(stream string) bool
}

// Options configure a Stage. Every zero value means its documented default.
type Options struct {
	// Prefix starts every automated reply. Zero means "Automated reply:".
	Prefix string
	// PerUserPerHour caps the automated replies to one user in any hour of
	// message time. Zero means 3; negative means no cap.
	PerUserPerHour int
	// Cooldown is how long after answering an FAQ in a stream the same FAQ
	// is not answered again; askers in between are named together in the
	// next answer. Zero means 60s.
	Cooldown time.Duration
	// FAQ matches questions to entries. Nil means no FAQ answers.
	FAQ *classify.FAQMatcher
	// PublicNotice is the template of the public reply that tells a user a
	// ticket was opened. Empty means no notice.
	PublicNotice string
	// Summary is the template of a ticket's summary. Empty means
	// "Transferring to agent. Summary: order {order_id}, issue: {issue}."
	Summary string
	// HandoffPurchase makes purchase_intent open tickets too (for shops
	// whose agents close sales). Zero means only support and
	// agent_request do.
	HandoffPurchase bool
	// RecentMessages is how many of a user's recent messages a new ticket
	// carries (and the most it keeps). Zero means 5.
	RecentMessages int
	// OptOuts, Tickets, IDs and ReplyCaps hold the state. Nil means
	// memory.
	OptOuts   state.OptOuts
	Tickets   handoff.Tickets
	IDs       state.IDs
	ReplyCaps state.ReplyCaps
	Drafts    state.Drafts
	// Output receives replies, drafts and tickets. Nil discards them.
	Output Output
	// Escalation is when negative sentiment opens a complaint ticket;
	// EscalationStreams overrides it per stream id (escalate.go).
	Escalation        Escalation
	EscalationStreams map[string]Escalation
	// VIPUsers are user ids or names (any case) whose messages that need
	// an answer go to an agent, not the FAQ bot; VIPBadges are platform
	// badges that do the same. Nil VIPBadges means DefaultVIPBadges.
	VIPUsers  []string
	VIPBadges []string
	// RatingRequest is the one-question satisfaction request sent through
	// the replies channel when an agent resolves a ticket; empty sends
	// none. Users who sent STOP get none.
	RatingRequest string
	// Bounds bound the open tickets and their age (bound.go).
	Bounds TicketBounds
	// OnClose is told of each ticket the sweeper closed, after the store
	// and Output were: the CRM webhook and the audit log, as for an
	// agent's resolve. Nil means nothing is.
	OnClose func(t *chat.Ticket)
}

// DefaultSummary is the summary template when none is configured.
const DefaultSummary = "Transferring to agent. Summary: order {order_id}, issue: {issue}."

// Placeholders for template values a message did not give.
const (
	notGiven       = "not given"
	defaultProduct = "our products"
)

// ticketMessagesMax bounds the messages a ticket keeps: the agent needs
// context, not a transcript.
const ticketMessagesMax = 10

// Errors of the approval queue.
var (
	ErrDraftNotFound = errors.New("automate: no such draft")
	ErrDraftDecided  = errors.New("automate: draft was already approved or rejected")
)

const streamShards = 16 // a power of two

// Stage automates replies and handoffs. Create it with New.
type Stage struct {
	prefix    string
	cap       int
	cooldown  int64 // ms
	faq       *classify.FAQMatcher
	notice    string
	summary   string
	purchase  bool
	recentMax int
	optouts   state.OptOuts
	tickets   handoff.Tickets
	ids       state.IDs
	out       Output

	esc        Escalation
	escStreams map[string]Escalation
	vipUsers   map[string]struct{}
	vipBadges  map[string]struct{}
	mood       moodLog
	ratings    ratingLog
	rating     string

	streams [streamShards]streamShard
	pending atomic.Int64 // askers waiting for a grouped answer, all streams
	recent  recentLog

	caps state.ReplyCaps // replies sent per user, for the cap

	drafts state.Drafts // the approval queue

	bounds      TicketBounds
	onClose     func(t *chat.Ticket)
	kick        chan struct{} // wakes the sweeper: a stream went over its bound
	sweepMu     sync.Mutex    // one sweep at a time; guards scanBuf, cands
	scanBuf     []handoff.OpenTicket
	cands       []handoff.OpenTicket
	closedAge   atomic.Int64
	closedBound atomic.Int64
	// clock is the newest message time seen (Unix ms), to clockStep: the
	// ticket sweeper's now (bound.go).
	clock atomic.Int64
}

type streamShard struct {
	mu     sync.Mutex
	groups map[groupKey]*group
}

type groupKey struct{ stream, faq string }

// group is the answer state of one FAQ in one stream.
type group struct {
	lastSent int64 // ms; -1 before the first answer
	pending  []asker
	draft    string // id of the pending draft, if any
}

type asker struct {
	user, name, msg string
	// text is the message's, kept while the asker waits for a cooldown
	// (Reply.Asked); empty otherwise.
	text string
	ts   int64
}

// New returns a Stage.
func New(opts Options) (*Stage, error) {
	if opts.Cooldown < 0 {
		return nil, errors.New("automate: negative cooldown; use 0 for the default of 60s")
	}
	for name, t := range map[string]string{"public notice": opts.PublicNotice, "summary": opts.Summary} {
		if err := classify.ValidateTemplate(t); err != nil {
			return nil, errors.New("automate: " + name + ": " + err.Error())
		}
	}
	s := &Stage{
		prefix:    opts.Prefix,
		cap:       opts.PerUserPerHour,
		cooldown:  opts.Cooldown.Milliseconds(),
		faq:       opts.FAQ,
		notice:    opts.PublicNotice,
		summary:   opts.Summary,
		purchase:  opts.HandoffPurchase,
		recentMax: opts.RecentMessages,
		optouts:   opts.OptOuts,
		tickets:   opts.Tickets,
		ids:       opts.IDs,
		caps:      opts.ReplyCaps,
		drafts:    opts.Drafts,
		out:       opts.Output,
		esc:       opts.Escalation.withDefaults(),
		rating:    opts.RatingRequest,
		vipUsers:  map[string]struct{}{},
		vipBadges: map[string]struct{}{},
		bounds:    opts.Bounds.withDefaults(),
		onClose:   opts.OnClose,
		kick:      make(chan struct{}, 1),
	}
	s.escStreams = make(map[string]Escalation, len(opts.EscalationStreams))
	for id, e := range opts.EscalationStreams {
		s.escStreams[id] = e.withDefaults()
	}
	for _, u := range opts.VIPUsers {
		s.vipUsers[u] = struct{}{}
		s.vipUsers[strings.ToLower(u)] = struct{}{}
	}
	badges := opts.VIPBadges
	if badges == nil {
		badges = DefaultVIPBadges
	}
	for _, b := range badges {
		s.vipBadges[strings.ToLower(b)] = struct{}{}
	}
	if s.prefix == "" {
		s.prefix = "Automated reply:"
	}
	if s.cap == 0 {
		s.cap = 3
	}
	if s.cooldown == 0 {
		s.cooldown = 60_000
	}
	if s.summary == "" {
		s.summary = DefaultSummary
	}
	if s.recentMax <= 0 {
		s.recentMax = 5
	}
	if s.optouts == nil {
		s.optouts = &state.MemoryOptOuts{}
	}
	if s.tickets == nil {
		s.tickets = &handoff.MemoryTickets{}
	}
	if s.ids == nil {
		s.ids = &state.MemoryIDs{}
	}
	if s.drafts == nil {
		s.drafts = &state.MemoryDrafts{}
	}
	if s.caps == nil {
		s.caps = state.NewMemoryReplyCaps(max(s.cap, 0), hourMS)
	}
	if s.out == nil {
		s.out = discard{}
	}
	for i := range s.streams {
		s.streams[i].groups = map[groupKey]*group{}
	}
	s.recent.init()
	return s, nil
}

type discard struct{}

func (discard) Replied(*chat.Reply)              {}
func (discard) Drafted(*chat.Draft)              {}
func (discard) TicketChanged(*chat.Ticket, bool) {}
func (discard) Watching(string) bool             { return false }

// Tickets returns the ticket store the stage uses.
func (s *Stage) Tickets() handoff.Tickets { return s.tickets }

// Wrap returns a chat.Decider that decides with d and then applies the stage:
// the decider serve and replay both run.
func (s *Stage) Wrap(d chat.Decider) chat.Decider { return wrapped{d, s} }

type wrapped struct {
	d chat.Decider
	s *Stage
}

func (w wrapped) Decide(m *chat.Message) chat.Decision {
	dec := w.d.Decide(m)
	w.s.Apply(m, &dec)
	return dec
}

// DecideInto decides m into *d, reusing its storage when the wrapped
// decider can (classify.Engine.DecideInto).
func (w wrapped) DecideInto(d *chat.Decision, m *chat.Message) {
	if di, ok := w.d.(interface {
		DecideInto(*chat.Decision, *chat.Message)
	}); ok {
		di.DecideInto(d, m)
	} else {
		*d = w.d.Decide(m)
	}
	w.s.Apply(m, d)
}

// ChangedDurably reports whether deciding d changed state that the
// stage's stores write at once, and that an acknowledgement of the
// message therefore promises: a ticket opened or noticed, an opt-out or
// opt-in recorded. A chat line joined to an open ticket is written later
// (see store.Automation.Join) and does not count.
func ChangedDurably(d *chat.Decision) bool {
	for i := range d.Reasons {
		switch d.Reasons[i].Rule {
		case "handoff.open", "handoff.notice", "optout.stop", "optout.start":
			return true
		}
	}
	return false
}

// effects are collected under locks and handed to Output after.
type effects struct {
	replies []*chat.Reply
	drafts  []*chat.Draft
	tickets []*chat.Ticket
	created []bool
	join    joinChange // the ticket change of handoff
}

// Apply automates one decision about m: it may set d.FAQ and d.Handoff
// and add reasons. Time is m.TS.
func (s *Stage) Apply(m *chat.Message, d *chat.Decision) {
	// Pooled: most messages of a viewer with an open ticket change it,
	// and growing fresh slices for that was two allocations a message.
	fx := effectsPool.Get().(*effects)
	defer fx.release()
	s.apply(m, d, fx)
	for _, r := range fx.replies {
		s.out.Replied(r)
	}
	for _, dr := range fx.drafts {
		s.out.Drafted(dr)
	}
	for i, t := range fx.tickets {
		s.out.TicketChanged(t, fx.created[i])
		if fx.created[i] {
			s.opened(t)
		}
	}
}

var effectsPool = sync.Pool{New: func() any { return new(effects) }}

// release empties fx (keeping no pointers) and returns it to the pool.
func (fx *effects) release() {
	clear(fx.replies)
	clear(fx.drafts)
	clear(fx.tickets)
	fx.replies, fx.drafts, fx.tickets, fx.created = fx.replies[:0], fx.drafts[:0], fx.tickets[:0], fx.created[:0]
	fx.join = joinChange{}
	effectsPool.Put(fx)
}

const handoffLabels = chat.Labels(chat.LabelSupport | chat.LabelAgentRequest)

func (s *Stage) apply(m *chat.Message, d *chat.Decision, fx *effects) {
	ts := m.TS
	if ts > s.clock.Load()+clockStep { // a write a second, not one a message
		s.advance(ts)
	}
	// Automation comes last in the order of precedence: a restricted
	// user's message (hidden, user.ban / user.timeout) changes nothing
	// here, not even an opt-out; its agent request waits in the
	// moderators' queue, never answered in public.
	restricted := d.Restricted()
	switch {
	case restricted:
	case d.Labels.Has(chat.LabelOptout):
		s.optouts.SetOptOut(chat.OptOut{User: chat.Subject(m.Platform, m.User.ID), Out: true, TS: ts})
	case hasReason(d, "optout.start"):
		s.optouts.SetOptOut(chat.OptOut{User: chat.Subject(m.Platform, m.User.ID), Out: false, TS: ts})
	}

	// Which FAQ this message asks, if it may be answered: decided first so
	// that flushing the stream's waiting askers leaves its group alone.
	var match classify.FAQMatch
	matched := false
	wantsHandoff := d.Action != chat.Hide && (d.Labels&handoffLabels != 0 ||
		s.purchase && d.Labels.Has(chat.LabelPurchaseIntent))
	var issue, priority string
	if d.Action != chat.Hide && !restricted {
		var w bool
		w, issue, priority = s.escalate(m, d)
		wantsHandoff = wantsHandoff || w
	}
	// A negative message is never answered with a cheerful FAQ.
	negative := d.Labels.Has(chat.LabelNegative)
	if d.Action == chat.Allow && !wantsHandoff && s.faq != nil && questionLike(d) {
		if negative {
			d.AddReason("faq.skip", "negative: no automated answer")
		} else {
			match, matched = s.faq.Match(m.Text)
		}
	}
	if s.pending.Load() > 0 {
		except := ""
		if matched {
			except = match.ID
		}
		s.flushDue(m.Stream, ts, except, fx)
	}
	if d.Action == chat.Hide {
		return // never answered, never context for an agent
	}
	s.rate(m, d, fx)
	// A user with an open ticket has their messages kept on it: the recent
	// log, the context of the next ticket, need not keep them too. One
	// ticket lookup does both: handoff joins the line to the user's ticket
	// (or opens one if wanted) and says whether they had one.
	if !s.handoff(m, d, wantsHandoff, issue, priority, fx) {
		s.recent.add(m, s.recentMax)
	}
	if wantsHandoff {
		return
	}
	if matched {
		s.answer(m, d, match, fx)
	}
}

// questionLike is the cheap gate in front of FAQ matching: only messages
// that ask something are matched.
func questionLike(d *chat.Decision) bool {
	return d.Labels&chat.Labels(chat.LabelQuestion|chat.LabelPurchaseIntent) != 0 ||
		strings.ContainsAny(d.Text, "?？")
}

func hasReason(d *chat.Decision, rule string) bool {
	for _, r := range d.Reasons {
		if r.Rule == rule {
			return true
		}
	}
	return false
}

func (s *Stage) shard(stream string) *streamShard {
	return &s.streams[xxhash.Sum64String(stream)&(streamShards-1)]
}

func (s *Stage) nextID(kind string) string {
	return kind + "-" + strconv.FormatUint(s.ids.Next(kind), 10)
}

// mention is how a reply names a user.
func mention(name, id string) string {
	if name == "" {
		name = id
	}
	return "@" + name
}

// firstName is the first word of a display name.
func firstName(name, id string) string {
	if name == "" {
		return id
	}
	if i := strings.IndexAny(name, " _."); i > 0 {
		return name[:i]
	}
	return name
}

// render builds the text of a reply to askers: the disclosure prefix,
// then the template; if the template names nobody, the askers are named
// after the prefix.
func (s *Stage) render(tmpl string, askers []asker, f classify.TemplateFields) string {
	names := make([]string, len(askers))
	firsts := make([]string, len(askers))
	for i, a := range askers {
		names[i] = mention(a.name, a.user)
		firsts[i] = firstName(a.name, a.user)
	}
	f.AuthorName = strings.Join(names, " ")
	f.FirstName = strings.Join(firsts, ", ")
	body := classify.RenderTemplate(tmpl, &f)
	if !strings.Contains(tmpl, "{author_name}") && !strings.Contains(tmpl, "{first_name}") {
		body = f.AuthorName + " " + body
	}
	return s.prefix + " " + body
}

// mayReply reports whether user may get one more automated reply at ts,
// and why not.
func (s *Stage) mayReply(user string, ts int64) (ok bool, rule, detail string) {
	if s.optouts.OptedOut(user) {
		return false, "reply.optout", "user sent STOP; no automated replies until START"
	}
	if s.cap < 0 {
		return true, "", ""
	}
	if n := s.caps.Count(user, ts-hourMS); n >= s.cap {
		return false, "reply.cap", strconv.Itoa(s.cap) + " automated replies to this user in the last hour"
	}
	return true, "", ""
}

const hourMS = int64(time.Hour / time.Millisecond)

// DraftCount returns how many drafts the approval queue keeps.
func (s *Stage) DraftCount() int { return s.drafts.Len() }

// ReplyCapUsers returns how many users' replies are counted for the cap.
func (s *Stage) ReplyCapUsers() int { return s.caps.Len() }

// recordSent counts a reply to user at ts against the cap.
func (s *Stage) recordSent(user string, ts int64) {
	if s.cap < 0 {
		return
	}
	s.caps.Record(user, ts)
}

// eligible filters askers down to those who may get a reply at ts,
// dropping repeats of one user.
func (s *Stage) eligible(askers []asker, ts int64) []asker {
	out := askers[:0:0]
	seen := map[string]bool{}
	for _, a := range askers {
		if seen[a.user] {
			continue
		}
		seen[a.user] = true
		if ok, _, _ := s.mayReply(a.user, ts); ok {
			out = append(out, a)
		}
	}
	return out
}

func (s *Stage) newReply(stream string, askers []asker, text string, ts int64) *chat.Reply {
	r := &chat.Reply{ID: s.nextID("r"), Stream: stream, Text: text, TS: ts}
	for _, a := range askers {
		r.To = append(r.To, a.user)
		r.InReplyTo = append(r.InReplyTo, a.msg)
		s.recordSent(a.user, ts)
	}
	return r
}
