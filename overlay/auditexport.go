package overlay

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/livemod/livemod/store"
)

// AuditRow is an audit entry as the exports write it: Admin.Audit's
// entries are turned into rows through their JSON, so that the exports
// carry exactly the fields of the JSON answer.
type AuditRow struct {
	Seq    uint64 `json:"seq"`
	TS     int64  `json:"ts"`
	Actor  string `json:"actor"`
	Role   string `json:"role,omitempty"`
	Stream string `json:"stream,omitempty"`
	Action string `json:"action"`
	Target string `json:"target"`
	User   string `json:"user,omitempty"`
	Reason string `json:"reason,omitempty"`
	Rule   string `json:"rule,omitempty"`
	Erased bool   `json:"erased,omitempty"`
	PD     string `json:"pd,omitempty"`
	Hash   string `json:"hash,omitempty"`

	raw json.RawMessage
}

// auditRows converts the store's entries to rows, through their JSON
// (which keeps each entry's own encoding in raw).
func auditRows(entries []store.AuditEntry) []AuditRow {
	rows := make([]AuditRow, 0, len(entries))
	for i := range entries {
		b, err := json.Marshal(entries[i])
		if err != nil {
			continue
		}
		var r AuditRow
		if json.Unmarshal(b, &r) == nil {
			r.raw = b
			rows = append(rows, r)
		}
	}
	return rows
}

func exportHeaders(w http.ResponseWriter, ctype, ext string, next uint64) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", `attachment; filename="livemod-audit.`+ext+`"`)
	if next > 0 {
		h.Set("X-Audit-Next", strconv.FormatUint(next, 10))
	}
}

// writeAuditNDJSON writes one entry per line, newest first.
func writeAuditNDJSON(w http.ResponseWriter, rows []AuditRow, next uint64) {
	exportHeaders(w, "application/x-ndjson", "ndjson", next)
	w.WriteHeader(http.StatusOK)
	for _, r := range rows {
		w.Write(r.raw)
		w.Write([]byte{'\n'})
	}
}

// AuditCSVHeader is the CSV export's first line.
var AuditCSVHeader = []string{"seq", "ts", "actor", "role", "stream", "action", "target", "user", "reason", "rule", "erased", "pd", "hash"}

// writeAuditCSV writes a header and one row per entry, newest first.
// A cell that a spreadsheet would run as a formula (=, +, -, @) is
// prefixed with a quote: chat text must never become code.
func writeAuditCSV(w http.ResponseWriter, rows []AuditRow, next uint64) {
	exportHeaders(w, "text/csv; charset=utf-8", "csv", next)
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	cw.Write(AuditCSVHeader)
	for _, r := range rows {
		cw.Write([]string{strconv.FormatUint(r.Seq, 10), strconv.FormatInt(r.TS, 10), cell(r.Actor), cell(r.Role), cell(r.Stream),
			cell(r.Action), cell(r.Target), cell(r.User), cell(r.Reason), cell(r.Rule), strconv.FormatBool(r.Erased), r.PD, r.Hash})
	}
	cw.Flush()
}

func cell(s string) string {
	if s != "" {
		switch s[0] {
		case '=', '+', '-', '@', '\t', '\r':
			return "'" + s
		}
	}
	return s
}
