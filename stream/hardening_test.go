package stream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/livemod/livemod/broker"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// heldCommit is a Committer whose commits the test releases: it shows
// that an ack waits for the commit, not that the store commits (the
// real store is killed and restarted in cmd/livemod's crash test).
type heldCommit struct {
	calls   chan struct{}
	release chan error
}

func (h *heldCommit) Changed(d *chat.Decision) bool { return strings.Contains(d.Text, "durable") }

func (h *heldCommit) Committed() <-chan error {
	h.calls <- struct{}{}
	return h.release
}

// countingSink counts decisions by id.
type countingSink struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *countingSink) Decided(d *chat.Decision, _ []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[d.Stream+"/"+d.ID]++
}

func (c *countingSink) count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}

// rigWith is a rig whose pipeline has commit and an extra sink.
func rigWith(t *testing.T, io IngestOptions, commit Committer, sink Sink) *rig {
	t.Helper()
	engine, err := classify.New(classify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics(nil)
	r := &rig{t: t, metrics: m}
	r.hub = NewHub(HubOptions{}, m)
	r.pipeline = NewPipeline(engine, []Sink{sink, r.hub}, Options{Commit: commit}, m)
	r.ingest = NewIngest(r.pipeline, io, m)
	mux := http.NewServeMux()
	mux.Handle("/v1/ingest", r.ingest)
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

// reader collects a websocket's frames.
func reader(c *websocket.Conn) <-chan []byte {
	out := make(chan []byte, 256)
	go func() {
		defer close(out)
		for {
			_, b, err := c.Read(context.Background())
			if err != nil {
				return
			}
			out <- b
		}
	}()
	return out
}

// TestAckWaitsForCommit: the ack of a frame whose decision changed
// durable state is written only after the store's commit; an ordinary
// frame sent after it is acked with it, in order.
func TestAckWaitsForCommit(t *testing.T) {
	hc := &heldCommit{calls: make(chan struct{}, 4), release: make(chan error, 1)}
	r := rigWith(t, IngestOptions{AckDelay: -1}, hc, &countingSink{})
	in := r.dial("/v1/ingest?stream=show")
	frames := reader(in)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	in.Write(ctx, websocket.MessageText, []byte(msgJSON("d-1", "u1", "this one is durable")))
	select {
	case <-hc.calls:
	case <-ctx.Done():
		t.Fatal("the ack never asked for a commit")
	}
	in.Write(ctx, websocket.MessageText, []byte(msgJSON("d-2", "u2", "plain chat")))
	// The replier is blocked on our commit: nothing may have been written.
	select {
	case f := <-frames:
		t.Fatalf("answer %s written before the commit", f)
	default:
	}
	hc.release <- nil
	var acked []string
	for len(acked) == 0 || acked[len(acked)-1] != "d-2" {
		select {
		case f, ok := <-frames:
			if !ok {
				t.Fatal("connection closed")
			}
			var a ackFrame
			json.Unmarshal(f, &a)
			acked = append(acked, a.Upto)
		case <-ctx.Done():
			t.Fatalf("acks %v, want d-1 then d-2", acked)
		}
	}
	if acked[0] != "d-1" && acked[0] != "d-2" {
		t.Errorf("acks %v", acked)
	}

	// A failed commit is not acknowledged: an error frame asks to resend.
	in.Write(ctx, websocket.MessageText, []byte(msgJSON("d-3", "u1", "durable again")))
	<-hc.calls
	hc.release <- errors.New("disk full")
	f := <-frames
	var e errorFrame
	if json.Unmarshal(f, &e); e.Type != "error" || e.ID != "d-3" || !strings.Contains(e.Error, "resend") {
		t.Errorf("after a failed commit got %s, want an error frame asking to resend d-3", f)
	}
}

// TestIngestDuplicatesDecidedOnce: the same (stream, id) sent four times,
// in separate frames and within one, is acknowledged every time and
// decided once; the same id in another stream is another message.
func TestIngestDuplicatesDecidedOnce(t *testing.T) {
	sink := &countingSink{}
	r := rigWith(t, IngestOptions{AckDelay: -1}, nil, sink)
	in := r.dial("/v1/ingest?stream=show")
	frames := reader(in)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	one := msgJSON("dup-1", "u1", "buy followers at spam dot com")
	for _, f := range []string{one, one, one + "\n" + one} {
		in.Write(ctx, websocket.MessageText, []byte(f))
	}
	acked := 0
	for acked < 4 {
		select {
		case f := <-frames:
			var a ackFrame
			json.Unmarshal(f, &a)
			if a.Type != "ack" || a.Upto != "dup-1" {
				t.Fatalf("got %s, want acks of dup-1", f)
			}
			acked += a.N
		case <-ctx.Done():
			t.Fatalf("acked %d of 4", acked)
		}
	}
	other := r.dial("/v1/ingest?stream=other")
	otherFrames := reader(other)
	other.Write(ctx, websocket.MessageText, []byte(msgJSON("dup-1", "u1", "buy followers at spam dot com")))
	<-otherFrames
	if n := sink.count("show/dup-1"); n != 1 {
		t.Errorf("show/dup-1 decided %d times, want 1", n)
	}
	if n := sink.count("other/dup-1"); n != 1 {
		t.Errorf("other/dup-1 decided %d times, want 1", n)
	}
	if v := testutil.ToFloat64(r.metrics.IngestDuplicates); v != 3 {
		t.Errorf("livemod_ingest_duplicates_total = %v, want 3", v)
	}
}

// TestDedupBounded: past its bound the set retires a generation early
// instead of growing, and still answers for the newest ids.
func TestDedupBounded(t *testing.T) {
	d := newDedup(time.Hour, 64*dedupShards)
	full := 0
	d.onFull = func() { full++ }
	now := time.Unix(1795000000, 0)
	for i := range 10000 {
		if !d.take(dedupKey("s", fmt.Sprint(i)), now) {
			t.Fatalf("id %d reported as seen", i)
		}
	}
	if n := d.size(); n > 64*dedupShards {
		t.Errorf("holds %d ids, bound %d", n, 64*dedupShards)
	}
	if full == 0 {
		t.Error("no generation was retired for size")
	}
	if d.take(dedupKey("s", "9999"), now) {
		t.Error("the newest id was forgotten")
	}
	// Two windows later everything is forgotten.
	if !d.take(dedupKey("s", "9999"), now.Add(2*time.Hour)) {
		t.Error("an id older than twice the window is still remembered")
	}
}

// TestIngestEmptyFramesAnsweredAndCounted: empty, blank and newline-only
// frames each get an error, and count toward the rate (each line of a
// frame of newlines counts).
func TestIngestEmptyFramesAnsweredAndCounted(t *testing.T) {
	r := newRig(t, IngestOptions{AckDelay: -1, RatePerSecond: 0.001, Burst: 5}, HubOptions{})
	in := r.dial("/v1/ingest?stream=show")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, f := range []string{"", "   \t ", "\n\n\n"} {
		in.Write(ctx, websocket.MessageText, []byte(f))
		lines, err := readLines(ctx, in)
		if err != nil {
			t.Fatalf("frame %q: %v", f, err)
		}
		var e errorFrame
		if json.Unmarshal(lines[0], &e); e.Type != "error" || !strings.Contains(e.Error, "frame: empty") {
			t.Errorf("frame %q answered %s, want an error naming the empty frame", f, lines[0])
		}
	}
	in.Write(ctx, websocket.MessageText, []byte(strings.Repeat("\n", 30000)))
	var err error
	for err == nil {
		_, _, err = in.Read(ctx)
	}
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || !strings.Contains(ce.Reason, "rate_per_second") {
		t.Fatalf("a frame of 30,000 newlines after 5 tokens spent: %v, want a policy close for the rate", err)
	}
	if v := testutil.ToFloat64(r.metrics.IngestRefused.WithLabelValues("empty")); v != 4 {
		t.Errorf("empty frames counted %v, want 4", v)
	}
}

// TestIngestIdleClosed: a connection that sends nothing is closed with a
// policy code and a reason naming the setting, and counted.
func TestIngestIdleClosed(t *testing.T) {
	r := newRig(t, IngestOptions{IdleTimeout: 50 * time.Millisecond}, HubOptions{})
	in := r.dial("/v1/ingest?stream=show")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, err := in.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || !strings.Contains(ce.Reason, "ingest.idle_timeout") {
		t.Fatalf("idle connection: %v, want a policy close naming ingest.idle_timeout", err)
	}
	if v := testutil.ToFloat64(r.metrics.IngestClosed.WithLabelValues("idle")); v != 1 {
		t.Errorf("idle closes = %v, want 1", v)
	}
}

// TestIngestFieldHygiene: control characters, oversize platform and
// badges, and invalid UTF-8 are refused with a reason; a ts far from the
// clock is clamped to the server's time, not refused.
func TestIngestFieldHygiene(t *testing.T) {
	r := newRig(t, IngestOptions{AckDelay: -1}, HubOptions{})
	in := r.dial("/v1/ingest?stream=show")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cases := []struct{ name, frame, want string }{
		{"NUL in id", `{"id":"a\u0000b","user":{"id":"u"},"text":"hi"}`, "id: control character"},
		{"escape in user id", `{"id":"h-2","user":{"id":"u\u001b[31m"},"text":"hi"}`, "user.id: control character"},
		{"C1 in name", `{"id":"h-3","user":{"id":"u","name":"a\u0085b"},"text":"hi"}`, "user.name: control character"},
		{"long platform", `{"id":"h-4","platform":"` + strings.Repeat("p", chat.MaxPlatformBytes+1) + `","user":{"id":"u"},"text":"hi"}`, "platform: longer"},
		{"long badge", `{"id":"h-5","user":{"id":"u","badges":["` + strings.Repeat("b", chat.MaxBadgeBytes+1) + `"]},"text":"hi"}`, "user.badges: longer"},
		{"invalid UTF-8", "{\"id\":\"h-6\",\"user\":{\"id\":\"u\"},\"text\":\"caf\xe9\"}", "invalid UTF-8"},
	}
	for _, c := range cases {
		in.Write(ctx, websocket.MessageText, []byte(c.frame))
		lines, err := readLines(ctx, in)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var e errorFrame
		if json.Unmarshal(lines[0], &e); e.Type != "error" || !strings.Contains(e.Error, c.want) {
			t.Errorf("%s: got %s, want an error containing %q", c.name, lines[0], c.want)
		}
	}
	sub := r.subscribe("show")
	before := time.Now().UnixMilli()
	in.Write(ctx, websocket.MessageText, []byte(`{"id":"h-7","user":{"id":"u"},"text":"hello from 1970","ts":1}`))
	dl, err := readLines(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	var d chat.Decision
	json.Unmarshal(dl[0], &d)
	if d.ID != "h-7" || d.TS < before {
		t.Errorf("decision %s: want ts clamped to the server's time (≥ %d)", dl[0], before)
	}
	if v := testutil.ToFloat64(r.metrics.IngestClamped); v != 1 {
		t.Errorf("clamped = %v, want 1", v)
	}
}

// readUntilClose reads c until it closes and returns the close error.
func readUntilClose(ctx context.Context, c *websocket.Conn) error {
	for {
		if _, _, err := c.Read(ctx); err != nil {
			return err
		}
	}
}

// TestStalledWriteClosed1008: a subscriber that stops reading until a
// write stalls past the write timeout is counted (reason "write") and,
// once it reads again, finds a 1008 close with a reason, not a dropped
// connection.
func TestStalledWriteClosed1008(t *testing.T) {
	r := newRig(t, IngestOptions{}, HubOptions{MaxQueueBytes: 1 << 30, WriteTimeout: time.Second, PingInterval: -1})
	sub := r.subscribe("show")
	line := make([]byte, 64<<10)
	for i := range line {
		line[i] = 'x'
	}
	stalled := func() bool { return testutil.ToFloat64(r.metrics.SlowDisconnects.WithLabelValues("write")) > 0 }
	for sent := 0; !stalled(); sent++ {
		if sent > 4000 { // 256 MB
			t.Fatal("no write stalled")
		}
		r.hub.Publish("show", broker.ViewModerator, line)
		if sent%16 == 15 {
			time.Sleep(time.Millisecond) // let the writer fill the socket
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := readUntilClose(ctx, sub)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || !strings.Contains(ce.Reason, "fanout.write_timeout") {
		t.Fatalf("stalled subscriber: %v, want 1008 naming fanout.write_timeout", err)
	}
	if v := testutil.ToFloat64(r.metrics.SlowDisconnects.WithLabelValues("write")); v != 1 {
		t.Errorf("write stalls counted %v, want 1", v)
	}
}

// TestUnansweredPingClosed1008: a subscriber that does not answer pings
// is closed with 1008 and a reason, and counted (reason "ping").
func TestUnansweredPingClosed1008(t *testing.T) {
	r := newRig(t, IngestOptions{}, HubOptions{PingInterval: 20 * time.Millisecond, PongTimeout: 50 * time.Millisecond})
	sub := r.subscribe("show") // not read: pongs are sent only by a reading client
	checkFor(t, 10*time.Second, func() error {
		if testutil.ToFloat64(r.metrics.SlowDisconnects.WithLabelValues("ping")) != 1 {
			return errors.New("no ping timeout counted")
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := readUntilClose(ctx, sub)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || !strings.Contains(ce.Reason, "fanout.pong_timeout") {
		t.Fatalf("silent subscriber: %v, want 1008 naming fanout.pong_timeout", err)
	}
}

// TestIngestNotReadingIsSlowNotRate: a client that sends refused lines
// and never reads its answers is closed as slow, not counted as rate.
func TestIngestNotReadingIsSlowNotRate(t *testing.T) {
	r := newRig(t, IngestOptions{}, HubOptions{})
	in := r.dial("/v1/ingest?stream=show")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	frame := []byte(strings.Repeat("not json\n", 1000))
	var err error
	for i := 0; i < 2000 && err == nil && testutil.ToFloat64(r.metrics.IngestClosed.WithLabelValues("slow")) == 0; i++ {
		err = in.Write(ctx, websocket.MessageText, frame)
	}
	checkFor(t, 10*time.Second, func() error {
		if testutil.ToFloat64(r.metrics.IngestClosed.WithLabelValues("slow")) != 1 {
			return fmt.Errorf("not closed as slow (rate %v, err %v)", testutil.ToFloat64(r.metrics.IngestClosed.WithLabelValues("rate")), err)
		}
		return nil
	})
	if v := testutil.ToFloat64(r.metrics.IngestClosed.WithLabelValues("rate")); v != 0 {
		t.Errorf("counted under rate %v times; the client was slow, not fast", v)
	}
}
