package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/livemod/livemod/chat"
	bolt "go.etcd.io/bbolt"
)

// KPIs are also kept per minute and stream in the store, so that they
// survive a restart and GET /v1/kpis?since= can return a series. The
// counts of the current minutes gather in memory and are added to the
// stored minute every kpiFlushEvery (and at Close): a crash loses at most
// that much of the counts, never a decision.

var bucketKPIs = []byte("kpis")

// KPIMinute is one stream's counts in one minute: every counter GET
// /v1/kpis reports is the sum of these (the ticket, appeal and review
// KPIs come from their own durable records).
type KPIMinute struct {
	Minute   int64 `json:"minute"` // Unix ms of the minute's start
	Messages int   `json:"messages"`
	Hidden   int   `json:"hidden"` // automatic hides
	Held     int   `json:"held"`   // automatic holds
	Replies  int   `json:"replies"`
	Handoffs int   `json:"handoffs"`
	// Meaningful comments and negative messages (the mood) among Messages.
	Meaningful int `json:"meaningful"`
	Negative   int `json:"negative"`
	// Human moderation actions, and those that undid an automatic hide or
	// hold (the false positives).
	Actions int `json:"actions"`
	Undone  int `json:"undone"`
}

// counts are m's counters, for adding and taking away field by field.
func (m *KPIMinute) counts() [9]*int {
	return [9]*int{&m.Messages, &m.Hidden, &m.Held, &m.Replies, &m.Handoffs, &m.Meaningful, &m.Negative, &m.Actions, &m.Undone}
}

// Add adds o's counts to m's (m keeps its Minute).
func (m *KPIMinute) Add(o KPIMinute) {
	oc := o.counts()
	for i, c := range m.counts() {
		*c += *oc[i]
	}
}

// Less returns m's counts less o's, with m's Minute.
func (m KPIMinute) Less(o KPIMinute) KPIMinute {
	oc := o.counts()
	for i, c := range m.counts() {
		*c -= *oc[i]
	}
	return m
}

// MaxKPIStreams bounds the streams counted between two flushes; more are
// dropped (and counted in Dropped).
const MaxKPIStreams = 10_000

const kpiFlushEvery = 10 * time.Second

type kpiKey struct {
	stream string
	minute int64
}

// KPIMinutes is the per-minute counter: a stream.Sink, plus Replied.
type KPIMinutes struct {
	db      *DB
	mu      sync.Mutex
	cur     map[kpiKey]*KPIMinute
	dropped int
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	OnError func(error)
	// Meaningful tells a meaningful comment (moderate.Meaningful); nil
	// counts none.
	Meaningful func(*chat.Decision) bool
	// mirror (SetMirror) is under mu.
	mirror func([]MirrorRecord) error
}

// SetMirror has every minute written from now on given to f (Kind "kpi",
// Key the minute's Unix ms, Value this store's whole count of that minute
// as JSON) after it is on disk: a cluster keeps them for the node that
// takes the stream over. f's error goes to OnError.
func (k *KPIMinutes) SetMirror(f func([]MirrorRecord) error) {
	k.mu.Lock()
	k.mirror = f
	k.mu.Unlock()
}

// NewKPIMinutes starts the flusher.
func NewKPIMinutes(db *DB) *KPIMinutes {
	k := &KPIMinutes{db: db, cur: map[kpiKey]*KPIMinute{}, stop: make(chan struct{}), done: make(chan struct{})}
	go k.run()
	return k
}

func (k *KPIMinutes) bump(stream string, ts int64, fn func(*KPIMinute)) {
	if ts <= 0 {
		ts = time.Now().UnixMilli()
	}
	key := kpiKey{stream, ts - ts%60000}
	k.mu.Lock()
	m := k.cur[key]
	if m == nil {
		if len(k.cur) >= MaxKPIStreams {
			k.dropped++
			k.mu.Unlock()
			return
		}
		m = &KPIMinute{Minute: key.minute}
		k.cur[key] = m
	}
	fn(m)
	k.mu.Unlock()
}

// Decided counts a decision.
func (k *KPIMinutes) Decided(d *chat.Decision, _ []byte) {
	k.bump(d.Stream, d.TS, func(m *KPIMinute) {
		m.Messages++
		switch d.Action {
		case chat.Hide:
			m.Hidden++
		case chat.Hold:
			m.Held++
		}
		if k.Meaningful != nil && k.Meaningful(d) {
			m.Meaningful++
		}
		if d.Labels.Has(chat.LabelNegative) {
			m.Negative++
		}
	})
}

// Human counts a person's moderation action at ts (Unix ms); undo says
// it undid an automatic hide or hold.
func (k *KPIMinutes) Human(stream string, ts int64, undo bool) {
	k.bump(stream, ts, func(m *KPIMinute) {
		m.Actions++
		if undo {
			m.Undone++
		}
	})
}

// Replied counts an automated reply.
func (k *KPIMinutes) Replied(stream string, ts int64) {
	k.bump(stream, ts, func(m *KPIMinute) { m.Replies++ })
}

// TicketCreated counts a new handoff.
func (k *KPIMinutes) TicketCreated(stream string, ts int64) {
	k.bump(stream, ts, func(m *KPIMinute) { m.Handoffs++ })
}

// Dropped is how many counts were dropped past MaxKPIStreams.
func (k *KPIMinutes) Dropped() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.dropped
}

func kpiDBKey(stream string, minute int64) []byte {
	b := make([]byte, 0, len(stream)+9)
	b = append(b, stream...)
	b = append(b, 0)
	return binary.BigEndian.AppendUint64(b, uint64(minute))
}

// Flush adds the counts gathered so far to the store.
func (k *KPIMinutes) Flush() error {
	k.mu.Lock()
	cur := k.cur
	k.cur = map[kpiKey]*KPIMinute{}
	mirrorFn := k.mirror
	k.mu.Unlock()
	if len(cur) == 0 {
		return nil
	}
	var mirror []MirrorRecord
	err := k.db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKPIs)
		mirror = mirror[:0]
		for key, m := range cur {
			dk := kpiDBKey(key.stream, key.minute)
			var stored KPIMinute
			if v := b.Get(dk); v != nil {
				json.Unmarshal(v, &stored)
			}
			stored.Minute = key.minute
			stored.Add(*m)
			v, err := json.Marshal(&stored)
			if err != nil {
				return err
			}
			if err := b.Put(dk, v); err != nil {
				return err
			}
			if mirrorFn != nil {
				mirror = append(mirror, MirrorRecord{Kind: "kpi", Stream: key.stream, Key: strconv.FormatInt(key.minute, 10), Value: v})
			}
		}
		return nil
	})
	if err == nil && len(mirror) > 0 {
		if merr := mirrorFn(mirror); merr != nil && k.OnError != nil {
			k.OnError(fmt.Errorf("mirror %d KPI minutes to the cluster: %w", len(mirror), merr))
		}
	}
	return err
}

func (k *KPIMinutes) run() {
	defer close(k.done)
	t := time.NewTicker(kpiFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-k.stop:
			if err := k.Flush(); err != nil && k.OnError != nil {
				k.OnError(err)
			}
			return
		case <-t.C:
			if err := k.Flush(); err != nil && k.OnError != nil {
				k.OnError(err)
			}
		}
	}
}

// Close flushes and stops.
func (k *KPIMinutes) Close(ctx context.Context) error {
	k.once.Do(func() { close(k.stop) })
	select {
	case <-k.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// MaxKPISeries bounds a series: a week of minutes.
const MaxKPISeries = 7 * 24 * 60

// Series returns stream's minutes from since (Unix ms) on, oldest first,
// at most MaxKPISeries; what is still in memory is flushed first.
func (k *KPIMinutes) Series(stream string, since int64) ([]KPIMinute, error) {
	if err := k.Flush(); err != nil {
		return nil, err
	}
	out := []KPIMinute{}
	err := k.db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketKPIs).Cursor()
		prefix := append([]byte(stream), 0)
		for key, v := c.Seek(kpiDBKey(stream, since-since%60000)); key != nil && len(out) < MaxKPISeries; key, v = c.Next() {
			if len(key) != len(prefix)+8 || string(key[:len(prefix)]) != string(prefix) {
				break
			}
			var m KPIMinute
			if err := json.Unmarshal(v, &m); err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

// KPIHistory is one stream's stored minutes: Total sums them all
// (Total.Minute is the first one kept), Recent are those from the recent
// cut on, oldest first.
type KPIHistory struct {
	Total  KPIMinute
	Recent []KPIMinute
}

// History reads every stream's stored minutes, so that the counters
// start where they stopped (the retention purge bounds them); what is
// still in memory is flushed first. recent is a Unix ms cut.
func (k *KPIMinutes) History(recent int64) (map[string]*KPIHistory, error) {
	if err := k.Flush(); err != nil {
		return nil, err
	}
	out := map[string]*KPIHistory{}
	err := k.db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketKPIs).ForEach(func(key, v []byte) error {
			if len(key) < 9 || key[len(key)-9] != 0 {
				return nil
			}
			var m KPIMinute
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("kpi minute %q: %w", key, err)
			}
			stream := string(key[:len(key)-9])
			h := out[stream]
			if h == nil {
				h = &KPIHistory{Total: KPIMinute{Minute: m.Minute}}
				out[stream] = h
			}
			h.Total.Add(m) // keys of a stream come in minute order
			if m.Minute >= recent {
				h.Recent = append(h.Recent, m)
			}
			return nil
		})
	})
	return out, err
}

// purgeKPIs deletes minutes before cut.
func purgeKPIs(tx *bolt.Tx, cut int64) (int, error) {
	b := tx.Bucket(bucketKPIs)
	var del [][]byte
	b.ForEach(func(k, _ []byte) error {
		if len(k) >= 9 && int64(binary.BigEndian.Uint64(k[len(k)-8:])) < cut {
			del = append(del, append([]byte(nil), k...))
		}
		return nil
	})
	for _, k := range del {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(del), nil
}
