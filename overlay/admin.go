package overlay

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/livemod/livemod/auth"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/privacy"
	"github.com/livemod/livemod/store"
)

// AuditQuery selects audit entries: zero fields select all.
type AuditQuery struct {
	Stream string
	User   string // the entry's user or its target
	Since  int64  // Unix ms, inclusive
	Before uint64 // only entries older than this seq (the cursor); 0: from the newest
	Limit  int    // 1…MaxAuditLimit (1…MaxAuditExport for ndjson and csv)
	Format string // json (default), ndjson or csv
}

// Admin is the data side of the audit, export and erase endpoints; app
// implements it over the store, the desks and the automation. actor is
// the token's name.
type Admin interface {
	Audit(q AuditQuery) ([]store.AuditEntry, error)
	Export(actor, user string) (*privacy.Export, error)
	Erase(ctx context.Context, actor, user string) (*privacy.Erasure, error)
}

// Audit limits: DefaultAuditLimit entries when none is asked for, at
// most MaxAuditLimit (a larger limit is capped).
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 1000
	// MaxAuditExport bounds one NDJSON or CSV export; the header
	// X-Audit-Next gives the cursor for the rest.
	MaxAuditExport = 100_000
)

// RegisterAdmin adds:
//
//	GET    /v1/audit?stream=&user=&since=&before=&limit=&format=  (admin, moderator)
//	       {"entries":[…],"limit":N,"next":SEQ}, newest first; next is the
//	       ?before= of the following page. format=ndjson or csv exports
//	       (up to MaxAuditExport entries, the cursor in X-Audit-Next).
//	GET    /v1/users/{id}/export                  (admin)             everything held about the user
//	DELETE /v1/users/{id}                         (admin)             counts of what was erased
func RegisterAdmin(s *Server, a Admin) {
	s.Handle("GET /v1/audit", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := parseAuditQuery(r)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		if !AllowStream(w, r, q.Stream) {
			return
		}
		entries, err := a.Audit(q)
		if err != nil {
			answerError(w, err)
			return
		}
		rows := auditRows(entries)
		var next uint64
		if len(rows) == q.Limit && len(rows) > 0 {
			next = rows[len(rows)-1].Seq
		}
		switch q.Format {
		case "ndjson":
			writeAuditNDJSON(w, rows, next)
		case "csv":
			writeAuditCSV(w, rows, next)
		default:
			writeJSON(w, http.StatusOK, auditList{Entries: entries, Limit: q.Limit, Next: next})
		}
	}), auth.RoleAdmin, auth.RoleModerator)
	s.Handle("GET /v1/users/{id}/export", RequireAllStreams(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, ok := userParam(w, r)
		if !ok {
			return
		}
		res, err := a.Export(PrincipalFrom(r.Context()).Name, user)
		answer(w, res, err)
	})), auth.RoleAdmin)
	s.Handle("DELETE /v1/users/{id}", RequireAllStreams(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, ok := userParam(w, r)
		if !ok {
			return
		}
		res, err := a.Erase(r.Context(), PrincipalFrom(r.Context()).Name, user)
		answer(w, res, err)
	})), auth.RoleAdmin)
}

func userParam(w http.ResponseWriter, r *http.Request) (string, bool) {
	user := r.PathValue("id")
	if strings.TrimSpace(user) == "" || len(user) > chat.MaxIDBytes {
		writeError(w, http.StatusBadRequest, "user id: want 1 to "+strconv.Itoa(chat.MaxIDBytes)+" bytes, as in the message's user.id")
		return "", false
	}
	return user, true
}

type badParam string

func (e badParam) Error() string { return string(e) }

// parseAuditQuery reads and checks the audit endpoint's parameters.
func parseAuditQuery(r *http.Request) (AuditQuery, error) {
	v := r.URL.Query()
	for k := range v {
		switch k {
		case "stream", "user", "since", "before", "limit", "format", "token":
		default:
			return AuditQuery{}, badParam("parameter " + quote(k) + ": unknown; use stream, user, since (Unix ms or RFC 3339), before (a seq), limit (1…" + strconv.Itoa(MaxAuditLimit) + ") and format (json, ndjson, csv)")
		}
	}
	q := AuditQuery{Stream: v.Get("stream"), User: v.Get("user"), Limit: DefaultAuditLimit, Format: v.Get("format")}
	max := MaxAuditLimit
	switch q.Format {
	case "", "json":
	case "ndjson", "csv":
		max, q.Limit = MaxAuditExport, MaxAuditExport
	default:
		return AuditQuery{}, badParam("format " + quote(q.Format) + ": want json, ndjson or csv")
	}
	if s := v.Get("before"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || n < 1 {
			return AuditQuery{}, badParam("before " + quote(s) + ": want a seq (1 or more), as the next of the page before")
		}
		q.Before = n
	}
	if s := v.Get("since"); s != "" {
		if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms >= 0 {
			q.Since = ms
		} else if t, err := time.Parse(time.RFC3339, s); err == nil {
			q.Since = t.UnixMilli()
		} else {
			return AuditQuery{}, badParam("since " + quote(s) + ": want Unix milliseconds (1795000000000) or RFC 3339 (2026-11-18T10:00:00Z)")
		}
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return AuditQuery{}, badParam("limit " + quote(s) + ": want a whole number from 1 to " + strconv.Itoa(max))
		}
		q.Limit = min(n, max)
	}
	return q, nil
}
