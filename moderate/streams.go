package moderate

import (
	"sort"

	"github.com/livemod/livemod/store"
)

// StreamCount is one stream's live numbers, for a stream picker.
type StreamCount struct {
	Stream            string
	Messages          int64   // decided since the process started
	MessagesPerSecond float64 // over the last 60 s
	LastSecond        int64   // Unix s of the stream's last message
}

// Streams lists the streams counted (at most KPIOptions.MaxStreams), the
// most recently active first, at most limit of them (zero means all).
func (k *KPIs) Streams(limit int) []StreamCount {
	sec := k.opts.Now().Unix()
	var out []StreamCount
	k.streams.Range(func(key, v any) bool {
		s := v.(*kpiStream)
		out = append(out, StreamCount{
			Stream:            key.(string),
			Messages:          s.messages.Load(),
			MessagesPerSecond: perSecond(&s.msgSec, sec),
			LastSecond:        s.touch.Load(),
		})
		return true
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].LastSecond != out[j].LastSecond {
			return out[i].LastSecond > out[j].LastSecond
		}
		return out[i].Stream < out[j].Stream
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// Restrictions lists the running timeouts and bans by user id, at
// most limit of them (zero means all), for the moderators' unban list.
func (d *Desk) Restrictions(limit int) []store.Restriction {
	now := d.now()
	d.rmu.RLock()
	out := make([]store.Restriction, 0, len(d.restricted))
	for key, r := range d.restricted {
		if r.until != 0 && r.until <= now {
			continue
		}
		user := r.subject
		if user == "" {
			user = key
		}
		out = append(out, store.Restriction{User: user, Stream: r.stream, Until: r.until, Reason: r.reason})
	}
	d.rmu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].User != out[j].User {
			return out[i].User < out[j].User
		}
		return out[i].Stream < out[j].Stream
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}
