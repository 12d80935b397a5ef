package store

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/livemod/livemod/classify"
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
	classify.Message
	Labels classify.Labels `json:"labels"`
	// Source is the action the example came from: approve, hide,
	// unhide or review.
	Source string `json:"source"`
	Actor  string `json:"actor"`    // the moderator (a token's name or a user)
	At     int64  `json:"label_ts"` // when the action was taken, Unix ms
}

// LabelsFromAction returns the labels a moderator's action says a message
// has, given the labels livemod had decided:
//   - approve and unhide: the message was fine, so the labels that block
//     (spam, toxic, threat, flood, link) are wrong and dropped; the others
//     (question, purchase intent, …) stand;
//   - hide: the message should not be seen; if livemod gave it no
//     blocking label it is recorded as spam unless reason names one
//     ("toxic", "threat", "spam");
//   - review: the labels the reviewer chose are taken as given.
func LabelsFromAction(action string, decided classify.Labels, reason string) classify.Labels {
	blocking := classify.Labels(classify.LabelSpam | classify.LabelToxic | classify.LabelThreat | classify.LabelFlood | classify.LabelLink)
	switch action {
	case "approve", "unhide":
		return decided &^ blocking
	case "hide":
		if decided&blocking != 0 {
			return decided
		}
		if l, err := classify.ParseLabel(reason); err == nil && classify.Labels(l)&blocking != 0 {
			return decided | classify.Labels(l)
		}
		return decided | classify.Labels(classify.LabelSpam)
	}
	return decided
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
