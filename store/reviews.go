package store

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/livemod/livemod/chat"
	bolt "go.etcd.io/bbolt"
)

// Review is one automatic decision (a hide, a hold or an automated
// reply) sampled for a person to check. A reviewer marks it right or
// wrong, and every mark becomes a labeled example for `livemod train`
// (MarkReview); the marks give each rule's precision.
type Review struct {
	ID        string `json:"id"`
	Stream    string `json:"stream"`
	MessageID string `json:"message_id"`
	User      string `json:"user"`
	Text      string `json:"text"`
	// Asked is, for a reply, the text of the message it answered (Text
	// is the reply's): what a mark labels.
	Asked string `json:"asked,omitempty"`
	// To is, for a reply to several askers, every one of them (User is
	// empty then; Asked is the first one's): an erasure finds it by any.
	To     []string    `json:"to,omitempty"`
	Action string      `json:"action"` // hide, hold or reply
	Rule   string      `json:"rule"`
	Labels chat.Labels `json:"labels"`
	TS     int64       `json:"ts"`
	State  string      `json:"state"` // open, right or wrong
	By     string      `json:"by,omitempty"`
	At     int64       `json:"at,omitempty"`
	Note   string      `json:"note,omitempty"`

	flushed chan struct{} // a Flush marker, never stored
}

// MaxOpenReviews bounds the review queue: while it is full, sampling
// skips (livemod_reviews_open shows it).
const MaxOpenReviews = 10_000

var bucketReviews = []byte("reviews")

// Sampler takes a share of automatic hides, holds and replies into the
// review queue, stratified by rule: each rule's decisions are sampled at
// the same share (an accumulator per rule, so a rare rule gets its share
// too, not only the busy ones). Sampled decisions are written in batches
// by a goroutine; a crash may lose the last batch's samples, never a
// reviewer's mark (those are written before they are answered).
type Sampler struct {
	db    *DB
	share float64

	mu   sync.Mutex
	acc  map[string]float64
	open int

	queue chan Review
	done  chan struct{}
	once  sync.Once
	// OnError is called with write errors.
	OnError func(error)
}

// NewSampler samples share (0…1] of decisions; zero means 5%.
func NewSampler(db *DB, share float64) *Sampler {
	if share <= 0 {
		share = 0.05
	}
	s := &Sampler{db: db, share: min(share, 1), acc: map[string]float64{}, queue: make(chan Review, 1024), done: make(chan struct{})}
	s.open = db.countReviews("open")
	go s.run()
	return s
}

// Decided implements stream.Sink: automatic hides and holds.
func (s *Sampler) Decided(d *chat.Decision, _ []byte) {
	var action string
	switch d.Action {
	case chat.Hide:
		action = "hide"
	case chat.Hold:
		action = "hold"
	default:
		return
	}
	rule := ""
	if len(d.Reasons) > 0 {
		rule = d.Reasons[0].Rule
	}
	if !s.take(rule) {
		return
	}
	s.queue <- Review{Stream: d.Stream, MessageID: d.ID, User: d.User.ID, Text: d.Text, Action: action, Rule: rule, Labels: d.Labels, TS: d.TS}
}

// Replied samples an automated reply. A reply that answers no known
// message (a satisfaction request) is not sampled: a mark would have
// nothing to label.
func (s *Sampler) Replied(r *chat.Reply) {
	if r.Asked == "" {
		return
	}
	rule := "faq." + r.FAQ
	if r.FAQ == "" && r.Handoff != "" {
		rule = "handoff.notice"
	}
	if !s.take(rule) {
		return
	}
	msg := ""
	if len(r.InReplyTo) > 0 {
		msg = r.InReplyTo[0]
	}
	user := ""
	if len(r.To) == 1 {
		user = r.To[0]
	}
	var to []string
	if len(r.To) > 1 {
		to = slices.Clone(r.To)
	}
	s.queue <- Review{Stream: r.Stream, MessageID: msg, User: user, To: to, Text: r.Text, Asked: r.Asked, Action: "reply", Rule: rule, TS: r.TS}
}

func (s *Sampler) take(rule string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acc[rule] + s.share
	if a < 1 {
		s.acc[rule] = a
		return false
	}
	s.acc[rule] = a - 1
	if s.open >= MaxOpenReviews {
		return false
	}
	s.open++
	return true
}

// Open is how many reviews wait (a gauge).
func (s *Sampler) Open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open
}

func (s *Sampler) run() {
	defer close(s.done)
	for r := range s.queue {
		batch := []Review{r}
	fill:
		for len(batch) < 256 {
			select {
			case r2, ok := <-s.queue:
				if !ok {
					break fill
				}
				batch = append(batch, r2)
			case <-time.After(20 * time.Millisecond):
				break fill
			}
		}
		var marks []chan struct{}
		keep := batch[:0]
		for _, r := range batch {
			if r.flushed != nil {
				marks = append(marks, r.flushed)
			} else {
				keep = append(keep, r)
			}
		}
		if len(keep) > 0 {
			if err := s.db.addReviews(keep); err != nil && s.OnError != nil {
				s.OnError(err)
			}
		}
		for _, c := range marks {
			close(c)
		}
	}
}

// Flush waits until the samples queued so far are written (tests, and
// before a list).
func (s *Sampler) Flush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case s.queue <- Review{flushed: done}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is queued and stops; Decided must not be called
// afterwards.
func (s *Sampler) Close(ctx context.Context) error {
	s.once.Do(func() { close(s.queue) })
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (db *DB) addReviews(rs []Review) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketReviews)
		for i := range rs {
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			rs[i].ID, rs[i].State = "rv-"+strconv.FormatUint(seq, 10), "open"
			v, err := json.Marshal(&rs[i])
			if err != nil {
				return err
			}
			if err := b.Put(seqKey(seq), v); err != nil {
				return err
			}
		}
		return nil
	})
}

func (db *DB) countReviews(state string) int {
	n := 0
	db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketReviews).ForEach(func(_, v []byte) error {
			var r struct {
				State string `json:"state"`
			}
			if json.Unmarshal(v, &r) == nil && r.State == state {
				n++
			}
			return nil
		})
	})
	return n
}

// Reviews returns the reviews of stream (all if empty) in state (all if
// empty), oldest first, at most limit.
func (db *DB) Reviews(stream, state string, limit int) ([]Review, error) {
	out := []Review{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketReviews).Cursor()
		for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
			var r Review
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if (stream == "" || r.Stream == stream) && (state == "" || r.State == state) {
				out = append(out, r)
			}
		}
		return nil
	})
	return out, err
}

func reviewKey(id string) ([]byte, bool) {
	if len(id) < 4 || id[:3] != "rv-" {
		return nil, false
	}
	n, err := strconv.ParseUint(id[3:], 10, 64)
	return seqKey(n), err == nil
}

// ReviewStream returns review id's stream.
func (db *DB) ReviewStream(id string) (string, bool) {
	k, ok := reviewKey(id)
	if !ok {
		return "", false
	}
	var r Review
	found := false
	db.bolt.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketReviews).Get(k); v != nil {
			found = json.Unmarshal(v, &r) == nil
		}
		return nil
	})
	return r.Stream, found
}

// MarkReview marks an open review right or wrong, in one transaction
// with its labeled example (source "review"), which `livemod train`
// reads (docs/ARCHITECTURE.md, "Review sampling"):
//   - a hide or hold: right keeps the decision's labels; wrong saves the
//     message with the labels the reviewer gives (fixed, non-nil) or
//     none (clean), judged on every label;
//   - a reply: the message it answered (Review.Asked), judged only on
//     what made it answerable (question for an FAQ reply, support and
//     agent_request for a handoff notice) and on the labels the reviewer
//     gives: right labels it so, wrong labels it not so (not a question)
//     unless fixed says what it is (a question the FAQ did not answer:
//     ["question"]).
func (s *Sampler) MarkReview(id string, right bool, fixed *chat.Labels, by, note string, at int64) (Review, error) {
	k, ok := reviewKey(id)
	notFound := chat.NotFound("review %s: not found", id)
	if !ok {
		return Review{}, notFound
	}
	var r Review
	err := s.db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketReviews)
		v := b.Get(k)
		if v == nil {
			return notFound
		}
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		if r.State != "open" {
			return chat.Conflict(r.State, "review %s is already marked %s (by %s)", id, r.State, r.By)
		}
		r.State, r.By, r.At, r.Note = "wrong", by, at, note
		if right {
			r.State = "right"
		}
		nv, err := json.Marshal(&r)
		if err != nil {
			return err
		}
		if err := b.Put(k, nv); err != nil {
			return err
		}
		ex := LabeledExample{Message: chat.Message{ID: r.MessageID, Stream: r.Stream, User: chat.User{ID: r.User}, Text: r.Text, TS: r.TS},
			Source: "review", Actor: by, At: at}
		switch {
		case r.Action == "reply":
			if r.Asked == "" {
				return nil // sampled before replies kept what they answered
			}
			asked := chat.Labels(chat.LabelQuestion)
			if r.Rule == "handoff.notice" {
				asked = chat.Labels(chat.LabelSupport | chat.LabelAgentRequest)
			}
			ex.Text = r.Asked
			if ex.User.ID == "" && len(r.To) > 0 {
				ex.User.ID = r.To[0] // who asked it, so that their erasure finds it
			}
			annot := asked
			if fixed != nil {
				annot |= *fixed
				ex.Labels.Labels = *fixed
			}
			if right {
				ex.Labels.Labels |= asked
			}
			ex.Annotated = &annot
		case right:
			ex.Labels.Labels = r.Labels
		case fixed != nil:
			ex.Labels.Labels = *fixed
		}
		ev, err := json.Marshal(&ex)
		if err != nil {
			return err
		}
		lb, err := tx.CreateBucketIfNotExists(bucketLabels)
		if err != nil {
			return err
		}
		seq, err := lb.NextSequence()
		if err != nil {
			return err
		}
		return lb.Put(seqKey(seq), ev)
	})
	if err != nil {
		return Review{}, err
	}
	s.mu.Lock()
	s.open--
	s.mu.Unlock()
	return r, nil
}

// RulePrecision is one rule's review marks.
type RulePrecision struct {
	Right     int     `json:"right"`
	Wrong     int     `json:"wrong"`
	Precision float64 `json:"precision"` // right / (right + wrong)
}

// Precision returns each rule's marks in stream (all if empty).
func (db *DB) Precision(stream string) (map[string]RulePrecision, error) {
	out := map[string]RulePrecision{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketReviews).ForEach(func(_, v []byte) error {
			var r Review
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if (stream != "" && r.Stream != stream) || r.State == "open" {
				return nil
			}
			p := out[r.Rule]
			if r.State == "right" {
				p.Right++
			} else {
				p.Wrong++
			}
			p.Precision = float64(p.Right) / float64(p.Right+p.Wrong)
			out[r.Rule] = p
			return nil
		})
	})
	return out, err
}
