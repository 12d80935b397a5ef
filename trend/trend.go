package trend

import (
	"cmp"
	"errors"
	"math"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
)

// Trending questions.
//
// A question is reduced to a set of terms: its words in the plain form,
// without question words and fillers, with plurals cut and with a small
// dictionary folding Hindi, Hinglish and English spellings of the same
// idea onto one term ("how much", "kitne ka", "कीमत" → #price; "neeli",
// "नीली" → blue). Two questions are the same question when their terms
// overlap enough (Jaccard ≥ MinSimilarity) and they do not ask about
// different things (#price vs #size). A cluster's score counts its
// distinct askers, each decaying with a half-life, so the list follows
// the conversation. Time comes from the messages: Trending has no clock.

// ErrNoCluster is returned by host actions on an unknown or evicted cluster.
var ErrNoCluster = errors.New("classify: no such question cluster")

// TrendOptions configure a Trending. Every zero value means its default.
type TrendOptions struct {
	// HalfLife is how long, in ms, until an asker counts half in a
	// cluster's score. Zero means 120000 (two minutes): a question asked
	// by ten people five minutes ago ranks below one asked by three now.
	HalfLife int64
	// MaxClusters caps the clusters kept per stream; the lowest-scoring
	// unpinned one is evicted for a new one. Zero means 256.
	MaxClusters int
	// MaxStreams caps the streams tracked; the one quiet longest is
	// dropped for a new one. Zero means 1024.
	MaxStreams int
	// MinSimilarity is the Jaccard overlap of terms above which two
	// questions are merged. Zero means 0.5.
	MinSimilarity float64
}

// Question states, as written in TrendQuestion.State.
const (
	QuestionOpen      = "open"
	QuestionPinned    = "pinned"
	QuestionAnswered  = "answered"
	QuestionDismissed = "dismissed"
)

// TrendQuestion is one cluster as shown to hosts.
type TrendQuestion struct {
	Cluster string  `json:"cluster"`
	Text    string  `json:"text"`
	Askers  int     `json:"askers"`
	Score   float64 `json:"score"`
	State   string  `json:"state"`
	First   int64   `json:"first"` // ts of the first ask, Unix ms
	Last    int64   `json:"last"`  // ts of the latest ask
}

// TrendSnapshot is the trending list of one stream at a time.
type TrendSnapshot struct {
	Questions []TrendQuestion `json:"questions"` // open clusters, best first
	Pinned    *TrendQuestion  `json:"pinned"`
}

// Limits that bound one cluster's memory.
const (
	maxTrackedAskers = 4096 // distinct askers remembered per cluster; counts saturate here
	maxQuestionRunes = 160  // representative text shown on the overlay
	maxTerms         = 24   // terms kept per question
	MaxMembers       = 8    // questions kept per cluster to choose the shown text from
	trendShards      = 16   // a power of two
	evictScore       = 0.05 // a cluster decayed below this (and unpinned) may be dropped
)

// Trending clusters the questions of many streams. It is safe for
// concurrent use; streams are sharded, one lock each.
type Trending struct {
	opts   TrendOptions
	shards [trendShards]trendShard
}

// trendShard's lock guards its streams and their clusters: held for
// reading, a cluster's askers, count and score may change only under the
// cluster's own lock (Observe); held for writing, nothing else runs.
type trendShard struct {
	mu      sync.RWMutex
	streams map[string]*streamTrend
	_       [64 - 24 - 8]byte // one cache line each: the shards' locks are not shared
}

type streamTrend struct {
	last     atomic.Int64 // newest ts seen
	clusters []*cluster
	pinned   *cluster
}

type cluster struct {
	id   string
	text string // the shown member's text; "" when no member can be shown
	// textClear is when text may be shown (see member.clear).
	textClear int64
	author    uint64   // hash of the user whose question text is shown
	members   []member // the newest askers' questions, at most maxMembers
	terms     []uint64 // sorted, distinct
	intents   []uint64 // the concept terms among them, sorted
	sig       uint64   // one bit per term, to reject quickly
	first     int64
	state     string

	mu      sync.Mutex        // see trendShard
	askers  map[uint64]uint64 // user hash → hash of the message they asked in (0 if unknown)
	n       int
	score   float64 // at scoreTS
	scoreTS int64
}

// NewTrending returns an empty Trending.
func NewTrending(opts TrendOptions) *Trending {
	if opts.HalfLife <= 0 {
		opts.HalfLife = 120000
	}
	if opts.MaxClusters <= 0 {
		opts.MaxClusters = 256
	}
	if opts.MaxStreams <= 0 {
		opts.MaxStreams = 1024
	}
	if opts.MinSimilarity <= 0 {
		opts.MinSimilarity = 0.5
	}
	t := &Trending{opts: opts}
	for i := range t.shards {
		t.shards[i].streams = map[string]*streamTrend{}
	}
	return t
}

func (t *Trending) shard(stream string) *trendShard {
	return &t.shards[xxhash.Sum64String(stream)&(trendShards-1)]
}

// Observe adds a question by user, sent at ts (Unix ms), to the trending
// clusters of stream, and returns its cluster and the cluster's distinct
// askers. text is the original (shown to hosts); plain is its plain form
// (classify.Normalize; empty joins nothing). Observe keeps no part of plain, only
// hashes of its words, so it may point into a buffer reused after the
// call. A question with no content words ("?", "kya?") joins no cluster
// and returns "", 0.
func (t *Trending) Observe(stream, user, text, plain string, ts int64) (string, int) {
	return t.ObserveMessage(stream, user, "", text, plain, 0, 0, ts)
}

// member is one asker's question kept on a cluster: the shown text is
// chosen among them, and a hidden message, a restricted user or a raid
// (by its text key) leaves with its member.
type member struct {
	user  uint64
	key   uint64 // hash of the normalized text (the dedup key), 0 if unknown
	id    string // message id
	text  string // clipped
	terms []uint64
	clear int64 // ts from which the text may be shown (a raid-like text waits)
}

// ObserveMessage is Observe for message id, whose normalized text hashes
// to key (Engine's dedup key; 0 if unknown): Hide, RemoveUser and Purge
// find it by them. hold (ms) keeps the text itself off the list for that
// long after ts: a long or shouted text may be the first copy of a raid,
// known only when more users paste it (the asker counts at once, and
// another asker's wording may be shown meanwhile).
func (t *Trending) ObserveMessage(stream, user, id, text, plain string, key uint64, hold, ts int64) (string, int) {
	var tb, ib [maxTerms]uint64 // a new cluster keeps copies
	terms, intents := questionTerms(plain, tb[:0], ib[:0])
	if len(terms) == 0 {
		return "", 0
	}
	sig := signature(terms)
	uh := xxhash.Sum64String(user)

	q := question{terms: terms, intents: intents, sig: sig}
	// id, text and key travel beside q, not in it: a string kept from q
	// would make its term arrays escape (two allocations a question).
	mem := memberOf{id: id, text: text, key: key, clear: ts + max(hold, 0)}
	if id != "" {
		mem.idHash = xxhash.Sum64String(id)
	}
	sh := t.shard(stream)
	// Most questions join a cluster that exists: found under the read
	// lock, counted under the cluster's own, so that the pipeline's shards
	// asking about one show do not queue for it.
	sh.mu.RLock()
	if st := sh.streams[stream]; st != nil {
		st.saw(ts)
		if c := t.best(st, &q); c != nil {
			id, n := c.ask(uh, &q, mem, ts, t.opts.HalfLife)
			sh.mu.RUnlock()
			return id, n
		}
	}
	sh.mu.RUnlock()

	sh.mu.Lock()
	defer sh.mu.Unlock()
	st := sh.streams[stream]
	if st == nil {
		if len(sh.streams) >= (t.opts.MaxStreams+trendShards-1)/trendShards {
			sh.dropQuietest()
		}
		st = &streamTrend{}
		sh.streams[stream] = st
	}
	st.saw(ts)
	best := t.best(st, &q) // a cluster made meanwhile
	if best == nil {
		best = t.newCluster(st, stream, text, uh, &q, ts)
	}
	return best.ask(uh, &q, mem, ts, t.opts.HalfLife)
}

// question is what Observe compares clusters with.
type question struct {
	terms, intents []uint64
	sig            uint64
}

// memberOf is what a new member keeps besides its terms.
type memberOf struct {
	id, text string
	key      uint64
	clear    int64
	idHash   uint64 // of id; 0 if id is empty
}

// best returns the cluster of st most like q, or nil. The shard's lock is
// held, for reading at least: a cluster's terms never change.
func (t *Trending) best(st *streamTrend, q *question) *cluster {
	var best *cluster
	bestSim := 0.0
	for _, c := range st.clusters {
		if c.sig&q.sig == 0 {
			continue
		}
		if len(c.intents) > 0 && len(q.intents) > 0 && !intersects(c.intents, q.intents) {
			continue // same thing, different question: price vs size
		}
		if s := jaccard(c.terms, q.terms); s >= t.opts.MinSimilarity && s > bestSim {
			best, bestSim = c, s
		}
	}
	return best
}

// saw moves the stream's newest time on to ts.
func (st *streamTrend) saw(ts int64) {
	for {
		last := st.last.Load()
		if ts <= last || st.last.CompareAndSwap(last, ts) {
			return
		}
	}
}

// ask counts user hash uh as an asker at ts and returns the cluster's id
// and askers. The shard's lock is held, for reading at least.
func (c *cluster) ask(uh uint64, q *question, mem memberOf, ts, halfLife int64) (string, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// A saturated cluster's count stands whoever asks: no lookup (a cache
	// miss in a map of thousands, for every question on a busy topic).
	if len(c.askers) >= maxTrackedAskers {
		return c.id, c.n
	}
	if _, ok := c.askers[uh]; !ok {
		c.askers[uh] = mem.idHash
		c.n++
		c.score = c.scoreAt(ts, halfLife) + 1
		if ts > c.scoreTS {
			c.scoreTS = ts
		}
		c.addMember(uh, q.terms, mem)
	}
	return c.id, c.n
}

// addMember keeps q as uh's question, dropping the oldest beyond
// maxMembers, and chooses the shown text again.
func (c *cluster) addMember(uh uint64, terms []uint64, mem memberOf) {
	if len(c.members) >= MaxMembers {
		c.members = slices.Delete(c.members, 0, 1)
	}
	// Copied, in one allocation: a decoded message's strings point into
	// the frame it came in, which a kept member would keep alive.
	text := clip(mem.text, maxQuestionRunes)
	both := mem.id + text
	c.members = append(c.members, member{user: uh, key: mem.key, id: both[:len(mem.id)], text: both[len(mem.id):],
		terms: append([]uint64(nil), terms...), clear: mem.clear})
	c.choose()
}

// choose shows the member whose question is most like the others' (the
// highest summed term overlap; the earliest on a tie): the cluster's
// common wording, so that what one asker added to it ("… you dumb
// cow?") is not what the host reads. With no member left the cluster
// shows nothing.
func (c *cluster) choose() {
	best := c.pick(math.MaxInt64)
	if best < 0 {
		c.text, c.author, c.textClear = "", 0, 0
		return
	}
	m := &c.members[best]
	c.text, c.author, c.textClear = m.text, m.user, m.clear
}

// pick returns the index of the member to show at ts among those that may
// be shown by then, or -1.
func (c *cluster) pick(ts int64) int {
	best, bestSum := -1, -1.0
	for i := range c.members {
		if c.members[i].clear > ts {
			continue
		}
		sum := 0.0
		for j := range c.members {
			if i != j {
				sum += jaccard(c.members[i].terms, c.members[j].terms)
			}
		}
		if sum > bestSum+1e-9 {
			best, bestSum = i, sum
		}
	}
	return best
}

// shown is the text the list shows at ts: the chosen member's, or while
// it waits (a raid-like text) the best of those that may be shown; ""
// hides the cluster.
func (c *cluster) shown(ts int64) string {
	if c.textClear <= ts {
		return c.text
	}
	if i := c.pick(ts); i >= 0 {
		return c.members[i].text
	}
	return ""
}

// drop removes the members for which gone is true, and their askers, and
// reports whether any left. The shard's lock is held exclusively.
func (c *cluster) drop(gone func(*member) bool, ts, halfLife int64) bool {
	k := 0
	left := false
	for _, m := range c.members {
		if gone(&m) {
			left = true
			if _, ok := c.askers[m.user]; ok {
				delete(c.askers, m.user)
				c.n--
				c.score = max(0, c.scoreAt(ts, halfLife)-1)
				if ts > c.scoreTS {
					c.scoreTS = ts
				}
			}
			continue
		}
		c.members[k] = m
		k++
	}
	clear(c.members[k:])
	c.members = c.members[:k]
	if left {
		c.choose()
	}
	return left
}

// Hide takes message id of user out of stream's trending questions: a
// moderator hid it. Its author leaves the askers, and if its text was
// shown another member's is chosen (or the question leaves the list
// until someone asks it again). It reports whether a list changed.
func (t *Trending) Hide(stream, user, id string) bool {
	uh, hid := xxhash.Sum64String(user), xxhash.Sum64String(id)
	return t.dropWhere(stream, func(m *member) bool { return m.id == id && m.user == uh }, func(c *cluster) bool {
		// An asker whose question is no longer among the members.
		if v, ok := c.askers[uh]; ok && v == hid && id != "" {
			delete(c.askers, uh)
			c.n--
			return true
		}
		return false
	})
}

// RemoveUser takes user out of the trending questions of stream (every
// stream if empty): a timeout or ban. They leave every count, and no
// question is shown in their words.
func (t *Trending) RemoveUser(stream, user string) bool {
	uh := xxhash.Sum64String(user)
	return t.dropWhere(stream, func(m *member) bool { return m.user == uh }, func(c *cluster) bool {
		if _, ok := c.askers[uh]; !ok {
			return false
		}
		delete(c.askers, uh)
		c.n--
		return true
	})
}

// Purge takes every question whose normalized text hashes to key out of
// stream's trending questions: the text turned out to be a raid's
// (copypasta). It reports whether a list changed.
func (t *Trending) Purge(stream string, key uint64) bool {
	if key == 0 {
		return false
	}
	sh := t.shard(stream)
	sh.mu.RLock()
	found := false
	if st := sh.streams[stream]; st != nil {
	look:
		for _, c := range st.clusters {
			c.mu.Lock()
			for i := range c.members {
				if c.members[i].key == key {
					found = true
					c.mu.Unlock()
					break look
				}
			}
			c.mu.Unlock()
		}
	}
	sh.mu.RUnlock()
	if !found {
		return false
	}
	return t.dropWhere(stream, func(m *member) bool { return m.key == key }, nil)
}

// dropWhere removes the members gone reports in stream's clusters (every
// stream's if empty); extra may uncount an asker not kept as a member.
// A cluster left with no member and no asker goes.
func (t *Trending) dropWhere(stream string, gone func(*member) bool, extra func(*cluster) bool) bool {
	changed := false
	for i := range t.shards {
		sh := &t.shards[i]
		if stream != "" && sh != t.shard(stream) {
			continue
		}
		sh.mu.Lock()
		for name, st := range sh.streams {
			if stream != "" && name != stream {
				continue
			}
			ts := st.last.Load()
			kept := st.clusters[:0]
			for _, c := range st.clusters {
				if c.drop(gone, ts, t.opts.HalfLife) {
					changed = true
				}
				if extra != nil && extra(c) {
					changed = true
				}
				if len(c.members) == 0 && c.n <= 0 {
					if st.pinned == c {
						st.pinned = nil
					}
					continue
				}
				kept = append(kept, c)
			}
			clear(st.clusters[len(kept):])
			st.clusters = kept
		}
		sh.mu.Unlock()
	}
	return changed
}

func (t *Trending) newCluster(st *streamTrend, stream, text string, author uint64, q *question, ts int64) *cluster {
	// Make room: drop clusters that have faded, then the weakest.
	if len(st.clusters) >= t.opts.MaxClusters {
		kept := st.clusters[:0]
		for _, c := range st.clusters {
			if c == st.pinned || c.scoreAt(st.last.Load(), t.opts.HalfLife) >= evictScore {
				kept = append(kept, c)
			}
		}
		clear(st.clusters[len(kept):])
		st.clusters = kept
	}
	if len(st.clusters) >= t.opts.MaxClusters {
		weakest := -1
		low := math.Inf(1)
		for i, c := range st.clusters {
			if c == st.pinned {
				continue
			}
			if s := c.scoreAt(st.last.Load(), t.opts.HalfLife); s < low {
				weakest, low = i, s
			}
		}
		if weakest >= 0 {
			st.clusters = slices.Delete(st.clusters, weakest, weakest+1)
		}
	}
	h := xxhash.New()
	h.WriteString(stream)
	h.Write([]byte{0})
	h.WriteString(text)
	h.Write([]byte{0})
	h.WriteString(strconv.FormatInt(ts, 10))
	id := "q-" + strconv.FormatUint(h.Sum64()>>16, 16)
	c := &cluster{
		id:      id,
		author:  author,
		terms:   append([]uint64(nil), q.terms...),
		intents: append([]uint64(nil), q.intents...),
		sig:     q.sig,
		askers:  make(map[uint64]uint64, 4),
		scoreTS: ts,
		first:   ts,
		state:   QuestionOpen,
	}
	st.clusters = append(st.clusters, c)
	return c
}

// UserQuestion is a trending question shown in a user's words, for the
// user's data export.
type UserQuestion struct {
	Stream string `json:"stream"`
	TrendQuestion
}

// UserQuestions returns the trending questions shown in user's words.
func (t *Trending) UserQuestions(user string) []UserQuestion {
	uh := xxhash.Sum64String(user)
	var out []UserQuestion
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.RLock()
		for name, st := range sh.streams {
			for _, c := range st.clusters {
				if c.author == uh {
					c.mu.Lock() // its count and score change under it
					out = append(out, UserQuestion{name, c.view(st.last.Load(), t.opts.HalfLife)})
					c.mu.Unlock()
				}
			}
		}
		sh.mu.RUnlock()
	}
	slices.SortFunc(out, func(a, b UserQuestion) int { return cmp.Compare(a.First, b.First) })
	return out
}

// EraseUser forgets user in every stream's trending questions (a data
// erasure): a question shown in their words leaves the list, pinned or
// not, and they no longer count among the askers of the others. A
// cluster full of askers (maxTrackedAskers) did not note later ones, so
// they stay in its count, which names nobody. It returns the streams
// whose lists changed and how many questions it removed or uncounted
// them from.
func (t *Trending) EraseUser(user string) (streams []string, questions int) {
	uh := xxhash.Sum64String(user)
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock() // exclusive: no ask runs meanwhile
		for name, st := range sh.streams {
			n := questions
			kept := st.clusters[:0]
			for _, c := range st.clusters {
				if c.author == uh {
					questions++
					if st.pinned == c {
						st.pinned = nil
					}
					continue
				}
				if _, ok := c.askers[uh]; ok {
					delete(c.askers, uh)
					c.n--
					questions++
				}
				c.drop(func(m *member) bool { return m.user == uh }, st.last.Load(), t.opts.HalfLife)
				kept = append(kept, c)
			}
			clear(st.clusters[len(kept):])
			st.clusters = kept
			if questions > n {
				streams = append(streams, name)
			}
		}
		sh.mu.Unlock()
	}
	return streams, questions
}

// dropQuietest forgets the stream of the shard that was quiet longest.
func (sh *trendShard) dropQuietest() {
	var victim string
	oldest := int64(math.MaxInt64)
	for name, st := range sh.streams {
		if st.last.Load() < oldest {
			victim, oldest = name, st.last.Load()
		}
	}
	delete(sh.streams, victim)
}

func (c *cluster) scoreAt(ts, halfLife int64) float64 {
	if ts <= c.scoreTS {
		return c.score
	}
	return c.score * math.Exp2(-float64(ts-c.scoreTS)/float64(halfLife))
}

func (c *cluster) view(ts, halfLife int64) TrendQuestion {
	return TrendQuestion{
		Cluster: c.id,
		Text:    c.text,
		Askers:  c.n,
		Score:   math.Round(c.scoreAt(ts, halfLife)*100) / 100,
		State:   c.state,
		First:   c.first,
		Last:    c.scoreTS,
	}
}

// Snapshot returns the n best open questions of stream at ts (Unix ms;
// the stream's newest message time if that is later) and the pinned one.
// n ≤ 0 means all.
func (t *Trending) Snapshot(stream string, ts int64, n int) TrendSnapshot {
	sh := t.shard(stream)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	out := TrendSnapshot{Questions: []TrendQuestion{}}
	st := sh.streams[stream]
	if st == nil {
		return out
	}
	if st.last.Load() > ts {
		ts = st.last.Load()
	}
	for _, c := range st.clusters {
		// A question with no member to show (all hidden, or a raid-like
		// text still waiting) is not on the list.
		if c.state != QuestionOpen || c.n <= 0 {
			continue
		}
		if text := c.shown(ts); text != "" {
			v := c.view(ts, t.opts.HalfLife)
			v.Text = text
			out.Questions = append(out.Questions, v)
		}
	}
	sort.SliceStable(out.Questions, func(i, j int) bool {
		a, b := out.Questions[i], out.Questions[j]
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		return a.Askers > b.Askers
	})
	if n > 0 && len(out.Questions) > n {
		out.Questions = out.Questions[:n]
	}
	if st.pinned != nil {
		if text := st.pinned.shown(ts); text != "" {
			v := st.pinned.view(ts, t.opts.HalfLife)
			v.Text = text
			out.Pinned = &v
		}
	}
	return out
}

// Stream returns the stream that cluster belongs to.
func (t *Trending) Stream(cluster string) (string, bool) {
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for name, st := range sh.streams {
			for _, c := range st.clusters {
				if c.id == cluster {
					sh.mu.Unlock()
					return name, true
				}
			}
		}
		sh.mu.Unlock()
	}
	return "", false
}

// Pin makes cluster the pinned question of stream, unpinning any other.
func (t *Trending) Pin(stream, cluster string) (TrendQuestion, error) {
	return t.act(stream, cluster, QuestionPinned)
}

// Answered marks cluster answered: it leaves the list (and the pin).
func (t *Trending) Answered(stream, cluster string) (TrendQuestion, error) {
	return t.act(stream, cluster, QuestionAnswered)
}

// Dismiss hides cluster from the list (and the pin); later askers still
// join it, so it does not come back under another id.
func (t *Trending) Dismiss(stream, cluster string) (TrendQuestion, error) {
	return t.act(stream, cluster, QuestionDismissed)
}

func (t *Trending) act(stream, id, state string) (TrendQuestion, error) {
	sh := t.shard(stream)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	st := sh.streams[stream]
	if st == nil {
		return TrendQuestion{}, ErrNoCluster
	}
	var c *cluster
	for _, x := range st.clusters {
		if x.id == id {
			c = x
			break
		}
	}
	if c == nil {
		return TrendQuestion{}, ErrNoCluster
	}
	if st.pinned != nil && st.pinned != c && state == QuestionPinned {
		st.pinned.state = QuestionOpen
	}
	switch {
	case state == QuestionPinned:
		st.pinned = c
	case st.pinned == c:
		st.pinned = nil
	}
	c.state = state
	return c.view(st.last.Load(), t.opts.HalfLife), nil
}
