package state

import (
	"errors"
	"slices"
	"sync"

	"github.com/livemod/livemod/chat"
)

// Drafts holds automated replies waiting for a moderator's approval, and
// the latest decided ones for the queue's history. Implementations are
// goroutine-safe and hand out copies: a draft returned is the caller's.
// Add and Change sit on the message path (an asker joins a pending
// draft): a durable or remote implementation keeps the queue in memory
// and writes behind, as the automation's Output.Drafted does today.
type Drafts interface {
	// Get returns a copy of draft id.
	Get(id string) (*chat.Draft, bool)
	// Add puts d (a copy) as the newest draft, unless a draft with its id
	// is there; it reports whether it did.
	Add(d *chat.Draft) bool
	// Change calls fn on draft id under the table's lock and, unless fn
	// returns an error, keeps the change and returns a copy. A missing
	// draft is ErrDraftNotFound (fn is not called).
	Change(id string, fn func(d *chat.Draft) error) (*chat.Draft, error)
	// List returns copies of the drafts of stream (all if empty) in state
	// (all if empty), oldest first.
	List(stream, state string) []*chat.Draft
	// Filter calls keep on every draft, oldest first, under the table's
	// lock; keep may change the draft, and false deletes it (erasure).
	Filter(keep func(d *chat.Draft) bool)
	// Len returns how many drafts are kept (a gauge).
	Len() int
}

// ErrDraftNotFound is Drafts.Change's error for a draft that is not kept.
var ErrDraftNotFound = errors.New("no such draft")

// MemoryDrafts is Drafts in memory. Pending drafts are always kept; of
// the decided ones the newest, up to Keep in all (zero: DefaultDraftsKept),
// are. The zero value is ready.
type MemoryDrafts struct {
	// Keep bounds the drafts kept; pending ones are never dropped. Set it
	// before the first use.
	Keep int

	mu    sync.Mutex
	m     map[string]*chat.Draft
	order []string // ids, oldest first
}

// DefaultDraftsKept bounds MemoryDrafts unless Keep says otherwise.
const DefaultDraftsKept = 1024

// CloneDraft returns a copy of d that shares no slice with it.
func CloneDraft(d *chat.Draft) *chat.Draft {
	c := *d
	c.To = slices.Clone(d.To)
	c.Names = slices.Clone(d.Names)
	c.InReplyTo = slices.Clone(d.InReplyTo)
	return &c
}

// Get implements Drafts.
func (t *MemoryDrafts) Get(id string) (*chat.Draft, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.m[id]
	if d == nil {
		return nil, false
	}
	return CloneDraft(d), true
}

// Add implements Drafts.
func (t *MemoryDrafts) Add(d *chat.Draft) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]*chat.Draft{}
	}
	if t.m[d.ID] != nil {
		return false
	}
	t.m[d.ID] = CloneDraft(d)
	t.order = append(t.order, d.ID)
	t.trim()
	return true
}

// trim drops the oldest decided drafts beyond Keep; pending ones stay
// (never drop what a moderator has not seen), so only they can take the
// queue past Keep. t.mu is held.
func (t *MemoryDrafts) trim() {
	keep := t.Keep
	if keep <= 0 {
		keep = DefaultDraftsKept
	}
	if len(t.order) <= keep {
		return
	}
	over := len(t.order) - keep
	order := t.order[:0]
	for _, id := range t.order {
		if d := t.m[id]; over > 0 && (d == nil || d.State != chat.DraftPending) {
			delete(t.m, id)
			over--
			continue
		}
		order = append(order, id)
	}
	clear(t.order[len(order):])
	t.order = order
}

// Change implements Drafts.
func (t *MemoryDrafts) Change(id string, fn func(d *chat.Draft) error) (*chat.Draft, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.m[id]
	if d == nil {
		return nil, ErrDraftNotFound
	}
	c := CloneDraft(d)
	if err := fn(c); err != nil {
		return nil, err
	}
	t.m[id] = c
	return CloneDraft(c), nil
}

// List implements Drafts.
func (t *MemoryDrafts) List(stream, state string) []*chat.Draft {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*chat.Draft
	for _, id := range t.order {
		d := t.m[id]
		if d != nil && (stream == "" || d.Stream == stream) && (state == "" || d.State == state) {
			out = append(out, CloneDraft(d))
		}
	}
	return out
}

// Filter implements Drafts.
func (t *MemoryDrafts) Filter(keep func(d *chat.Draft) bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	order := t.order[:0]
	for _, id := range t.order {
		d := t.m[id]
		if d == nil {
			continue
		}
		if !keep(d) {
			delete(t.m, id)
			continue
		}
		order = append(order, id)
	}
	clear(t.order[len(order):])
	t.order = order
}

// Len implements Drafts.
func (t *MemoryDrafts) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}
