package moderate

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/store"
	"github.com/livemod/livemod/stream"
)

// KPIs counts, per stream, what GET /v1/kpis reports. It is a stream.Sink
// (put it before the Desk among the sinks, so that an automatic hide is
// counted before anyone can undo it); the Desk tells it about human
// actions and undos, the automation about replies, and ticket times come
// from the handoff store when a report is made. The counters are also
// kept per minute in the store (store.KPIMinutes, which counts the same
// decisions, replies and human actions through KPIOptions.Keep), and
// Restore puts them back at start: a restart loses no KPI, only the
// counts of the last few seconds before a crash (docs/ARCHITECTURE.md).
// Goroutine-safe; Decided takes no lock.
//
// Definitions (README, REST section):
//   - first response: a ticket's claim time minus its creation time (the
//     message that opened it), over the stream's claimed tickets; median
//     and 90th percentile (nearest rank), in ms.
//   - resolution rate: resolved tickets / tickets opened, of the stream.
//   - auto replies: automated replies sent in the stream (an approved
//     draft counts when it is sent).
//   - false-positive rate: automatic hides and holds that a person later
//     undid (approve or unhide of a message still hidden or held by a
//     rule, or undo by rule) / automatic hides and holds.
//   - meaningful comment rate: meaningful messages / messages. A message
//     is meaningful when it is shown (allow) and carries none of spam,
//     flood, link, toxic, threat or optout and is not a repeat
//     (dup.count ≤ 1), or when it asks for something (question,
//     purchase_intent, support, agent_request) and was not auto-hidden.
//   - messages per second: messages decided in the last 60 s / 60.
//   - decisions per second: moderation decisions in the last 60 s / 60:
//     automatic hides and holds plus human actions (hide, approve,
//     unhide, timeout, ban, unban, each message of an undo by rule).
type KPIs struct {
	opts    KPIOptions
	started int64

	streams sync.Map // stream → *kpiStream
	n       atomic.Int32
	evictMu sync.Mutex
}

// KPIOptions configure KPIs. Every zero value means its default.
type KPIOptions struct {
	// Tickets lists a stream's handoff tickets for the ticket KPIs. Nil
	// means there are none.
	Tickets func(stream string) []*chat.Ticket
	// Now is the clock of the per-second rates. Nil means time.Now.
	Now func() time.Time
	// MaxStreams caps the streams counted; the quietest is dropped for a
	// new one. Zero means 4096.
	MaxStreams int
	// Keep records human actions per minute in the store (the pipeline's
	// decisions and the replies reach it directly). Nil keeps nothing.
	Keep KPIKeeper
}

// KPIKeeper keeps what KPIs counts of human actions (store.KPIMinutes).
type KPIKeeper interface {
	Human(stream string, ts int64, undo bool)
}

// kpiWindow is the rate window, in one-second buckets.
const kpiWindow = 60

type kpiStream struct {
	messages, meaningful atomic.Int64
	autoHidden, undone   atomic.Int64
	replies              atomic.Int64
	touch                atomic.Int64 // Unix s of the last count
	// Each bucket packs the Unix second it counts (high 32 bits) and the
	// count (low 32), so that a bucket is reused without a lock.
	msgSec, decSec [kpiWindow]atomic.Uint64
	// Messages and negative messages per minute (the mood line), each
	// bucket packed as above with the Unix minute.
	msgMin, negMin [moodMinutes]atomic.Uint64
	negative       atomic.Int64
	since          atomic.Int64 // Unix ms of the first minute restored, 0 if none
}

// moodMinutes is how many minutes the mood line reaches back.
const moodMinutes = 60

// NewKPIs returns empty counters.
func NewKPIs(opts KPIOptions) *KPIs {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxStreams <= 0 {
		opts.MaxStreams = 4096
	}
	return &KPIs{opts: opts, started: opts.Now().UnixMilli()}
}

func (k *KPIs) stream(name string) *kpiStream {
	if v, ok := k.streams.Load(name); ok {
		return v.(*kpiStream)
	}
	if int(k.n.Load()) >= k.opts.MaxStreams {
		k.evict()
	}
	v, loaded := k.streams.LoadOrStore(name, &kpiStream{})
	if !loaded {
		k.n.Add(1)
	}
	return v.(*kpiStream)
}

func (k *KPIs) evict() {
	k.evictMu.Lock()
	defer k.evictMu.Unlock()
	for int(k.n.Load()) >= k.opts.MaxStreams {
		var victim any
		oldest := int64(1<<63 - 1)
		k.streams.Range(func(key, v any) bool {
			if t := v.(*kpiStream).touch.Load(); t < oldest {
				victim, oldest = key, t
			}
			return true
		})
		if victim == nil {
			return
		}
		if _, ok := k.streams.LoadAndDelete(victim); ok {
			k.n.Add(-1)
		}
	}
}

func bump(buckets *[kpiWindow]atomic.Uint64, sec int64) { bumpN(buckets, sec, 1) }

// bumpN adds n to the bucket of second sec.
func bumpN(buckets *[kpiWindow]atomic.Uint64, sec int64, n uint64) {
	b := &buckets[sec%kpiWindow]
	for {
		old := b.Load()
		next := uint64(sec)<<32 | n
		if old>>32 == uint64(sec) {
			next = old + n
		}
		if b.CompareAndSwap(old, next) {
			return
		}
	}
}

// bumpMinute adds n to the bucket of Unix minute min.
func bumpMinute(buckets *[moodMinutes]atomic.Uint64, min int64, n uint64) {
	b := &buckets[min%moodMinutes]
	for {
		old := b.Load()
		next := uint64(min)<<32 | n
		if old>>32 == uint64(min) {
			next = old + n
		}
		if b.CompareAndSwap(old, next) {
			return
		}
	}
}

// minuteCount is bucket's count for Unix minute min (0 if it holds another).
func minuteCount(buckets *[moodMinutes]atomic.Uint64, min int64) uint64 {
	v := buckets[min%moodMinutes].Load()
	if int64(v>>32) != min {
		return 0
	}
	return v & (1<<32 - 1)
}

// perSecond is the mean rate over the window that ends at sec.
func perSecond(buckets *[kpiWindow]atomic.Uint64, sec int64) float64 {
	var sum uint64
	for i := range buckets {
		v := buckets[i].Load()
		if s := int64(v >> 32); s > sec-kpiWindow && s <= sec {
			sum += v & (1<<32 - 1)
		}
	}
	return float64(sum) / kpiWindow
}

const (
	lowValue  = chat.Labels(chat.LabelSpam | chat.LabelFlood | chat.LabelLink | chat.LabelToxic | chat.LabelThreat | chat.LabelOptout)
	askingFor = chat.Labels(chat.LabelQuestion | chat.LabelPurchaseIntent | chat.LabelSupport | chat.LabelAgentRequest)
)

// Meaningful reports whether a decision is a meaningful comment (see KPIs).
func Meaningful(d *chat.Decision) bool {
	if d.Action == chat.Allow && d.Labels&lowValue == 0 && d.Dup.Count <= 1 {
		return true
	}
	return d.Labels&askingFor != 0 && d.Action != chat.Hide
}

// Decided counts one decision (a pipeline counts through ForShard).
func (k *KPIs) Decided(d *chat.Decision, line []byte) {
	g := kpiGather{k: k}
	g.Decided(d, line)
	g.Flush()
}

// ForShard implements stream.ShardSink: a pipeline shard counts its
// decisions itself and adds them to the shared counters when it flushes,
// once per run of decisions instead of once per decision, which the shards
// would take turns doing on the same cache lines.
func (k *KPIs) ForShard(int) stream.FlushSink { return &kpiGather{k: k} }

type kpiGather struct {
	k      *KPIs
	stream string
	s      *kpiStream // nil: nothing counted since the last flush
	sec    int64      // Unix s when counting began
	// The counts since then.
	messages, meaningful, autoHidden, negative uint64
}

func (g *kpiGather) Decided(d *chat.Decision, _ []byte) {
	if g.s == nil || d.Stream != g.stream {
		g.Flush()
		g.stream, g.s, g.sec = d.Stream, g.k.stream(d.Stream), g.k.opts.Now().Unix()
	}
	g.messages++
	if Meaningful(d) {
		g.meaningful++
	}
	if d.Action != chat.Allow {
		g.autoHidden++
	}
	if d.Labels.Has(chat.LabelNegative) {
		g.negative++
	}
}

func (g *kpiGather) Flush() {
	s := g.s
	if s == nil {
		return
	}
	if s.touch.Load() != g.sec { // most flushes: no write to a line both shards share
		s.touch.Store(g.sec)
	}
	s.messages.Add(int64(g.messages))
	bumpN(&s.msgSec, g.sec, g.messages)
	if g.meaningful > 0 {
		s.meaningful.Add(int64(g.meaningful))
	}
	if g.autoHidden > 0 {
		s.autoHidden.Add(int64(g.autoHidden))
		bumpN(&s.decSec, g.sec, g.autoHidden)
	}
	minute := g.sec / 60
	bumpMinute(&s.msgMin, minute, g.messages)
	if g.negative > 0 {
		s.negative.Add(int64(g.negative))
		bumpMinute(&s.negMin, minute, g.negative)
	}
	*g = kpiGather{k: g.k}
}

// Replied counts an automated reply sent in stream.
func (k *KPIs) Replied(stream string) {
	if k == nil {
		return
	}
	k.stream(stream).replies.Add(1)
}

// autoHidden counts an automatic hide the pipeline did not decide (a
// message of a banned user).
func (k *KPIs) autoHidden(stream string) {
	if k == nil {
		return
	}
	s := k.stream(stream)
	s.autoHidden.Add(1)
	bump(&s.decSec, k.opts.Now().Unix())
}

// human counts a person's action in stream (all streams' counts are not
// kept when stream is empty); undo says it undid an automatic hide.
func (k *KPIs) human(stream string, undo bool) {
	if k == nil || stream == "" {
		return
	}
	s := k.stream(stream)
	now := k.opts.Now()
	bump(&s.decSec, now.Unix())
	if undo {
		s.undone.Add(1)
	}
	if k.opts.Keep != nil {
		k.opts.Keep.Human(stream, now.UnixMilli(), undo)
	}
}

// Restore puts back stream's counters from the minutes kept in the store
// (store.KPIMinutes.History): the totals from all of them, the mood line
// from the last hour's, and the rates from the minutes that end within
// the last 60 s (their counts are put at the minute's last second, or
// now). Call it before the pipeline runs.
func (k *KPIs) Restore(stream string, h *store.KPIHistory) {
	if h == nil {
		return
	}
	s := k.stream(stream)
	t := h.Total
	s.messages.Add(int64(t.Messages))
	s.meaningful.Add(int64(t.Meaningful))
	s.autoHidden.Add(int64(t.Hidden + t.Held))
	s.undone.Add(int64(t.Undone))
	s.replies.Add(int64(t.Replies))
	s.negative.Add(int64(t.Negative))
	if t.Minute > 0 && (s.since.Load() == 0 || t.Minute < s.since.Load()) {
		s.since.Store(t.Minute)
	}
	sec := k.opts.Now().Unix()
	for _, m := range h.Recent {
		minute := m.Minute / 60_000
		if minute > sec/60-moodMinutes && minute <= sec/60 {
			bumpMinute(&s.msgMin, minute, uint64(m.Messages))
			if m.Negative > 0 {
				bumpMinute(&s.negMin, minute, uint64(m.Negative))
			}
		}
		at := min(m.Minute/1000+59, sec)
		if at > sec-kpiWindow {
			bumpN(&s.msgSec, at, uint64(m.Messages))
			bumpN(&s.decSec, at, uint64(m.Hidden+m.Held+m.Actions))
		}
		if last := m.Minute / 1000; last > s.touch.Load() {
			s.touch.Store(min(last, sec))
		}
	}
}

// Ratio is n of some total, with their quotient; Rate is null when the
// total is zero.
type Ratio struct {
	Rate *float64 `json:"rate"`
	N    int64    `json:"n"`
	Of   int64    `json:"of"`
}

func ratio(n, of int64) Ratio {
	r := Ratio{N: n, Of: of}
	if of > 0 {
		v := float64(n) / float64(of)
		r.Rate = &v
	}
	return r
}

// Latency is a distribution of durations in ms; Median and P90 are null
// without samples.
type Latency struct {
	Median *int64 `json:"median"`
	P90    *int64 `json:"p90"`
	N      int    `json:"n"`
}

// nearestRank is the p-th percentile of sorted xs.
func nearestRank(xs []int64, p float64) *int64 {
	if len(xs) == 0 {
		return nil
	}
	i := int(p*float64(len(xs))+0.999999) - 1
	i = max(0, min(i, len(xs)-1))
	v := xs[i]
	return &v
}

// Report is the answer of GET /v1/kpis.
type Report struct {
	Stream string `json:"stream"`
	// Since is when counting began, Unix ms: the first minute kept in the
	// store, or the process's start.
	Since              int64   `json:"since"`
	FirstResponseMS    Latency `json:"first_response_ms"`
	ResolutionRate     Ratio   `json:"resolution_rate"`
	AutoReplies        int64   `json:"auto_replies"`
	FalsePositiveRate  Ratio   `json:"false_positive_rate"`
	MeaningfulRate     Ratio   `json:"meaningful_comment_rate"`
	MessagesPerSecond  float64 `json:"messages_per_second"`
	DecisionsPerSecond float64 `json:"decisions_per_second"`
	// CSAT is the mean rating (1–5) users gave resolved tickets.
	CSAT CSAT `json:"csat"`
	// Conversion: tickets an agent marked converted / resolved tickets,
	// and the order value of the converted ones.
	Conversion Conversion `json:"conversion"`
	// NegativeRate is negative messages / messages since counting began;
	// Mood is the share of negative messages per minute, oldest first,
	// over the last hour (minutes without messages are left out).
	NegativeRate Ratio       `json:"negative_rate"`
	Mood         []MoodPoint `json:"mood"`
}

// CSAT is the satisfaction score: the mean of the ratings, null without any.
type CSAT struct {
	Mean  *float64 `json:"mean"`
	Count int      `json:"count"`
}

// Conversion counts the sales agents closed.
type Conversion struct {
	Rate  *float64 `json:"rate"`
	N     int64    `json:"n"`
	Of    int64    `json:"of"`
	Value float64  `json:"value"`
}

// MoodPoint is one minute of the mood line.
type MoodPoint struct {
	Minute   int64   `json:"minute"` // Unix ms of the minute's start
	Messages int64   `json:"messages"`
	Negative int64   `json:"negative"`
	Share    float64 `json:"share"`
}

// Report computes the KPIs of stream.
func (k *KPIs) Report(stream string) Report {
	rep := Report{Stream: stream, Since: k.started}
	if v, ok := k.streams.Load(stream); ok {
		s := v.(*kpiStream)
		if first := s.since.Load(); first > 0 && first < rep.Since {
			rep.Since = first
		}
		sec := k.opts.Now().Unix()
		rep.AutoReplies = s.replies.Load()
		rep.FalsePositiveRate = ratio(s.undone.Load(), s.autoHidden.Load())
		rep.MeaningfulRate = ratio(s.meaningful.Load(), s.messages.Load())
		rep.MessagesPerSecond = perSecond(&s.msgSec, sec)
		rep.DecisionsPerSecond = perSecond(&s.decSec, sec)
		rep.NegativeRate = ratio(s.negative.Load(), s.messages.Load())
		now := sec / 60
		for m := now - moodMinutes + 1; m <= now; m++ {
			n := minuteCount(&s.msgMin, m)
			if n == 0 {
				continue
			}
			neg := minuteCount(&s.negMin, m)
			rep.Mood = append(rep.Mood, MoodPoint{Minute: m * 60_000, Messages: int64(n), Negative: int64(neg), Share: float64(neg) / float64(n)})
		}
	} else {
		rep.FalsePositiveRate, rep.MeaningfulRate, rep.NegativeRate = ratio(0, 0), ratio(0, 0), ratio(0, 0)
	}
	if rep.Mood == nil {
		rep.Mood = []MoodPoint{}
	}
	var waits []int64
	var opened, resolved, converted, closed int64
	var ratings, rated int
	var value float64
	if k.opts.Tickets != nil {
		for _, t := range k.opts.Tickets(stream) {
			opened++
			if t.State == chat.TicketResolved {
				resolved++
			}
			o := t.GetOutcome()
			if o.Rating > 0 {
				ratings += o.Rating
				rated++
			}
			if o.Converted {
				converted++
				value += o.OrderValue
			}
			if t.State == chat.TicketResolved || o.Converted {
				closed++ // a ticket marked converted before it is resolved counts too
			}
			if t.ClaimedAt != 0 {
				waits = append(waits, max(0, t.ClaimedAt-t.Created))
			}
		}
	}
	sort.Slice(waits, func(i, j int) bool { return waits[i] < waits[j] })
	rep.FirstResponseMS = Latency{Median: nearestRank(waits, 0.5), P90: nearestRank(waits, 0.9), N: len(waits)}
	rep.ResolutionRate = ratio(resolved, opened)
	rep.CSAT.Count = rated
	if rated > 0 {
		m := float64(ratings) / float64(rated)
		rep.CSAT.Mean = &m
	}
	c := ratio(converted, closed)
	rep.Conversion = Conversion{Rate: c.Rate, N: c.N, Of: c.Of, Value: value}
	return rep
}
