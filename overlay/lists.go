package overlay

import "github.com/livemod/livemod/store"

// The envelopes of the list answers (docs/openapi.yaml): typed, so that
// the answer's shape is the compiler's to check, not a map's.

// handoffList answers GET /v1/handoffs; Next is the cursor of the next
// page, absent on the last.
type handoffList[T any] struct {
	Handoffs []T    `json:"handoffs"`
	Total    int    `json:"total"`
	Next     string `json:"next,omitempty"`
}

// deadList answers GET /v1/webhooks/dead.
type deadList struct {
	Dead []store.OutboxEntry `json:"dead"`
}

// auditList answers GET /v1/audit as JSON; Next is the ?before= of the
// next page, absent on the last.
type auditList struct {
	Entries []store.AuditEntry `json:"entries"`
	Limit   int                `json:"limit"`
	Next    uint64             `json:"next,omitempty"`
}

// reviewList answers GET /v1/reviews.
type reviewList struct {
	Reviews []store.Review `json:"reviews"`
}

// appealList answers GET /v1/appeals.
type appealList struct {
	Appeals []store.Appeal `json:"appeals"`
}

// draftList answers GET /v1/replies/drafts.
type draftList[D any] struct {
	Drafts []D `json:"drafts"`
}
