package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/livemod/livemod/chat"
	bolt "go.etcd.io/bbolt"
)

// Retention says how long each kind of record is kept; zero keeps it
// forever.
type Retention struct {
	// Support: tickets and their messages, webhook deliveries, appeals,
	// and the audit log as a whole (entries older than this are deleted).
	Support time.Duration
	// Chat: the detail (user, reason) of the audit entries of ordinary
	// chat decisions — automatic and moderators' hides, holds, timeouts;
	// the entry itself (when, who, what) stays until Support.
	Chat    time.Duration
	Labels  time.Duration // moderators' labeled examples
	OptOuts time.Duration // viewers' STOP and START
}

// The kinds of Retention, in the purge's audit entry and the oldest
// record gauge.
var RetentionKinds = []string{"tickets", "outbox", "appeals", "drafts", "kpi_minutes", "audit", "chat_detail", "labels", "optouts"}

// Purged counts what one purge removed, by kind.
type Purged map[string]int

func (p Purged) String() string {
	var b strings.Builder
	for i, k := range RetentionKinds {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", k, p[k])
	}
	return b.String()
}

// supportAction reports whether an audit entry is about support or a
// transaction (kept for Support, not redacted at Chat).
func supportAction(action string) bool {
	for _, p := range []string{"ticket.", "handoff.", "reply.", "appeal.", "webhook.", "retention.", "policy", "export", "erase", "config"} {
		if strings.HasPrefix(action, p) {
			return true
		}
	}
	return false
}

// cutoff is now minus d in Unix ms, or 0 (nothing) for d zero.
func cutoff(now time.Time, d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return now.Add(-d).UnixMilli()
}

// PurgeRecords applies r at now to what the DB holds directly: labeled
// examples, decided appeals, the audit log (old chunks deleted, the
// chain anchored at the last one deleted; chat detail redacted, which
// keeps the chain valid). Tickets, outbox and opt-outs are the
// Automation's (Automation.Purge), which holds them in memory too.
func (db *DB) PurgeRecords(r Retention, now time.Time) (Purged, error) {
	out := Purged{}
	support, chat, labels := cutoff(now, r.Support), cutoff(now, r.Chat), cutoff(now, r.Labels)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		if lb := tx.Bucket(bucketLabels); lb != nil && labels > 0 {
			var del [][]byte
			lb.ForEach(func(k, v []byte) error {
				var ex struct {
					At int64 `json:"label_ts"`
				}
				if json.Unmarshal(v, &ex) == nil && ex.At < labels {
					del = append(del, append([]byte(nil), k...))
				}
				return nil
			})
			for _, k := range del {
				if err := lb.Delete(k); err != nil {
					return err
				}
			}
			out["labels"] = len(del)
		}
		if support > 0 {
			ab := tx.Bucket(bucketAppeals)
			var del [][]byte
			ab.ForEach(func(k, v []byte) error {
				var a Appeal
				if json.Unmarshal(v, &a) == nil && a.State != AppealOpen && a.DecidedAt < support {
					del = append(del, append([]byte(nil), k...))
				}
				return nil
			})
			for _, k := range del {
				if err := ab.Delete(k); err != nil {
					return err
				}
			}
			out["appeals"] = len(del)
			n, err := purgeDrafts(tx, support)
			if err != nil {
				return err
			}
			out["drafts"] = n
			if n, err = purgeKPIs(tx, support); err != nil {
				return err
			}
			out["kpi_minutes"] = n
		}
		n, err := purgeAudit(tx, support, chat)
		out["audit"], out["chat_detail"] = n.deleted, n.redacted
		return err
	})
	return out, err
}

type auditPurged struct{ deleted, redacted int }

// purgeAudit deletes the audit's oldest chunks whose every entry is older
// than support (a chunk holds at most auditChunk entries: a few may stay
// past their time until the chunk's newest is due), moving the chain's
// anchor to the last entry deleted, and redacts the chat detail older
// than chat. Both stop at the first chunk that is young enough: entries
// are in time order (a replayed message aside).
func purgeAudit(tx *bolt.Tx, support, chat int64) (auditPurged, error) {
	var n auditPurged
	b := tx.Bucket(bucketAudit)
	type kv struct{ k, v []byte }
	var del []kv
	var red []kv
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var entries []AuditEntry
		err := eachAuditLine(v, func(line []byte) error {
			var e AuditEntry
			if err := json.Unmarshal(line, &e); err != nil {
				return err
			}
			entries = append(entries, e)
			return nil
		})
		if err != nil || len(entries) == 0 {
			return n, err
		}
		last := entries[len(entries)-1]
		if support > 0 && last.TS < support {
			del = append(del, kv{append([]byte(nil), k...), nil})
			n.deleted += len(entries)
			if last.Hash != "" {
				h, _ := hex.DecodeString(last.Hash)
				var l chainLink
				l.seq = last.Seq
				copy(l.hash[:], h)
				if err := tx.Bucket(bucketMeta).Put(metaAuditAnchor, l.bytes()); err != nil {
					return n, err
				}
			}
			continue
		}
		if chat <= 0 || entries[0].TS >= chat {
			break
		}
		changed := false
		var nv []byte
		for i := range entries {
			e := &entries[i]
			if e.TS < chat && !e.Erased && !supportAction(e.Action) && (e.User != "" || e.Reason != "") {
				e.User, e.Reason, e.Erased = "", "", true
				n.redacted++
				changed = true
			}
			if i > 0 {
				nv = append(nv, '\n')
			}
			nv = e.appendJSON(nv)
		}
		if changed {
			red = append(red, kv{append([]byte(nil), k...), nv})
		}
	}
	for _, x := range del {
		if err := b.Delete(x.k); err != nil {
			return n, err
		}
	}
	for _, x := range red {
		if err := b.Put(x.k, x.v); err != nil {
			return n, err
		}
	}
	return n, nil
}

// Oldest returns the time (Unix ms) of the oldest record of each kind
// the DB holds, for the oldest-record gauge; a kind without records is
// absent.
func (db *DB) Oldest() map[string]int64 {
	out := map[string]int64{}
	older := func(kind string, ts int64) {
		if ts > 0 && (out[kind] == 0 || ts < out[kind]) {
			out[kind] = ts
		}
	}
	db.bolt.View(func(tx *bolt.Tx) error {
		if k, v := tx.Bucket(bucketAudit).Cursor().First(); k != nil {
			line := v
			if i := bytes.IndexByte(v, '\n'); i >= 0 {
				line = v[:i]
			}
			var e AuditEntry
			if json.Unmarshal(line, &e) == nil {
				older("audit", e.TS)
			}
		}
		if lb := tx.Bucket(bucketLabels); lb != nil {
			if k, v := lb.Cursor().First(); k != nil {
				var ex struct {
					At int64 `json:"label_ts"`
				}
				if json.Unmarshal(v, &ex) == nil {
					older("labels", ex.At)
				}
			}
		}
		tx.Bucket(bucketAppeals).ForEach(func(_, v []byte) error {
			var a Appeal
			if json.Unmarshal(v, &a) == nil {
				older("appeals", a.Created)
			}
			return nil
		})
		tx.Bucket(bucketHandoffs).ForEach(func(_, v []byte) error {
			var t struct {
				Created int64 `json:"created"`
			}
			if json.Unmarshal(v, &t) == nil {
				older("tickets", t.Created)
			}
			return nil
		})
		tx.Bucket(bucketOptouts).ForEach(func(_, v []byte) error {
			var o chat.OptOut
			if json.Unmarshal(v, &o) == nil {
				older("optouts", o.TS)
			}
			return nil
		})
		tx.Bucket(bucketOutbox).ForEach(func(_, v []byte) error {
			var e OutboxEntry
			if json.Unmarshal(v, &e) == nil && e.Dead {
				older("outbox", e.DeadAt)
			}
			return nil
		})
		if kb := tx.Bucket(bucketKPIs); kb != nil {
			kb.ForEach(func(k, _ []byte) error {
				if len(k) >= 9 {
					older("kpi_minutes", int64(binary.BigEndian.Uint64(k[len(k)-8:])))
				}
				return nil
			})
		}
		if db := tx.Bucket(bucketDrafts); db != nil {
			db.ForEach(func(_, v []byte) error {
				var d chat.Draft
				if json.Unmarshal(v, &d) == nil && d.State != chat.DraftPending {
					older("drafts", d.DecidedAt) // the purge deletes decided ones
				}
				return nil
			})
		}
		return nil
	})
	return out
}

// Purge applies r at now to the tickets (resolved before the Support
// cutoff), their and other dead webhook deliveries, and the opt-outs
// (older than the OptOuts cutoff), in memory and on disk, as erasure
// does.
func (a *Automation) Purge(ctx context.Context, r Retention, now time.Time) (Purged, error) {
	out := Purged{}
	support, optouts := cutoff(now, r.Support), cutoff(now, r.OptOuts)
	ids := map[string]bool{}
	if support > 0 {
		for _, t := range a.tickets.List("", chat.TicketResolved) {
			if t.ResolvedAt >= support || a.gone.has(t.ID) || t.ResolvedAt == 0 {
				continue
			}
			a.gone.add(t.ID)
			ids[t.ID] = true
			a.tickets.Update(ctx, t.ID, func(t *chat.Ticket) error {
				*t = chat.Ticket{ID: t.ID, Stream: t.Stream, State: chat.TicketResolved, Rev: t.Rev}
				return nil
			})
		}
	}
	var users []string
	if optouts > 0 {
		users = a.optouts.Before(optouts)
		for _, u := range users {
			a.optouts.Forget(u)
		}
	}
	if err := a.Flush(ctx); err != nil {
		return out, fmt.Errorf("purge: %w", err)
	}
	err := a.db.bolt.Update(func(tx *bolt.Tx) error {
		hb := tx.Bucket(bucketHandoffs)
		if support > 0 {
			// Resolved tickets only on disk (left memory) too.
			hb.ForEach(func(k, v []byte) error {
				var t struct {
					State      string `json:"state"`
					ResolvedAt int64  `json:"resolved_at"`
				}
				if json.Unmarshal(v, &t) == nil && t.State == chat.TicketResolved && t.ResolvedAt > 0 && t.ResolvedAt < support {
					ids[string(k)] = true
				}
				return nil
			})
		}
		out["tickets"] = len(ids)
		for id := range ids {
			if err := hb.Delete([]byte(id)); err != nil {
				return err
			}
		}
		ob := tx.Bucket(bucketOutbox)
		var dead [][]byte
		ob.ForEach(func(k, v []byte) error {
			var e OutboxEntry
			if json.Unmarshal(v, &e) == nil && (ids[e.Ticket] || (support > 0 && e.Dead && e.DeadAt < support)) {
				dead = append(dead, append([]byte(nil), k...))
			}
			return nil
		})
		for _, k := range dead {
			if err := ob.Delete(k); err != nil {
				return err
			}
		}
		out["outbox"] = len(dead)
		opt := tx.Bucket(bucketOptouts)
		if optouts > 0 {
			var del [][]byte
			opt.ForEach(func(k, v []byte) error {
				var o chat.OptOut
				if json.Unmarshal(v, &o) == nil && o.TS < optouts {
					del = append(del, append([]byte(nil), k...))
				}
				return nil
			})
			for _, k := range del {
				if err := opt.Delete(k); err != nil {
					return err
				}
			}
			out["optouts"] = len(del)
		}
		return nil
	})
	return out, err
}

// Purger runs the retention purge in the background: at each tick of its
// clock, the Automation's and the DB's purge, then one audit entry with
// the counts per kind (written in the same way as every other entry).
type Purger struct {
	DB         *DB
	Automation *Automation
	Retention  Retention
	Now        func() time.Time    // the injected clock
	Tick       <-chan time.Time    // when to purge
	Audit      func(AuditEntry)    // records the purge's entry
	OnError    func(error)         // nil drops errors
	OnPurge    func(Purged, error) // after each purge (tests, metrics)
	mu         sync.Mutex
	oldest     map[string]int64
}

// PurgeNow runs one purge at p.Now() and records it.
func (p *Purger) PurgeNow(ctx context.Context) (Purged, error) {
	now := p.Now()
	out := Purged{}
	var err error
	if p.Automation != nil {
		var ap Purged
		ap, err = p.Automation.Purge(ctx, p.Retention, now)
		for k, v := range ap {
			out[k] += v
		}
	}
	if err == nil {
		var dp Purged
		dp, err = p.DB.PurgeRecords(p.Retention, now)
		for k, v := range dp {
			out[k] += v
		}
	}
	if err == nil && p.Audit != nil {
		p.Audit(AuditEntry{TS: now.UnixMilli(), Actor: "retention", Role: "system", Action: "retention.purge", Target: "store", Reason: out.String()})
	}
	o := p.DB.Oldest()
	p.mu.Lock()
	p.oldest = o
	p.mu.Unlock()
	return out, err
}

// Oldest is the oldest record per kind as of the last purge (Unix ms).
func (p *Purger) Oldest() map[string]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.oldest == nil {
		p.oldest = p.DB.Oldest()
	}
	return p.oldest
}

// Run purges at every tick until ctx ends.
func (p *Purger) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.Tick:
			out, err := p.PurgeNow(ctx)
			if err != nil && p.OnError != nil {
				p.OnError(err)
			}
			if p.OnPurge != nil {
				p.OnPurge(out, err)
			}
		}
	}
}
