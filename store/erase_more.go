package store

import (
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
	var put []kv
	var del [][]byte
	cp := func(b []byte) []byte { return append([]byte(nil), b...) }

	rb := tx.Bucket(bucketReviews)
	err := rb.ForEach(func(k, v []byte) error {
		var r Review
		if err := json.Unmarshal(v, &r); err != nil || !reviewOf(&r, user) {
			return err
		}
		out.Reviews++
		out.ids = append(out.ids, r.ID)
		if r.State == "open" {
			out.OpenReviews++
			del = append(del, cp(k))
			return nil
		}
		red := Review{ID: r.ID, Stream: r.Stream, Action: r.Action, Rule: r.Rule, Labels: r.Labels, TS: r.TS, State: r.State, By: r.By, At: r.At}
		nv, err := json.Marshal(&red)
		if err != nil {
			return err
		}
		put = append(put, kv{cp(k), nv})
		return nil
	})
	if err != nil {
		return out, err
	}
	if err := apply(rb, put, del); err != nil {
		return out, err
	}

	// A draft addressed to the user goes whole: its text names every
	// asker (Stage.EraseUser saved the pending ones it could re-render
	// without them before this runs).
	put, del = nil, nil
	drb := tx.Bucket(bucketDrafts)
	err = drb.ForEach(func(k, v []byte) error {
		var d chat.Draft
		if err := json.Unmarshal(v, &d); err != nil || !draftOf(&d, user) {
			return err
		}
		out.Drafts++
		out.ids = append(out.ids, d.ID)
		del = append(del, cp(k))
		return nil
	})
	if err != nil {
		return out, err
	}
	if err := apply(drb, nil, del); err != nil {
		return out, err
	}

	del = nil
	ab := tx.Bucket(bucketAppeals)
	open := 0
	err = ab.ForEach(func(k, v []byte) error {
		var a Appeal
		if err := json.Unmarshal(v, &a); err != nil || a.User != user {
			return err
		}
		if a.State == AppealOpen {
			open++
		}
		out.ids = append(out.ids, a.ID)
		del = append(del, cp(k))
		return nil
	})
	if err != nil {
		return out, err
	}
	out.Appeals = len(del)
	if err := apply(ab, nil, del); err != nil {
		return out, err
	}
	if open > 0 {
		if err := setOpenAppeals(tx, openAppeals(tx)-open); err != nil {
			return out, err
		}
	}

	// A pending action stays, without its reason: erasure must not undo
	// a timeout or ban on its way to the platform.
	put, del = nil, nil
	pb := tx.Bucket(bucketActions)
	err = pb.ForEach(func(k, v []byte) error {
		var a Action
		if err := json.Unmarshal(v, &a); err != nil || a.User != user {
			return err
		}
		out.Actions++
		out.ids = append(out.ids, a.ID)
		if a.State != ActionPending {
			del = append(del, cp(k))
			return nil
		}
		a.Reason, a.Text, a.LastError = "", "", ""
		nv, err := json.Marshal(&a)
		if err != nil {
			return err
		}
		put = append(put, kv{cp(k), nv})
		return nil
	})
	if err != nil {
		return out, err
	}
	if err := apply(pb, put, del); err != nil {
		return out, err
	}

	put, del = nil, nil
	ub := tx.Bucket(bucketUsers)
	err = ub.ForEach(func(k, v []byte) error {
		var r Restriction
		if err := json.Unmarshal(v, &r); err != nil || r.User != user {
			return err
		}
		if r.Until != 0 && r.Until <= now {
			del = append(del, cp(k))
			return nil
		}
		if r.Reason == "" && r.Actor == "erased" {
			return nil
		}
		r.Reason, r.Actor = "", "erased"
		nv, err := json.Marshal(&r)
		if err != nil {
			return err
		}
		put = append(put, kv{cp(k), nv})
		return nil
	})
	if err != nil {
		return out, err
	}
	return out, apply(ub, put, del)
}

type kv = struct{ k, v []byte }

func apply(b *bolt.Bucket, put []kv, del [][]byte) error {
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
