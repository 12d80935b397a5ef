package store

import (
	"bytes"
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

// AuditEntry is one decision or action in the audit trail.
type AuditEntry struct {
	Seq   uint64 `json:"seq"`
	TS    int64  `json:"ts"`    // Unix ms
	Actor string `json:"actor"` // "auto", a token's name, or a user
	// Role is the actor's role: a token's, "system" for livemod itself,
	// "viewer" for a chat user.
	Role   string `json:"role,omitempty"`
	Action string `json:"action"`
	Target string `json:"target"` // message id, user id, cluster, ticket
	Stream string `json:"stream,omitempty"`
	User   string `json:"user,omitempty"` // the chat user concerned, for export and erasure
	Reason string `json:"reason,omitempty"`
	Rule   string `json:"rule,omitempty"`
	// Node is the cluster node that wrote the entry (docs/SCALING.md);
	// empty on a single node.
	Node string `json:"node,omitempty"`
	// Erased marks an entry whose user was erased: it keeps when, who
	// and what was done, without the user or any text (see erase.go).
	Erased bool `json:"erased,omitempty"`
	// PD and Hash chain the entry to the one before it (see chain.go);
	// AppendAudit sets them.
	PD   string `json:"pd,omitempty"`
	Hash string `json:"hash,omitempty"`

	flushed chan error // set on AuditSink.Flush's marker (cap 1), never stored
}

// AuditQuery selects entries; zero fields select all. Limit zero means 100.
type AuditQuery struct {
	Stream string
	User   string // the entry's user or its target
	Since  int64  // Unix ms, inclusive
	Before uint64 // only entries with a smaller seq (the cursor); 0: none
	Limit  int
}

// The audit bucket holds entries in chunks: a value is up to auditChunk
// entries as JSON lines (one object per line, in Seq order), under the
// big-endian Seq of its first entry. A raid hides thousands of messages a
// second; one bbolt Put per chunk instead of per entry spares a B+tree
// descent and its allocations for each, and fills pages end to end. A
// value of one JSON object, as earlier versions wrote, is a chunk of one.
const auditChunk = 256

// AppendAudit writes entries in one transaction, assigning Seq.
func (db *DB) AppendAudit(entries ...AuditEntry) error {
	return db.appendAudit(nil, entries)
}

// auditBufs are the buffers a writer that appends again and again (the
// sink) lends appendAudit: a commit's values and scratch, reused by the
// next commit once bbolt has copied them into its pages.
type auditBufs struct {
	v, scratch []byte
}

// auditBufMax bounds the value buffer kept for the next commit (a raid's
// batch may make a bigger one; it is not kept).
const auditBufMax = 4 << 20

// appendAudit is AppendAudit with buffers to reuse (nil: fresh ones).
func (db *DB) appendAudit(bufs *auditBufs, entries []AuditEntry) error {
	if db.node != "" {
		for i := range entries {
			if entries[i].Node == "" {
				entries[i].Node = db.node
			}
		}
	}
	if len(entries) == 0 {
		return nil
	}
	if bufs == nil {
		return db.bolt.Update(func(tx *bolt.Tx) error { return appendAudit(tx, entries, nil) })
	}
	// The buffers are free again once the transaction has ended, whether
	// it committed or not.
	err := db.bolt.Update(func(tx *bolt.Tx) error { return appendAudit(tx, entries, bufs) })
	if cap(bufs.v) > auditBufMax {
		bufs.v = nil
	}
	return err
}

// appendAudit writes entries inside tx, chained to the log's tail, in
// bufs' buffers when given (they must not be used again before tx ends).
func appendAudit(tx *bolt.Tx, entries []AuditEntry, bufs *auditBufs) error {
	{
		b := tx.Bucket(bucketAudit)
		// Keys only grow: fill pages completely instead of splitting them
		// half-empty.
		b.FillPercent = 1.0
		tail := auditTail(tx)
		var scratch, v []byte
		if bufs != nil {
			scratch, v = bufs.scratch[:0], bufs.v[:0]
			defer func() { bufs.scratch, bufs.v = scratch, v }()
		}
		if need := 320 * len(entries); cap(v) < need {
			v = make([]byte, 0, need)
		}
		for len(entries) > 0 {
			chunk := entries[:min(len(entries), auditChunk)]
			entries = entries[len(chunk):]
			start := len(v)
			var first uint64
			for i := range chunk {
				seq, err := b.NextSequence()
				if err != nil {
					return err
				}
				if i == 0 {
					first = seq
				} else {
					v = append(v, '\n')
				}
				chunk[i].Seq = seq
				tail.seq = seq
				tail.hash, scratch = seal(tail.hash, &chunk[i], scratch)
				v = chunk[i].appendJSON(v)
			}
			// Put keeps the slice until the commit: each chunk gets its
			// own piece of one growing buffer (growing moves only what
			// comes after: the pieces already put stay where they are).
			if err := b.Put(seqKey(first), v[start:len(v):len(v)]); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(metaAuditTail, tail.bytes())
	}
}

// eachAuditLine calls fn with each entry of the chunk v, oldest first.
func eachAuditLine(v []byte, fn func(line []byte) error) error {
	for len(v) > 0 {
		line := v
		if i := bytes.IndexByte(v, '\n'); i >= 0 {
			line, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		if len(line) == 0 {
			continue
		}
		if err := fn(line); err != nil {
			return err
		}
	}
	return nil
}

// Audit returns the newest entries matching q, newest first.
func (db *DB) Audit(q AuditQuery) ([]AuditEntry, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	var out []AuditEntry
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAudit).Cursor()
		var lines [][]byte
		k, v := c.Last()
		if q.Before > 0 {
			// The chunk holding seq Before-1 starts at or before it.
			if k, v = c.Seek(seqKey(q.Before)); k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		}
		for ; k != nil && len(out) < q.Limit; k, v = c.Prev() {
			lines = lines[:0]
			eachAuditLine(v, func(l []byte) error { lines = append(lines, l); return nil })
			for i := len(lines) - 1; i >= 0 && len(out) < q.Limit; i-- {
				var e AuditEntry
				if err := json.Unmarshal(lines[i], &e); err != nil {
					return fmt.Errorf("audit chunk %d: %w", binary.BigEndian.Uint64(k), err)
				}
				if q.Before > 0 && e.Seq >= q.Before {
					continue
				}
				if e.TS < q.Since {
					// Entries are in append order, which is time order but
					// for replayed messages; keep scanning a little older.
					continue
				}
				if (q.Stream == "" || e.Stream == q.Stream) && (q.User == "" || e.User == q.User || e.Target == q.User) {
					out = append(out, e)
				}
			}
		}
		return nil
	})
	return out, err
}

// appendJSON writes e as encoding/json would, without reflection: the
// audit sink writes one entry per automatic hide or hold.
func (e *AuditEntry) appendJSON(b []byte) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = append(b, `,"ts":`...)
	b = strconv.AppendInt(b, e.TS, 10)
	b = append(b, `,"actor":`...)
	b = chat.AppendJSONString(b, e.Actor)
	if e.Role != "" {
		b = append(b, `,"role":`...)
		b = chat.AppendJSONString(b, e.Role)
	}
	b = append(b, `,"action":`...)
	b = chat.AppendJSONString(b, e.Action)
	b = append(b, `,"target":`...)
	b = chat.AppendJSONString(b, e.Target)
	for _, f := range [...]struct{ key, val string }{{"stream", e.Stream}, {"user", e.User}, {"reason", e.Reason}, {"rule", e.Rule}, {"node", e.Node}} {
		if f.val != "" {
			b = append(b, `,"`...)
			b = append(b, f.key...)
			b = append(b, `":`...)
			b = chat.AppendJSONString(b, f.val)
		}
	}
	if e.Erased {
		b = append(b, `,"erased":true`...)
	}
	if e.PD != "" {
		b = append(b, `,"pd":"`...)
		b = append(b, e.PD...)
		b = append(b, '"')
	}
	if e.Hash != "" {
		b = append(b, `,"hash":"`...)
		b = append(b, e.Hash...)
		b = append(b, '"')
	}
	return append(b, '}')
}

func seqKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

// AuditSink records every automatic non-allow decision in the audit log.
// It implements stream.Sink: Decided only queues; a goroutine writes
// batches. When the queue is full Decided waits, which slows the pipeline
// (backpressure) rather than losing audit entries.
type AuditSink struct {
	db   *DB
	b    batcher[AuditEntry]
	once sync.Once
	// OnError is called with write errors (nil means they are dropped
	// after being counted in Errors).
	OnError func(error)
	// ObserveCommit receives the time each commit took; nil means none.
	ObserveCommit func(time.Duration)
	// RoleOf names the role of a human actor (a token's name) for
	// entries recorded without one; nil leaves Role empty.
	RoleOf func(actor string) string

	bufs auditBufs // the writer goroutine's own

	mu     sync.Mutex
	errors int
}

// auditQueueLen is sized for a raid: thousands of hides a second, written
// in batches every few milliseconds.
const auditQueueLen = 16384

// auditBatch is the most entries one transaction (one fsync) carries, and
// auditLinger the longest the sink waits to fill one while nobody waits
// for it. A crash loses at most auditLinger of automatic entries; a human
// action's entry is committed before its answer (Flush), and GET
// /v1/audit flushes first.
const (
	auditBatch  = 4096
	auditLinger = 50 * time.Millisecond
)

// NewAuditSink starts the writer goroutine.
func NewAuditSink(db *DB) *AuditSink {
	s := &AuditSink{db: db}
	// A Flush marker (someone waits: a REST answer) ends the linger.
	s.b = batcher[AuditEntry]{linger: auditLinger, max: auditBatch,
		barrier: func(e AuditEntry) bool { return e.flushed != nil }, commit: s.commit}
	s.b.start(auditQueueLen)
	return s
}

// Decided queues an entry for a decision that was not a plain allow, and
// for a viewer's opt-out (STOP) or opt-in (START) of automated replies.
func (s *AuditSink) Decided(d *chat.Decision, _ []byte) {
	if d.Action == chat.Allow {
		// The automation stage applies these unless the user is
		// restricted (automate.Stage.apply); the audit says the same.
		if !d.Restricted() {
			if d.Labels.Has(chat.LabelOptout) {
				s.b.queue <- AuditEntry{TS: d.TS, Actor: d.User.ID, Role: "viewer", Action: "optout", Target: d.User.ID, Stream: d.Stream, User: d.User.ID, Reason: "replies: the viewer opted out"}
			} else if hasRule(d, "optout.start") {
				s.b.queue <- AuditEntry{TS: d.TS, Actor: d.User.ID, Role: "viewer", Action: "optin", Target: d.User.ID, Stream: d.Stream, User: d.User.ID, Reason: "replies: the viewer opted back in"}
			}
		}
		return
	}
	e := AuditEntry{TS: d.TS, Actor: "auto", Role: "system", Action: d.Action.String(), Target: d.ID, Stream: d.Stream, User: d.User.ID}
	if len(d.Reasons) > 0 {
		e.Rule = d.Reasons[0].Rule
		e.Reason = d.Reasons[0].Detail
	}
	s.b.queue <- e
}

func hasRule(d *chat.Decision, rule string) bool {
	for i := range d.Reasons {
		if d.Reasons[i].Rule == rule {
			return true
		}
	}
	return false
}

// Record queues an entry for a human action.
func (s *AuditSink) Record(e AuditEntry) {
	if e.TS == 0 {
		e.TS = time.Now().UnixMilli()
	}
	if e.Role == "" && s.RoleOf != nil {
		e.Role = s.RoleOf(e.Actor)
	}
	s.b.queue <- e
}

// commit appends batch's entries in one transaction and answers its
// Flush markers after it.
func (s *AuditSink) commit(batch []AuditEntry) {
	batch, flushed := splitFlushes(batch)
	var err error
	if len(batch) > 0 {
		began := time.Now()
		err = s.db.appendAudit(&s.bufs, batch)
		if s.ObserveCommit != nil {
			s.ObserveCommit(time.Since(began))
		}
	}
	if err != nil {
		s.mu.Lock()
		s.errors++
		s.mu.Unlock()
		if s.OnError != nil {
			s.OnError(err)
		}
	}
	for _, c := range flushed {
		c <- err
	}
}

// Errors returns how many batches failed to write.
func (s *AuditSink) Errors() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errors
}

// Close writes what is queued and stops. Call it after the pipeline has
// drained; Decided must not be called afterwards.
func (s *AuditSink) Close(ctx context.Context) error {
	s.once.Do(func() { close(s.b.queue) })
	select {
	case <-s.b.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
