package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/livemod/livemod/chat"
	bolt "go.etcd.io/bbolt"
)

// Appeal is a viewer's request to undo a hide, timeout or ban, recorded
// by a bridge or connector or by a moderator on the viewer's behalf.
type Appeal struct {
	ID        string `json:"id"`
	Stream    string `json:"stream"`
	User      string `json:"user"`
	MessageID string `json:"message_id,omitempty"`
	Text      string `json:"text"`
	State     string `json:"state"` // open, upheld or overturned
	Created   int64  `json:"created"`
	By        string `json:"by"` // the token that recorded it
	DecidedBy string `json:"decided_by,omitempty"`
	DecidedAt int64  `json:"decided_at,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// Undone lists what an overturn undid: "unhide", "unban".
	Undone []string `json:"undone,omitempty"`
}

// The states of an appeal.
const (
	AppealOpen       = "open"
	AppealUpheld     = "upheld"
	AppealOverturned = "overturned"
)

// MaxOpenAppeals bounds the open appeals: past it a new one is refused
// (429) until moderators decide some. Decided appeals are bounded by the
// retention of their kind.
const MaxOpenAppeals = 100_000

var bucketAppeals = []byte("appeals")

// ErrAppealNotFound is returned for an unknown appeal id. An appeal call's
// other failures are *chat.Error too: chat.ErrTooMany, chat.ErrConflict.
var ErrAppealNotFound = &chat.Error{Kind: chat.ErrNotFound, Msg: "appeal not found"}

// AddAppeal records a (Created, By, Stream, User, Text set) and returns
// it with its id, once it is on disk.
func (db *DB) AddAppeal(a Appeal) (Appeal, error) {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAppeals)
		n := openAppeals(tx)
		if n >= MaxOpenAppeals {
			return &chat.Error{Kind: chat.ErrTooMany, Msg: fmt.Sprintf("%d appeals are open, the most kept; decide some first", n)}
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		a.ID, a.State = "ap-"+strconv.FormatUint(seq, 10), AppealOpen
		v, err := json.Marshal(&a)
		if err != nil {
			return err
		}
		if err := setOpenAppeals(tx, n+1); err != nil {
			return err
		}
		return b.Put(seqKey(seq), v)
	})
	return a, err
}

var metaOpenAppeals = []byte("appeals.open")

// openAppeals is the count of open appeals, kept in meta so that an
// appeal's ingest reads no other appeal.
func openAppeals(tx *bolt.Tx) int {
	v := tx.Bucket(bucketMeta).Get(metaOpenAppeals)
	if len(v) != 8 {
		return 0
	}
	return int(binary.BigEndian.Uint64(v))
}

func setOpenAppeals(tx *bolt.Tx, n int) error {
	return tx.Bucket(bucketMeta).Put(metaOpenAppeals, binary.BigEndian.AppendUint64(nil, uint64(max(n, 0))))
}

// OpenAppeals returns how many appeals are open (a gauge).
func (db *DB) OpenAppeals() int {
	n := 0
	db.bolt.View(func(tx *bolt.Tx) error { n = openAppeals(tx); return nil })
	return n
}

func appealKey(id string) ([]byte, bool) {
	if len(id) < 4 || id[:3] != "ap-" {
		return nil, false
	}
	n, err := strconv.ParseUint(id[3:], 10, 64)
	if err != nil {
		return nil, false
	}
	return seqKey(n), true
}

// GetAppeal returns appeal id.
func (db *DB) GetAppeal(id string) (Appeal, error) {
	k, ok := appealKey(id)
	if !ok {
		return Appeal{}, ErrAppealNotFound
	}
	var a Appeal
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAppeals).Get(k)
		if v == nil {
			return ErrAppealNotFound
		}
		return json.Unmarshal(v, &a)
	})
	return a, err
}

// Appeals returns the appeals of stream (all if empty) in state (all if
// empty), oldest first, at most limit.
func (db *DB) Appeals(stream, state string, limit int) ([]Appeal, error) {
	out := []Appeal{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAppeals).Cursor()
		for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
			var a Appeal
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			if (stream == "" || a.Stream == stream) && (state == "" || a.State == state) {
				out = append(out, a)
			}
		}
		return nil
	})
	return out, err
}

// DecideAppeal sets an open appeal's outcome; fn runs inside the
// transaction before it commits and may fill Undone (or refuse). An
// appeal already decided is refused with 409 naming its state.
func (db *DB) DecideAppeal(id, state, by, reason string, at int64, fn func(*Appeal) error) (Appeal, error) {
	k, ok := appealKey(id)
	if !ok {
		return Appeal{}, ErrAppealNotFound
	}
	var a Appeal
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAppeals)
		v := b.Get(k)
		if v == nil {
			return ErrAppealNotFound
		}
		if err := json.Unmarshal(v, &a); err != nil {
			return err
		}
		if a.State != AppealOpen {
			return chat.Conflict(a.State, "appeal %s is already %s (by %s); it is decided once", id, a.State, a.DecidedBy)
		}
		a.State, a.DecidedBy, a.DecidedAt, a.Reason = state, by, at, reason
		if fn != nil {
			if err := fn(&a); err != nil {
				return err
			}
		}
		nv, err := json.Marshal(&a)
		if err != nil {
			return err
		}
		if err := setOpenAppeals(tx, openAppeals(tx)-1); err != nil {
			return err
		}
		return b.Put(k, nv)
	})
	var ae *chat.Error
	if errors.As(err, &ae) {
		return Appeal{}, ae
	}
	return a, err
}

// AppealStats are an appeals KPI: counts by state and the mean time to
// decide.
type AppealStats struct {
	Received       int   `json:"received"`
	Open           int   `json:"open"`
	Upheld         int   `json:"upheld"`
	Overturned     int   `json:"overturned"`
	MeanDecideMS   int64 `json:"mean_time_to_decide_ms"`
	OldestOpenTS   int64 `json:"oldest_open,omitempty"`
	decidedTotalMS int64
}

// AppealStats counts the appeals of stream (all if empty).
func (db *DB) AppealStats(stream string) (AppealStats, error) {
	var s AppealStats
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAppeals).ForEach(func(_, v []byte) error {
			var a Appeal
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			if stream != "" && a.Stream != stream {
				return nil
			}
			s.Received++
			switch a.State {
			case AppealOpen:
				s.Open++
				if s.OldestOpenTS == 0 || a.Created < s.OldestOpenTS {
					s.OldestOpenTS = a.Created
				}
			case AppealUpheld:
				s.Upheld++
			case AppealOverturned:
				s.Overturned++
			}
			if a.DecidedAt > 0 {
				s.decidedTotalMS += a.DecidedAt - a.Created
			}
			return nil
		})
	})
	if d := s.Upheld + s.Overturned; d > 0 {
		s.MeanDecideMS = s.decidedTotalMS / int64(d)
	}
	return s, err
}

// AppealsOf returns user's appeals, for an export.
func (db *DB) AppealsOf(user string) ([]Appeal, error) {
	out := []Appeal{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAppeals).ForEach(func(_, v []byte) error {
			var a Appeal
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			if a.User == user {
				out = append(out, a)
			}
			return nil
		})
	})
	return out, err
}
