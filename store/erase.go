package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/handoff"
	bolt "go.etcd.io/bbolt"
)

// Export and erasure of one chat user's records (DELETE /v1/users/{id}).
//
// What the store holds about a user: handoff tickets (and their webhook
// outbox copies), the last STOP or START, labeled examples of their
// messages, audit entries naming them, and their reviews, drafts,
// appeals, platform actions and restrictions (erase_more.go lists every
// bucket). Erasure deletes or redacts the records and redacts the audit
// entries: when, who acted and what was done
// stay; the user, reasons and any other text go. The erasure itself is
// audited, naming the user, without content.
//
// In memory an erased ticket leaves a husk without content (state
// resolved, no user, no messages) that Get, List and Update no longer
// see; an erased opt-out leaves the user id with no choice and no time.
// Both are gone after a restart.

// goneTickets is the set of erased ticket ids.
type goneTickets struct {
	mu sync.RWMutex
	m  map[string]bool
}

func (g *goneTickets) has(id string) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.m[id]
}

func (g *goneTickets) add(id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil {
		g.m = map[string]bool{}
	}
	g.m[id] = true
}

func (g *goneTickets) filter(ts []*chat.Ticket) []*chat.Ticket {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if len(g.m) == 0 {
		return ts
	}
	out := ts[:0]
	for _, t := range ts {
		if !g.m[t.ID] {
			out = append(out, t)
		}
	}
	return out
}

// splitFlushes takes Flush's markers out of batch.
func splitFlushes(batch []AuditEntry) ([]AuditEntry, []chan error) {
	var flushed []chan error
	out := batch[:0]
	for _, e := range batch {
		if e.flushed != nil {
			flushed = append(flushed, e.flushed)
			continue
		}
		out = append(out, e)
	}
	return out, flushed
}

// Flush waits until every entry queued before it is written, and returns
// the error of the write that carried them. An erasure calls it so that
// no queued entry about the user escapes redaction; a human action's
// answer waits for it. Flush must not be called after Close.
func (s *AuditSink) Flush(ctx context.Context) error {
	done := make(chan error, 1)
	select {
	case s.b.queue <- AuditEntry{flushed: done}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// UserRecords returns the user's tickets (oldest first), those only on
// disk (resolved long ago) included, and last opt-out choice, if any.
func (a *Automation) UserRecords(user string) ([]*chat.Ticket, *chat.OptOut) {
	var ts []*chat.Ticket
	seen := map[string]bool{}
	for _, t := range a.List("", "") {
		if t.User.ID == user {
			ts = append(ts, t)
			seen[t.ID] = true
		}
	}
	a.db.bolt.View(func(tx *bolt.Tx) error {
		hb := tx.Bucket(bucketHandoffs)
		for _, k := range keysOfUser(hb, user) {
			if seen[string(k)] || a.gone.has(string(k)) {
				continue
			}
			if t, ok := ticketIn(hb, k); ok {
				ts = append(ts, t)
			}
		}
		return nil
	})
	slices.SortFunc(ts, handoff.CompareTickets)
	var opt *chat.OptOut
	if o, ok := a.OptOut(user); ok {
		opt = &o
	}
	return ts, opt
}

// AutomationErased counts what EraseUser removed.
type AutomationErased struct {
	Tickets []string `json:"-"` // their ids, for the audit redaction
	OptOuts int      `json:"optouts"`
	Outbox  int      `json:"outbox"`
}

// Flush waits until every ticket and opt-out change made before the call
// is committed.
func (a *Automation) Flush(ctx context.Context) error {
	a.flushLazy() // joins waiting for the sweeper are queued too
	return a.waitWritten(ctx)
}

// waitWritten waits until what is queued to the writer now is committed.
func (a *Automation) waitWritten(ctx context.Context) error {
	select {
	case err := <-a.Committed():
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// EraseUser deletes the user's tickets, their webhook outbox entries and
// the user's opt-out, in memory and on disk. Changes queued before it
// are written first; later writes of the erased tickets are dropped.
func (a *Automation) EraseUser(ctx context.Context, user string) (AutomationErased, error) {
	var out AutomationErased
	ids := map[string]bool{}
	for _, t := range a.tickets.List("", "") {
		if t.User.ID != user || a.gone.has(t.ID) {
			continue
		}
		a.gone.add(t.ID)
		ids[t.ID] = true
		out.Tickets = append(out.Tickets, t.ID)
		// Keep a husk without content: MemoryTickets cannot delete.
		a.tickets.Update(ctx, t.ID, func(t *chat.Ticket) error {
			*t = chat.Ticket{ID: t.ID, Stream: t.Stream, State: chat.TicketResolved, Rev: t.Rev}
			return nil
		})
	}
	if o, ok := a.optouts.Get(user); ok && o != (chat.OptOut{User: user}) {
		a.optouts.SetOptOut(chat.OptOut{User: user})
	}
	// Wait for the writes queued before this point, so that the deletion
	// below starts after they commit.
	if err := a.Flush(ctx); err != nil {
		return out, fmt.Errorf("erase %q: %w", user, err)
	}
	err := a.db.bolt.Update(func(tx *bolt.Tx) error {
		hb := tx.Bucket(bucketHandoffs)
		for id := range ids {
			if err := hb.Delete([]byte(id)); err != nil {
				return err
			}
		}
		// Tickets written before a restart are on disk only.
		for _, k := range keysOfUser(hb, user) {
			if !ids[string(k)] {
				ids[string(k)] = true
				out.Tickets = append(out.Tickets, string(k))
			}
			if err := hb.Delete(k); err != nil {
				return err
			}
		}
		ob := tx.Bucket(bucketOutbox)
		var dead [][]byte
		ob.ForEach(func(k, v []byte) error {
			var e struct {
				Ticket string `json:"ticket"`
			}
			if json.Unmarshal(v, &e) == nil && ids[e.Ticket] {
				dead = append(dead, append([]byte(nil), k...))
			}
			return nil
		})
		for _, k := range dead {
			if err := ob.Delete(k); err != nil {
				return err
			}
		}
		out.Outbox = len(dead)
		opt := tx.Bucket(bucketOptouts)
		if opt.Get([]byte(user)) != nil {
			out.OptOuts = 1
			return opt.Delete([]byte(user))
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("erase %q from %s: %w", user, a.db.path, err)
	}
	return out, nil
}

// OutboxOf returns the webhook outbox entries (live or dead) of tickets.
func (db *DB) OutboxOf(tickets []string) ([]OutboxEntry, error) {
	want := map[string]bool{}
	for _, id := range tickets {
		want[id] = true
	}
	var out []OutboxEntry
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(_, v []byte) error {
			var e OutboxEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if want[e.Ticket] {
				out = append(out, e)
			}
			return nil
		})
	})
	return out, err
}

// LabelsOf returns the labeled examples of the user's messages, oldest
// first.
func (db *DB) LabelsOf(user string) ([]LabeledExample, error) {
	var out []LabeledExample
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLabels)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var ex LabeledExample
			if err := json.Unmarshal(v, &ex); err != nil {
				return fmt.Errorf("labels: %w", err)
			}
			if ex.User.ID == user {
				out = append(out, ex)
			}
			return nil
		})
	})
	return out, err
}

// aboutUser reports whether e names user, as its user or target, or
// targets one of the user's tickets.
func aboutUser(e *AuditEntry, user string, tickets map[string]bool) bool {
	return e.User == user || e.Target == user || tickets[e.Target]
}

func idSet(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// AuditAbout returns every audit entry about user (as its user or target,
// or about one of tickets), oldest first.
func (db *DB) AuditAbout(user string, tickets []string) ([]AuditEntry, error) {
	ts := idSet(tickets)
	var out []AuditEntry
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAudit).ForEach(func(_, v []byte) error {
			return eachAuditLine(v, func(line []byte) error {
				var e AuditEntry
				if err := json.Unmarshal(line, &e); err != nil {
					return fmt.Errorf("audit: %w", err)
				}
				if aboutUser(&e, user, ts) {
					out = append(out, e)
				}
				return nil
			})
		})
	})
	return out, err
}

// Erased counts what DB.EraseUser removed or redacted.
type Erased struct {
	Labels int `json:"labels"`
	Audit  int `json:"audit_redacted"`
	// Reviews counts the user's reviews: open ones deleted, decided ones
	// redacted; OpenReviews is the open ones among them.
	Reviews     int `json:"reviews"`
	OpenReviews int `json:"-"`
	Drafts      int `json:"drafts"`
	Appeals     int `json:"appeals"`
	// Actions counts the platform actions on them: finished ones deleted,
	// pending ones without their reason.
	Actions int `json:"platform_actions"`
}

// EraseUser deletes the labeled examples of user's messages and their
// reviews, drafts, appeals and platform actions (erase_more.go), redacts
// the audit entries about user, about tickets or about any of those
// records (see the comment at the top of this file), and appends record —
// the audit entry of the erasure — in the same transaction. Flush the
// AuditSink and the Sampler first, and erase the stage's drafts
// (automate.Stage.EraseUser) before. aliases are other ids of the same
// user (a connector's "twitch:42"), erased alike.
func (db *DB) EraseUser(user string, tickets []string, record AuditEntry, aliases ...string) (Erased, error) {
	var out Erased
	ts := idSet(tickets)
	users := append([]string{user}, aliases...)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		for _, u := range users {
			if lb := tx.Bucket(bucketLabels); lb != nil {
				del := keysOfUser(lb, u)
				for _, k := range del {
					if err := lb.Delete(k); err != nil {
						return err
					}
				}
				out.Labels += len(del)
			}
			st, err := eraseStored(tx, u, record.TS)
			if err != nil {
				return err
			}
			out.Reviews += st.Reviews
			out.OpenReviews += st.OpenReviews
			out.Drafts += st.Drafts
			out.Appeals += st.Appeals
			out.Actions += st.Actions
			for _, id := range st.ids {
				ts[id] = true
			}
		}
		about := func(e *AuditEntry) bool {
			for _, u := range users {
				if aboutUser(e, u, ts) {
					return true
				}
			}
			return false
		}
		ab := tx.Bucket(bucketAudit)
		type kv struct{ k, v []byte }
		var red []kv
		err := ab.ForEach(func(k, v []byte) error {
			// A chunk with an entry about user is written again whole,
			// its other entries byte for byte.
			var nv []byte
			changed := false
			err := eachAuditLine(v, func(line []byte) error {
				var e AuditEntry
				if err := json.Unmarshal(line, &e); err != nil {
					return fmt.Errorf("audit chunk %x: %w", k, err)
				}
				if len(nv) > 0 {
					nv = append(nv, '\n')
				}
				if !about(&e) {
					nv = append(nv, line...)
					return nil
				}
				// The redacted entry keeps its chain fields: its hash
				// covers only what stays (see chain.go).
				r := AuditEntry{Seq: e.Seq, TS: e.TS, Actor: e.Actor, Role: e.Role, Action: e.Action, Target: e.Target, Stream: e.Stream, Rule: e.Rule, Erased: true, PD: e.PD, Hash: e.Hash}
				if slices.Contains(users, r.Actor) {
					r.Actor = "erased"
				}
				if slices.Contains(users, r.Target) {
					r.Target = ""
				}
				nv = r.appendJSON(nv)
				changed = true
				out.Audit++
				return nil
			})
			if err != nil || !changed {
				return err
			}
			red = append(red, kv{append([]byte(nil), k...), nv})
			return nil
		})
		if err != nil {
			return err
		}
		for _, x := range red {
			if err := ab.Put(x.k, x.v); err != nil {
				return err
			}
		}
		record.Node = db.node
		return appendAudit(tx, []AuditEntry{record}, nil)
	})
	if err != nil {
		return Erased{}, fmt.Errorf("erase %q from %s: %w", user, db.path, err)
	}
	return out, nil
}

// keysOfUser returns the keys of b whose values are JSON objects with
// "user":{"id": user} (tickets, labeled examples), copied so that the
// caller may delete them.
func keysOfUser(b *bolt.Bucket, user string) [][]byte {
	var keys [][]byte
	b.ForEach(func(k, v []byte) error {
		var rec struct {
			User chat.User `json:"user"`
		}
		if json.Unmarshal(v, &rec) == nil && rec.User.ID == user {
			keys = append(keys, append([]byte(nil), k...))
		}
		return nil
	})
	return keys
}
