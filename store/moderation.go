package store

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Restriction is a moderator's timeout or ban of a chat user, kept in the
// users bucket so that it survives a restart. A timeout ends by itself at
// Until; a ban lasts until an unban.
type Restriction struct {
	User string `json:"user"`
	// Stream is set when the restriction holds in that stream only (given
	// through a token limited to streams); empty means every stream.
	Stream string `json:"stream,omitempty"`
	Until  int64  `json:"until,omitempty"` // Unix ms the timeout ends; 0 means banned
	Reason string `json:"reason,omitempty"`
	Actor  string `json:"actor"`
	TS     int64  `json:"ts"` // when it was given, Unix ms
}

// Key is where r is kept: User for a restriction of every stream,
// Stream NUL User for one of a stream only (DeleteRestriction takes it).
func (r Restriction) Key() string {
	if r.Stream == "" {
		return r.User
	}
	return r.Stream + "\x00" + r.User
}

// PutRestriction saves r, replacing the user's earlier one (of the same
// stream, or of every stream).
func (db *DB) PutRestriction(r Restriction) error {
	if r.User == "" {
		return fmt.Errorf("restriction: user is empty")
	}
	v, err := json.Marshal(&r)
	if err != nil {
		return err
	}
	return db.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketUsers).Put([]byte(r.Key()), v) })
}

// DeleteRestriction lifts the timeout or ban kept under key
// (Restriction.Key). Lifting none is not an error.
func (db *DB) DeleteRestriction(key string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketUsers).Delete([]byte(key)) })
}

// Restrictions returns the bans and the timeouts that still run at now
// (Unix ms), and deletes the timeouts that have ended.
func (db *DB) Restrictions(now int64) ([]Restriction, error) {
	var out []Restriction
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUsers)
		var ended [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var r Restriction
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("restriction %q: %w", k, err)
			}
			if r.Until != 0 && r.Until <= now {
				ended = append(ended, append([]byte(nil), k...))
				return nil
			}
			out = append(out, r)
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range ended {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load restrictions from %s: %w", db.path, err)
	}
	return out, nil
}

// RestrictionOf returns the user's saved restriction, ended or not.
func (db *DB) RestrictionOf(user string) (Restriction, bool, error) {
	var r Restriction
	found := false
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketUsers).Get([]byte(user))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &r)
	})
	return r, found, err
}
