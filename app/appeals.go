package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/moderate"
	"github.com/livemod/livemod/overlay"
	"github.com/livemod/livemod/store"
)

// appealsREST implements overlay.Appeals over the store (appeals are
// saved before they are acknowledged) and the moderation desk (an
// overturn unhides the message and lifts the timeout or ban).
type appealsREST struct{ a *App }

func (r appealsREST) Record(actor string, in overlay.AppealIn) (overlay.AppealCreated, error) {
	ap, err := r.a.DB.AddAppeal(store.Appeal{Stream: in.Stream, User: in.User.ID, MessageID: in.MessageID, Text: in.Text,
		Created: time.Now().UnixMilli(), By: actor})
	if err != nil {
		return overlay.AppealCreated{}, err
	}
	target := ap.ID
	r.a.audit.Record(store.AuditEntry{TS: ap.Created, Actor: actor, Action: "appeal.create", Target: target, Stream: ap.Stream, User: ap.User, Reason: ap.Text})
	if err := r.flush(); err != nil {
		return overlay.AppealCreated{}, err
	}
	return overlay.AppealCreated{ID: ap.ID}, nil
}

func (r appealsREST) List(stream, state string, limit int) ([]store.Appeal, error) {
	return r.a.DB.Appeals(stream, state, limit)
}

func (r appealsREST) AppealStream(id string) (string, bool) {
	ap, err := r.a.DB.GetAppeal(id)
	return ap.Stream, err == nil
}

// Decide upholds or overturns. An overturn first undoes what can be
// undone: the message's hide (if it is still among the recent messages
// and hidden) and the user's timeout or ban; each undo is audited by the
// desk like a moderator's own. What was not in force is skipped.
func (r appealsREST) Decide(actor, id string, overturn bool, reason string) (store.Appeal, error) {
	ap, err := r.a.DB.GetAppeal(id)
	if err != nil {
		return store.Appeal{}, err
	}
	if ap.State != store.AppealOpen {
		// DecideAppeal says so with the 409; nothing is undone first.
		return r.a.DB.DecideAppeal(id, store.AppealOverturned, actor, reason, time.Now().UnixMilli(), nil)
	}
	state, action := store.AppealUpheld, "appeal.uphold"
	var undone []string
	if overturn {
		state, action = store.AppealOverturned, "appeal.overturn"
		why := "appeal " + id + " overturned: " + reason
		// The restriction first: the message shown again then goes
		// back on the overlay too (a restricted user's stays off).
		// The stream's own restriction, else the one of every stream.
		var lift func(actor, stream, user, action string, seconds int, reason string) (moderate.UserEvent, error)
		if _, _, in := r.a.Desk.RestrictedIn(ap.Stream, ap.User); in {
			lift = r.a.Desk.UserIn
		} else if _, _, all := r.a.Desk.Restricted(ap.User); all {
			lift = r.a.Desk.User
		}
		if lift != nil {
			if _, err := lift(actor, ap.Stream, ap.User, "unban", 0, why); err == nil {
				undone = append(undone, "unban")
			} else if !skippable(err) {
				return store.Appeal{}, err
			}
		}
		if ap.MessageID != "" {
			if _, err := r.a.Desk.Act(actor, ap.Stream, ap.MessageID, "unhide", why); err == nil {
				undone = append(undone, "unhide")
			} else if !skippable(err) {
				return store.Appeal{}, err
			}
		}
	}
	at := time.Now().UnixMilli()
	out, err := r.a.DB.DecideAppeal(id, state, actor, reason, at, func(a *store.Appeal) error {
		a.Undone = undone
		return nil
	})
	if err != nil {
		return store.Appeal{}, err
	}
	r.a.audit.Record(store.AuditEntry{TS: at, Actor: actor, Action: action, Target: id, Stream: ap.Stream, User: ap.User, Reason: reason})
	if err := r.flush(); err != nil {
		return store.Appeal{}, err
	}
	return out, nil
}

// flush commits the audit entries queued so far: an acknowledged appeal
// or decision has its audit on disk.
func (r appealsREST) flush() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.a.audit.Flush(ctx); err != nil {
		return fmt.Errorf("appeal: audit not saved: %w", err)
	}
	return nil
}

// skippable: the hide or restriction is not in force (409) or the
// message is no longer among the recent ones (404): nothing to undo.
func skippable(err error) bool {
	return errors.Is(err, chat.ErrConflict) || errors.Is(err, chat.ErrNotFound)
}

var _ overlay.Appeals = appealsREST{}
