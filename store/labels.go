package store

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/livemod/livemod/chat"
	bolt "go.etcd.io/bbolt"
)

// Labeled examples learned from moderators: every approve, hide, unhide
// and review outcome is kept as a message with the labels a human gave
// it, so that a team can retrain the model on its own chat
// (livemod labels export | livemod train).

// bucketLabels is created on first use, beside the other buckets.
var bucketLabels = []byte("labels")

// LabeledExample is one message with the labels a moderator's action
// gave it. It is written as one line of labeled NDJSON: the message in
// the wire format plus "labels", which livemod train reads.
type LabeledExample struct {
	chat.Message
	Labels ExampleLabels `json:"labels"`
	// Annotated lists the labels the example was judged on, when not
	// every label (a reviewed reply is judged on question only); train
	// reads it.
	Annotated *chat.Labels `json:"annotated,omitempty"`
	// Source is the action the example came from: approve, hide,
	// unhide or review.
	Source string `json:"source"`
	Actor  string `json:"actor"`    // the moderator (a token's name or a user)
	At     int64  `json:"label_ts"` // when the action was taken, Unix ms
}

// UnlabeledHide is the label of a message a moderator hid without saying
// why: hidden, but not known to be spam, toxic or a threat. Training
// leaves such examples out rather than guess.
const UnlabeledHide = "unlabeled-hide"

// ExampleLabels are a labeled example's labels: classify's, and whether
// it is an UnlabeledHide. It is written as one list of names.
type ExampleLabels struct {
	chat.Labels
	Unlabeled bool
}

// MarshalJSON writes the label names, UnlabeledHide last if set.
func (l ExampleLabels) MarshalJSON() ([]byte, error) {
	b := l.Labels.AppendJSON(nil)
	if !l.Unlabeled {
		return b, nil
	}
	if len(b) > 2 {
		b = append(b[:len(b)-1], ',')
	} else {
		b = b[:1]
	}
	return append(b, `"`+UnlabeledHide+`"]`...), nil
}

// UnmarshalJSON reads a list of label names, UnlabeledHide among them.
func (l *ExampleLabels) UnmarshalJSON(b []byte) error {
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return err
	}
	var out ExampleLabels
	for _, n := range names {
		if n == UnlabeledHide {
			out.Unlabeled = true
			continue
		}
		x, err := chat.ParseLabel(n)
		if err != nil {
			return fmt.Errorf("%w (or %s)", err, UnlabeledHide)
		}
		out.Labels.Add(x)
	}
	*l = out
	return nil
}

// blocking are the labels that keep a message from the audience.
const blocking = chat.Labels(chat.LabelSpam | chat.LabelToxic | chat.LabelThreat | chat.LabelFlood | chat.LabelLink)

// LabelsFromAction returns the labels a moderator's action says a message
// has, given the labels livemod had decided:
//   - approve and unhide: the message was fine, so the labels that block
//     (spam, toxic, threat, flood, link) are wrong and dropped; the others
//     (question, purchase intent, …) stand;
//   - hide: the reason's label when it names one ("spam", "toxic: slur",
//     "threat", "flood", "link", or a word for one: "scam", "abuse",
//     "violence", …) replaces the blocking labels livemod gave; without
//     one, livemod's blocking labels stand (the moderator agreed), and
//     with none of those either the message is UnlabeledHide — a hide
//     says the message should not be seen, not why ("love from
//     Bangalore ❤️" is no spam);
//   - review: the labels the reviewer chose are taken as given.
func LabelsFromAction(action string, decided chat.Labels, reason string) ExampleLabels {
	switch action {
	case "approve", "unhide":
		return ExampleLabels{Labels: decided &^ blocking}
	case "hide":
		if l, ok := ReasonLabel(reason); ok {
			return ExampleLabels{Labels: decided&^blocking | chat.Labels(l)}
		}
		if decided&blocking != 0 {
			return ExampleLabels{Labels: decided}
		}
		return ExampleLabels{Labels: decided, Unlabeled: true}
	}
	return ExampleLabels{Labels: decided}
}

// reasonWords map a moderator's word for why to a blocking label.
var reasonWords = map[string]chat.Label{
	"spam": chat.LabelSpam, "scam": chat.LabelSpam, "promo": chat.LabelSpam, "bot": chat.LabelSpam,
	"advert": chat.LabelSpam, "ad": chat.LabelSpam, "ads": chat.LabelSpam,
	"toxic": chat.LabelToxic, "abuse": chat.LabelToxic, "abusive": chat.LabelToxic, "insult": chat.LabelToxic,
	"harassment": chat.LabelToxic, "hate": chat.LabelToxic, "slur": chat.LabelToxic, "profanity": chat.LabelToxic,
	"threat": chat.LabelThreat, "violence": chat.LabelThreat,
	"flood": chat.LabelFlood, "copypasta": chat.LabelFlood, "raid": chat.LabelFlood,
	"link": chat.LabelLink,
}

// ReasonLabel reads the blocking label a hide's reason names by its
// first word ("toxic: slur", "spam.link", "Scam!"), if any.
func ReasonLabel(reason string) (chat.Label, bool) {
	w := strings.ToLower(strings.TrimSpace(reason))
	if i := strings.IndexFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && r != '-' && r != '_' }); i >= 0 {
		w = w[:i]
	}
	l, ok := reasonWords[w]
	return l, ok
}

// AppendLabel records a labeled example. The moderation desk calls it on
// approve, hide, unhide and review, with the message as it was received.
func (db *DB) AppendLabel(ex LabeledExample) error {
	v, err := json.Marshal(&ex)
	if err != nil {
		return err
	}
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketLabels)
		if err != nil {
			return err
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		return b.Put(seqKey(seq), v)
	})
}

// ExportLabels writes every labeled example as NDJSON, oldest first, and
// returns how many it wrote. A later action on the same message
// supersedes an earlier one: only the last is written.
func (db *DB) ExportLabels(w io.Writer) (int, error) {
	type row struct {
		id string
		v  []byte
	}
	var rows []row
	last := map[string]int{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLabels)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var ex struct {
				ID     string `json:"id"`
				Stream string `json:"stream"`
			}
			if err := json.Unmarshal(v, &ex); err != nil {
				return fmt.Errorf("labels: %w", err)
			}
			key := ex.Stream + "\x00" + ex.ID
			last[key] = len(rows)
			rows = append(rows, row{key, append([]byte(nil), v...)})
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriter(w)
	n := 0
	for i, r := range rows {
		if last[r.id] != i {
			continue
		}
		bw.Write(r.v)
		bw.WriteByte('\n')
		n++
	}
	return n, bw.Flush()
}
