package stream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/livemod/livemod/broker"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// checkFor polls fn until it returns nil or the deadline passes.
func checkFor(t *testing.T, timeout time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", timeout, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rig is a real pipeline behind a real HTTP server: ingest and subscribe.
type rig struct {
	t        *testing.T
	srv      *httptest.Server
	pipeline *Pipeline
	hub      *Hub
	ingest   *Ingest
	metrics  *Metrics
}

func newRig(t *testing.T, io IngestOptions, ho HubOptions) *rig {
	t.Helper()
	return newRigSinks(t, io, ho, nil)
}

// newRigSinks is newRig with more sinks, ahead of the hub, made by before
// once the hub exists.
func newRigSinks(t *testing.T, io IngestOptions, ho HubOptions, before func(*Hub) []Sink) *rig {
	t.Helper()
	engine, err := classify.New(classify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics(nil)
	r := &rig{t: t, metrics: m}
	r.hub = NewHub(ho, m)
	var sinks []Sink
	if before != nil {
		sinks = before(r.hub)
	}
	r.pipeline = NewPipeline(engine, append(sinks, r.hub), Options{}, m)
	r.ingest = NewIngest(r.pipeline, io, m)
	mux := http.NewServeMux()
	mux.Handle("/v1/ingest", r.ingest)
	mux.HandleFunc("/v1/subscribe", func(w http.ResponseWriter, req *http.Request) {
		q := req.URL.Query()
		r.hub.ServeSubscribe(w, req, q.Get("stream"), q.Get("view"))
	})
	r.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r.ingest.Close(ctx)
		r.pipeline.Shutdown(ctx)
		r.hub.Close(ctx)
		r.srv.Close()
	})
	return r
}

func (r *rig) dial(path string) *websocket.Conn {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(r.srv.URL, "http")+path, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	c.SetReadLimit(1 << 24)
	r.t.Cleanup(func() { c.CloseNow() })
	return c
}

// subscribe connects a moderator subscriber and waits until the hub has it.
func (r *rig) subscribe(stream string) *websocket.Conn {
	c := r.dial("/v1/subscribe?stream=" + stream + "&view=moderator")
	checkFor(r.t, 5*time.Second, func() error {
		if r.hub.Subscribers(stream, broker.ViewModerator) == 0 {
			return errors.New("subscriber not registered")
		}
		return nil
	})
	return c
}

func readLines(ctx context.Context, c *websocket.Conn) ([][]byte, error) {
	_, b, err := c.Read(ctx)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte{'\n'}) {
		if len(l) > 0 {
			out = append(out, l)
		}
	}
	return out, nil
}

func msgJSON(id, user, text string) string {
	b, _ := json.Marshal(chat.Message{ID: id, User: chat.User{ID: user, Name: user}, Text: text, TS: 1795000000000})
	return string(b)
}

// TestIngestToSubscriber sends 3,000 messages over a websocket, one per
// frame and in NDJSON batches, and expects a decision for every one.
func TestIngestToSubscriber(t *testing.T) {
	r := newRig(t, IngestOptions{}, HubOptions{})
	sub := r.subscribe("show")
	in := r.dial("/v1/ingest?stream=show")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	const total = 3000
	texts := []string{"how much is the blue jacket?", "love this show", "कितने का है?", "agent please", "check my channel bit.ly/x"}
	want := map[string]bool{}
	acked := make(chan int, 1)
	go func() { // read acks concurrently, as a real client would
		n := 0
		for n < total {
			lines, err := readLines(ctx, in)
			if err != nil {
				break
			}
			for _, l := range lines {
				var a ackFrame
				if json.Unmarshal(l, &a) == nil && a.Type == "ack" {
					n += a.N
				}
			}
		}
		acked <- n
	}()
	for i := 0; i < total; {
		var frame strings.Builder
		k := 1
		if i >= 1000 {
			k = 50 // NDJSON batches
		}
		for j := 0; j < k && i < total; j++ {
			id := fmt.Sprintf("m-%d", i)
			want[id] = true
			frame.WriteString(msgJSON(id, fmt.Sprintf("u-%d", i%97), texts[i%len(texts)]))
			frame.WriteByte('\n')
			i++
		}
		if err := in.Write(ctx, websocket.MessageText, []byte(frame.String())); err != nil {
			t.Fatal(err)
		}
	}
	got := 0
	for got < total {
		lines, err := readLines(ctx, sub)
		if err != nil {
			t.Fatalf("after %d decisions: %v", got, err)
		}
		for _, l := range lines {
			var d chat.Decision
			if err := json.Unmarshal(l, &d); err != nil {
				t.Fatalf("decision %s: %v", l, err)
			}
			if !want[d.ID] {
				t.Fatalf("unexpected or repeated decision %q", d.ID)
			}
			delete(want, d.ID)
			got++
		}
	}
	if n := <-acked; n != total {
		t.Errorf("acked %d, want %d", n, total)
	}
	if v := testutil.ToFloat64(r.metrics.IngestMessages); v != total {
		t.Errorf("livemod_ingest_messages_total = %v, want %d", v, total)
	}
}

// TestIngestRefusesBadMessages: each bad message gets an error frame with a
// reason, and the connection goes on to accept good ones.
func TestIngestRefusesBadMessages(t *testing.T) {
	r := newRig(t, IngestOptions{}, HubOptions{})
	in := r.dial("/v1/ingest?stream=show")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cases := []struct {
		name, frame, want string
	}{
		{"not json", `{"text": "hi"`, "json:"},
		{"wrong type", `{"text": 42, "user": {"id": "u"}}`, "field text"},
		{"empty text", `{"id":"m-43","user":{"id":"u"},"text":"  "}`, "text: empty"},
		{"no user", `{"id":"m-44","text":"hello"}`, "user.id: empty"},
		{"other stream", `{"id":"m-45","stream":"other","user":{"id":"u"},"text":"hello"}`, "does not match"},
		{"too long", `{"id":"m-46","user":{"id":"u"},"text":"` + strings.Repeat("a", chat.MaxTextBytes+1) + `"}`, "text: longer"},
		{"binary garbage", "\x00\x01\x02", "json:"},
		{"cut in an escape", `{"\`, "json:"}, // goccy/go-json panicked on it
	}
	for _, c := range cases {
		if err := in.Write(ctx, websocket.MessageText, []byte(c.frame)); err != nil {
			t.Fatalf("%s: write: %v", c.name, err)
		}
		lines, err := readLines(ctx, in)
		if err != nil {
			t.Fatalf("%s: connection died: %v", c.name, err)
		}
		var e errorFrame
		if err := json.Unmarshal(lines[0], &e); err != nil || e.Type != "error" || !strings.Contains(e.Error, c.want) {
			t.Errorf("%s: got %s, want an error frame containing %q", c.name, lines[0], c.want)
		}
	}
	// A frame mixing good and bad lines: the good ones are accepted.
	frame := msgJSON("ok-1", "u1", "hello") + "\nnot json\n" + msgJSON("ok-2", "u2", "नमस्ते")
	if err := in.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		t.Fatal(err)
	}
	lines, err := readLines(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	var sawErr, sawAck bool
	for _, l := range lines {
		var f struct {
			Type string
			Upto string
			N    int
			Line int
		}
		json.Unmarshal(l, &f)
		switch f.Type {
		case "error":
			sawErr = f.Line == 2
		case "ack":
			sawAck = f.Upto == "ok-2" && f.N == 2
		}
	}
	if !sawErr || !sawAck {
		t.Errorf("mixed frame: got %q, want an error for line 2 and an ack upto ok-2 n=2", lines)
	}
	// Missing id and ts are filled in.
	sub := r.subscribe("show")
	if err := in.Write(ctx, websocket.MessageText, []byte(`{"user":{"id":"u9"},"text":"hi there"}`)); err != nil {
		t.Fatal(err)
	}
	dl, err := readLines(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	var d chat.Decision
	json.Unmarshal(dl[0], &d)
	if d.ID == "" || d.TS == 0 || d.Stream != "show" {
		t.Errorf("filled decision = %+v, want id, ts and stream filled in", d)
	}
}

func TestIngestClosesOversizeFrame(t *testing.T) {
	r := newRig(t, IngestOptions{MaxFrameBytes: 1024}, HubOptions{})
	in := r.dial("/v1/ingest?stream=show")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	big := msgJSON("m-1", "u", strings.Repeat("x", 2000))
	in.Write(ctx, websocket.MessageText, []byte(big))
	_, _, err := in.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || !strings.Contains(ce.Reason, "1024") {
		t.Fatalf("read after oversize frame: %v, want policy violation naming the limit", err)
	}
	if v := testutil.ToFloat64(r.metrics.IngestClosed.WithLabelValues("oversize")); v != 1 {
		t.Errorf("oversize closes = %v, want 1", v)
	}
}

func TestIngestClosesOverRate(t *testing.T) {
	r := newRig(t, IngestOptions{RatePerSecond: 5, Burst: 10}, HubOptions{})
	in := r.dial("/v1/ingest?stream=show")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		err = in.Write(ctx, websocket.MessageText, []byte(msgJSON(fmt.Sprint("m-", i), "u", "spam spam")))
	}
	for err == nil {
		_, _, err = in.Read(ctx)
	}
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || !strings.Contains(ce.Reason, "messages/s") {
		t.Fatalf("got %v, want a policy close naming the rate", err)
	}
}

// TestSlowSubscriberIsDisconnected: a subscriber that stops reading is cut
// off once its queue passes the limit, and publishing never waits for it.
func TestSlowSubscriberIsDisconnected(t *testing.T) {
	r := newRig(t, IngestOptions{}, HubOptions{MaxQueueBytes: 64 << 10, WriteTimeout: 200 * time.Millisecond})
	slow := r.subscribe("show") // never read
	_ = slow
	line := bytes.Repeat([]byte("x"), 1000)
	start := time.Now()
	for i := 0; i < 20000; i++ { // 20 MB: more than socket buffers hold
		r.hub.Publish("show", broker.ViewModerator, line)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("publishing 20,000 lines to a stuck subscriber took %v; it must not wait for it", d)
	}
	checkFor(t, 10*time.Second, func() error {
		if testutil.ToFloat64(r.metrics.SlowDisconnects.WithLabelValues("queue")) != 1 {
			return errors.New("slow subscriber not disconnected yet")
		}
		if r.hub.Subscribers("show", broker.ViewModerator) != 0 {
			return errors.New("slow subscriber still registered")
		}
		return nil
	})
}

// countSink counts decisions and checks per-user order.
type countSink struct {
	mu   sync.Mutex
	n    atomic.Int64
	last map[string]int64
	bad  int
}

func (s *countSink) Decided(d *chat.Decision, _ []byte) {
	s.mu.Lock()
	if s.last == nil {
		s.last = map[string]int64{}
	}
	if d.TS < s.last[d.User.ID] {
		s.bad++
	}
	s.last[d.User.ID] = d.TS
	s.mu.Unlock()
	s.n.Add(1)
}

// TestPipelineKeepsUserOrderAndDrains submits from many goroutines, shuts
// down, and expects every message decided, each user's in order.
func TestPipelineKeepsUserOrderAndDrains(t *testing.T) {
	engine, err := classify.New(classify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sink := &countSink{}
	p := NewPipeline(engine, []Sink{sink}, Options{Shards: 4, QueueLen: 2}, nil)
	const writers, per = 8, 500
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				m := &chat.Message{ID: fmt.Sprint(w, "-", i), Stream: "s", User: chat.User{ID: fmt.Sprint("u", w)}, Text: fmt.Sprint("message number ", i), TS: int64(1795000000000 + i)}
				if err := p.Submit(context.Background(), []*chat.Message{m}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := sink.n.Load(); got != writers*per {
		t.Errorf("decided %d, want %d", got, writers*per)
	}
	if sink.bad != 0 {
		t.Errorf("%d decisions out of per-user order", sink.bad)
	}
	if err := p.Submit(context.Background(), []*chat.Message{{Stream: "s", User: chat.User{ID: "u"}, Text: "late"}}); !errors.Is(err, ErrClosed) {
		t.Errorf("Submit after Shutdown = %v, want ErrClosed", err)
	}
}

func TestShardOfIsStableAndSpreads(t *testing.T) {
	p := NewPipeline(nil, nil, Options{Shards: 3}, nil)
	defer p.Shutdown(context.Background())
	if p.Shards() != 4 {
		t.Fatalf("Shards() = %d, want 3 rounded up to 4", p.Shards())
	}
	seen := map[int]int{}
	for i := 0; i < 1000; i++ {
		m := &chat.Message{Stream: "show", User: chat.User{ID: fmt.Sprint("u", i)}}
		s := p.ShardOf(m)
		if s != p.ShardOf(m) {
			t.Fatal("ShardOf not stable")
		}
		seen[s]++
	}
	for s := 0; s < 4; s++ {
		if seen[s] < 150 {
			t.Errorf("shard %d got %d of 1000 users; want a fair spread", s, seen[s])
		}
	}
}

// TestPipelineCountsDecisions checks the per-action and per-label
// counters against the decisions the sink saw.
func TestPipelineCountsDecisions(t *testing.T) {
	engine, err := classify.New(classify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	metrics := NewMetrics(reg)
	sink := &recordSink{}
	p := NewPipeline(engine, []Sink{sink}, Options{Shards: 2}, metrics)
	texts := []string{"how much is the blue jacket?", "check my channel www.spam-site.xyz", "hello everyone", "refund for order 5521 please, agent?"}
	for i, text := range texts {
		m := &chat.Message{ID: fmt.Sprint("m-", i), Stream: "s", User: chat.User{ID: fmt.Sprint("u", i)}, Text: text, TS: 1795000000000}
		if err := p.Submit(context.Background(), []*chat.Message{m}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantLabels := map[string]float64{}
	wantActions := map[string]float64{}
	for _, d := range sink.decisions() {
		wantActions[d.Action.String()]++
		for _, l := range d.Labels.Slice() {
			wantLabels[l.String()]++
		}
	}
	if len(wantLabels) < 3 {
		t.Fatalf("the texts gave too few labels to test with: %v", wantLabels)
	}
	for _, l := range chat.AllLabels() {
		if got := testutil.ToFloat64(metrics.DecisionLabels.WithLabelValues(l.String())); got != wantLabels[l.String()] {
			t.Errorf("livemod_decision_labels_total{label=%q} = %v, want %v", l, got, wantLabels[l.String()])
		}
	}
	for _, a := range []string{"allow", "hide", "hold"} {
		if got := testutil.ToFloat64(metrics.Decisions.WithLabelValues(a)); got != wantActions[a] {
			t.Errorf("livemod_decisions_total{action=%q} = %v, want %v", a, got, wantActions[a])
		}
	}
}

type recordSink struct {
	mu sync.Mutex
	ds []chat.Decision
}

func (s *recordSink) Decided(d *chat.Decision, _ []byte) {
	s.mu.Lock()
	s.ds = append(s.ds, *d)
	s.mu.Unlock()
}

func (s *recordSink) decisions() []chat.Decision {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ds
}

// TestAcksGathered: with a long ack delay, eight frames are answered by
// one ack covering all of them (the early flush), and the ninth waits;
// with a negative delay every frame gets its ack at once, so a client
// that waits for each ack is not slowed.
func TestAcksGathered(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	readAck := func(c *websocket.Conn) ackFrame {
		t.Helper()
		lines, err := readLines(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) != 1 {
			t.Fatalf("got %d lines, want one ack: %s", len(lines), bytes.Join(lines, []byte("\n")))
		}
		var a ackFrame
		if err := json.Unmarshal(lines[0], &a); err != nil || a.Type != "ack" {
			t.Fatalf("got %s, want an ack", lines[0])
		}
		return a
	}

	r := newRig(t, IngestOptions{AckDelay: time.Hour}, HubOptions{})
	in := r.dial("/v1/ingest?stream=show")
	send := func(i int) {
		if err := in.Write(ctx, websocket.MessageText, []byte(msgJSON(fmt.Sprint("g-", i), "u1", "hello"))); err != nil {
			t.Fatal(err)
		}
	}
	for i := range ackEarlyFrames {
		send(i)
	}
	if a := readAck(in); a.N != ackEarlyFrames || a.Upto != fmt.Sprint("g-", ackEarlyFrames-1) {
		t.Errorf("first ack %+v, want n=%d upto g-%d", a, ackEarlyFrames, ackEarlyFrames-1)
	}
	send(ackEarlyFrames)
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancelShort()
	if _, _, err := in.Read(short); err == nil {
		t.Error("the ninth frame was acked before its delay or the next early flush")
	}

	// With a delay, a client that waits for each ack sends nothing while
	// it waits: the gathering that goes on while frames keep coming ends.
	r = newRig(t, IngestOptions{AckDelay: 20 * time.Millisecond}, HubOptions{})
	in = r.dial("/v1/ingest?stream=show")
	for i := range 3 {
		id := fmt.Sprint("q-", i)
		if err := in.Write(ctx, websocket.MessageText, []byte(msgJSON(id, "u1", "hello"))); err != nil {
			t.Fatal(err)
		}
		if a := readAck(in); a.N != 1 || a.Upto != id {
			t.Errorf("ack %+v, want n=1 upto %s", a, id)
		}
	}

	r = newRig(t, IngestOptions{AckDelay: -1}, HubOptions{})
	in = r.dial("/v1/ingest?stream=show")
	for i := range 3 { // stop and wait
		id := fmt.Sprint("w-", i)
		if err := in.Write(ctx, websocket.MessageText, []byte(msgJSON(id, "u1", "hello"))); err != nil {
			t.Fatal(err)
		}
		if a := readAck(in); a.N != 1 || a.Upto != id {
			t.Errorf("ack %+v, want n=1 upto %s", a, id)
		}
	}
}

// TestHubFramesCopiedLines publishes through one reused buffer, as the
// pipeline does, with frames of at most 256 bytes, and expects every line
// intact and in order, frames cut at line ends, and a line longer than a
// frame sent alone.
func TestHubFramesCopiedLines(t *testing.T) {
	r := newRig(t, IngestOptions{}, HubOptions{MaxFrameBytes: 256})
	c := r.subscribe("show")
	var want []string
	var buf []byte
	for i := 0; i < 200; i++ {
		pad := strings.Repeat("p", i%40)
		if i == 100 {
			pad = strings.Repeat("L", 600) // longer than a frame
		}
		buf = fmt.Appendf(buf[:0], `{"n":%d,"pad":"%s"}`, i, pad)
		want = append(want, string(buf))
		r.hub.Publish("show", broker.ViewModerator, buf)
		clear(buf) // the publisher reuses its buffer at once
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var got []string
	for len(got) < len(want) {
		_, frame, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("after %d lines: %v", len(got), err)
		}
		if frame[len(frame)-1] != '\n' {
			t.Fatalf("frame does not end at a line end: %q", frame)
		}
		lines := strings.Split(strings.TrimSuffix(string(frame), "\n"), "\n")
		if len(frame) > 256 && len(lines) > 1 {
			t.Fatalf("frame of %d bytes carries %d lines; only a single long line may pass the limit", len(frame), len(lines))
		}
		got = append(got, lines...)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("line %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestFrameEnd(t *testing.T) {
	for _, tc := range []struct {
		buf  string
		max  int
		want int
	}{
		{"", 10, 0},
		{"ab\n", 10, 3},
		{"ab\ncd\nef\n", 7, 6},
		{"ab\ncd\nef\n", 6, 6},
		{"ab\ncd\nef\n", 5, 3},
		{"abcdefgh\nx\n", 4, 9}, // one long line alone
		{"abcdefgh", 4, 8},
	} {
		if got := frameEnd([]byte(tc.buf), tc.max); got != tc.want {
			t.Errorf("frameEnd(%q, %d) = %d, want %d", tc.buf, tc.max, got, tc.want)
		}
	}
}

// TestSpareKeeper: a subscriber's writer keeps a big buffer through short
// lulls and lets it go once it has stayed mostly empty for spareKeep;
// small buffers are always kept.
func TestSpareKeeper(t *testing.T) {
	var k spareKeeper
	t0 := time.Unix(1000, 0)
	big := make([]byte, 10, 4*spareMin)
	if got := k.spare(make([]byte, 10, spareMin), t0); cap(got) != spareMin || len(got) != 0 {
		t.Fatalf("small buffer: cap %d len %d, want kept and emptied", cap(got), len(got))
	}
	if got := k.spare(big, t0); cap(got) != cap(big) {
		t.Fatal("big buffer dropped at its first small take")
	}
	if got := k.spare(big, t0.Add(spareKeep)); cap(got) != cap(big) {
		t.Fatal("big buffer dropped before spareKeep had passed")
	}
	// A full take in between starts the wait again.
	if got := k.spare(big[:cap(big)/2], t0.Add(spareKeep)); cap(got) != cap(big) {
		t.Fatal("big buffer in use dropped")
	}
	if got := k.spare(big, t0.Add(2*spareKeep)); cap(got) != cap(big) {
		t.Fatal("the wait did not start again after the buffer was used")
	}
	if got := k.spare(big, t0.Add(3*spareKeep+time.Millisecond)); got != nil {
		t.Fatalf("big buffer mostly empty for over spareKeep kept (cap %d)", cap(got))
	}
}

// eventSink is a ShardSink that, for every decision, publishes an event
// line to the moderator view once its shard has flushed (AfterFlush), as
// the desk does for a restricted user's message.
type eventSink struct {
	hub     *Hub
	shards  atomic.Int32
	flushed atomic.Int64
}

func (s *eventSink) Decided(*chat.Decision, []byte) { panic("the pipeline must use ForShard") }

func (s *eventSink) ForShard(int) FlushSink {
	s.shards.Add(1)
	return &eventShard{s: s}
}

type eventShard struct {
	s   *eventSink
	ids []string
}

func (e *eventShard) Decided(d *chat.Decision, _ []byte) { e.ids = append(e.ids, d.ID) }

func (e *eventShard) Flush() {}

func (e *eventShard) Flushed() {
	for _, id := range e.ids {
		e.s.hub.Publish("show", broker.ViewModerator, []byte(`{"type":"event","id":"`+id+`"}`))
	}
	e.s.flushed.Add(int64(len(e.ids)))
	e.ids = e.ids[:0]
}

// TestPipelineFlushesShardSinksInOrder: every shard gets its own sink from
// a ShardSink, everything it gathered is flushed once the pipeline drains,
// and a subscriber gets each decision (gathered by the hub) before the
// event another sink, ahead of the hub in the list, publishes about it
// once every sink has flushed.
func TestPipelineFlushesShardSinksInOrder(t *testing.T) {
	ev := &eventSink{}
	r := newRigSinks(t, IngestOptions{}, HubOptions{}, func(h *Hub) []Sink { ev.hub = h; return []Sink{ev} })
	p, c := r.pipeline, r.subscribe("show")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const n = 2000
	for i := 0; i < n; i += 50 {
		batch := make([]*chat.Message, 50)
		for j := range batch {
			id := fmt.Sprintf("m-%d", i+j)
			batch[j] = &chat.Message{ID: id, Stream: "show", User: chat.User{ID: fmt.Sprintf("u-%d", (i+j)%97)}, Text: "hello " + id, TS: 1795000000000}
		}
		if err := p.Submit(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := int(ev.shards.Load()); got != p.Shards() {
		t.Errorf("ForShard called %d times, want once per shard (%d)", got, p.Shards())
	}
	if got := ev.flushed.Load(); got != n {
		t.Fatalf("flushed %d decisions, want %d", got, n)
	}
	decided := map[string]bool{}
	events := 0
	for events < n {
		lines, err := readLines(ctx, c)
		if err != nil {
			t.Fatalf("after %d events: %v", events, err)
		}
		for _, l := range lines {
			var v struct{ Type, ID string }
			if err := json.Unmarshal(l, &v); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			if v.Type == "" {
				decided[v.ID] = true
				continue
			}
			if !decided[v.ID] {
				t.Fatalf("the event about %s came before its decision", v.ID)
			}
			events++
		}
	}
}

// lineRecorder is a broker subscriber that keeps what it is given.
type lineRecorder struct {
	mu    sync.Mutex
	lines []byte
}

func (l *lineRecorder) Push(line []byte) {
	l.mu.Lock()
	l.lines = append(append(l.lines, line...), '\n')
	l.mu.Unlock()
}

func (l *lineRecorder) PushLines(lines []byte) {
	l.mu.Lock()
	l.lines = append(l.lines, lines...)
	l.mu.Unlock()
}

// TestHubGatherSubscriberBeforeFlush: a moderator who subscribes after a
// shard decided a message but before it flushed gets the message live
// (the desk had not kept it yet, so the snapshot could not have it).
func TestHubGatherSubscriberBeforeFlush(t *testing.T) {
	h := NewHub(HubOptions{}, NewMetrics(nil))
	g := h.ForShard(0)
	d := &chat.Decision{ID: "m-1", Stream: "show"}
	g.Decided(d, []byte(`{"id":"m-1"}`))
	rec := &lineRecorder{}
	h.Broker().Subscribe(broker.Topic{Stream: "show", View: broker.ViewModerator}, rec)
	g.Flush()
	if got := string(rec.lines); got != "{\"id\":\"m-1\"}\n" {
		t.Fatalf("the subscriber got %q, want m-1's line", got)
	}
	// Unwatched runs are dropped at Flush, not carried into the next one.
	h.Broker().Unsubscribe(broker.Topic{Stream: "show", View: broker.ViewModerator}, rec)
	g.Decided(&chat.Decision{ID: "m-2", Stream: "show"}, []byte(`{"id":"m-2"}`))
	g.Flush()
	h.Broker().Subscribe(broker.Topic{Stream: "show", View: broker.ViewModerator}, rec)
	g.Decided(&chat.Decision{ID: "m-3", Stream: "show"}, []byte(`{"id":"m-3"}`))
	g.Flush()
	if got := string(rec.lines); got != "{\"id\":\"m-1\"}\n{\"id\":\"m-3\"}\n" {
		t.Fatalf("the subscriber got %q, want m-1 and m-3", got)
	}
}
