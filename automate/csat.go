package automate

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
)

// CSAT: when an agent resolves a ticket, the stage may ask the user one
// question through the replies channel (disclosed like every automated
// reply, never to a user who sent STOP, within the reply cap); the user's
// next line that reads as a rating ("5", "4/5", "⭐⭐⭐⭐", "bahut achha")
// is recorded on the ticket. An agent marks a ticket converted with the
// order's value (Convert). GET /v1/kpis reports both (moderate.KPIs).

// DefaultRatingRequest is the question when the config asks for one
// without a text of its own.
const DefaultRatingRequest = "{author_name}, how did we do? Reply with a rating from 1 to 5 (STOP for no more automated replies)."

// ratingWindow is how long (message time, ms) after the request a rating
// line is taken: a day.
const ratingWindow = 24 * hourMS

// maxRatingBytes: a rating is a short line; longer lines are chat.
const maxRatingBytes = 64

// ratingWords are the words that rate, in English, Hinglish and Hindi,
// longest first so that "bahut achha" is read before "achha".
var ratingWords = []struct {
	w string
	r int
}{
	{"bahut achha", 5}, {"bahut accha", 5}, {"bahut acha", 5}, {"bahut badhiya", 5}, {"bahut bura", 1}, {"bahut kharab", 1},
	{"बहुत अच्छा", 5}, {"बहुत बढ़िया", 5}, {"बहुत बुरा", 1}, {"बहुत खराब", 1},
	{"very good", 5}, {"very bad", 1}, {"not good", 2}, {"not bad", 3}, {"theek thaak", 3}, {"thik thak", 3},
	{"excellent", 5}, {"amazing", 5}, {"awesome", 5}, {"perfect", 5}, {"great", 5}, {"badhiya", 5}, {"zabardast", 5}, {"shandaar", 5},
	{"बढ़िया", 5}, {"शानदार", 5},
	{"good", 4}, {"achha", 4}, {"accha", 4}, {"acha", 4}, {"nice", 4}, {"अच्छा", 4},
	{"okay", 3}, {"ok", 3}, {"theek", 3}, {"thik", 3}, {"average", 3}, {"ठीक", 3},
	{"bad", 2}, {"poor", 2}, {"bura", 2}, {"बुरा", 2},
	{"terrible", 1}, {"worst", 1}, {"horrible", 1}, {"bekar", 1}, {"bekaar", 1}, {"ghatiya", 1}, {"kharab", 1}, {"बेकार", 1}, {"घटिया", 1}, {"खराब", 1},
}

// ParseRating reads a rating line: a digit 1–5 (alone, or "4/5", "5
// stars"), a row of 1–5 stars (⭐ or ★), or a word that rates. It returns
// false for anything else, and for lines longer than a rating.
func ParseRating(text string) (int, bool) {
	t := strings.ToLower(strings.TrimSpace(text))
	if t == "" || len(t) > maxRatingBytes || !utf8.ValidString(t) {
		return 0, false
	}
	t = strings.Trim(t, " .!")
	if t == "" { // "." or "!!": punctuation alone
		return 0, false
	}
	if stars := strings.Count(t, "⭐") + strings.Count(t, "★"); stars > 0 {
		rest := strings.NewReplacer("⭐", "", "★", "", "\ufe0f", "", " ", "").Replace(t)
		if rest == "" && stars <= 5 {
			return stars, true
		}
		return 0, false
	}
	if c := t[0]; c >= '1' && c <= '5' {
		rest := strings.TrimSpace(t[1:])
		switch rest {
		case "", "/5", "/ 5", "out of 5", "stars", "star", "star rating", "⭐":
			return int(c - '0'), true
		}
		return 0, false
	}
	for _, w := range ratingWords {
		if t == w.w || strings.HasPrefix(t, w.w+" ") && len(strings.Fields(t)) <= 4 {
			return w.r, true
		}
	}
	return 0, false
}

// ratingLog remembers, per (stream, user), the resolved ticket a rating
// is asked for. Bounded: two generations of ratingPerShard users per
// shard (pairMap).
type ratingLog struct{ m pairMap[ratingAsk] }

const ratingPerShard = 4096

type ratingAsk struct {
	ticket string
	at     int64 // ms
}

func (l *ratingLog) put(stream, user, ticket string, at int64) {
	l.m.with(stream, user, func(s *pairShard[ratingAsk], k uint64) {
		s.put(k, ratingAsk{ticket: ticket, at: at}, ratingPerShard)
	})
}

// take returns and forgets the ticket asked of (stream, user), if any.
func (l *ratingLog) take(stream, user string) (a ratingAsk, ok bool) {
	l.m.with(stream, user, func(s *pairShard[ratingAsk], k uint64) { a, ok = s.take(k) })
	return a, ok
}

// pending reports whether a rating is asked of (stream, user): the
// message path's cheap check before parsing.
func (l *ratingLog) pending(stream, user string) (ok bool) {
	l.m.with(stream, user, func(s *pairShard[ratingAsk], k uint64) { _, ok = s.get(k) })
	return ok
}

func (l *ratingLog) len() int { return l.m.len() }

// PendingRatings is how many rating requests wait for an answer
// (bounded at 2 × 16 × 4096), for a gauge.
func (s *Stage) PendingRatings() int { return s.ratings.len() }

// askRating sends the rating request for resolved ticket t, if the stage
// asks and the user may get an automated reply.
func (s *Stage) askRating(ctx context.Context, t *chat.Ticket, at int64) *chat.Ticket {
	if s.rating == "" || t.User.ID == "" {
		return t
	}
	if ok, _, _ := s.mayReply(t.User.ID, at); !ok {
		return t
	}
	me := []asker{{user: t.User.ID, name: t.User.Name, ts: at}}
	f := classify.TemplateFields{Stream: t.Stream, OrderID: orDefault(t.OrderID, notGiven), Issue: issueWords(t.Issue), ProductName: defaultProduct}
	r := s.newReply(t.Stream, me, s.render(s.rating, me, f), at)
	r.Handoff = t.ID
	t2, err := s.tickets.Update(ctx, t.ID, func(t *chat.Ticket) error {
		t.SetOutcome(func(o *chat.Outcome) { o.RatingAsk = at })
		return nil
	})
	if err != nil {
		return t
	}
	s.ratings.put(t.Stream, t.User.ID, t.ID, at)
	s.out.Replied(r)
	return t2
}

// rate records m as the rating of the ticket asked of its author, if it
// reads as one.
func (s *Stage) rate(m *chat.Message, d *chat.Decision, fx *effects) {
	if !s.ratings.pending(m.Stream, m.User.ID) {
		return
	}
	r, ok := ParseRating(m.Text)
	if !ok {
		return
	}
	a, ok := s.ratings.take(m.Stream, m.User.ID)
	if !ok || m.TS-a.at > ratingWindow {
		return
	}
	t, err := s.tickets.Update(onMessagePath, a.ticket, func(t *chat.Ticket) error {
		t.SetOutcome(func(o *chat.Outcome) { o.Rating, o.RatedAt = r, m.TS })
		return nil
	})
	if err != nil {
		return
	}
	d.AddReason("csat.rating", t.ID+": "+strings.Repeat("★", r))
	fx.tickets = append(fx.tickets, t)
	fx.created = append(fx.created, false)
}

// Convert marks ticket id a sale the agent closed, of value.
func (s *Stage) Convert(ctx context.Context, id, by string, value float64, at int64) (*chat.Ticket, error) {
	t, err := s.tickets.Update(ctx, id, func(t *chat.Ticket) error {
		t.SetOutcome(func(o *chat.Outcome) { o.Converted, o.OrderValue = true, value })
		if t.ClaimedBy == "" {
			t.ClaimedBy, t.ClaimedAt = by, at
		}
		return nil
	})
	if err != nil {
		return nil, withStatus(err)
	}
	s.out.TicketChanged(t, false)
	return t, nil
}
