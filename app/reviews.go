package app

import (
	"context"
	"fmt"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/overlay"
	"github.com/livemod/livemod/store"
)

// reviewsREST implements overlay.Reviews over the sampler.
type reviewsREST struct{ a *App }

func (r reviewsREST) List(stream, state string, limit int) ([]store.Review, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.a.sampler.Flush(ctx); err != nil {
		return nil, err
	}
	return r.a.DB.Reviews(stream, state, limit)
}

func (r reviewsREST) ReviewStream(id string) (string, bool) { return r.a.DB.ReviewStream(id) }

// Mark saves the mark (and its labeled example) and its audit entry
// before answering.
func (r reviewsREST) Mark(actor, id string, right bool, labels *chat.Labels, note string) (store.Review, error) {
	at := time.Now().UnixMilli()
	rv, err := r.a.sampler.MarkReview(id, right, labels, actor, note, at)
	if err != nil {
		return store.Review{}, err
	}
	r.a.audit.Record(store.AuditEntry{TS: at, Actor: actor, Action: "review." + rv.State, Target: id, Stream: rv.Stream, User: rv.User, Reason: note, Rule: rv.Rule})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.a.audit.Flush(ctx); err != nil {
		return store.Review{}, fmt.Errorf("review: audit not saved: %w", err)
	}
	return rv, nil
}

var _ overlay.Reviews = reviewsREST{}
