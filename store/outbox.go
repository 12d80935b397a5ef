package store

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// OutboxEntry is one webhook delivery: a ticket's JSON, queued in the same
// transaction that saved the ticket, so a crash cannot lose it. It leaves
// the outbox when the receiver answers 2xx; after too many failures it is
// dead-lettered and waits for a moderator's retry.
type OutboxEntry struct {
	ID     string `json:"id"`     // "w-N"
	Ticket string `json:"ticket"` // the ticket id: receivers dedupe by it and Event
	// Event is what happened to the ticket: created (empty in entries
	// written before events existed), claimed or resolved.
	Event     string          `json:"event,omitempty"`
	Body      json.RawMessage `json:"body"`
	Attempts  int             `json:"attempts"`
	NextAt    int64           `json:"next_at"` // Unix ms of the next attempt
	LastError string          `json:"last_error,omitempty"`
	Dead      bool            `json:"dead"`
	DeadAt    int64           `json:"dead_at,omitempty"`
}

func outboxKey(seq uint64) []byte { return seqKey(seq) }

func outboxSeq(id string) (uint64, error) {
	n, err := strconv.ParseUint(strings.TrimPrefix(id, "w-"), 10, 64)
	if err != nil || !strings.HasPrefix(id, "w-") {
		return 0, fmt.Errorf("outbox id %q: want w-N: %w", id, ErrNotFound)
	}
	return n, nil
}

// enqueueOutbox queues body for delivery, due now.
func enqueueOutbox(tx *bolt.Tx, ticket string, body []byte) error {
	b := tx.Bucket(bucketOutbox)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	e := OutboxEntry{ID: "w-" + strconv.FormatUint(seq, 10), Ticket: ticket, Body: body}
	v, err := json.Marshal(&e)
	if err != nil {
		return err
	}
	return b.Put(outboxKey(seq), v)
}

// EnqueueEvent queues body (the ticket's JSON after the change) for the
// webhook as event (claimed, resolved), once it is on disk.
func (db *DB) EnqueueEvent(ticket, event string, body []byte) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		e := OutboxEntry{ID: "w-" + strconv.FormatUint(seq, 10), Ticket: ticket, Event: event, Body: body}
		v, err := json.Marshal(&e)
		if err != nil {
			return err
		}
		return b.Put(outboxKey(seq), v)
	})
}

// OutboxDue returns up to limit live entries due at or before now, oldest
// first, and the earliest NextAt of the live entries that are not due
// (zero if none).
func (db *DB) OutboxDue(now int64, limit int) (due []OutboxEntry, next int64, err error) {
	err = db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(_, v []byte) error {
			var e OutboxEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			switch {
			case e.Dead:
			case e.NextAt <= now && len(due) < limit:
				due = append(due, e)
			case e.NextAt <= now: // due, beyond limit: come back at once
				next = now
			case next == 0 || e.NextAt < next:
				next = e.NextAt
			}
			return nil
		})
	})
	return due, next, err
}

// OutboxDelivered removes a delivered entry.
func (db *DB) OutboxDelivered(id string) error {
	seq, err := outboxSeq(id)
	if err != nil {
		return err
	}
	return db.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketOutbox).Delete(outboxKey(seq)) })
}

// OutboxFailed records a failed attempt: the entry is tried again at
// nextAt, or dead-lettered at now when dead is set.
func (db *DB) OutboxFailed(id string, reason string, nextAt int64, dead bool, now int64) error {
	return db.updateOutbox(id, func(e *OutboxEntry) {
		e.Attempts++
		e.LastError = reason
		e.NextAt = nextAt
		if dead {
			e.Dead, e.DeadAt = true, now
		}
	})
}

// OutboxDead returns the dead-lettered entries, oldest first.
func (db *DB) OutboxDead() ([]OutboxEntry, error) {
	var out []OutboxEntry
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(_, v []byte) error {
			var e OutboxEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if e.Dead {
				out = append(out, e)
			}
			return nil
		})
	})
	return out, err
}

// OutboxRetry brings a dead-lettered entry back, due at now, with a fresh
// count of attempts.
func (db *DB) OutboxRetry(id string, now int64) (OutboxEntry, error) {
	var out OutboxEntry
	err := db.updateOutbox(id, func(e *OutboxEntry) {
		e.Dead, e.DeadAt, e.Attempts, e.NextAt = false, 0, 0, now
		out = *e
	})
	return out, err
}

func (db *DB) updateOutbox(id string, fn func(e *OutboxEntry)) error {
	seq, err := outboxSeq(id)
	if err != nil {
		return err
	}
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		v := b.Get(outboxKey(seq))
		if v == nil {
			return fmt.Errorf("outbox %s: %w", id, ErrNotFound)
		}
		var e OutboxEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return err
		}
		fn(&e)
		nv, err := json.Marshal(&e)
		if err != nil {
			return err
		}
		return b.Put(outboxKey(seq), nv)
	})
}
