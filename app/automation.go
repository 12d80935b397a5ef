package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/livemod/livemod/automate"
	"github.com/livemod/livemod/broker"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
	"github.com/livemod/livemod/config"
	"github.com/livemod/livemod/connect"
	"github.com/livemod/livemod/moderate"
	"github.com/livemod/livemod/overlay"
	"github.com/livemod/livemod/store"
	"github.com/livemod/livemod/stream"
	"github.com/prometheus/client_golang/prometheus"
)

// NewStage builds the automation stage (FAQ answers, replies, handoffs)
// from the config: serve and replay share it, so replay gives the same
// faq and handoff fields as the server. state may leave OptOuts, Tickets,
// IDs and Output nil (memory, discard): replay does.
func NewStage(cfg config.Config, state automate.Options) (*automate.Stage, error) {
	var faq *classify.FAQMatcher
	if len(cfg.FAQ) > 0 {
		entries := make([]classify.FAQEntry, len(cfg.FAQ))
		for i, f := range cfg.FAQ {
			entries[i] = classify.FAQEntry{ID: f.ID, Match: f.Match, Answer: f.Answer, Approve: f.Approve, Product: f.Product}
		}
		var err error
		faq, err = classify.NewFAQMatcher(entries, classify.FAQOptions{Threshold: cfg.Replies.MatchThreshold})
		if err != nil {
			return nil, err
		}
	}
	opts := state
	opts.Prefix = cfg.Replies.Prefix
	opts.PerUserPerHour = cfg.Replies.PerUserPerHour
	opts.Cooldown = cfg.Replies.Cooldown
	opts.FAQ = faq
	opts.PublicNotice = cfg.Handoff.PublicNotice
	opts.Summary = cfg.Handoff.Summary
	opts.HandoffPurchase = cfg.Handoff.PurchaseIntent
	esc := func(e config.Escalation) automate.Escalation {
		return automate.Escalation{Threshold: e.NegativeThreshold, Window: e.Window, WindowNegative: e.WindowNegative, Off: e.Off}
	}
	opts.Escalation = esc(cfg.Handoff.Escalation)
	if len(cfg.Handoff.EscalationStreams) > 0 {
		opts.EscalationStreams = make(map[string]automate.Escalation, len(cfg.Handoff.EscalationStreams))
		for id, e := range cfg.Handoff.EscalationStreams {
			// A zero field keeps the value of handoff.escalation.
			d := cfg.Handoff.Escalation
			if e.NegativeThreshold != 0 {
				d.NegativeThreshold = e.NegativeThreshold
			}
			if e.Window != 0 {
				d.Window = e.Window
			}
			if e.WindowNegative != 0 {
				d.WindowNegative = e.WindowNegative
			}
			d.Off = d.Off || e.Off
			opts.EscalationStreams[id] = esc(d)
		}
	}
	opts.VIPUsers = cfg.Handoff.VIPUsers
	if len(cfg.Handoff.VIPBadges) > 0 {
		opts.VIPBadges = cfg.Handoff.VIPBadges
	}
	opts.RatingRequest = cfg.Handoff.RatingRequest
	opts.Bounds = automate.TicketBounds{MaxOpenPerStream: cfg.Handoff.MaxOpenPerStream, MaxOpen: cfg.Handoff.MaxOpen, IdleClose: cfg.Handoff.IdleClose}
	return automate.New(opts)
}

// automation is the serve side of the stage: durable state in the store,
// replies and tickets out to the hub, and the CRM webhook (issue 4).
type automation struct {
	stage   *automate.Stage
	state   *store.Automation
	webhook *connect.Webhook   // nil without handoff.webhook
	replies *automate.ReplyLog // the newest replies, for export and erasure
	// sweepStop ends the ticket sweeper (runSweeper);
	// sweepDone says it has.
	sweepStop context.CancelFunc
	sweepDone chan struct{}
}

// ticketSweepEvery is how often the ticket sweeper looks for idle open
// tickets (handoff.idle_close); a stream over its bound wakes it sooner.
const ticketSweepEvery = 10 * time.Second

// kickGap is the least time between sweeps woken by a bound: a show
// opening thousands of tickets a second costs one pass over the open
// tickets a second, not thousands (between them, a stream may be over its
// bound by the tickets opened since: about 900 at 20,000 msgs/s of
// bench --mix hard).
const kickGap = time.Second

// runSweeper runs the stage's ticket sweeper every interval and when a
// new ticket takes a stream over its bound (at most every kickGap),
// until ctx ends. The wall clock paces it; tickets age in message time
// (automate.Stage.Clock).
func runSweeper(ctx context.Context, stage *automate.Stage, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	var last time.Time
	var wait <-chan time.Time // armed while a kick waits for kickGap
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-wait:
			wait = nil
		case <-stage.Kicked():
			if gap := kickGap - time.Since(last); gap > 0 {
				if wait == nil {
					wait = time.After(gap)
				}
				continue
			}
		}
		last = time.Now()
		if now := stage.Clock(); now > 0 { // message time, as the stage's
			stage.SweepTickets(now)
		}
	}
}

// openStreamsShown is how many streams livemod_handoff_open_tickets_stream
// names, those with the most open tickets; the others are summed as
// stream="_other", so the series stay bounded however many streams run.
const openStreamsShown = 32

// openTicketsCollector is livemod_handoff_open_tickets_stream.
type openTicketsCollector struct {
	stage *automate.Stage
	desc  *prometheus.Desc
}

func (c openTicketsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c openTicketsCollector) Collect(ch chan<- prometheus.Metric) {
	type row struct {
		stream string
		n      int
	}
	var rows []row
	c.stage.OpenStreams(func(stream string, n int) { rows = append(rows, row{stream, n}) })
	slices.SortFunc(rows, func(x, y row) int { return cmp.Or(cmp.Compare(y.n, x.n), cmp.Compare(x.stream, y.stream)) })
	other := 0
	for i, r := range rows {
		if i >= openStreamsShown {
			other += r.n
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(r.n), r.stream)
	}
	if len(rows) > openStreamsShown {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(other), "_other")
	}
}

// closedBySweeper audits a ticket the sweeper closed, as an agent's
// resolve is (actor "system", the reason), and queues its "resolved"
// event for the CRM webhook.
func (a *App) closedBySweeper(au *automation) func(t *chat.Ticket) {
	return func(t *chat.Ticket) {
		a.audit.Record(store.AuditEntry{TS: t.ResolvedAt, Actor: automate.SystemActor, Role: "system", Action: "handoff.resolve",
			Target: t.ID, Stream: t.Stream, User: t.User.ID, Reason: t.GetOutcome().Reason})
		if au.webhook == nil {
			return
		}
		if err := a.DB.EnqueueEvent(t.ID, "resolved", t.AppendJSON(nil)); err != nil {
			fmt.Fprintf(a.log, "livemod: ticket %s closed, but the webhook event was not saved: %v\n", t.ID, err)
			return
		}
		au.webhook.Notify()
	}
}

// hubOutput sends the stage's replies to the replies view (keeping the
// newest for export and counting them) and its tickets to the agent view.
type hubOutput struct {
	hub     *stream.Hub
	replies *automate.ReplyLog
	kpis    *moderate.KPIs
	conn    *connectors // sends replies of connected streams to the platform
	log     io.Writer
	audit   *store.AuditSink
	db      *store.DB
	onError func(error)
	sampler *store.Sampler
	minutes *store.KPIMinutes
}

func (o hubOutput) Replied(r *chat.Reply) {
	e := store.AuditEntry{TS: r.TS, Actor: "auto", Role: "system", Action: "reply.sent", Target: r.ID, Stream: r.Stream, Rule: "faq." + r.FAQ}
	if len(r.To) == 1 {
		e.User = r.To[0]
	}
	o.audit.Record(e)
	o.sampler.Replied(r)
	o.minutes.Replied(r.Stream, r.TS)
	o.replies.Add(r)
	o.kpis.Replied(r.Stream)
	o.hub.Publish(r.Stream, broker.ViewReplies, r.AppendLine(nil))
	if err := o.conn.reply(r); err != nil {
		fmt.Fprintf(o.log, "livemod: reply %s: %v\n", r.ID, err)
	}
}

// Drafted saves a new or changed draft before the pipeline goes on (a
// new one) or the decision is answered (a decided one): moderators list
// drafts over REST, and a restart must lose none.
func (o hubOutput) Drafted(d *chat.Draft) {
	if err := o.db.PutDraft(d); err != nil && o.onError != nil {
		o.onError(err)
	}
}

func (o hubOutput) TicketChanged(t *chat.Ticket, created bool) {
	if created {
		o.minutes.TicketCreated(t.Stream, t.Created)
		o.audit.Record(store.AuditEntry{TS: t.Created, Actor: "auto", Role: "system", Action: "ticket.create", Target: t.ID, Stream: t.Stream, User: t.User.ID, Reason: t.Issue})
	}
	// Encoding a ticket costs microseconds; skip it when no agent page
	// watches the stream (a new one gets the open tickets as a snapshot).
	if o.hub.Subscribers(t.Stream, broker.ViewAgent) == 0 {
		return
	}
	o.hub.Publish(t.Stream, broker.ViewAgent, t.AppendLine(make([]byte, 0, 1024)))
}

// Watching implements automate.Output: an agent page watches the stream.
func (o hubOutput) Watching(s string) bool { return o.hub.Subscribers(s, broker.ViewAgent) > 0 }

// wireAutomation builds the stage over the store, starts the webhook and
// gives new agent subscribers the open and claimed tickets of their
// stream. It returns the decider the pipeline runs: engine, then stage.
func (a *App) wireAutomation() (chat.Decider, error) {
	au := &automation{replies: automate.NewReplyLog(0)}
	logErr := func(what string) func(error) {
		return func(err error) { fmt.Fprintf(a.log, "livemod: %s: %v\n", what, err) }
	}
	h := a.Cfg.Handoff
	if h.Webhook != "" {
		wh, err := connect.NewWebhook(a.DB, connect.WebhookOptions{
			URL: h.Webhook, Secret: h.WebhookSecret,
			MaxAttempts: h.Retry.MaxAttempts, Initial: h.Retry.Initial, Max: h.Retry.Max,
			OnError: logErr("webhook"),
		})
		if err != nil {
			return nil, err
		}
		au.webhook = wh
	}
	var onCommit func()
	if au.webhook != nil {
		onCommit = au.webhook.Notify
	}
	autoCommits := a.commits.WithLabelValues("automation")
	aopts := store.AutomationOptions{Outbox: au.webhook != nil, OnCommit: onCommit, OnError: logErr("handoff write"),
		ObserveCommit: func(d time.Duration) { autoCommits.Observe(d.Seconds()) }}
	if a.cluster != nil {
		aopts.Mirror, aopts.Reserve = a.cluster.mirror, a.cluster.reserve
	}
	state, err := a.DB.OpenAutomation(aopts)
	if err != nil {
		return nil, err
	}
	au.state = state
	au.stage, err = NewStage(a.Cfg, automate.Options{OptOuts: state, Tickets: state, IDs: state, OnClose: a.closedBySweeper(au),
		Output: hubOutput{a.Hub, au.replies, a.kpis, a.Conn, a.log, a.audit, a.DB, logErr("draft write"), a.sampler, a.minutes}})
	if err != nil {
		state.Close(context.Background())
		return nil, err
	}
	drafts, err := a.DB.Drafts(1024)
	if err != nil {
		state.Close(context.Background())
		return nil, fmt.Errorf("load reply drafts: %w", err)
	}
	au.stage.RestoreDrafts(drafts)
	if au.webhook != nil {
		au.webhook.Start()
	}
	stage := au.stage
	ctx, cancel := context.WithCancel(context.Background())
	au.sweepStop, au.sweepDone = cancel, make(chan struct{})
	go func() {
		defer close(au.sweepDone)
		runSweeper(ctx, stage, ticketSweepEvery)
	}()
	a.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "livemod_handoff_open_tickets",
		Help: "Open (unclaimed) tickets of all streams (bounded by handoff.max_open).",
	}, func() float64 { return float64(stage.OpenTickets("")) }))
	a.reg.MustRegister(openTicketsCollector{stage, prometheus.NewDesc("livemod_handoff_open_tickets_stream",
		"Open (unclaimed) tickets per stream (bounded by handoff.max_open_per_stream), for the 32 streams with the most; the rest summed as stream=\"_other\".",
		[]string{"stream"}, nil)})
	for _, by := range []string{"age", "bound"} {
		a.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "livemod_handoff_tickets_closed_total",
			Help:        "Open tickets the sweeper resolved: by=age for handoff.idle_close, by=bound for handoff.max_open(_per_stream).",
			ConstLabels: prometheus.Labels{"by": by},
		}, func() float64 {
			age, bound := stage.ClosedTickets()
			if by == "age" {
				return float64(age)
			}
			return float64(bound)
		}))
	}
	a.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "livemod_reply_drafts",
		Help: "Drafts in the approval queue: every pending one, and the newest decided ones up to 1024 in all.",
	}, func() float64 { return float64(stage.DraftCount()) }))
	a.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "livemod_reply_cap_users",
		Help: "Users whose automated replies of the last hour are counted for replies.per_user_per_hour (users whose replies all left the hour are forgotten).",
	}, func() float64 { return float64(stage.ReplyCapUsers()) }))
	a.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "livemod_escalation_mood_users",
		Help: "(stream, user) sentiment histories kept for escalation over a window (bounded at 262144).",
	}, func() float64 { return float64(stage.MoodUsers()) }))
	a.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "livemod_automation_recent_users",
		Help: "(stream, user) recent-message rings kept as the context of a new ticket (bounded at 65536).",
	}, func() float64 { return float64(stage.RecentUsers()) }))
	a.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "livemod_csat_pending_ratings",
		Help: "Rating requests waiting for the user's answer (bounded at 131072).",
	}, func() float64 { return float64(stage.PendingRatings()) }))
	a.Hub.AddSnapshot(func(s string, v broker.View) [][]byte {
		var out [][]byte
		if v == broker.ViewAgent {
			for _, state := range []string{chat.TicketOpen, chat.TicketClaimed} {
				page, _, _, _ := au.stage.Handoffs(context.Background(), s, state, "", overlay.HandoffsPage) // the inbox asks for more
				for _, t := range page {
					out = append(out, t.AppendLine(make([]byte, 0, 1024)))
				}
			}
		}
		return out
	})
	a.Auto = au
	return au.stage.Wrap(a.Policy), nil
}

// automationRoutes adds the handoff, draft and dead-letter endpoints.
func (a *App) automationRoutes(srv *overlay.Server) {
	audit := func(actor, action, target, streamID, reason string) {
		a.audit.Record(store.AuditEntry{Actor: actor, Action: action, Target: target, Stream: streamID, Reason: reason})
	}
	overlay.RegisterHandoffs[*chat.Ticket](srv, handoffsREST{a.Auto.stage, a}, webhookREST{a.Auto.webhook}, audit)
	overlay.RegisterDrafts[*chat.Draft](srv, a.Auto.stage, audit)
}

// webhookREST adapts connect.Webhook to overlay.Webhooks; without a
// webhook the dead-letter list is empty.
type webhookREST struct{ wh *connect.Webhook }

func (w webhookREST) DeadLetters() ([]store.OutboxEntry, error) {
	if w.wh == nil {
		return []store.OutboxEntry{}, nil
	}
	d, err := w.wh.DeadLetters()
	if d == nil {
		d = []store.OutboxEntry{}
	}
	return d, err
}

func (w webhookREST) Retry(id string) (store.OutboxEntry, error) {
	if w.wh == nil {
		return store.OutboxEntry{}, chat.NotFound("no webhook is configured: set handoff.webhook")
	}
	e, err := w.wh.Retry(id)
	if errors.Is(err, store.ErrNotFound) {
		return store.OutboxEntry{}, chat.Kinded(chat.ErrNotFound, err)
	}
	return e, err
}

// closeAutomation stops the webhook and flushes the state writes. Call it
// after the pipeline has drained, before the store closes.
func (a *App) closeAutomation(ctx context.Context) []error {
	var errs []error
	if a.Auto.sweepStop != nil {
		a.Auto.sweepStop()
		<-a.Auto.sweepDone
	}
	if a.Auto.webhook != nil {
		if err := a.Auto.webhook.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop webhook: %w", err))
		}
	}
	if err := a.Auto.state.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("flush handoffs: %w", err))
	}
	return errs
}

// handoffsREST is the stage's ticket desk, with the CRM webhook told of
// each claim and resolution (same signing and outbox as a creation),
// queued durably before the agent's answer.
type handoffsREST struct {
	*automate.Stage
	a *App
}

func (h handoffsREST) Claim(ctx context.Context, id, by string, at int64) (*chat.Ticket, error) {
	t, err := h.Stage.Claim(ctx, id, by, at)
	return t, h.event(t, "claimed", err)
}

func (h handoffsREST) Resolve(ctx context.Context, id, by string, at int64) (*chat.Ticket, error) {
	t, err := h.Stage.Resolve(ctx, id, by, at)
	return t, h.event(t, "resolved", err)
}

func (h handoffsREST) event(t *chat.Ticket, event string, err error) error {
	if err != nil || h.a.Auto.webhook == nil {
		return err
	}
	if err := h.a.DB.EnqueueEvent(t.ID, event, t.AppendJSON(nil)); err != nil {
		return fmt.Errorf("ticket %s %s, but the webhook event was not saved: %w", t.ID, event, err)
	}
	h.a.Auto.webhook.Notify()
	return nil
}

// Stage returns the automation stage (its ticket counts, for tests and
// tools).
func (au *automation) Stage() *automate.Stage { return au.stage }
