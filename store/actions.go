package store

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Action kinds: what a platform is asked to do.
const (
	ActHide    = "hide"    // delete one message
	ActTimeout = "timeout" // ban for Seconds
	ActBan     = "ban"
	ActUnban   = "unban"
	ActReply   = "reply" // send Text, in reply to message Target if the platform can
)

// Action states.
const (
	ActionPending = "pending" // waiting for its next attempt
	ActionDone    = "done"
	ActionRefused = "refused" // the platform said no, or attempts ran out
)

// Action is one platform action in the durable outbox: a hide, timeout,
// ban, unban or reply that a moderator or automation took on a connected
// stream. It is saved before the caller is answered, so a restart does
// not lose it; the connector of its stream and platform carries it out.
type Action struct {
	ID       string `json:"id"` // "pa-N"
	Kind     string `json:"kind"`
	Stream   string `json:"stream"`
	Platform string `json:"platform"`
	Channel  string `json:"channel,omitempty"`
	Target   string `json:"target,omitempty"` // the platform's message id (hide; reply's parent)
	User     string `json:"user,omitempty"`   // the platform's user id (timeout, ban, unban)
	Seconds  int    `json:"seconds,omitempty"`
	Text     string `json:"text,omitempty"` // reply text
	Reason   string `json:"reason,omitempty"`
	Actor    string `json:"actor"`
	TS       int64  `json:"ts"` // Unix ms it was queued

	State     string `json:"state"`
	Attempts  int    `json:"attempts"`
	NextAt    int64  `json:"next_at"`
	LastError string `json:"last_error,omitempty"`
	DoneAt    int64  `json:"done_at,omitempty"`
}

func actionSeq(id string) (uint64, error) {
	n, err := strconv.ParseUint(strings.TrimPrefix(id, "pa-"), 10, 64)
	if err != nil || !strings.HasPrefix(id, "pa-") {
		return 0, fmt.Errorf("action id %q: want pa-N: %w", id, ErrNotFound)
	}
	return n, nil
}

// EnqueueActions saves actions, due at once, in one transaction, and
// returns them with their ids. Entries finished (done or refused) beyond
// keep are dropped, oldest first: the outbox is bounded.
func (db *DB) EnqueueActions(as []Action, keep int) ([]Action, error) {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketActions)
		for i := range as {
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			a := &as[i]
			a.ID, a.State, a.Attempts, a.LastError = "pa-"+strconv.FormatUint(seq, 10), ActionPending, 0, ""
			if a.NextAt == 0 {
				a.NextAt = a.TS
			}
			v, err := json.Marshal(a)
			if err != nil {
				return err
			}
			if err := b.Put(seqKey(seq), v); err != nil {
				return err
			}
		}
		return trimActions(b, keep)
	})
	return as, err
}

// trimActions drops the oldest finished entries beyond keep.
func trimActions(b *bolt.Bucket, keep int) error {
	if keep <= 0 {
		return nil
	}
	var finished [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var a Action
		if json.Unmarshal(v, &a) == nil && a.State != ActionPending {
			finished = append(finished, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := 0; i < len(finished)-keep; i++ {
		if err := b.Delete(finished[i]); err != nil {
			return err
		}
	}
	return nil
}

// ActionsDue returns up to limit pending actions due at or before now,
// oldest first, and the earliest NextAt of the pending ones not due
// (zero if none).
func (db *DB) ActionsDue(now int64, limit int) (due []Action, next int64, err error) {
	err = db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketActions).ForEach(func(_, v []byte) error {
			var a Action
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			switch {
			case a.State != ActionPending:
			case a.NextAt <= now && len(due) < limit:
				due = append(due, a)
			case a.NextAt <= now:
				next = now
			case next == 0 || a.NextAt < next:
				next = a.NextAt
			}
			return nil
		})
	})
	return due, next, err
}

// Actions returns the outbox's entries (pending and finished), oldest
// first.
func (db *DB) Actions() ([]Action, error) {
	var out []Action
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketActions).ForEach(func(_, v []byte) error {
			var a Action
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			out = append(out, a)
			return nil
		})
	})
	return out, err
}

// UpdateAction applies fn to action id and saves it.
func (db *DB) UpdateAction(id string, fn func(a *Action)) (Action, error) {
	var out Action
	seq, err := actionSeq(id)
	if err != nil {
		return out, err
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketActions)
		v := b.Get(seqKey(seq))
		if v == nil {
			return fmt.Errorf("action %s: %w", id, ErrNotFound)
		}
		if err := json.Unmarshal(v, &out); err != nil {
			return err
		}
		fn(&out)
		nv, err := json.Marshal(&out)
		if err != nil {
			return err
		}
		return b.Put(seqKey(seq), nv)
	})
	return out, err
}

// QuotaUsed returns the units of a platform quota (key, e.g. a YouTube
// live chat) recorded as used on day, 0 if none.
func (db *DB) QuotaUsed(key, day string) (int, error) {
	var used int
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get([]byte("quota/" + key))
		if v == nil {
			return nil
		}
		d, n, ok := strings.Cut(string(v), " ")
		if ok && d == day {
			used, _ = strconv.Atoi(n)
		}
		return nil
	})
	return used, err
}

// SetQuotaUsed records the units of key's quota used on day: a restart
// in the middle of a show does not forget what the day has spent.
func (db *DB) SetQuotaUsed(key, day string, used int) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put([]byte("quota/"+key), []byte(day+" "+strconv.Itoa(used)))
	})
}
