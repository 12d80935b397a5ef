package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/livemod/livemod/automate"
	"github.com/livemod/livemod/classify"
	"github.com/livemod/livemod/moderate"
	"github.com/livemod/livemod/overlay"
	"github.com/livemod/livemod/store"
)

// adminREST implements overlay.Admin and overlay.KPIs over everything
// that holds a user's data: the moderation desk's recent messages, the
// automation stage and its reply log, the store (tickets, opt-outs,
// outbox, labeled examples, audit, restrictions).
type adminREST struct{ a *app }

var (
	_ overlay.Admin = adminREST{}
	_ overlay.KPIs  = adminREST{}
)

func (r adminREST) Audit(q overlay.AuditQuery) (any, error) {
	// Read your writes: what is still queued is written first.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.a.audit.Flush(ctx); err != nil {
		return nil, fmt.Errorf("audit: flush: %w", err)
	}
	entries, err := r.a.db.Audit(store.AuditQuery{Stream: q.Stream, User: q.User, Since: q.Since, Before: q.Before, Limit: q.Limit})
	if entries == nil {
		entries = []store.AuditEntry{}
	}
	return entries, err
}

// kpiReport is GET /v1/kpis: the desk's counters and the appeals'.
type kpiReport struct {
	moderate.Report
	Appeals store.AppealStats `json:"appeals"`
	// Reviews is each rule's precision from the reviewers' marks.
	Reviews map[string]store.RulePrecision `json:"review_precision"`
	// Series is one entry per minute from ?since= on, from the store.
	Series []store.KPIMinute `json:"series,omitempty"`
}

func (r adminREST) KPIs(stream string, since int64) (any, error) {
	ap, err := r.a.db.AppealStats(stream)
	if err != nil {
		return nil, err
	}
	pr, err := r.a.db.Precision(stream)
	if err != nil {
		return nil, err
	}
	rep := kpiReport{Report: r.a.kpis.Report(stream), Appeals: ap, Reviews: pr}
	if since > 0 {
		if rep.Series, err = r.a.minutes.Series(stream, since); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// userExport is the answer of GET /v1/users/{id}/export.
type userExport struct {
	User        string                 `json:"user"`
	ExportedAt  int64                  `json:"exported_at"`
	Messages    []moderate.UserMessage `json:"messages"` // decisions kept by the desk
	Replies     []*classify.Reply      `json:"replies"`  // automated replies sent to them
	Automation  automate.UserData      `json:"automation"`
	Handoffs    []*classify.Ticket     `json:"handoffs"`
	Outbox      []store.OutboxEntry    `json:"webhook_outbox"`
	OptOut      *classify.OptOut       `json:"optout"`
	Restriction *store.Restriction     `json:"restriction"`
	Labeled     []store.LabeledExample `json:"labeled_examples"`
	Audit       []store.AuditEntry     `json:"audit"`
	Appeals     []store.Appeal         `json:"appeals"`
	// Reviews, Drafts (their saved copies, pending and decided),
	// PlatformActions and Restrictions (of every stream or one) are the
	// store's other records about them (store.UserStored).
	Reviews         []store.Review      `json:"reviews"`
	Drafts          []*classify.Draft   `json:"drafts"`
	PlatformActions []store.Action      `json:"platform_actions"`
	Restrictions    []store.Restriction `json:"restrictions"`
	// Questions are trending questions shown on the overlay in their words.
	Questions []classify.UserQuestion `json:"trending_questions"`
}

func (r adminREST) Export(actor, user string) (any, error) {
	a := r.a
	user, aliases := platformAliases(user)
	ex := userExport{User: user, ExportedAt: time.Now().UnixMilli(), Messages: a.desk.UserMessages(user),
		Replies: a.auto.replies.To(user), Automation: a.auto.stage.UserData(user),
		Questions: orEmpty(a.host.Trending().UserQuestions(user))}
	tickets, opt := a.auto.state.UserRecords(user)
	ex.Handoffs, ex.OptOut = orEmpty(tickets), opt
	ids := ticketIDs(tickets)
	var err error
	if ex.Outbox, err = a.db.OutboxOf(ids); err != nil {
		return nil, fmt.Errorf("export %q: outbox: %w", user, err)
	}
	if rs, ok, err := a.db.RestrictionOf(user); err != nil {
		return nil, fmt.Errorf("export %q: restriction: %w", user, err)
	} else if ok {
		ex.Restriction = &rs
	}
	if ex.Appeals, err = a.db.AppealsOf(user); err != nil {
		return nil, fmt.Errorf("export %q: %w", user, err)
	}
	if ex.Labeled, err = a.db.LabelsOf(user); err != nil {
		return nil, fmt.Errorf("export %q: %w", user, err)
	}
	// Entries and samples still queued are written first, so the export
	// is complete.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.sampler.Flush(ctx); err != nil {
		return nil, fmt.Errorf("export %q: flush reviews: %w", user, err)
	}
	ex.Reviews, ex.Drafts, ex.PlatformActions, ex.Restrictions = []store.Review{}, []*classify.Draft{}, []store.Action{}, []store.Restriction{}
	for _, u := range append([]string{user}, aliases...) {
		st, err := a.db.UserStored(u)
		if err != nil {
			return nil, fmt.Errorf("export %q: %w", user, err)
		}
		ex.Reviews = append(ex.Reviews, st.Reviews...)
		ex.Drafts = append(ex.Drafts, st.Drafts...)
		ex.PlatformActions = append(ex.PlatformActions, st.Actions...)
		ex.Restrictions = append(ex.Restrictions, st.Restrictions...)
		ids = append(ids, st.IDs()...)
	}
	for _, ap := range ex.Appeals {
		ids = append(ids, ap.ID)
	}
	if err := a.audit.Flush(ctx); err != nil {
		return nil, fmt.Errorf("export %q: flush audit: %w", user, err)
	}
	if ex.Audit, err = a.db.AuditAbout(user, ids); err != nil {
		return nil, fmt.Errorf("export %q: %w", user, err)
	}
	seen := map[uint64]bool{}
	for _, e := range ex.Audit {
		seen[e.Seq] = true
	}
	for _, al := range aliases {
		more, err := a.db.AuditAbout(al, nil)
		if err != nil {
			return nil, fmt.Errorf("export %q: %w", user, err)
		}
		for _, e := range more {
			if !seen[e.Seq] {
				seen[e.Seq] = true
				ex.Audit = append(ex.Audit, e)
			}
		}
	}
	slices.SortFunc(ex.Audit, func(x, y store.AuditEntry) int { return cmp.Compare(x.Seq, y.Seq) })
	a.exportAliases(&ex, aliases)
	ex.Outbox, ex.Labeled, ex.Audit = orEmpty(ex.Outbox), orEmpty(ex.Labeled), orEmpty(ex.Audit)
	// The export itself is audited (after it was read: it does not list
	// itself), committed before the answer.
	a.audit.Record(store.AuditEntry{Actor: actor, Action: "export", Target: user, User: user})
	if err := a.audit.Flush(ctx); err != nil {
		return nil, fmt.Errorf("export %q: audit: %w", user, err)
	}
	return ex, nil
}

// erased is the answer of DELETE /v1/users/{id}.
type erased struct {
	User   string `json:"user"`
	Erased struct {
		Messages   int `json:"messages"`   // the desk's recent decisions
		Automation int `json:"automation"` // recent messages, draft and waiting places
		Replies    int `json:"replies"`
		Handoffs   int `json:"handoffs"`
		OptOuts    int `json:"optouts"`
		Outbox     int `json:"webhook_outbox"`
		Labeled    int `json:"labeled_examples"`
		Audit      int `json:"audit_redacted"`
		Questions  int `json:"trending_questions"` // shown in their words, or counting them as an asker
		Appeals    int `json:"appeals"`
		Reviews    int `json:"reviews"`          // open ones deleted, decided ones redacted
		Drafts     int `json:"drafts"`           // saved drafts addressed to them
		Actions    int `json:"platform_actions"` // finished deleted, pending without reason
	} `json:"erased"`
	// RestrictionKept says a running timeout or ban stays, without its
	// reason: erasure does not lift it.
	RestrictionKept bool `json:"restriction_kept"`
}

func (r adminREST) Erase(ctx context.Context, actor, user string) (any, error) {
	a := r.a
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// What the audit sink and the review sampler still queue must be on
	// disk to be redacted.
	if err := a.audit.Flush(ctx); err != nil {
		return nil, fmt.Errorf("erase %q: flush audit: %w", user, err)
	}
	if err := a.sampler.Flush(ctx); err != nil {
		return nil, fmt.Errorf("erase %q: flush reviews: %w", user, err)
	}
	var out erased
	out.User = user
	user, aliases := platformAliases(user)
	aliasTickets, err := a.eraseAliases(ctx, &out, aliases)
	if err != nil {
		return nil, err
	}
	if out.Erased.Messages, err = a.desk.EraseUser(user); err != nil {
		return nil, err
	}
	if _, _, kept := a.desk.Restricted(user); kept {
		out.RestrictionKept = true
	}
	out.Erased.Automation += a.auto.stage.EraseUser(user)
	out.Erased.Questions = a.host.EraseUser(user)
	out.Erased.Replies += a.auto.replies.EraseUser(user)
	st, err := a.auto.state.EraseUser(ctx, user)
	if err != nil {
		return nil, err
	}
	out.Erased.Handoffs += len(st.Tickets)
	out.Erased.OptOuts += st.OptOuts
	out.Erased.Outbox += st.Outbox
	rec := store.AuditEntry{TS: time.Now().UnixMilli(), Actor: actor, Role: a.roleOf(actor), Action: "erase", Target: user}
	// The stage saved its re-rendered drafts above; the store deletes the
	// rest of the user's drafts, reviews, appeals and platform actions and
	// redacts the audit in one transaction.
	dr, err := a.db.EraseUser(user, append(st.Tickets, aliasTickets...), rec, aliases...)
	if err != nil {
		return nil, err
	}
	a.sampler.Erased(dr.OpenReviews)
	out.Erased.Labeled, out.Erased.Audit, out.Erased.Appeals = dr.Labels, dr.Audit, dr.Appeals
	out.Erased.Reviews, out.Erased.Drafts, out.Erased.Actions = dr.Reviews, dr.Drafts, dr.Actions
	return out, nil
}

func ticketIDs(ts []*classify.Ticket) []string {
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	return ids
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
