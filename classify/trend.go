package classify

import (
	"unsafe"

	"github.com/livemod/livemod/chat"
)

// Questions is the port through which the engine puts allowed questions
// into trending clusters and takes a raid's text out of them.
// trend.Trending implements it (package trend owns the clusters; the
// moderation host pins, answers and dismisses there). Implementations are
// goroutine-safe and do no I/O: the engine calls them on the message path.
type Questions interface {
	// ObserveMessage joins a question to its cluster and returns the
	// cluster's id and askers, or "" when it joins none. plain is the
	// normalized text, lent for the call only.
	ObserveMessage(stream, user, id, text, plain string, key uint64, hold, ts int64) (string, int)
	// Purge takes the messages whose text has key out of stream's
	// clusters: copypasta never trends.
	Purge(stream string, key uint64) bool
}

// observeQuestion puts an allowed question into its trending cluster.
// Only question-labelled messages pay for it.
//
// What the overlay shows must be fit to broadcast: a restricted user's
// message, anything labelled toxic, threat, spam, flood or link, and
// raid-like text another user already sent (Decision.Shared) never join;
// when a text turns out to be copypasta, its earlier copies leave
// (Questions.Purge, called by DecideInto).
func (e *Engine) observeQuestion(d *chat.Decision, plain []byte, lm *lazyMarks, cr *crowdRule) {
	if e.trend == nil {
		return
	}
	const unfit = chat.Labels(chat.LabelToxic | chat.LabelProfanity | chat.LabelThreat | chat.LabelSpam | chat.LabelFlood | chat.LabelLink)
	if d.RestrictedUser || d.Shared || d.Action != chat.Allow || !d.Labels.Has(chat.LabelQuestion) || d.Labels&unfit != 0 {
		return
	}
	if len(plain) == 0 {
		return
	}
	if lm.raidLike(cr, false) {
		// Its first copy may be a raid's: it counts as an asker at once,
		// but its text waits a copypasta window before it trends.
		d.HoldMS = cr.window
	}
	// plain is the engine's scratch buffer: Observe keeps only hashes of
	// it, so it is lent, not copied (a copy was an allocation a question).
	p := unsafe.String(&plain[0], len(plain))
	if id, n := e.trend.ObserveMessage(d.Stream, d.User.ID, d.ID, d.Text, p, d.TextKey, d.HoldMS, d.TS); id != "" {
		q := d.QuestionBuf // the one DecideInto's caller lent, if any
		if q == nil {
			q = new(chat.QuestionRef)
		}
		*q = chat.QuestionRef{Cluster: id, Askers: n}
		d.Question, d.QuestionBuf = q, q
	}
}

// Trending returns the engine's question clusters, or nil.
func (e *Engine) Trending() Questions { return e.trend }
