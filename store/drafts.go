package store

import (
	"encoding/json"

	"github.com/livemod/livemod/chat"
	bolt "go.etcd.io/bbolt"
)

// Reply drafts awaiting a moderator's approval are kept here, so that a
// restart loses none: each new or changed draft is written (one small
// transaction; drafts are rare: only FAQ entries with approve: true make
// them) before the pipeline goes on or the decision is answered.
var bucketDrafts = []byte("drafts")

// PutDraft saves d under its id.
func (db *DB) PutDraft(d *chat.Draft) error {
	v, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return db.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketDrafts).Put([]byte(d.ID), v) })
}

// Drafts returns the saved drafts: every pending one and the newest keep
// decided ones, oldest first.
func (db *DB) Drafts(keep int) ([]*chat.Draft, error) {
	var pending, decided []*chat.Draft
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDrafts).ForEach(func(_, v []byte) error {
			var d chat.Draft
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			if d.State == chat.DraftPending {
				pending = append(pending, &d)
			} else {
				decided = append(decided, &d)
			}
			return nil
		})
	})
	if len(decided) > keep {
		decided = decided[len(decided)-keep:]
	}
	return append(decided, pending...), err
}

// purgeDrafts deletes decided drafts decided before cut.
func purgeDrafts(tx *bolt.Tx, cut int64) (int, error) {
	b := tx.Bucket(bucketDrafts)
	var del [][]byte
	b.ForEach(func(k, v []byte) error {
		var d chat.Draft
		if json.Unmarshal(v, &d) == nil && d.State != chat.DraftPending && d.DecidedAt < cut {
			del = append(del, append([]byte(nil), k...))
		}
		return nil
	})
	for _, k := range del {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(del), nil
}
