package overlay

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/livemod/livemod/classify"
)

// AuditQuery selects audit entries: zero fields select all.
type AuditQuery struct {
	Stream string
	User   string // the entry's user or its target
	Since  int64  // Unix ms, inclusive
	Limit  int    // 1…MaxAuditLimit
}

// Admin is the data side of the audit, export and erase endpoints; cmd
// implements it over the store, the desks and the automation. actor is
// the token's name.
type Admin interface {
	Audit(q AuditQuery) (any, error)
	Export(user string) (any, error)
	Erase(ctx context.Context, actor, user string) (any, error)
}

// Audit limits: DefaultAuditLimit entries when none is asked for, at
// most MaxAuditLimit (a larger limit is capped).
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 1000
)

// RegisterAdmin adds:
//
//	GET    /v1/audit?stream=&user=&since=&limit=  (admin, moderator)  {"entries":[…],"limit":N}
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
		answer(w, map[string]any{"entries": entries, "limit": q.Limit}, err)
	}), RoleAdmin, RoleModerator)
	s.Handle("GET /v1/users/{id}/export", RequireAllStreams(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, ok := userParam(w, r)
		if !ok {
			return
		}
		res, err := a.Export(user)
		answer(w, res, err)
	})), RoleAdmin)
	s.Handle("DELETE /v1/users/{id}", RequireAllStreams(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, ok := userParam(w, r)
		if !ok {
			return
		}
		res, err := a.Erase(r.Context(), PrincipalFrom(r.Context()).Name, user)
		answer(w, res, err)
	})), RoleAdmin)
}

func userParam(w http.ResponseWriter, r *http.Request) (string, bool) {
	user := r.PathValue("id")
	if strings.TrimSpace(user) == "" || len(user) > classify.MaxIDBytes {
		writeError(w, http.StatusBadRequest, "user id: want 1 to "+strconv.Itoa(classify.MaxIDBytes)+" bytes, as in the message's user.id")
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
		case "stream", "user", "since", "limit", "token":
		default:
			return AuditQuery{}, badParam("parameter " + quote(k) + ": unknown; use stream, user, since (Unix ms or RFC 3339) and limit (1…" + strconv.Itoa(MaxAuditLimit) + ")")
		}
	}
	q := AuditQuery{Stream: v.Get("stream"), User: v.Get("user"), Limit: DefaultAuditLimit}
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
			return AuditQuery{}, badParam("limit " + quote(s) + ": want a whole number from 1 to " + strconv.Itoa(MaxAuditLimit))
		}
		q.Limit = min(n, MaxAuditLimit)
	}
	return q, nil
}
