package main

import (
	"github.com/livemod/livemod/classify"
	"github.com/livemod/livemod/overlay"
)

// streamsREST implements overlay.Streams and overlay.Restrictions for the
// stream picker, the index and the moderators' unban list.
type streamsREST struct{ a *app }

var (
	_ overlay.Streams      = streamsREST{}
	_ overlay.Restrictions = streamsREST{}
)

func (r streamsREST) Streams(limit int) []overlay.StreamInfo {
	counts := r.a.kpis.Streams(limit)
	out := make([]overlay.StreamInfo, len(counts))
	for i, c := range counts {
		out[i] = overlay.StreamInfo{
			Stream:            c.Stream,
			Messages:          c.Messages,
			MessagesPerSecond: c.MessagesPerSecond,
			LastTS:            c.LastSecond * 1000,
		}
		if r.a.auto != nil && r.a.auto.state != nil {
			// A page of one: Total counts them without copying a big show's list.
			if p, err := r.a.auto.state.Page(classify.TicketQuery{Stream: c.Stream, State: "open", Limit: 1}); err == nil {
				out[i].OpenHandoffs = p.Total
			}
		}
	}
	return out
}

func (r streamsREST) Restrictions(limit int) []overlay.Restricted {
	rs := r.a.desk.Restrictions(limit)
	out := make([]overlay.Restricted, len(rs))
	for i, x := range rs {
		out[i] = overlay.Restricted{User: x.User, Stream: x.Stream, Until: x.Until, Reason: x.Reason}
	}
	return out
}
