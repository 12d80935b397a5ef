package overlay

import (
	"net/http"
	"strconv"
	"time"

	"github.com/livemod/livemod/auth"
	"github.com/livemod/livemod/moderate"
	"github.com/livemod/livemod/store"
)

// KPIReport is GET /v1/kpis: the desk's counters and the appeals'.
type KPIReport struct {
	moderate.Report
	Appeals store.AppealStats `json:"appeals"`
	// Reviews is each rule's precision from the reviewers' marks.
	Reviews map[string]store.RulePrecision `json:"review_precision"`
	// Series is one entry per minute from ?since= on, from the store.
	Series []store.KPIMinute `json:"series,omitempty"`
}

// KPIs reports a stream's key numbers (moderate.KPIs via app); since > 0
// asks for the per-minute series from then on too.
type KPIs interface {
	KPIs(stream string, since int64) (KPIReport, error)
}

// RegisterKPIs adds GET /v1/kpis?stream=ID&since=… for moderators, hosts
// and admins. The numbers and their definitions are in the README; since
// (Unix ms or RFC 3339, at most a week back) adds "series": one entry per
// minute with counts, kept in the store.
func RegisterKPIs(s *Server, k KPIs) {
	s.Handle("GET /v1/kpis", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		stream := q.Get("stream")
		if stream == "" {
			writeError(w, http.StatusBadRequest, "stream: missing; use /v1/kpis?stream=ID")
			return
		}
		var since int64
		if v := q.Get("since"); v != "" {
			if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms >= 0 {
				since = ms
			} else if t, err := time.Parse(time.RFC3339, v); err == nil {
				since = t.UnixMilli()
			} else {
				writeError(w, http.StatusBadRequest, "since "+quote(v)+": want Unix milliseconds or RFC 3339")
				return
			}
			if week := time.Now().Add(-7 * 24 * time.Hour).UnixMilli(); since < week {
				since = week // a series is at most a week of minutes
			}
		}
		res, err := k.KPIs(stream, since)
		answer(w, res, err)
	}), auth.RoleModerator, auth.RoleHost)
}
