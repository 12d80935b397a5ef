package moderate

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
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
	Restrictions *classify.MemoryRestrictions
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

type restriction struct {
	until  int64 // Unix ms; 0 = banned
	reason string
	// stream is set when the restriction holds in that stream only;
	// subject is the user (chat.Subject).
	stream, subject string
}

// restrictKey keys the desk's restrictions, as store.Restriction.Key
// keys the kept ones: the subject alone for a restriction of every
// stream, stream NUL subject for one of a stream only.
func restrictKey(stream, subject string) string {
	if stream == "" {
		return subject
	}
	return stream + "\x00" + subject
}

type deskShard struct {
	mu      sync.Mutex
	streams map[string]*ring
	_       [48]byte // one cache line each: the shards' locks are not shared
}

// ring holds a stream's recent decisions, oldest overwritten first.
type ring struct {
	ents  []entry
	next  int   // slot written next
	n     int   // slots in use
	touch int64 // Unix ms of the last decision, for eviction
	lines lineRing
	// keepFrom is at most where the oldest kept line starts in lines.
	keepFrom int64
}

// lineRing keeps the decision lines of a ring's entries, copied one after
// another into one circular buffer: a decision costs the desk a copy, not
// an allocation (it is one for every message). A line is found by where
// it starts in the stream of every byte written (never reused); the
// buffer grows when the newest line would overwrite a line an entry still
// holds.
type lineRing struct {
	buf     []byte
	written int64 // bytes written since the ring began
}

// add copies line in and returns where it starts; keepFrom is the start
// of the oldest line still needed.
func (l *lineRing) add(line []byte, keepFrom int64) int64 {
	if need := int(l.written + int64(len(line)) - keepFrom); need > len(l.buf) {
		l.grow(max(2*len(l.buf), need, 64<<10), keepFrom)
	}
	at := l.written
	i := int(at % int64(len(l.buf)))
	n := copy(l.buf[i:], line)
	copy(l.buf, line[n:])
	l.written += int64(len(line))
	return at
}

// grow moves the bytes from keepFrom on into a buffer of size n, at the
// same positions modulo n.
func (l *lineRing) grow(n int, keepFrom int64) {
	old := l.buf
	l.buf = make([]byte, n)
	for p := keepFrom; p < l.written; {
		i := int(p % int64(len(old)))
		seg := old[i:min(len(old), i+int(l.written-p))]
		j := int(p % int64(n))
		k := copy(l.buf[j:], seg)
		copy(l.buf, seg[k:])
		p += int64(len(seg))
	}
}

// line returns a copy of the line of size n at at.
func (l *lineRing) line(at int64, n int) []byte {
	out := make([]byte, n)
	i := int(at % int64(len(l.buf)))
	k := copy(out, l.buf[i:])
	copy(out[k:], l.buf)
	return out
}

// wipe zeroes the line of size n at at (an erased user's message).
func (l *lineRing) wipe(at int64, n int) {
	i := int(at % int64(len(l.buf)))
	k := min(n, len(l.buf)-i)
	clear(l.buf[i : i+k])
	clear(l.buf[:n-k])
}

type entry struct {
	id       string
	user     string
	platform string // the message's platform, "" if not named
	ts       int64
	state    string
	first    string   // state the decision gave it
	auto     bool     // hidden or held by a rule, not by a person
	rules    []string // the reasons' rules, for undo
	// The decision as published is in the ring's lines, lineLen bytes at
	// lineAt; lineLen is 0 once the user is erased.
	lineAt  int64
	lineLen int
	change  []byte // the latest event line, if the state changed since
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
		opts.Restrictions = &classify.MemoryRestrictions{}
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

// put adds e, overwriting the oldest entry once the ring is full. It
// keeps no index: put runs for every message, a lookup by id only for a
// moderator's click, and scanning a few thousand ids (newest first) costs
// a click microseconds, where an index cost every message a map update.
func (r *ring) put(e entry, line []byte) {
	if r.n < len(r.ents) {
		r.n++
	}
	// Where the oldest kept line starts only grows, so a value read
	// before is a bound, good until the buffer would reach it: reading
	// the oldest entry (thousands of decisions old, out of cache) every
	// time was most of the cost of a put.
	if r.lines.written+int64(len(line))-int64(len(r.lines.buf)) > r.keepFrom {
		// Once the ring is full, the entry after this one is the oldest kept.
		r.keepFrom = r.lines.written
		if r.n == len(r.ents) {
			if o := &r.ents[(r.next+1)%len(r.ents)]; o != &r.ents[r.next] {
				r.keepFrom = o.lineAt
			}
		} else if r.n > 1 {
			r.keepFrom = r.ents[(r.next-r.n+1+len(r.ents))%len(r.ents)].lineAt
		}
	}
	e.lineAt, e.lineLen = r.lines.add(line, r.keepFrom), len(line)
	r.ents[r.next] = e
	r.next = (r.next + 1) % len(r.ents)
}

// line returns a copy of e's decision line, nil if it was erased.
func (r *ring) line(e *entry) []byte {
	if e.lineLen == 0 {
		return nil
	}
	return r.lines.line(e.lineAt, e.lineLen)
}

// find returns the entry of message id, newest first, or nil.
func (r *ring) find(id string) *entry {
	if id == "" {
		return nil
	}
	for i := 1; i <= r.n; i++ {
		e := &r.ents[(r.next-i+len(r.ents))%len(r.ents)]
		if e.id == id {
			return e
		}
	}
	return nil
}

// each calls f on the kept entries, oldest first.
func (r *ring) each(f func(*entry)) {
	start := (r.next - r.n + len(r.ents)) % len(r.ents)
	for i := 0; i < r.n; i++ {
		f(&r.ents[(start+i)%len(r.ents)])
	}
}

func (sh *deskShard) dropQuietest() {
	var victim string
	oldest := int64(math.MaxInt64)
	for name, r := range sh.streams {
		if r.touch < oldest {
			victim, oldest = name, r.touch
		}
	}
	delete(sh.streams, victim)
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

func (d *Desk) restriction(user string) (restriction, bool) {
	d.rmu.RLock()
	r, ok := d.restricted[user]
	d.rmu.RUnlock()
	if ok && r.until != 0 && r.until <= d.now() {
		return restriction{}, false
	}
	return r, ok
}

// Act applies a moderator's action (hide, approve or unhide) by actor to
// message id. stream may be empty when the id is unique among the kept
// messages.
func (d *Desk) Act(actor, stream, id, action, reason string) (Event, error) {
	var state string
	switch action {
	case "hide":
		state = StateHidden
	case "approve":
		state = StateApproved
	case "unhide":
		state = StateVisible
	default:
		return Event{}, badRequest("action %q: want hide, approve or unhide", action)
	}
	if stream == "" {
		var ok bool
		if stream, ok = d.find(id); !ok {
			return Event{}, notFound("message %q: not among the recent messages of any stream", id)
		}
	}
	ev := Event{Type: "moderation", ID: id, Stream: stream, State: state, Action: action, Actor: actor, Reason: reason, TS: d.now()}
	sh := d.shard(stream)
	sh.mu.Lock()
	r := sh.streams[stream]
	var e *entry
	if r != nil {
		e = r.find(id)
	}
	if e == nil {
		sh.mu.Unlock()
		return Event{}, notFound("message %q: not among the recent messages of stream %q", id, stream)
	}
	ev.User = e.user
	// A no-op or a wrong-state action changes nothing and is not
	// audited again: hide of a hidden message, approve of an approved
	// one, unhide of one that shows.
	switch {
	case action == "hide" && e.state == StateHidden,
		action == "approve" && e.state == StateApproved,
		action == "unhide" && (e.state == StateVisible || e.state == StateApproved):
		cur := e.state
		sh.mu.Unlock()
		return Event{}, conflict(cur, "message %q of stream %q is already %s; nothing to %s", id, stream, cur, action)
	}
	line := mustJSON(&ev)
	undo := e.auto && (e.state == StateHidden || e.state == StateHeld) && action != "hide"
	decided := r.line(e)
	platform := e.platform
	wasHidden := e.state == StateHidden || e.state == StateHeld
	e.state, e.auto, e.change = state, false, line
	sh.mu.Unlock()

	if action == "hide" {
		d.opts.Hidden(stream, ev.User, id)
		if err := d.toPlatform(store.Action{Kind: store.ActHide, Stream: stream, Platform: platform, Target: id, User: ev.User, Reason: reason, Actor: actor}); err != nil {
			return ev, err
		}
	} else if _, restricted := d.restrictionOf(stream, platform, ev.User); wasHidden && !restricted && d.opts.Shown != nil {
		// A restricted user's questions stay off the overlay.
		d.opts.Shown(stream, ev.User, id, decided)
	}
	d.opts.Publish(stream, line)
	d.audit(store.AuditEntry{TS: ev.TS, Actor: actor, Action: action, Target: id, Stream: stream, User: ev.User, Reason: reason})
	d.opts.KPIs.human(stream, undo)
	d.label(decided, action, reason, actor, ev.TS)
	return ev, nil
}

// label records a moderator's action on the decision line decided as a
// labeled example.
func (d *Desk) label(decided []byte, action, reason, actor string, at int64) {
	if d.opts.Labels == nil || decided == nil {
		return
	}
	var dec chat.Decision
	if err := json.Unmarshal(decided, &dec); err != nil {
		d.opts.OnError(fmt.Errorf("label %s: decode decision: %w", action, err))
		return
	}
	msg := chat.Message{ID: dec.ID, Stream: dec.Stream, User: dec.User, Text: dec.Text, TS: dec.TS}
	err := d.opts.Labels.AppendLabel(store.LabeledExample{Message: msg, Labels: store.LabelsFromAction(action, dec.Labels, reason),
		Source: action, Actor: actor, At: at})
	if err != nil {
		d.opts.OnError(fmt.Errorf("label %s of %s: %w", action, dec.ID, err))
	}
}

// find returns the stream that keeps message id.
func (d *Desk) find(id string) (string, bool) {
	for i := range d.shards {
		sh := &d.shards[i]
		sh.mu.Lock()
		for name, r := range sh.streams {
			if r.find(id) != nil {
				sh.mu.Unlock()
				return name, true
			}
		}
		sh.mu.Unlock()
	}
	return "", false
}

// User applies a timeout (for seconds; zero means 600), ban or unban by
// actor to user. A timeout or ban also hides the user's recent messages.
// Events go to stream, or to every stream with recent messages of the
// user when stream is empty.
func (d *Desk) User(actor, stream, user, action string, seconds int, reason string) (UserEvent, error) {
	return d.user(actor, stream, user, action, seconds, reason, false)
}

// UserIn is User for a restriction that holds in stream only: the one a
// moderator limited to some streams gives (platforms ban per channel
// too). An unban lifts only the stream's own restriction.
func (d *Desk) UserIn(actor, stream, user, action string, seconds int, reason string) (UserEvent, error) {
	if stream == "" {
		return UserEvent{}, badRequest("stream: missing; a restriction of one stream names it")
	}
	return d.user(actor, stream, user, action, seconds, reason, true)
}

func (d *Desk) user(actor, stream, user, action string, seconds int, reason string, inStream bool) (UserEvent, error) {
	if user == "" {
		return UserEvent{}, badRequest("user: empty")
	}
	now := d.now()
	ev := UserEvent{Type: "user", User: user, Action: action, Actor: actor, Reason: reason, TS: now}
	switch action {
	case "timeout":
		if seconds <= 0 {
			seconds = 600
		}
		if int64(seconds) > int64(MaxTimeout/time.Second) { // compared in seconds: no overflow
			return UserEvent{}, badRequest("seconds: at most %d (14 days); use ban for longer", int(MaxTimeout/time.Second))
		}
		ev.Until = now + int64(seconds)*1000
	case "ban", "unban":
	default:
		return UserEvent{}, badRequest("action %q: want timeout, ban or unban", action)
	}
	platform, user := d.platformOf(stream, user)
	ev.User = user
	ev.InStream = inStream
	subject := chat.Subject(platform, user) // Twitch user 42 is not YouTube user 42
	scope := ""
	if inStream {
		scope = stream
	}
	key := restrictKey(scope, subject)
	// A no-op is refused with the state it met, and not audited.
	if r, restricted := d.restriction(key); true {
		cur := r.until
		switch {
		case action == "unban" && !restricted:
			return UserEvent{}, conflict("none", "user %q is neither banned nor timed out; nothing to unban", user)
		case action != "unban" && restricted && cur == 0:
			return UserEvent{}, conflict("banned", "user %q is already banned; unban first to %s", user, action)
		}
	}
	if d.opts.Keep != nil {
		// Saved first: a restriction that is not kept is not given.
		var err error
		if action == "unban" {
			err = d.opts.Keep.DeleteRestriction(key)
		} else {
			err = d.opts.Keep.PutRestriction(store.Restriction{User: subject, Stream: scope, Until: ev.Until, Reason: reason, Actor: actor, TS: now})
		}
		if err != nil {
			return UserEvent{}, fmt.Errorf("%s %q: save: %v", action, user, err)
		}
	}
	if err := d.toPlatform(store.Action{Kind: action, Stream: stream, Platform: platform, User: user, Seconds: seconds, Reason: reason, Actor: actor}); err != nil {
		return UserEvent{}, err
	}
	d.rmu.Lock()
	_, had := d.restricted[key]
	if action == "unban" {
		delete(d.restricted, key)
		if had {
			d.nRestricted.Add(-1)
		}
		if inStream {
			d.opts.Restrictions.DeleteIn(stream, subject)
		} else {
			d.opts.Restrictions.Delete(subject)
		}
	} else {
		d.restricted[key] = restriction{until: ev.Until, reason: reason, stream: scope, subject: subject}
		if !had {
			d.nRestricted.Add(1)
		}
		// From here on the engine hides what the user sends. Ended
		// timeouts go first: the table holds only running ones.
		d.opts.Restrictions.Sweep(now)
		if inStream {
			d.opts.Restrictions.SetIn(stream, subject, ev.Until)
		} else {
			d.opts.Restrictions.Set(subject, ev.Until)
		}
	}
	d.rmu.Unlock()
	if action != "unban" {
		d.opts.Hidden(stream, user, "")
	}

	// Hide what the user said recently, and find where to announce it.
	type out struct {
		stream string
		lines  [][]byte
	}
	var outs []out
	hideReason := "user " + action
	if action == "timeout" {
		hideReason = "user timed out"
	} else if action == "ban" {
		hideReason = "user banned"
	}
	for i := range d.shards {
		sh := &d.shards[i]
		sh.mu.Lock()
		for name, r := range sh.streams {
			if stream != "" && name != stream {
				continue
			}
			o := out{stream: name}
			seen := false
			r.each(func(e *entry) {
				if e.user != user || (platform != "" && e.platform != platform) {
					return
				}
				seen = true
				if action == "unban" || e.state == StateHidden {
					return
				}
				mev := Event{Type: "moderation", ID: e.id, Stream: name, User: user, State: StateHidden,
					Action: "hide", Actor: actor, Reason: hideReason, TS: now}
				e.state, e.auto, e.change = StateHidden, false, mustJSON(&mev)
				o.lines = append(o.lines, e.change)
			})
			if seen {
				outs = append(outs, o)
			}
		}
		sh.mu.Unlock()
	}
	if stream != "" && len(outs) == 0 {
		outs = append(outs, out{stream: stream})
	}
	for _, o := range outs {
		ev.Stream = o.stream
		ev.Hidden = len(o.lines)
		for _, l := range o.lines {
			d.opts.Publish(o.stream, l)
		}
		d.opts.Publish(o.stream, mustJSON(&ev))
	}
	ev.Stream = stream
	ev.Hidden = 0
	for _, o := range outs {
		ev.Hidden += len(o.lines)
	}
	d.opts.KPIs.human(stream, false)
	e := store.AuditEntry{TS: now, Actor: actor, Action: action, Target: user, Stream: stream, User: user, Reason: reason}
	if action == "timeout" {
		e.Reason = strconv.Itoa(seconds) + "s"
		if reason != "" {
			e.Reason += ": " + reason
		}
	}
	d.audit(e)
	return ev, nil
}

// Skip is a message undo by rule left hidden, and why.
type Skip struct {
	ID     string `json:"id"`
	User   string `json:"user,omitempty"`
	Reason string `json:"reason"`
}

// Undo is what an undo by rule did.
type Undo struct {
	Rule    string  `json:"rule"`
	Stream  string  `json:"stream"`
	Undone  int     `json:"undone"`
	Events  []Event `json:"events"`
	Skipped []Skip  `json:"skipped"`
}

// UndoRule unhides (or releases, if held) every message of stream that
// rule hid or held automatically at or after since (Unix ms of the
// message; zero means the last five minutes), and says what it skipped:
// a message a person decided on since, and a message of a user who is
// timed out or banned now (undo never lets a restricted user speak).
// Only hides the rule made count: a spam hide is not undone by
// "question.mark" because the spam also ended with '?'. A rule livemod
// does not have, or one that never hides or holds, is not found (404).
func (d *Desk) UndoRule(actor, stream, rule string, since int64) (Undo, error) {
	if stream == "" || rule == "" {
		return Undo{}, badRequest("stream and rule are required")
	}
	if !classify.UndoableRule(rule) {
		return Undo{}, notFound("rule %q: no such rule hides or holds messages; undo takes a rule such as spam.link or flood.copypasta", rule)
	}
	now := d.now()
	if since <= 0 {
		since = now - 5*60*1000
	}
	out := Undo{Rule: rule, Stream: stream, Events: []Event{}, Skipped: []Skip{}}
	var lines, decided [][]byte
	sh := d.shard(stream)
	sh.mu.Lock()
	if r := sh.streams[stream]; r != nil {
		r.each(func(e *entry) {
			if e.ts < since || e.first == StateVisible || !hasRule(e.rules, rule) {
				return
			}
			if !e.auto || (e.state != StateHidden && e.state != StateHeld) {
				out.Skipped = append(out.Skipped, Skip{ID: e.id, User: e.user, Reason: "a moderator already decided: " + e.state})
				return
			}
			if _, ok := d.restrictionOf(stream, e.platform, e.user); ok {
				out.Skipped = append(out.Skipped, Skip{ID: e.id, User: e.user, Reason: "user is timed out or banned"})
				return
			}
			ev := Event{Type: "moderation", ID: e.id, Stream: stream, User: e.user, State: StateVisible,
				Action: "unhide", Actor: actor, Reason: "undo rule " + rule, Rule: rule, TS: now}
			if e.state == StateHeld {
				ev.State, ev.Action = StateApproved, "approve"
			}
			e.state, e.auto, e.change = ev.State, false, mustJSON(&ev)
			out.Events = append(out.Events, ev)
			lines = append(lines, e.change)
			decided = append(decided, r.line(e))
		})
	}
	sh.mu.Unlock()
	out.Undone = len(out.Events)
	for i, l := range lines {
		d.opts.Publish(stream, l)
		ev := out.Events[i]
		d.audit(store.AuditEntry{TS: now, Actor: actor, Action: ev.Action, Target: ev.ID, Stream: stream, User: ev.User, Reason: ev.Reason, Rule: rule})
		d.opts.KPIs.human(stream, true)
		d.label(decided[i], ev.Action, ev.Reason, actor, now)
	}
	return out, nil
}

func hasRule(rules []string, rule string) bool {
	for _, r := range rules {
		if r == rule {
			return true
		}
	}
	return false
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

// Restore puts back the timeouts and bans kept before a restart (a
// timeout that has ended is skipped).
func (d *Desk) Restore(rs []store.Restriction) {
	now := d.now()
	d.rmu.Lock()
	defer d.rmu.Unlock()
	for _, r := range rs {
		if r.User == "" || (r.Until != 0 && r.Until <= now) {
			continue
		}
		key := restrictKey(r.Stream, r.User)
		if _, had := d.restricted[key]; !had {
			d.nRestricted.Add(1)
		}
		d.restricted[key] = restriction{until: r.Until, reason: r.Reason, stream: r.Stream, subject: r.User}
		if r.Stream != "" {
			d.opts.Restrictions.SetIn(r.Stream, r.User, r.Until)
		} else {
			d.opts.Restrictions.Set(r.User, r.Until)
		}
	}
}

// Restricted reports the user's running timeout (until, Unix ms) or ban
// (until 0) of every stream.
func (d *Desk) Restricted(user string) (until int64, reason string, ok bool) {
	r, ok := d.restriction(user)
	return r.until, r.reason, ok
}

// RestrictedIn reports the user's running timeout or ban of stream only
// (one given through UserIn).
func (d *Desk) RestrictedIn(stream, user string) (until int64, reason string, ok bool) {
	if stream == "" {
		return 0, "", false
	}
	r, ok := d.restriction(restrictKey(stream, user))
	return r.until, r.reason, ok
}

// UserMessage is one of a user's messages kept by the desk: the decision
// as published, the message's state and the event that last changed it.
type UserMessage struct {
	Decision json.RawMessage `json:"decision"`
	State    string          `json:"state"`
	Change   json.RawMessage `json:"change,omitempty"`
}

// UserMessages returns the user's messages among the recent ones of
// every stream, oldest first within a stream.
func (d *Desk) UserMessages(user string) []UserMessage {
	out := []UserMessage{}
	for i := range d.shards {
		sh := &d.shards[i]
		sh.mu.Lock()
		for _, r := range sh.streams {
			r.each(func(e *entry) {
				if e.user == user && e.lineLen != 0 {
					out = append(out, UserMessage{Decision: r.line(e), State: e.state, Change: e.change})
				}
			})
		}
		sh.mu.Unlock()
	}
	return out
}

// EraseUser forgets the user's recent messages in every stream and
// returns how many. A running timeout or ban stays (erasure must not let
// a banned raider back in) but loses its reason; the kept copy too.
func (d *Desk) EraseUser(user string) (int, error) {
	n := 0
	for i := range d.shards {
		sh := &d.shards[i]
		sh.mu.Lock()
		for _, r := range sh.streams {
			r.each(func(e *entry) {
				if e.user != user || e.lineLen == 0 {
					return
				}
				r.lines.wipe(e.lineAt, e.lineLen)
				*e = entry{lineAt: e.lineAt} // where its line was: the ring's bound
				n++
			})
		}
		sh.mu.Unlock()
	}
	var kept []restriction
	d.rmu.Lock()
	for key, r := range d.restricted {
		if r.subject == user || key == user {
			r.reason = ""
			d.restricted[key] = r
			kept = append(kept, r)
		}
	}
	d.rmu.Unlock()
	if d.opts.Keep != nil {
		for _, r := range kept {
			if err := d.opts.Keep.PutRestriction(store.Restriction{User: user, Stream: r.stream, Until: r.until, Actor: "erased", TS: d.now()}); err != nil {
				return n, fmt.Errorf("erase %q: keep restriction: %w", user, err)
			}
		}
	}
	return n, nil
}
