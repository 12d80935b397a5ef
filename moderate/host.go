package moderate

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
	"github.com/livemod/livemod/store"
	"github.com/livemod/livemod/stream"
	"github.com/livemod/livemod/trend"
)

// HostOptions configure a Host. Every zero value means its default.
type HostOptions struct {
	// Trending clusters the questions. Nil means a new one with default
	// options. When the classify engine already sets Decision.Question,
	// pass the engine's Trending so that both see the same clusters.
	Trending *trend.Trending
	// EngineObserves says the classify engine clusters the questions
	// itself (its Trending is the one above): the host then adds none. An
	// engine leaves out questions it must (a raid's copies, a restricted
	// user's), and the host must not put them back. Zero means the host
	// clusters the allowed questions it is given.
	EngineObserves bool
	// Publish sends one line to the overlay view of stream. Nil drops.
	Publish func(stream string, line []byte)
	// Audit records the host's actions. Nil records nothing.
	Audit Auditor
	// Now is the clock for decay between messages. Nil means time.Now.
	Now func() time.Time
	// Top is how many questions the overlay shows. Zero means 5.
	Top int
	// Interval is how often changed lists are published: the overlay
	// follows the chat within it without a line per question. Zero
	// means 200ms.
	Interval time.Duration
	// MaxAgentRequesters caps the distinct requesters counted per stream.
	// Zero means 100000.
	MaxAgentRequesters int
}

// maxHostStreams bounds the per-stream maps of a Host.
const maxHostStreams = 4096

// Overlay is the overlay view's line: the trending list of a stream.
type Overlay struct {
	Type          string                `json:"type"` // "trending"
	Stream        string                `json:"stream"`
	Questions     []trend.TrendQuestion `json:"questions"`
	Pinned        *trend.TrendQuestion  `json:"pinned"`
	AgentRequests int                   `json:"agent_requests"`
}

// Host keeps the trending questions and agent-request counts of every
// stream and publishes them to the overlay view. Create it with NewHost;
// Close stops its publisher.
type Host struct {
	opts HostOptions
	tr   *trend.Trending

	mu     sync.Mutex
	dirty  map[string]bool
	last   map[string][]byte          // last line published per stream
	agents map[string]map[string]bool // stream → users who asked for an agent

	amu     sync.RWMutex // held for reading while recording; Close takes it
	aclosed bool

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// NewHost starts the publisher goroutine.
func NewHost(opts HostOptions) *Host {
	if opts.Trending == nil {
		opts.Trending = trend.NewTrending(trend.TrendOptions{})
	}
	if opts.Publish == nil {
		opts.Publish = func(string, []byte) {}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Top <= 0 {
		opts.Top = 5
	}
	if opts.Interval <= 0 {
		opts.Interval = 200 * time.Millisecond
	}
	if opts.MaxAgentRequesters <= 0 {
		opts.MaxAgentRequesters = 100000
	}
	h := &Host{
		opts:   opts,
		tr:     opts.Trending,
		dirty:  map[string]bool{},
		last:   map[string][]byte{},
		agents: map[string]map[string]bool{},
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	go h.run()
	return h
}

// Trending returns the clusters the host works on.
func (h *Host) Trending() *trend.Trending { return h.tr }

// Decided feeds allowed questions to trending (unless the engine already
// did) and counts agent requests, and marks the stream's list changed
// (a pipeline does this through ForShard).
func (h *Host) Decided(d *chat.Decision, line []byte) {
	g := hostGather{h: h}
	g.Decided(d, line)
	g.Flush()
}

// ForShard implements stream.ShardSink: a pipeline shard notes the
// streams whose list changed, and the agent requests, itself, and hands
// them to the host once per run of decisions. Taking the host's lock for
// every question, as both shards did, made them wait for each other.
func (h *Host) ForShard(int) stream.FlushSink { return &hostGather{h: h} }

type hostGather struct {
	h      *Host
	dirty  []string // streams whose list changed, each once (most runs have one)
	agents []agentRequest
}

type agentRequest struct{ stream, user string }

func (g *hostGather) Decided(d *chat.Decision, _ []byte) {
	changed := false
	const unfit = chat.Labels(chat.LabelToxic | chat.LabelThreat | chat.LabelSpam | chat.LabelFlood | chat.LabelLink)
	switch {
	case d.Question != nil:
		changed = true
	case !g.h.opts.EngineObserves && d.Labels.Has(chat.LabelQuestion) && d.Action == chat.Allow && d.Labels&unfit == 0 && !d.Restricted():
		if id, _ := g.h.tr.Observe(d.Stream, d.User.ID, d.Text, classify.Normalize(d.Text), d.TS); id != "" {
			changed = true
		}
	case d.Action == chat.Hide && d.Labels.Has(chat.LabelFlood):
		changed = true // copypasta may have taken its earlier copies off the list
	}
	// A hidden message (a restricted user's among them) counts for
	// nothing on the overlay; its agent request waits for a moderator.
	agent := d.Labels.Has(chat.LabelAgentRequest) && d.Action != chat.Hide
	if !changed && !agent {
		return
	}
	if agent {
		g.agents = append(g.agents, agentRequest{d.Stream, d.User.ID})
	}
	if !slices.Contains(g.dirty, d.Stream) {
		g.dirty = append(g.dirty, d.Stream)
	}
}

func (g *hostGather) Flush() {
	if len(g.dirty) == 0 {
		return
	}
	h := g.h
	h.mu.Lock()
	for _, r := range g.agents {
		set := h.agents[r.stream]
		if set == nil {
			if len(h.agents) >= maxHostStreams {
				clear(h.agents) // a server with this many shows restarts its counts
			}
			set = map[string]bool{}
			h.agents[r.stream] = set
		}
		if len(set) < h.opts.MaxAgentRequesters {
			set[r.user] = true
		}
	}
	for _, s := range g.dirty {
		h.dirty[s] = true
	}
	h.mu.Unlock()
	clear(g.agents) // the strings go with the run
	clear(g.dirty)
	g.agents, g.dirty = g.agents[:0], g.dirty[:0]
}

func (h *Host) run() {
	defer close(h.done)
	t := time.NewTicker(h.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		h.mu.Lock()
		var streams []string
		for s := range h.dirty {
			streams = append(streams, s)
		}
		clear(h.dirty)
		h.mu.Unlock()
		for _, s := range streams {
			h.publish(s, false)
		}
	}
}

// publish sends the stream's list if it changed (or if force).
func (h *Host) publish(stream string, force bool) {
	line := h.Line(stream)
	h.mu.Lock()
	same := bytes.Equal(h.last[stream], line)
	if len(h.last) >= maxHostStreams {
		clear(h.last)
	}
	h.last[stream] = line
	h.mu.Unlock()
	if !same || force {
		h.opts.Publish(stream, line)
	}
}

// Hidden takes a message a person hid (id), or every question of a user
// who was timed out or banned (id empty; stream empty for every stream),
// off the trending lists, and a restricted user off the agent-request
// counts, and publishes the changed lists at once: the overlay never
// keeps showing what the audience may no longer see.
func (h *Host) Hidden(stream, user, id string) {
	changed := false
	if id != "" {
		changed = h.tr.Hide(stream, user, id)
	} else {
		changed = h.tr.RemoveUser(stream, user)
	}
	var streams []string
	h.mu.Lock()
	for s, set := range h.agents {
		if id == "" && (stream == "" || s == stream) && set[user] {
			delete(set, user)
			streams = append(streams, s)
		}
	}
	h.mu.Unlock()
	if changed {
		if stream != "" {
			streams = append(streams, stream)
		} else {
			h.mu.Lock()
			for s := range h.last {
				streams = append(streams, s)
			}
			h.mu.Unlock()
		}
	}
	slices.Sort(streams)
	for _, s := range slices.Compact(streams) {
		h.publish(s, false)
	}
}

// Shown puts a question a person showed again (unhide, approve, an
// overturned appeal) back on the trending list, if its decision says it
// was a question fit to show, and publishes the list.
func (h *Host) Shown(stream, user, id string, decision []byte) {
	var d struct {
		Text   string   `json:"text"`
		TS     int64    `json:"ts"`
		Labels []string `json:"labels"`
	}
	if json.Unmarshal(decision, &d) != nil || !slices.Contains(d.Labels, "question") {
		return
	}
	for _, l := range d.Labels {
		switch l {
		case "toxic", "threat", "spam", "flood", "link":
			return
		}
	}
	if cl, _ := h.tr.ObserveMessage(stream, user, id, d.Text, classify.Normalize(d.Text), 0, 0, d.TS); cl != "" {
		h.publish(stream, false)
	}
}

// EraseUser forgets user on the host's lists (a data erasure): trending
// questions shown in their words leave them, they no longer count as an
// asker or among the agent requests, and the changed lists go out at
// once, so no overlay keeps showing their words. It returns how many
// questions it changed.
func (h *Host) EraseUser(user string) int {
	streams, n := h.tr.EraseUser(user)
	h.mu.Lock()
	for s, set := range h.agents {
		if set[user] {
			delete(set, user)
			if !slices.Contains(streams, s) {
				streams = append(streams, s)
			}
		}
	}
	h.mu.Unlock()
	for _, s := range streams {
		h.publish(s, false)
	}
	return n
}

// List returns the stream's overlay state now.
func (h *Host) List(stream string) Overlay {
	snap := h.tr.Snapshot(stream, h.opts.Now().UnixMilli(), h.opts.Top)
	h.mu.Lock()
	n := len(h.agents[stream])
	h.mu.Unlock()
	return Overlay{Type: "trending", Stream: stream, Questions: snap.Questions, Pinned: snap.Pinned, AgentRequests: n}
}

// Line is List as an overlay line, the snapshot a new overlay gets.
func (h *Host) Line(stream string) []byte {
	o := h.List(stream)
	return mustJSON(&o)
}

// Act carries out the host's pin, answered or dismiss on cluster and
// publishes the new list at once. stream may be empty.
func (h *Host) Act(actor, stream, cluster, action string) (trend.TrendQuestion, error) {
	if stream == "" {
		var ok bool
		if stream, ok = h.tr.Stream(cluster); !ok {
			return trend.TrendQuestion{}, notFound("question %q: unknown or no longer trending", cluster)
		}
	}
	var (
		q   trend.TrendQuestion
		err error
	)
	switch action {
	case "pin":
		q, err = h.tr.Pin(stream, cluster)
	case "answered":
		q, err = h.tr.Answered(stream, cluster)
	case "dismiss":
		q, err = h.tr.Dismiss(stream, cluster)
	default:
		return q, chat.Invalid("action %s: want pin, answered or dismiss", action)
	}
	if err != nil {
		return q, notFound("question %q in stream %q: unknown or no longer trending", cluster, stream)
	}
	h.publish(stream, true)
	h.amu.RLock()
	if h.opts.Audit != nil && !h.aclosed {
		h.opts.Audit.Record(store.AuditEntry{TS: h.opts.Now().UnixMilli(), Actor: actor, Action: "question." + action,
			Target: cluster, Stream: stream, Reason: q.Text})
	}
	h.amu.RUnlock()
	return q, nil
}

// Close stops the publisher and recording to the audit log.
func (h *Host) Close(ctx context.Context) error {
	h.amu.Lock()
	h.aclosed = true
	h.amu.Unlock()
	h.once.Do(func() { close(h.stop) })
	select {
	case <-h.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
