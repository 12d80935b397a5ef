package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/gobwas/ws"
)

// Options configure Run. Every zero value means its documented default.
type Options struct {
	// URL is the server's base, ws://host:port. Zero means
	// ws://127.0.0.1:8080.
	URL string
	// SubURL is the base the subscribers connect to; zero means URL. With
	// two nodes of a cluster, load goes to one and decisions are watched
	// on the other (docs/SCALING.md).
	SubURL string
	// Token is sent as "Authorization: Bearer TOKEN" on every socket. It
	// needs the ingest role, and the moderator role too when Subscribe is
	// set (an admin token has both). Empty sends no header.
	Token string
	// Stream is the stream to load. Zero means "bench".
	Stream string
	// Conns is the number of ingest connections. Zero means 16.
	Conns int
	// Rate is the total messages a second over all connections, sent on a
	// fixed schedule whatever the server does (open loop). Zero means as
	// fast as the server takes them: each connection keeps at most
	// closedLoopWindow frames unacked (closed loop).
	Rate float64
	// Duration is how long messages are sent. Zero means 10s.
	Duration time.Duration
	// Batch is the number of messages in one frame, as NDJSON lines. Zero
	// means 1.
	Batch int
	// Subscribe opens a moderator subscription and measures latency from
	// the intended send time to the decision. Off, latency is measured to
	// the ack and Decided stays 0.
	Subscribe bool
	// Subs is the number of moderator subscriptions when Subscribe is set:
	// the first measures latency; every one must receive every decision
	// (Report.SubsDecided). Zero means 1.
	Subs int
	// Users is the size of the audience over all connections, each
	// connection's viewers distinct. Zero means DefaultUsersPerConn a
	// connection.
	Users int
	// Mix is the kind of audience (see Mix). Zero means MixHard.
	Mix Mix
	// Window is the length of one window of the report's Windows. Zero
	// means DefaultWindow.
	Window time.Duration
	// Progress receives one line a second while the run lasts. Nil means
	// no progress.
	Progress io.Writer
	// Seed picks the chat; each connection derives its own from it.
	Seed int64
	// Drain is how long to wait after the send phase for outstanding acks
	// and decisions. Zero means 5s.
	Drain time.Duration
}

// Defaults of Options.
const (
	DefaultURL      = "ws://127.0.0.1:8080"
	DefaultStream   = "bench"
	DefaultConns    = 16
	DefaultDuration = 10 * time.Second
	DefaultDrain    = 5 * time.Second
	DefaultWindow   = 10 * time.Second
	// DefaultUsersPerConn viewers a connection: 80,000 with the default
	// 16 connections, a very big show, each chatting every few seconds at
	// 70,000 msgs/s.
	DefaultUsersPerConn = 5000
)

// closedLoopWindow is how many frames a connection may have unacked when
// Rate is zero: enough to keep a server's shards busy across a network
// round trip, few enough that the latency measured is the server's and not
// that of a queue bench built itself.
const closedLoopWindow = 32

// maxFrameBytes bounds what bench reads in one websocket message: the
// server coalesces decisions into frames of tens of KiB; this leaves room.
const maxFrameBytes = 16 << 20

// ErrNoConnections is returned when not one ingest connection could be
// opened.
var ErrNoConnections = errors.New("bench: no ingest connection")

// Run loads the server as opts say and reports what it saw. If ctx ends
// early, Run stops sending, skips the drain and reports what it saw so
// far. It returns an error only when the run could not start: a bad option,
// or a server that refused a connection.
func Run(ctx context.Context, opts Options) (*Report, error) {
	opts = withDefaults(opts)
	if err := opts.validate(); err != nil {
		return nil, err
	}
	r := &run{opts: opts}
	r.prefix = "b" + strconv.FormatUint(uint64(rand.Uint32()), 36) + "-"
	ingestURL, err := endpointURL(opts.URL, "/v1/ingest", opts.Stream, "")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}

	// Every socket is open before the clock starts: the handshakes are not
	// the server's steady state.
	if opts.Subscribe {
		subBase := opts.SubURL
		if subBase == "" {
			subBase = opts.URL
		}
		subURL, err := endpointURL(subBase, "/v1/subscribe", opts.Stream, "moderator")
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		for range opts.Subs {
			c, err := dial(ctx, subURL, opts.Token, "subscribe", "moderator")
			if err != nil {
				return nil, err
			}
			defer c.CloseNow()
			r.subs = append(r.subs, &subscriber{conn: c})
		}
		r.sub = r.subs[0].conn
	}
	r.senders = make([]*sender, opts.Conns)
	dialErrs := make([]error, opts.Conns)
	var wg sync.WaitGroup
	for i := range r.senders {
		s := &sender{run: r, idx: i, wake: make(chan struct{}, 1)}
		s.prefix = r.prefix + strconv.Itoa(i) + "-"
		r.senders[i] = s
		wg.Go(func() {
			s.conn, dialErrs[i] = dialIngest(ctx, ingestURL, opts.Token)
		})
		// The audience is made before the clock starts: a million
		// viewers' names took the first second of the run, and frames
		// went out up to 240 ms late (send lag, counted in the latency).
		wg.Go(func() {
			s.aud = NewAudience(AudienceOptions{
				Seed:       opts.Seed*1_000_003 + int64(i),
				Stream:     opts.Stream,
				Users:      opts.connUsers(i),
				UserPrefix: strconv.Itoa(i) + "-",
				Mix:        opts.Mix,
			})
		})
	}
	wg.Wait()
	defer func() {
		for _, s := range r.senders {
			if s.conn != nil {
				s.conn.closeNow()
			}
		}
	}()
	if err := errors.Join(dialErrs...); err != nil {
		if dialErrs[0] != nil {
			return nil, dialErrs[0] // they all say the same, mostly
		}
		return nil, fmt.Errorf("%w: %w", ErrNoConnections, err)
	}

	return r.measure(ctx), nil
}

func withDefaults(o Options) Options {
	if o.URL == "" {
		o.URL = DefaultURL
	}
	if o.Stream == "" {
		o.Stream = DefaultStream
	}
	if o.Conns == 0 {
		o.Conns = DefaultConns
	}
	if o.Duration == 0 {
		o.Duration = DefaultDuration
	}
	if o.Batch == 0 {
		o.Batch = 1
	}
	if o.Drain == 0 {
		o.Drain = DefaultDrain
	}
	if o.Subs == 0 {
		o.Subs = 1
	}
	if o.Users == 0 {
		o.Users = DefaultUsersPerConn * o.Conns
	}
	if o.Window == 0 {
		o.Window = DefaultWindow
	}
	return o
}

// connUsers is how many of the audience's viewers connection i plays.
func (o Options) connUsers(i int) int {
	n := o.Users / o.Conns
	if i < o.Users%o.Conns {
		n++
	}
	return max(1, n)
}

func (o Options) validate() error {
	switch {
	case o.Conns < 0:
		return fmt.Errorf("bench: conns %d: want 1 or more", o.Conns)
	case o.Rate < 0:
		return fmt.Errorf("bench: rate %g: want messages a second, or 0 for as fast as the server takes", o.Rate)
	case o.Duration < 0:
		return fmt.Errorf("bench: duration %v: want a positive duration such as 10s", o.Duration)
	case o.Batch < 0:
		return fmt.Errorf("bench: batch %d: want 1 or more messages a frame", o.Batch)
	case o.Drain < 0:
		return fmt.Errorf("bench: drain %v: want a positive duration", o.Drain)
	case o.Subs < 0:
		return fmt.Errorf("bench: subs %d: want 1 or more subscribers", o.Subs)
	case o.Users < 0:
		return fmt.Errorf("bench: users %d: want 1 or more viewers", o.Users)
	case o.Mix >= numMixes:
		return fmt.Errorf("bench: %v: want hard, realistic or neutral", o.Mix)
	case o.Window < 0:
		return fmt.Errorf("bench: window %v: want a positive duration", o.Window)
	}
	return nil
}

// dial opens one socket; role is the token role the endpoint needs.
func dial(ctx context.Context, u, token, what, role string) (*websocket.Conn, error) {
	conn, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: authHeader(token)})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		return nil, dialError(what, u, role, status, err)
	}
	conn.SetReadLimit(maxFrameBytes)
	return conn, nil
}

// dialError says why a websocket to u could not be opened: the token, if
// the server refused it (status), or else that nothing serves there.
func dialError(what, u, role string, status int, err error) error {
	switch {
	case status == http.StatusUnauthorized:
		return fmt.Errorf("bench: %s %s: 401: the server does not know this token (or none was given): give --token (or LIVEMOD_TOKEN) one of the server's tokens, with the %s or admin role", what, u, role)
	case status == http.StatusForbidden:
		return fmt.Errorf("bench: %s %s: 403: the token is known but may not do this: give --token (or LIVEMOD_TOKEN) a token with the %s or admin role", what, u, role)
	case fatalStatus(status):
		return fmt.Errorf("bench: %s %s: %d %s: is this a livemod server?", what, u, status, http.StatusText(status))
	}
	return fmt.Errorf("bench: %s %s: %w: is livemod serving there?", what, u, err)
}

// run is the state of one Run. Times are nanoseconds since start, on the
// monotonic clock.
type run struct {
	opts    Options
	prefix  string          // of every message id of this run: "b<tag>-"
	sub     *websocket.Conn // subs[0]'s, which measures latency
	subs    []*subscriber
	senders []*sender
	start   time.Time
	wall    int64 // Unix ms at start, for the messages' ts

	decided   atomic.Int64
	refused   atomic.Int64 // error frames
	failures  atomic.Int64 // sockets that failed
	lastEvent atomic.Int64 // ns of the last decision (or ack)
	closing   atomic.Bool  // sockets are being closed: read errors are expected

	// win is the latency of the current second, for the series. The
	// goroutine that measures takes the lock once per frame.
	winMu sync.Mutex
	win   Hist

	errMu   sync.Mutex
	lastErr string
}

func (r *run) since() int64 { return int64(time.Since(r.start)) }

// closeNow closes every socket at once, ending their reads and writes.
func (r *run) closeNow() {
	r.closing.Store(true)
	for _, s := range r.senders {
		s.conn.closeNow()
	}
	for _, s := range r.subs {
		s.conn.CloseNow()
	}
}

// subscriber is one moderator subscription. The first measures latency;
// the others only count the decisions of this run they receive.
type subscriber struct {
	conn    *websocket.Conn
	decided atomic.Int64
}

func (r *run) fail(err error) {
	r.errMu.Lock()
	r.lastErr = err.Error()
	r.errMu.Unlock()
}

// sender is one ingest connection: a goroutine that writes frames on a
// schedule and one that reads acks.
type sender struct {
	run    *run
	idx    int
	prefix string // of this connection's message ids: "b<tag>-<idx>-"
	conn   *ingestConn
	aud    *Audience // this connection's viewers, made before the run
	times  sendTimes
	wake   chan struct{} // an ack arrived; for the closed loop

	sent    atomic.Int64
	acked   atomic.Int64
	settled atomic.Int64 // acked or refused: no longer in flight

	// Owned by the sending goroutine: how late each frame went out,
	// from its intended send time to the end of its write (open loop).
	lagHist Hist

	// Owned by the reading goroutine.
	ackHist Hist
	ackSeq  int64 // highest seq acked
}

func (r *run) measure(ctx context.Context) *Report {
	opts := r.opts
	r.start = time.Now()
	r.wall = r.start.UnixMilli()
	sendEnd := int64(opts.Duration)

	// Socket reads and writes get a context that is never cancelled:
	// coder/websocket then skips a timer for every frame, which bench
	// cannot afford on a machine it shares with the server. A socket is
	// stopped by closing it instead: when ctx ends, at the end of the run,
	// and in any case once the send phase and the drain are well over.
	ioCtx := context.WithoutCancel(ctx)
	defer context.AfterFunc(ctx, r.closeNow)()
	defer time.AfterFunc(opts.Duration+opts.Drain+5*time.Second, r.closeNow).Stop()

	var readers sync.WaitGroup
	var subHist Hist
	if r.sub != nil {
		readers.Go(func() { r.readDecisions(ioCtx, &subHist) })
		for _, s := range r.subs[1:] {
			readers.Go(func() { r.countDecisions(ioCtx, s) })
		}
	}
	for _, s := range r.senders {
		readers.Go(func() { s.readAcks(ioCtx) })
	}
	rep := &Report{opts: opts}
	sampler := make(chan struct{})
	samplerDone := make(chan struct{})
	go func() {
		defer close(samplerDone)
		r.sample(sampler, rep)
	}()

	var senders sync.WaitGroup
	for _, s := range r.senders {
		senders.Go(func() { s.send(ctx, sendEnd) })
	}
	senders.Wait()
	sendPhase := r.since()
	r.drain(ctx)

	// Close politely, all at once: a normal close is not an error.
	r.closing.Store(true)
	var closers sync.WaitGroup
	for _, s := range r.senders {
		closers.Go(func() { s.conn.close("bench done") })
	}
	for _, s := range r.subs {
		closers.Go(func() { s.conn.Close(websocket.StatusNormalClosure, "bench done") })
	}
	closers.Wait()
	readers.Wait()
	close(sampler)
	<-samplerDone

	var h Hist
	if r.sub != nil {
		h = subHist
	} else {
		for _, s := range r.senders {
			h.Merge(&s.ackHist)
		}
	}
	for _, s := range r.senders {
		rep.Sent += s.sent.Load()
		rep.Acked += s.acked.Load()
	}
	rep.Decided = r.decided.Load()
	if len(r.subs) > 1 {
		rep.SubsDecided = []int64{rep.Decided}
		for _, s := range r.subs[1:] {
			rep.SubsDecided = append(rep.SubsDecided, s.decided.Load())
		}
	}
	rep.Errors = r.refused.Load() + r.failures.Load()
	rep.Seconds = float64(max(sendPhase, r.lastEvent.Load())) / 1e9
	done := rep.Acked
	if r.sub != nil {
		done = rep.Decided
	}
	if rep.Seconds > 0 {
		rep.ThroughputPerS = float64(done) / rep.Seconds
	}
	rep.LatencyMS.P50 = ms(h.Quantile(0.50))
	rep.LatencyMS.P99 = ms(h.Quantile(0.99))
	rep.LatencyMS.P999 = ms(h.Quantile(0.999))
	rep.LatencyMS.Max = ms(h.Max())
	var lag Hist
	for _, s := range r.senders {
		lag.Merge(&s.lagHist)
	}
	if lag.Count() > 0 {
		rep.SendLagMS.P50, rep.SendLagMS.P99, rep.SendLagMS.Max = ms(lag.Quantile(0.50)), ms(lag.Quantile(0.99)), ms(lag.Max())
	}
	rep.lastErr = r.lastErr
	return rep
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// outstanding counts messages sent and not yet acked (and, with a
// subscriber, decided) nor refused. Waiting for the acks too matters even
// when decisions are what is measured: the server gathers acks for a few
// milliseconds, and a bench that closed on the last decision reported a
// few dozen sent messages as never acked.
func (r *run) outstanding() int64 {
	var sent, acked int64
	for _, s := range r.senders {
		sent += s.sent.Load()
		acked += s.acked.Load()
	}
	waiting := sent - acked
	if r.sub != nil {
		waiting = max(waiting, sent-r.decided.Load())
		for _, s := range r.subs[1:] {
			waiting = max(waiting, sent-s.decided.Load())
		}
	}
	return waiting - r.refused.Load()
}

// drain waits for outstanding decisions, at most opts.Drain.
func (r *run) drain(ctx context.Context) {
	deadline := time.NewTimer(r.opts.Drain)
	defer deadline.Stop()
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for r.outstanding() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-poll.C:
		}
	}
}

// maxFramesPerWrite bounds the frames the bench puts into one write: the
// frames that are due (open loop, when it is late) or that the window
// allows (closed loop). Each is still one frame to the server.
const maxFramesPerWrite = 16

// send writes frames until the send phase ends at sendEnd (ns since start)
// or ctx ends.
func (s *sender) send(ctx context.Context, sendEnd int64) {
	r := s.run
	opts := r.opts
	aud := s.aud
	batch := opts.Batch
	var interval, offset int64
	if opts.Rate > 0 {
		interval = int64(float64(batch*opts.Conns) / opts.Rate * 1e9)
		offset = interval * int64(s.idx) / int64(opts.Conns)
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	payload := make([]byte, 0, 512*batch)
	frames := make([]byte, 0, maxFramesPerWrite*(520*batch+14))
	var intended [maxFramesPerWrite]int64
	var seq uint64
	for frame := int64(0); ; {
		// Which frames go out in this write, and when each was meant to.
		k := 0
		if interval > 0 {
			first := offset + frame*interval
			if first >= sendEnd {
				return
			}
			if wait := first - r.since(); wait > 0 {
				timer.Reset(time.Duration(wait))
				select {
				case <-ctx.Done():
					return
				case <-timer.C:
				}
			}
			now := r.since()
			for k < maxFramesPerWrite {
				t := offset + (frame+int64(k))*interval
				if t >= sendEnd || (k > 0 && t > now) {
					break
				}
				intended[k] = t
				k++
			}
		} else {
			free := s.waitWindow(ctx, sendEnd)
			if free == 0 {
				return
			}
			now := r.since()
			if now >= sendEnd {
				return
			}
			for k < min(free, maxFramesPerWrite) {
				intended[k] = now
				k++
			}
		}
		if ctx.Err() != nil {
			return
		}
		frames = frames[:0]
		for f := range k {
			ts := r.wall + intended[f]/1e6
			payload = payload[:0]
			for i := range batch {
				if i > 0 {
					payload = append(payload, '\n')
				}
				s.times.store(seq, intended[f]+1)
				payload = aud.AppendNextSeq(payload, s.prefix, seq, ts)
				seq++
			}
			frames = s.conn.appendFrame(frames, payload, ws.OpText)
		}
		if err := s.conn.write(frames); err != nil {
			if !r.closing.Load() {
				r.failures.Add(1)
				r.fail(fmt.Errorf("conn %d: write: %w", s.idx, err))
			}
			return
		}
		s.sent.Add(int64(k * batch))
		frame += int64(k)
		if interval > 0 {
			done := r.since()
			for f := range k {
				s.lagHist.Record(time.Duration(done - intended[f]))
			}
		}
	}
}

// waitWindow blocks while closedLoopWindow frames are in flight, and
// returns how many frames may be sent now; 0 means the run should stop.
func (s *sender) waitWindow(ctx context.Context, sendEnd int64) int {
	batch := int64(s.run.opts.Batch)
	limit := int64(closedLoopWindow) * batch
	for {
		if inflight := s.sent.Load() - s.settled.Load(); inflight < limit {
			return int((limit - inflight + batch - 1) / batch)
		}
		left := sendEnd - s.run.since()
		if left <= 0 {
			return 0
		}
		t := time.NewTimer(time.Duration(left))
		select {
		case <-ctx.Done():
			t.Stop()
			return 0
		case <-t.C:
			return 0
		case <-s.wake:
			t.Stop()
		}
	}
}

// readAcks reads ack and error frames until the connection ends.
func (s *sender) readAcks(ctx context.Context) {
	r := s.run
	var buf []byte
	for {
		var err error
		buf, err = s.conn.readMessage(buf)
		if err != nil {
			if !r.closing.Load() && !closedNormally(err) {
				r.failures.Add(1)
				r.fail(fmt.Errorf("conn %d: %w", s.idx, err))
			}
			return
		}
		now := r.since()
		eachLine(buf, func(line []byte) { s.onFrame(line, now) })
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func (s *sender) onFrame(line []byte, now int64) {
	r := s.run
	f := parseServerFrame(line)
	switch {
	case f.isAck:
		n := f.n
		seq, ok := parseSeq(f.upto, s.prefix)
		if ok && seq >= s.ackSeq {
			if n <= 0 {
				n = seq - s.ackSeq + 1
			}
			if r.sub == nil { // latency to the ack
				r.winMu.Lock()
				for q := s.ackSeq; q <= seq; q++ {
					if t := s.times.take(uint64(q)); t > 0 {
						d := time.Duration(now - (t - 1))
						s.ackHist.Record(d)
						r.win.Record(d)
					}
				}
				r.winMu.Unlock()
			}
			s.ackSeq = seq + 1
		}
		s.acked.Add(n)
		s.settled.Add(n)
		r.lastEvent.Store(now)
	case f.isError:
		r.refused.Add(1)
		s.settled.Add(1)
		if seq, ok := parseSeq(f.id, s.prefix); ok {
			s.times.take(uint64(seq)) // it will have no decision
		}
		r.fail(fmt.Errorf("server refused %s: %s", f.id, f.errText))
	}
}

// readDecisions reads the moderator feed until the connection ends and
// records the latency of every decision of this run.
func (r *run) readDecisions(ctx context.Context, h *Hist) {
	var buf []byte
	for {
		var err error
		buf, err = readFrame(ctx, r.sub, buf[:0])
		if err != nil {
			if !r.closing.Load() && websocket.CloseStatus(err) != websocket.StatusNormalClosure {
				r.failures.Add(1)
				r.fail(fmt.Errorf("subscriber: %w", err))
			}
			return
		}
		now := r.since()
		var n int64
		r.winMu.Lock() // once a frame; the sampler takes it once a second
		eachLine(buf, func(line []byte) {
			conn, seq, ok := r.parseID(topLevelID(line))
			if !ok {
				return // another client's message
			}
			t := r.senders[conn].times.take(uint64(seq))
			if t <= 0 {
				return // a duplicate, or refused
			}
			d := time.Duration(now - (t - 1))
			h.Record(d)
			r.win.Record(d)
			n++
		})
		r.winMu.Unlock()
		if n > 0 {
			r.decided.Add(n)
			r.lastEvent.Store(now)
		}
	}
}

// countDecisions reads another moderator feed until the connection ends
// and counts the decisions of this run on it. A decision of this run is
// counted once: the server sends each message's decision once a
// subscriber.
func (r *run) countDecisions(ctx context.Context, s *subscriber) {
	var buf []byte
	for {
		var err error
		buf, err = readFrame(ctx, s.conn, buf[:0])
		if err != nil {
			if !r.closing.Load() && websocket.CloseStatus(err) != websocket.StatusNormalClosure {
				r.failures.Add(1)
				r.fail(fmt.Errorf("subscriber: %w", err))
			}
			return
		}
		var n int64
		eachLine(buf, func(line []byte) {
			if _, _, ok := r.parseID(decisionID(line)); ok {
				n++
			}
		})
		if n > 0 {
			s.decided.Add(n)
			r.lastEvent.Store(r.since())
		}
	}
}

// parseID splits "b<tag>-<conn>-<seq>" for this run.
func (r *run) parseID(id []byte) (conn int, seq int64, ok bool) {
	if len(id) <= len(r.prefix) || string(id[:len(r.prefix)]) != r.prefix {
		return 0, 0, false
	}
	id = id[len(r.prefix):]
	c := int64(0)
	i := 0
	for ; i < len(id) && id[i] >= '0' && id[i] <= '9'; i++ {
		c = c*10 + int64(id[i]-'0')
	}
	if i == 0 || i >= len(id) || id[i] != '-' || c >= int64(len(r.senders)) {
		return 0, 0, false
	}
	seq, ok = parseDecimal(id[i+1:])
	return int(c), seq, ok
}

// parseSeq reads the seq of an id that starts with prefix.
func parseSeq(id []byte, prefix string) (int64, bool) {
	if len(id) <= len(prefix) || string(id[:len(prefix)]) != prefix {
		return 0, false
	}
	return parseDecimal(id[len(prefix):])
}

func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// sendTimes holds the intended send time (ns since start, plus one so that
// zero means "unknown") of every message of one connection, by seq. One
// goroutine stores; others take. Chunks grow geometrically, so the
// directory is small and nothing is ever copied while a reader looks.
type sendTimes struct {
	chunks [timesChunks]atomic.Pointer[[]atomic.Int64]
}

const (
	timesBase   = 1024 // entries in the first chunk
	timesChunks = 40   // far beyond any run: 1024·(2^40-1) messages
)

func timesSlot(seq uint64) (chunk int, off uint64) {
	chunk = bits.Len64(seq/timesBase+1) - 1
	return chunk, seq - timesBase*(1<<chunk-1)
}

func (t *sendTimes) store(seq uint64, v int64) {
	k, off := timesSlot(seq)
	c := t.chunks[k].Load()
	if c == nil {
		s := make([]atomic.Int64, timesBase<<k)
		c = &s
		t.chunks[k].Store(c)
	}
	(*c)[off].Store(v)
}

// take returns the time stored for seq and marks it taken (-1), so that a
// decision is counted once. Zero means unknown, -1 already taken.
func (t *sendTimes) take(seq uint64) int64 {
	k, off := timesSlot(seq)
	if k >= timesChunks {
		return 0
	}
	c := t.chunks[k].Load()
	if c == nil {
		return 0
	}
	v := (*c)[off].Load()
	if v == 0 {
		return 0
	}
	if v < 0 || !(*c)[off].CompareAndSwap(v, -1) {
		return -1
	}
	return v
}
