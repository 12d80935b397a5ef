package moderate

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
	"github.com/livemod/livemod/state"
	"github.com/livemod/livemod/store"
	"github.com/livemod/livemod/stream"
)

// Message states, as written in events.
const (
	StateVisible  = "visible"
	StateHeld     = "held"
	StateHidden   = "hidden"
	StateApproved = "approved"
)

// Auditor records human and automatic actions. *store.AuditSink
// implements it.
type Auditor interface {
	Record(e store.AuditEntry)
}

// Labeler records what a moderator's action teaches about a message, as
// a labeled example for retraining. *store.DB implements it.
type Labeler interface {
	AppendLabel(ex store.LabeledExample) error
}

// Keeper keeps timeouts and bans across restarts. *store.DB implements
// it; Desk.Restore loads what it kept.
type Keeper interface {
	PutRestriction(r store.Restriction) error
	DeleteRestriction(user string) error
}

// An action's failure is a *chat.Error of its kind (chat.ErrNotFound,
// chat.ErrConflict with the target's state now, chat.ErrInvalid); overlay
// answers it in HTTP.

func conflict(state, format string, args ...any) error { return chat.Conflict(state, format, args...) }

func notFound(format string, args ...any) error { return chat.NotFound(format, args...) }

func badRequest(format string, args ...any) error { return chat.Invalid(format, args...) }

// Event announces a change of a message's state to the moderator view.
type Event struct {
	Type   string `json:"type"` // "moderation"
	ID     string `json:"id"`
	Stream string `json:"stream"`
	User   string `json:"user,omitempty"`
	State  string `json:"state"`
	Action string `json:"action"` // hide, approve, unhide
	Actor  string `json:"actor"`
	Reason string `json:"reason,omitempty"`
	Rule   string `json:"rule,omitempty"`
	TS     int64  `json:"ts"`
}

// UserEvent announces a timeout, ban or unban to the moderator view.
type UserEvent struct {
	Type   string `json:"type"` // "user"
	Stream string `json:"stream"`
	User   string `json:"user"`
	Action string `json:"action"` // timeout, ban, unban
	Until  int64  `json:"until,omitempty"`
	Actor  string `json:"actor"`
	Reason string `json:"reason,omitempty"`
	Hidden int    `json:"hidden"` // recent messages hidden with it
	// InStream says the restriction holds in Stream only (given through
	// a token limited to streams); otherwise it holds in every stream.
	InStream bool  `json:"in_stream,omitempty"`
	TS       int64 `json:"ts"`
}

// DeskOptions configure a Desk. Every zero value means its default.
type DeskOptions struct {
	// Publish sends one line to the moderator view of stream. Nil drops
	// events (a desk without pages, in tests).
	Publish func(stream string, line []byte)
	// Audit records every human action. Nil records nothing.
	Audit Auditor
	// Now is the clock for timeouts and audit times. Nil means time.Now.
	Now func() time.Time
	// Recent is how many decisions are kept per stream for actions and
	// for the snapshot a new console gets. Zero means 4096: a minute of
	// a busy show, ~1.5 MiB per stream.
	Recent int
	// MaxStreams caps the streams kept; the one quiet longest is dropped
	// for a new one. Zero means 256.
	MaxStreams int
	// SnapshotRecent is how many of the newest decisions a new console
	// gets, besides every held or hidden one kept. Zero means 300.
	SnapshotRecent int
	// Labels records approve, hide and unhide (and undo by rule) as
	// labeled examples. Nil records none.
	Labels Labeler
	// Keep saves timeouts and bans. Nil keeps them in memory only.
	Keep Keeper
	// KPIs counts human actions and the automatic hides people undo.
	// Nil counts nothing.
	KPIs *KPIs
	// OnError receives errors of recording labels. Nil drops them.
	OnError func(error)
	// Restrictions is where timeouts and bans take effect: the classify
	// engine asks it first about every message (restrictions come before
	// every other decision). Nil means a desk of its own, which only the
	// desk consults (tests).
	Restrictions *state.MemoryRestrictions
	// Hidden is told of every message a person hides (id) and of every
	// user restricted (id empty; stream empty for every stream), after
	// the desk changed: the trending questions drop them. Nil tells no one.
	Hidden func(stream, user, id string)
	// Actions carries hides, timeouts, bans and unbans of a connected
	// stream to its platform (actions.go). Nil keeps them in livemod.
	Actions Actions
	// Shown is told of a hidden or held message a person showed again
	// (unhide, approve, an overturned appeal), with its decision as JSON:
	// a question goes back on the trending list. Nil means nobody.
	Shown func(stream, user, id string, decision []byte)
}

// MaxTimeout is the longest timeout accepted (14 days, as Twitch).
const MaxTimeout = 14 * 24 * time.Hour

const deskShards = 16 // a power of two

// Desk is the moderation desk. Create it with NewDesk.
type Desk struct {
	opts   DeskOptions
	shards [deskShards]deskShard

	amu     sync.RWMutex // held for reading while recording; Close takes it
	aclosed bool

	nRestricted atomic.Int32 // fast path: most shows ban nobody
	rmu         sync.RWMutex
	restricted  map[string]restriction // restrictKey → restriction
}

type deskShard struct {
	mu      sync.Mutex
	streams map[string]*ring
	_       [48]byte // one cache line each: the shards' locks are not shared
}

// NewDesk returns an empty desk.
func NewDesk(opts DeskOptions) *Desk {
	if opts.Recent <= 0 {
		opts.Recent = 4096
	}
	if opts.MaxStreams <= 0 {
		opts.MaxStreams = 256
	}
	if opts.SnapshotRecent <= 0 {
		opts.SnapshotRecent = 300
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Publish == nil {
		opts.Publish = func(string, []byte) {}
	}
	if opts.OnError == nil {
		opts.OnError = func(error) {}
	}
	if opts.Restrictions == nil {
		opts.Restrictions = &state.MemoryRestrictions{}
	}
	if opts.Hidden == nil {
		opts.Hidden = func(string, string, string) {}
	}
	d := &Desk{opts: opts, restricted: map[string]restriction{}}
	for i := range d.shards {
		d.shards[i].streams = map[string]*ring{}
	}
	return d
}

func (d *Desk) shard(stream string) *deskShard {
	return &d.shards[xxhash.Sum64String(stream)&(deskShards-1)]
}

func stateOf(a chat.Action) string {
	switch a {
	case chat.Hide:
		return StateHidden
	case chat.Hold:
		return StateHeld
	}
	return StateVisible
}

// Decided keeps the decision for later actions. A message from a user
// under a timeout or ban arrives hidden: the engine asked the desk's
// Restrictions first.
func (d *Desk) Decided(dec *chat.Decision, line []byte) { d.decided(dec, line, nil) }

// ForShard implements stream.ShardSink. A pipeline shard's decisions are
// kept on the shard until it flushes, and then put into their streams'
// rings under one lock per run of decisions: both shards putting every
// decision into the same ring took turns owning its cache lines. The desk
// comes before the hub among the sinks, so it keeps a shard's decisions
// before the hub publishes them (a new subscriber's snapshot misses none,
// and an action on a line just received finds it).
func (d *Desk) ForShard(int) stream.FlushSink { return &deskGather{d: d} }

type deskGather struct {
	d     *Desk
	kept  []keptEntry
	lines []byte // the kept entries' lines, one after another
	at    int64  // the time of this run of decisions (Unix ms), 0 until read
}

type keptEntry struct {
	stream string
	e      entry
	end    int // where its line ends in lines
}

// now is the clock read once per run: the time a stream last had a
// decision needs no more precision (it picks the quietest to evict).
func (g *deskGather) now() int64 {
	if g.at == 0 {
		g.at = g.d.now()
	}
	return g.at
}

func (g *deskGather) keep(stream string, e entry, line []byte) {
	g.lines = append(g.lines, line...)
	g.kept = append(g.kept, keptEntry{stream: stream, e: e, end: len(g.lines)})
}

func (g *deskGather) Decided(dec *chat.Decision, line []byte) { g.d.decided(dec, line, g) }

func (g *deskGather) Flush() {
	now, start := g.now(), 0
	for i := 0; i < len(g.kept); {
		st := g.kept[i].stream
		sh := g.d.shard(st)
		sh.mu.Lock()
		r := g.d.ringOf(sh, st)
		for ; i < len(g.kept) && g.kept[i].stream == st; i++ {
			k := &g.kept[i]
			r.put(k.e, g.lines[start:k.end])
			start = k.end
		}
		r.touch = now
		sh.mu.Unlock()
	}
	clear(g.kept)
	g.kept, g.lines, g.at = g.kept[:0], g.lines[:0], 0
}

// decided keeps dec, at once or, if g is not nil, at g's flush.
func (d *Desk) decided(dec *chat.Decision, line []byte, g *deskGather) {
	e := entry{id: dec.ID, user: dec.User.ID, platform: dec.Platform, ts: dec.TS, state: stateOf(dec.Action)}
	e.first = e.state
	if dec.Action != chat.Allow {
		e.auto = true
		// Only the rules that made the action: undo by rule must not
		// reach a message a spam rule hid because it also ends with '?'.
		for _, r := range dec.Reasons {
			if classify.ActingRule(r.Rule, dec.Action) || r.Rule == chat.RuleUserBan || r.Rule == chat.RuleUserTimeout {
				e.rules = append(e.rules, r.Rule)
			}
		}
		if len(e.rules) == 0 && len(dec.Reasons) > 0 {
			e.rules = []string{dec.Reasons[0].Rule}
		}
	}
	// A restricted user's message arrives hidden (user.ban, user.timeout):
	// the engine asked DeskOptions.Restrictions first. The desk adds no
	// second hide after it.
	if g != nil {
		g.keep(dec.Stream, e, line)
	} else {
		sh := d.shard(dec.Stream)
		sh.mu.Lock()
		d.ringOf(sh, dec.Stream).put(e, line) // line is the pipeline's scratch: put copies it
		sh.streams[dec.Stream].touch = d.now()
		sh.mu.Unlock()
	}
}

// ringOf returns stream's ring, made if need be. sh's lock must be held.
func (d *Desk) ringOf(sh *deskShard, stream string) *ring {
	r := sh.streams[stream]
	if r == nil {
		if len(sh.streams) >= (d.opts.MaxStreams+deskShards-1)/deskShards {
			sh.dropQuietest()
		}
		r = &ring{ents: make([]entry, d.opts.Recent)}
		sh.streams[stream] = r
	}
	return r
}

func (d *Desk) now() int64 { return d.opts.Now().UnixMilli() }

func (d *Desk) audit(e store.AuditEntry) {
	if d.opts.Audit == nil {
		return
	}
	if e.TS == 0 {
		e.TS = d.now()
	}
	d.amu.RLock()
	defer d.amu.RUnlock()
	if !d.aclosed {
		d.opts.Audit.Record(e)
	}
}

// Close stops recording to the audit log, so that the log can be closed
// while late requests finish. Actions still work.
func (d *Desk) Close() {
	d.amu.Lock()
	d.aclosed = true
	d.amu.Unlock()
}

// Snapshot returns what a new moderator subscriber of stream gets first:
// the newest decisions and every held or hidden one kept, oldest first,
// each followed by the event that last changed its state.
func (d *Desk) Snapshot(stream string) [][]byte {
	sh := d.shard(stream)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	r := sh.streams[stream]
	if r == nil {
		return nil
	}
	var out [][]byte
	i := 0
	recentFrom := r.n - d.opts.SnapshotRecent
	r.each(func(e *entry) {
		if e.lineLen == 0 { // erased
			i++
			return
		}
		if i >= recentFrom || e.state == StateHeld || e.state == StateHidden {
			out = append(out, r.line(e))
			if e.change != nil {
				out = append(out, e.change)
			}
		}
		i++
	})
	return out
}

// State returns the state of message id in stream, for tests and REST.
func (d *Desk) State(stream, id string) (string, bool) {
	sh := d.shard(stream)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if r := sh.streams[stream]; r != nil {
		if e := r.find(id); e != nil {
			return e.state, true
		}
	}
	return "", false
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("moderate: encode event: " + err.Error()) // plain structs of strings and ints
	}
	return b
}
