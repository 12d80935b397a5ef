package store

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/livemod/livemod/chat"
	bolt "go.etcd.io/bbolt"
)

// The other buckets' records about one user, for an export and an
// erasure (docs/ARCHITECTURE.md, "Export and erasure"). What each bucket
// holds about a user:
//
//	audit       entries naming them (redacted, chain kept: erase.go)
//	handoffs    their tickets, with their messages (Automation.EraseUser)
//	outbox      webhook deliveries of those tickets, dead letters too
//	optouts     their last STOP or START
//	labels      labeled examples of their messages
//	reviews     sampled decisions on their messages and replies to them,
//	            with the message text and the text a reply answered
//	drafts      approval drafts addressed to them: their id, display name,
//	            message id and the text they asked
//	appeals     their appeals, with the text
//	actions     platform timeouts, bans and unbans of them, hides of
//	            their messages (their user id and the reason)
//	users       their running timeout or ban (kept without its reason)
//	kpis, meta, policies, moderation: counts and settings, nothing personal

// UserStored is what the reviews, drafts and actions buckets hold about
// one user (the rest have their own readers).
type UserStored struct {
	Reviews []Review      `json:"reviews"`
	Drafts  []*chat.Draft `json:"drafts"`
	Actions []Action      `json:"platform_actions"`
	// Restrictions lists every kept timeout or ban, of every stream or of
	// one, ended or running.
	Restrictions []Restriction `json:"restrictions"`
}

func reviewOf(r *Review, user string) bool {
	return r.User == user || slices.Contains(r.To, user)
}

func draftOf(d *chat.Draft, user string) bool { return slices.Contains(d.To, user) }

// UserStored returns the user's reviews, drafts, platform actions and
// restrictions, oldest first.
func (db *DB) UserStored(user string) (UserStored, error) {
	out := UserStored{Reviews: []Review{}, Drafts: []*chat.Draft{}, Actions: []Action{}, Restrictions: []Restriction{}}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketReviews).ForEach(func(_, v []byte) error {
			var r Review
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if reviewOf(&r, user) {
				out.Reviews = append(out.Reviews, r)
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketDrafts).ForEach(func(_, v []byte) error {
			var d chat.Draft
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			if draftOf(&d, user) {
				out.Drafts = append(out.Drafts, &d)
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketActions).ForEach(func(_, v []byte) error {
			var a Action
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			if a.User == user {
				out.Actions = append(out.Actions, a)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketUsers).ForEach(func(_, v []byte) error {
			var r Restriction
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if r.User == user {
				out.Restrictions = append(out.Restrictions, r)
			}
			return nil
		})
	})
	slices.SortStableFunc(out.Drafts, func(a, b *chat.Draft) int { return int(a.TS - b.TS) })
	return out, err
}

// erasedStored counts what eraseStored removed or redacted; ids are the
// erased records' ids, whose audit entries are redacted too.
type erasedStored struct {
	Reviews     int
	OpenReviews int // of Reviews, those still open (the sampler's gauge)
	Drafts      int
	Appeals     int
	Actions     int
	ids         []string
}

// eraseStored deletes, in tx, the user's open reviews, drafts, appeals
// and platform actions, redacts their decided reviews (rule, action,
// state and marks stay: the precision KPI counts them) and drops the
// reason of their kept restrictions, ended ones go. now is Unix ms.
func eraseStored(tx *bolt.Tx, user string, now int64) (erasedStored, error) {
	var out erasedStored
	err := rewriteJSON(tx.Bucket(bucketReviews), func(r *Review) verdict {
		if !reviewOf(r, user) {
			return keep
		}
		out.Reviews++
		out.ids = append(out.ids, r.ID)
		if r.State == "open" {
			out.OpenReviews++
			return drop
		}
		*r = Review{ID: r.ID, Stream: r.Stream, Action: r.Action, Rule: r.Rule, Labels: r.Labels, TS: r.TS, State: r.State, By: r.By, At: r.At}
		return rewrite
	})
	if err != nil {
		return out, err
	}

	// A draft addressed to the user goes whole: its text names every
	// asker (Stage.EraseUser saved the pending ones it could re-render
	// without them before this runs).
	err = rewriteJSON(tx.Bucket(bucketDrafts), func(d *chat.Draft) verdict {
		if !draftOf(d, user) {
			return keep
		}
		out.Drafts++
		out.ids = append(out.ids, d.ID)
		return drop
	})
	if err != nil {
		return out, err
	}

	open := 0
	err = rewriteJSON(tx.Bucket(bucketAppeals), func(a *Appeal) verdict {
		if a.User != user {
			return keep
		}
		if a.State == AppealOpen {
			open++
		}
		out.Appeals++
		out.ids = append(out.ids, a.ID)
		return drop
	})
	if err != nil {
		return out, err
	}
	if open > 0 {
		if err := setOpenAppeals(tx, openAppeals(tx)-open); err != nil {
			return out, err
		}
	}

	// A pending action stays, without its reason: erasure must not undo
	// a timeout or ban on its way to the platform.
	err = rewriteJSON(tx.Bucket(bucketActions), func(a *Action) verdict {
		if a.User != user {
			return keep
		}
		out.Actions++
		out.ids = append(out.ids, a.ID)
		if a.State != ActionPending {
			return drop
		}
		a.Reason, a.Text, a.LastError = "", "", ""
		return rewrite
	})
	if err != nil {
		return out, err
	}

	err = rewriteJSON(tx.Bucket(bucketUsers), func(r *Restriction) verdict {
		switch {
		case r.User != user:
			return keep
		case r.Until != 0 && r.Until <= now:
			return drop
		case r.Reason == "" && r.Actor == "erased":
			return keep
		}
		r.Reason, r.Actor = "", "erased"
		return rewrite
	})
	return out, err
}

// verdict is what rewriteJSON does with one record.
type verdict uint8

const (
	keep    verdict = iota // as it is
	drop                   // delete it
	rewrite                // write the changed record back
)

// rewriteJSON decodes every value of b as a T and keeps, deletes or
// rewrites it as f says. The changes are made after the walk: bbolt does
// not allow changing a bucket while walking it.
func rewriteJSON[T any](b *bolt.Bucket, f func(v *T) verdict) error {
	type kv struct{ k, v []byte }
	var put []kv
	var del [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var x T
		if err := json.Unmarshal(v, &x); err != nil {
			return err
		}
		switch f(&x) {
		case drop:
			del = append(del, bytes.Clone(k))
		case rewrite:
			nv, err := json.Marshal(&x)
			if err != nil {
				return err
			}
			put = append(put, kv{bytes.Clone(k), nv})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, x := range put {
		if err := b.Put(x.k, x.v); err != nil {
			return err
		}
	}
	for _, k := range del {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Erased lowers the open count by n reviews an erasure deleted.
func (s *Sampler) Erased(n int) {
	s.mu.Lock()
	s.open = max(s.open-n, 0)
	s.mu.Unlock()
}

// IDs are the ids of u's records, whose audit entries an export lists.
func (u UserStored) IDs() []string {
	var ids []string
	for _, r := range u.Reviews {
		ids = append(ids, r.ID)
	}
	for _, d := range u.Drafts {
		ids = append(ids, d.ID)
	}
	for _, a := range u.Actions {
		ids = append(ids, a.ID)
	}
	return ids
}
