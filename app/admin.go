package app

import (
	"context"
	"fmt"
	"time"

	"github.com/livemod/livemod/overlay"
	"github.com/livemod/livemod/privacy"
	"github.com/livemod/livemod/store"
)

// adminREST implements overlay.Admin and overlay.KPIs over everything
// that holds a user's data: the moderation desk's recent messages, the
// automation stage and its reply log, the store (tickets, opt-outs,
// outbox, labeled examples, audit, restrictions).
type adminREST struct{ a *App }

func (r adminREST) Audit(q overlay.AuditQuery) ([]store.AuditEntry, error) {
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

func (r adminREST) KPIs(stream string, since int64) (overlay.KPIReport, error) {
	ap, err := r.a.DB.AppealStats(stream)
	if err != nil {
		return overlay.KPIReport{}, err
	}
	pr, err := r.a.DB.Precision(stream)
	if err != nil {
		return overlay.KPIReport{}, err
	}
	rep := overlay.KPIReport{Report: r.a.kpis.Report(stream), Appeals: ap, Reviews: pr}
	if since > 0 {
		if rep.Series, err = r.a.minutes.Series(stream, since); err != nil {
			return overlay.KPIReport{}, err
		}
	}
	return rep, nil
}

func (r adminREST) Export(actor, user string) (*privacy.Export, error) {
	return r.a.privacy().Export(actor, user)
}

func (r adminREST) Erase(ctx context.Context, actor, user string) (*privacy.Erasure, error) {
	return r.a.privacy().Erase(ctx, actor, user)
}

// privacy is the export and erasure over the app's keepers of user data.
func (a *App) privacy() *privacy.Keepers {
	return &privacy.Keepers{Desk: a.Desk, Host: a.Host, Stage: a.Auto.stage, Replies: a.Auto.replies,
		State: a.Auto.state, DB: a.DB, Audit: a.audit, Sampler: a.sampler, RoleOf: a.roleOf}
}

var (
	_ overlay.Admin = adminREST{}
	_ overlay.KPIs  = adminREST{}
)
