package app

import (
	"context"
	"fmt"
	"time"

	"github.com/livemod/livemod/moderate"
	"github.com/livemod/livemod/overlay"
	"github.com/livemod/livemod/privacy"
	"github.com/livemod/livemod/store"
)

// adminREST implements overlay.Admin and overlay.KPIs over everything
// that holds a user's data: the moderation desk's recent messages, the
// automation stage and its reply log, the store (tickets, opt-outs,
// outbox, labeled examples, audit, restrictions).
type adminREST struct{ a *App }

func (r adminREST) Audit(q overlay.AuditQuery) (any, error) {
	// Read your writes: what is still queued is written first.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.a.audit.Flush(ctx); err != nil {
		return nil, fmt.Errorf("audit: flush: %w", err)
	}
	entries, err := r.a.DB.Audit(store.AuditQuery{Stream: q.Stream, User: q.User, Since: q.Since, Before: q.Before, Limit: q.Limit})
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
	ap, err := r.a.DB.AppealStats(stream)
	if err != nil {
		return nil, err
	}
	pr, err := r.a.DB.Precision(stream)
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

func (r adminREST) Export(actor, user string) (any, error) {
	ex, err := r.a.privacy().Export(actor, user)
	if err != nil {
		return nil, err
	}
	return ex, nil
}

func (r adminREST) Erase(ctx context.Context, actor, user string) (any, error) {
	out, err := r.a.privacy().Erase(ctx, actor, user)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// privacy is the export and erasure over the app's keepers of user data.
func (a *App) privacy() *privacy.Keepers {
	return &privacy.Keepers{Desk: a.Desk, Host: a.Host, Stage: a.Auto.stage, Replies: a.Auto.replies,
		State: a.Auto.state, DB: a.DB, Audit: a.audit, RoleOf: a.roleOf}
}

var (
	_ overlay.Admin = adminREST{}
	_ overlay.KPIs  = adminREST{}
)
