package app

import (
	"context"
	"github.com/livemod/livemod/handoff"
	"github.com/livemod/livemod/overlay"
)

// streamsREST implements overlay.Streams and overlay.Restrictions for the
// stream picker, the index and the moderators' unban list.
type streamsREST struct{ a *App }

func (r streamsREST) Streams(ctx context.Context, limit int) []overlay.StreamInfo {
	counts := r.a.kpis.Streams(limit)
	out := make([]overlay.StreamInfo, len(counts))
	for i, c := range counts {
		out[i] = overlay.StreamInfo{
			Stream:            c.Stream,
			Messages:          c.Messages,
			MessagesPerSecond: c.MessagesPerSecond,
			LastTS:            c.LastSecond * 1000,
		}
		if r.a.Auto != nil && r.a.Auto.state != nil {
			// A page of one: Total counts them without copying a big show's list.
			if p, err := r.a.Auto.state.Page(ctx, handoff.TicketQuery{Stream: c.Stream, State: "open", Limit: 1}); err == nil {
				out[i].OpenHandoffs = p.Total
			}
		}
	}
	return out
}

func (r streamsREST) Restrictions(limit int) []overlay.Restricted {
	rs := r.a.Desk.Restrictions(limit)
	out := make([]overlay.Restricted, len(rs))
	for i, x := range rs {
		out[i] = overlay.Restricted{User: x.User, Stream: x.Stream, Until: x.Until, Reason: x.Reason}
	}
	return out
}

var (
	_ overlay.Streams      = streamsREST{}
	_ overlay.Restrictions = streamsREST{}
)
