package stream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/livemod/livemod/chat"
	"github.com/prometheus/client_golang/prometheus"
)

// IngestOptions configure an Ingest. Every zero value means its documented
// default.
type IngestOptions struct {
	// Node is this node's id in a cluster; server-assigned message ids
	// carry it, so that they are unique across nodes. Empty on one node.
	Node string
	// MaxFrameBytes is the largest frame a client may send. A bigger one
	// closes the connection with a policy violation. Zero means 64 KiB.
	MaxFrameBytes int
	// MaxMessagesPerFrame caps the NDJSON lines in one frame. Zero means 1024.
	MaxMessagesPerFrame int
	// RatePerSecond is the sustained number of messages one connection may
	// send each second; Burst is how many it may send at once. A connection
	// over its cap is closed with a policy violation. Zero means 50,000/s
	// with a burst of twice that: ingest tokens belong to bridges and
	// connectors that carry a whole show's chat.
	RatePerSecond float64
	Burst         int
	// AckDelay is how long acks are gathered before one is written: one
	// ack then answers every frame decided meanwhile (or the first 8
	// frames, if sooner). While the client keeps sending frames (it does
	// not wait for the ack) gathering goes on until it has been quiet for
	// AckDelay, for at most 4 × AckDelay. Zero means 5ms; negative writes
	// an ack as soon as a frame is decided, for clients that wait for
	// each ack (with the default they get at most 200 acks a second).
	AckDelay time.Duration
	// OriginPatterns are extra origins allowed to open the websocket (the
	// request's own host always is). Empty means same origin only.
	OriginPatterns []string
	// Now returns the time used to fill in missing ts and to check the
	// ts given. Nil means time.Now.
	Now func() time.Time
	// IdleTimeout closes a connection that sends no frame for this long,
	// with a policy close and a reason (counted as reason "idle"). Zero
	// means 5 minutes; negative means never.
	IdleTimeout time.Duration
	// DedupWindow is how long the (stream, id) of a taken message is
	// remembered: a message seen again within it is acknowledged and not
	// decided again. Zero means DefaultDedupWindow; negative turns
	// deduplication off.
	DedupWindow time.Duration
	// DedupMaxIDs bounds the ids remembered (16 bytes each); past it the
	// window shortens. Zero means DefaultDedupMaxIDs.
	DedupMaxIDs int
}

// DefaultIngestIdleTimeout is IngestOptions.IdleTimeout's default: a
// bridge of a quiet show may send nothing for minutes, a connection held
// open by nobody should not stay for hours.
const DefaultIngestIdleTimeout = 5 * time.Minute

// Ingest serves GET /v1/ingest?stream=ID. Authorization is the caller's
// job (wrap the handler). Create it with NewIngest.
type Ingest struct {
	opts     IngestOptions
	pipeline *Pipeline
	metrics  *Metrics
	idPrefix string
	nextID   atomic.Uint64
	newID    func() string // serverID, made once: Admit passes it on
	seen     *dedup        // nil: no deduplication
	answers  atomic.Int64  // frames read and not yet answered, all connections
	httpRate httpBucket    // POST /v1/messages

	mu     sync.Mutex
	closed bool
	conns  map[*wsConn]struct{}
	wg     sync.WaitGroup
}

// NewIngest returns an Ingest that submits to p. metrics may be nil.
func NewIngest(p *Pipeline, opts IngestOptions, metrics *Metrics) *Ingest {
	if opts.MaxFrameBytes <= 0 {
		opts.MaxFrameBytes = 64 << 10
	}
	if opts.MaxMessagesPerFrame <= 0 {
		opts.MaxMessagesPerFrame = 1024
	}
	if opts.RatePerSecond <= 0 {
		opts.RatePerSecond = 50000
	}
	if opts.Burst <= 0 {
		opts.Burst = int(2 * opts.RatePerSecond)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AckDelay == 0 {
		opts.AckDelay = defaultAckDelay
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = DefaultIngestIdleTimeout
	}
	if opts.DedupWindow == 0 {
		opts.DedupWindow = DefaultDedupWindow
	}
	if opts.DedupMaxIDs <= 0 {
		opts.DedupMaxIDs = DefaultDedupMaxIDs
	}
	if metrics == nil {
		metrics = NewMetrics(nil)
	}
	in := &Ingest{
		opts:     opts,
		pipeline: p,
		metrics:  metrics,
		// Server-assigned ids are unique across restarts: the prefix is
		// the start time.
		idPrefix: "lm-" + nodePart(opts.Node) + strconv.FormatInt(time.Now().UnixMilli(), 36) + "-",
		conns:    map[*wsConn]struct{}{},
	}
	in.newID = in.serverID
	metrics.register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "livemod_ingest_pending_answers",
		Help: "Frames read and not yet answered (waiting for their decisions or the store's commit), over all connections; at most 4096 a connection.",
	}, func() float64 { return float64(in.answers.Load()) }))
	if opts.DedupWindow > 0 {
		in.seen = newDedup(opts.DedupWindow, opts.DedupMaxIDs)
		in.seen.onFull = metrics.DedupFull.Inc
		metrics.register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "livemod_ingest_dedup_ids",
			Help: "Message ids remembered to acknowledge a resent message without deciding it again (bounded by ingest.dedup_max_ids).",
		}, func() float64 { return float64(in.seen.size()) }))
	}
	in.httpRate.b = bucket{rate: opts.RatePerSecond, burst: float64(opts.Burst), tokens: float64(opts.Burst)}
	return in
}

// ackFrame and errorFrame are the frames ingest sends back (docs/WIRE.md).
type ackFrame struct {
	Type string `json:"type"`
	Upto string `json:"upto"`
	N    int    `json:"n"`
}

type errorFrame struct {
	Type  string `json:"type"`
	ID    string `json:"id,omitempty"`
	Line  int    `json:"line,omitempty"`
	Error string `json:"error"`
}

// ServeHTTP upgrades to a websocket and reads messages until the client
// leaves, abuses its limits, or the server shuts down.
func (in *Ingest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	streamID := r.URL.Query().Get("stream")
	if streamID == "" {
		http.Error(w, `{"error":"stream: missing; use /v1/ingest?stream=ID"}`, http.StatusBadRequest)
		return
	}
	if len(streamID) > chat.MaxIDBytes {
		http.Error(w, `{"error":"stream: too long"}`, http.StatusBadRequest)
		return
	}
	// Ingest frames are read by wsframe.go, not coder/websocket: the
	// handshake, close codes and limits are the same for the client.
	conn, err := upgradeIngest(w, r, in.opts.OriginPatterns, in.opts.MaxFrameBytes)
	if err != nil {
		return
	}
	if !in.track(conn) {
		conn.finish(nil, ws.StatusGoingAway, "server shutting down")
		return
	}
	defer in.untrack(conn)
	in.metrics.IngestConnections.Inc()
	defer in.metrics.IngestConnections.Dec()

	// Submitting gets a context that is never cancelled: the connection
	// ends when the client leaves or Close closes it.
	code, reason, err := in.serve(context.WithoutCancel(r.Context()), conn, streamID)
	conn.finish(err, code, reason)
}

func (in *Ingest) track(c *wsConn) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return false
	}
	in.conns[c] = struct{}{}
	in.wg.Add(1)
	return true
}

func (in *Ingest) untrack(c *wsConn) {
	in.mu.Lock()
	delete(in.conns, c)
	in.mu.Unlock()
	in.wg.Done()
}

// Close stops taking new connections, closes the open ones with "going
// away" and waits for their handlers to finish, or for ctx to end. Frames
// already read are submitted before a handler finishes.
func (in *Ingest) Close(ctx context.Context) error {
	in.mu.Lock()
	in.closed = true
	conns := make([]*wsConn, 0, len(in.conns))
	for c := range in.conns {
		conns = append(conns, c)
	}
	in.mu.Unlock()
	for _, c := range conns {
		go c.Close(ws.StatusGoingAway, "server shutting down")
	}
	done := make(chan struct{})
	go func() { in.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// bucket is a token bucket counted in messages.
type bucket struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func (b *bucket) take(n int, now time.Time) bool {
	if !b.last.IsZero() {
		b.tokens += now.Sub(b.last).Seconds() * b.rate
		if b.tokens > b.burst {
			b.tokens = b.burst
		}
	}
	b.last = now
	if float64(n) > b.tokens {
		return false
	}
	b.tokens -= float64(n)
	return true
}

var errOversize = errors.New("oversize")

// nodePart is the piece of a server id that names node ("" on one node).
func nodePart(node string) string {
	if node == "" {
		return ""
	}
	return node + "-"
}

func (in *Ingest) serve(ctx context.Context, conn *wsConn, streamID string) (ws.StatusCode, string, error) {
	var (
		errs   []byte
		msgs   []*chat.Message
		keys   []uint64
		one    *oneMessage
		limits = bucket{rate: in.opts.RatePerSecond, burst: float64(in.opts.Burst), tokens: float64(in.opts.Burst)}
		rep    = newReplier(conn, in.opts.AckDelay, in.pipeline.commit)
		idle   = in.watchIdle(conn)
	)
	rep.pending = &in.answers
	rep.lastFrame = &idle.last
	defer rep.close()
	defer idle.stop()
	// The client left, the server is closing, or the idle watchdog
	// closed it (and counted it): not an error, a normal closure.
	code, reason := ws.StatusNormalClosure, ""
	end := func(c ws.StatusCode, r string) bool {
		code, reason = c, r
		return false
	}
	// frame is the connection's read buffer, reused for the next frame.
	err := conn.run(func(typ ws.OpCode, frame []byte) bool {
		if !rep.ok() {
			if rep.timedOut() {
				in.metrics.IngestClosed.WithLabelValues("slow").Inc()
				return end(ws.StatusPolicyViolation, fmt.Sprintf("answers unread for %v: read the ack and error frames", replyWriteTimeout))
			}
			return end(ws.StatusNormalClosure, "")
		}
		now := time.Now()
		idle.saw(now)
		in.metrics.IngestFrames.Inc()
		in.metrics.IngestBytes.Add(float64(len(frame)))
		msgs, errs = msgs[:0], errs[:0]
		// What the frame costs of the rate: every line, good, bad or
		// blank (a frame of 30,000 newlines is 30,000 lines), and at
		// least one.
		lines := 1
		if typ != ws.OpText {
			errs = appendError(errs, "", 0, "frame: binary frames are not accepted; send JSON text")
		} else {
			var n int
			// A frame of one message (the common case: chat arrives
			// line by line) gets its message, the batch that carries it
			// and its receipt in one allocation instead of three.
			var first []chat.Message
			one = nil
			if frameLines(frame) == 1 {
				one = new(oneMessage)
				first = one.msg[:]
			}
			msgs, errs, n = in.parseFrameInto(frame, streamID, msgs, errs, first)
			if n == 0 {
				in.metrics.IngestRefused.WithLabelValues("empty").Inc()
				errs = appendError(errs, "", 0, "frame: empty; send one JSON message, or NDJSON lines")
			}
			lines = max(lines, n, bytes.Count(frame, []byte{'\n'}))
		}
		if !limits.take(lines, now) {
			in.metrics.IngestClosed.WithLabelValues("rate").Inc()
			return end(ws.StatusPolicyViolation, fmt.Sprintf("over %g messages/s (ingest.rate_per_second); refused and empty lines count too", in.opts.RatePerSecond))
		}
		// Resent messages are acknowledged with the frame, not decided.
		upto, n := "", len(msgs)
		if len(msgs) > 0 {
			upto = msgs[len(msgs)-1].ID
		}
		msgs, keys = in.dropSeen(msgs, keys[:0], now)
		if len(msgs) == 0 {
			if !rep.reply(errs, upto, n, nil) {
				in.metrics.IngestClosed.WithLabelValues("slow").Inc()
				return end(ws.StatusPolicyViolation, "too many answers waiting: read the ack and error frames")
			}
			return true
		}
		// The pipeline keeps the slice; hand it a copy and reuse ours.
		var batch []*chat.Message
		var rc *receipt
		if one != nil && len(msgs) == 1 && msgs[0] == &one.msg[0] {
			one.batch[0] = msgs[0]
			batch, rc = one.batch[:], &one.rc
		} else {
			batch = make([]*chat.Message, len(msgs))
			copy(batch, msgs)
			rc = new(receipt)
		}
		rc.rep = rep
		if err := in.pipeline.submit(ctx, batch, rc); err != nil {
			in.metrics.IngestRefused.WithLabelValues("closed").Add(float64(len(batch)))
			for _, k := range keys {
				in.seen.forget(k) // not taken: a resend must be decided
			}
			rep.reply(appendError(errs, batch[0].ID, 0, "server: shutting down; messages from this frame were not accepted, resend them"), "", 0, nil)
			return end(ws.StatusGoingAway, "server shutting down")
		}
		in.metrics.IngestMessages.Add(float64(len(batch)))
		if !rep.reply(errs, upto, n, rc) {
			in.metrics.IngestClosed.WithLabelValues("slow").Inc()
			return end(ws.StatusPolicyViolation, "too many answers waiting: read the ack and error frames")
		}
		return true
	})
	if errors.Is(err, errOversize) {
		in.metrics.IngestClosed.WithLabelValues("oversize").Inc()
		code, reason = ws.StatusPolicyViolation, fmt.Sprintf("frame over %d bytes (ingest.max_frame_bytes)", in.opts.MaxFrameBytes)
	}
	return code, reason, err
}

// dropSeen takes out of msgs (in place) the messages whose (stream, id)
// was taken within the window, counting them, and remembers the rest;
// keys gets the keys remembered.
func (in *Ingest) dropSeen(msgs []*chat.Message, keys []uint64, now time.Time) ([]*chat.Message, []uint64) {
	if in.seen == nil {
		return msgs, keys
	}
	out := msgs[:0]
	for _, m := range msgs {
		if strings.HasPrefix(m.ID, in.idPrefix) { // assigned here: new by construction
			out = append(out, m)
			continue
		}
		k := dedupKey(m.Stream, m.ID)
		if !in.seen.take(k, now) {
			in.metrics.IngestDuplicates.Inc()
			continue
		}
		keys = append(keys, k)
		out = append(out, m)
	}
	clear(msgs[len(out):])
	return out, keys
}

// idleWatch closes a connection that sends no frame for IdleTimeout.
type idleWatch struct {
	last  atomic.Int64 // Unix ns of the last frame
	timer *time.Timer
}

func (in *Ingest) watchIdle(conn *wsConn) *idleWatch {
	w := &idleWatch{}
	w.last.Store(time.Now().UnixNano())
	limit := in.opts.IdleTimeout
	if limit < 0 {
		return w
	}
	var check func()
	check = func() {
		since := time.Since(time.Unix(0, w.last.Load()))
		if since < limit {
			w.timer.Reset(limit - since)
			return
		}
		in.metrics.IngestClosed.WithLabelValues("idle").Inc()
		conn.Close(ws.StatusPolicyViolation, fmt.Sprintf("idle: no frame for %v (ingest.idle_timeout)", limit))
	}
	w.timer = time.AfterFunc(limit, check)
	return w
}

// saw records a frame: one atomic store, no timer touched.
func (w *idleWatch) saw(now time.Time) { w.last.Store(now.UnixNano()) }

func (w *idleWatch) stop() {
	if w.timer != nil {
		w.timer.Stop()
	}
}

// oneMessage is what a frame of one message needs, in one allocation:
// the message, the batch the pipeline gets, and the frame's receipt.
// It lives until the message is decided and the frame answered.
type oneMessage struct {
	rc    receipt
	batch [1]*chat.Message
	msg   [1]chat.Message
}

// frameLines is how many lines frame has, a final newline ending the
// last rather than starting another.
func frameLines(frame []byte) int {
	n := bytes.Count(frame, []byte{'\n'}) + 1
	if len(frame) > 0 && frame[len(frame)-1] == '\n' {
		n--
	}
	return n
}

// parseFrame splits a text frame into NDJSON lines, appending the valid
// messages to msgs and an error line for each refused one to errs.
// It returns how many non-blank lines the frame had.
func (in *Ingest) parseFrame(frame []byte, streamID string, msgs []*chat.Message, errs []byte) ([]*chat.Message, []byte, int) {
	return in.parseFrameInto(frame, streamID, msgs, errs, nil)
}

// parseFrameInto is parseFrame that decodes a frame of one line into
// first[0] (zero) when first is not empty.
func (in *Ingest) parseFrameInto(frame []byte, streamID string, msgs []*chat.Message, errs []byte, first []chat.Message) ([]*chat.Message, []byte, int) {
	// The frame's messages are decoded into one block, not one allocation
	// each; the block lives as long as the last of them is in the pipeline.
	block := first
	if n := frameLines(frame); n > 1 {
		block = make([]chat.Message, min(n, in.opts.MaxMessagesPerFrame))
	}
	line := 0
	for a := 0; a < len(frame); {
		b := len(frame)
		if i := bytes.IndexByte(frame[a:], '\n'); i >= 0 {
			b = a + i
		}
		l := bytes.TrimSpace(frame[a:b])
		a = b + 1
		if len(l) == 0 {
			continue
		}
		// A message's strings are pieces of one copy of its line (frame
		// is the connection's read buffer, reused for the next): one
		// allocation, where a general decoder makes one per string. Not
		// one copy of the whole frame: a user id kept for an hour (reply
		// caps, opt-outs, trending) would keep the frame's every message.
		sl := string(l)
		line++
		if line > in.opts.MaxMessagesPerFrame {
			in.metrics.IngestRefused.WithLabelValues("invalid").Inc()
			errs = appendError(errs, "", line, fmt.Sprintf("frame: more than %d messages (ingest.max_messages_per_frame); the rest was not read", in.opts.MaxMessagesPerFrame))
			break
		}
		var m *chat.Message
		var reason string
		if line <= len(block) {
			m, reason = in.parseInto(l, sl, streamID, &block[line-1])
		} else {
			m, reason = in.parseInto(l, sl, streamID, new(chat.Message))
		}
		if reason != "" {
			id, kind := "", "malformed"
			if m != nil {
				id, kind = m.ID, "invalid"
			}
			in.metrics.IngestRefused.WithLabelValues(kind).Inc()
			errs = appendError(errs, id, line, reason)
			continue
		}
		msgs = append(msgs, m)
	}
	return msgs, errs, line
}

// parse decodes and validates one line. On failure it returns the reason,
// and the message if it decoded (so the error frame can name its id).
func (in *Ingest) parse(line []byte, streamID string) (*chat.Message, string) {
	return in.parseInto(line, string(line), streamID, new(chat.Message))
}

// parseInto is parse into m, which must be zero; sline is line as a
// string the message's strings may be pieces of.
func (in *Ingest) parseInto(line []byte, sline, streamID string, m *chat.Message) (*chat.Message, string) {
	if err := chat.DecodeMessage(line, sline, m); err != nil {
		return nil, "json: " + jsonReason(err)
	}
	if err := in.Admit(m, streamID); err != nil {
		return m, err.Error()
	}
	return m, ""
}

func jsonReason(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return se.Error()
	case errors.As(err, &te):
		// Message's JSON names are its Go names lower-cased (User.ID → user.id).
		return fmt.Sprintf("field %s: want %s, got %s", strings.ToLower(te.Field), te.Type, te.Value)
	}
	return err.Error()
}

func appendAck(b []byte, upto string, n int) []byte {
	b = append(b, `{"type":"ack","upto":`...)
	b = chat.AppendJSONString(b, upto)
	b = append(b, `,"n":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, "}\n"...)
}

func appendError(b []byte, id string, line int, reason string) []byte {
	j, _ := json.Marshal(errorFrame{Type: "error", ID: id, Line: line, Error: reason})
	b = append(b, j...)
	return append(b, '\n')
}
