package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// fakeServer stands for the livemod server, which bench knows only by its
// wire contract: it acks every frame, refuses empty texts with an error
// frame and publishes a decision for every message it takes to moderator
// subscribers, several NDJSON lines to a frame.
type fakeServer struct {
	*httptest.Server
	token string

	mu    sync.Mutex
	subs  map[chan []byte]bool
	taken atomic.Int64
	conns atomic.Int64
	// dropAfter closes each ingest connection after that many messages
	// when non-zero.
	dropAfter int64
	// ackDelay holds each ack back after its frame's decisions are
	// published, as livemod gathers acks.
	ackDelay time.Duration
}

func newFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	f := &fakeServer{token: "s3cret", subs: map[chan []byte]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/ingest", f.ingest)
	mux.HandleFunc("GET /v1/subscribe", f.subscribe)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) url() string { return "ws" + strings.TrimPrefix(f.URL, "http") }

func (f *fakeServer) authorized(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		return false
	}
	return true
}

func (f *fakeServer) ingest(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) {
		return
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	f.conns.Add(1)
	ctx := r.Context()
	var n int64
	for {
		_, frame, err := c.Read(ctx)
		if err != nil {
			return
		}
		var upto string
		var acked int
		for line := range bytes.Lines(frame) {
			var m struct {
				ID     string `json:"id"`
				Stream string `json:"stream"`
				User   struct {
					ID   string `json:"id"`
					Name string `json:"name"`
				} `json:"user"`
				Text string `json:"text"`
			}
			if err := json.Unmarshal(line, &m); err != nil || strings.TrimSpace(m.Text) == "" {
				b, _ := json.Marshal(map[string]string{"type": "error", "id": m.ID, "error": "text: empty"})
				c.Write(ctx, websocket.MessageText, b)
				continue
			}
			// The user object comes first so that bench must tell its
			// "id" from the message's.
			d, _ := json.Marshal(struct {
				User   any      `json:"user"`
				ID     string   `json:"id"`
				Stream string   `json:"stream"`
				Text   string   `json:"text"`
				Labels []string `json:"labels"`
				Action string   `json:"action"`
			}{m.User, m.ID, m.Stream, m.Text, []string{}, "allow"})
			f.publish(d)
			f.taken.Add(1)
			upto = m.ID
			acked++
		}
		if acked > 0 {
			b, _ := json.Marshal(map[string]any{"type": "ack", "upto": upto, "n": acked})
			if f.ackDelay > 0 {
				// Later, from another goroutine: a connection closed
				// meanwhile never gets it, as with livemod's gathered acks.
				time.AfterFunc(f.ackDelay, func() { c.Write(ctx, websocket.MessageText, b) })
			} else if c.Write(ctx, websocket.MessageText, b) != nil {
				return
			}
		}
		n += int64(acked)
		if f.dropAfter > 0 && n >= f.dropAfter {
			c.Close(websocket.StatusGoingAway, "restarting")
			return
		}
	}
}

func (f *fakeServer) publish(d []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		ch <- d // buffered deep enough for the tests
	}
}

func (f *fakeServer) subscribe(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) || r.URL.Query().Get("view") != "moderator" {
		return
	}
	// Registered before the handshake completes, as a real hub would, so
	// that no decision after the dial is missed.
	ch := make(chan []byte, 1<<20)
	f.mu.Lock()
	f.subs[ch] = true
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.subs, ch)
		f.mu.Unlock()
	}()
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := c.CloseRead(r.Context())
	var frame []byte
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-ch:
			frame = append(frame[:0], d...)
			// Coalesce what is waiting, as the hub does.
			for more := true; more && len(frame) < 16<<10; {
				select {
				case d := <-ch:
					frame = append(append(frame, '\n'), d...)
				default:
					more = false
				}
			}
			if c.Write(ctx, websocket.MessageText, frame) != nil {
				return
			}
		}
	}
}

func TestRunOpenLoop(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	var progress bytes.Buffer
	rep, err := Run(t.Context(), Options{
		URL: srv.url(), Token: srv.token, Conns: 4, Rate: 1000,
		Duration: 1500 * time.Millisecond, Subscribe: true, Progress: &progress, Seed: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent == 0 || rep.Sent != rep.Decided || rep.Sent != rep.Acked || rep.Errors != 0 {
		t.Fatalf("sent %d acked %d decided %d errors %d", rep.Sent, rep.Acked, rep.Decided, rep.Errors)
	}
	if rep.Sent != 1500 { // the schedule: 4 conns, one frame each 4 ms, for 1.5 s
		t.Errorf("sent %d on a 1000/s schedule for 1.5s, want 1500", rep.Sent)
	}
	if rep.LatencyMS.P50 <= 0 || rep.LatencyMS.P50 > rep.LatencyMS.P99 || rep.LatencyMS.P99 > rep.LatencyMS.Max {
		t.Errorf("latency out of order: %+v", rep.LatencyMS)
	}
	// Every frame is written some time after its intended send time. (Not
	// compared with the latency: the writer reads its clock after the
	// write returns, and a descheduled writer may read it after the
	// decision came back.)
	if l := rep.SendLagMS; l.P50 <= 0 || l.P99 > l.Max {
		t.Errorf("send lag %+v, latency %+v", l, rep.LatencyMS)
	}
	var text bytes.Buffer
	rep.WriteText(&text)
	if !strings.Contains(text.String(), "send lag p99") {
		t.Errorf("text report without the send lag:\n%s", text.String())
	}
	if len(rep.Series) == 0 || !strings.Contains(progress.String(), "decided") {
		t.Errorf("no per-second samples (%d) or progress %q", len(rep.Series), progress.String())
	}
	checkJSONKeys(t, rep)
	checkOutputs(t, rep)
}

// TestRunWaitsForDelayedAcks: the acks of the last frames come after
// their decisions (the server gathers them); the bench waits for them
// before it closes, so every message sent is reported acked.
func TestRunWaitsForDelayedAcks(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	srv.ackDelay = 30 * time.Millisecond
	rep, err := Run(t.Context(), Options{
		URL: srv.url(), Token: srv.token, Conns: 2, Rate: 200,
		Duration: 300 * time.Millisecond, Subscribe: true, Seed: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent == 0 || rep.Sent != rep.Decided || rep.Sent != rep.Acked {
		t.Fatalf("sent %d acked %d decided %d", rep.Sent, rep.Acked, rep.Decided)
	}
}

func TestRunClosedLoopBatch(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	rep, err := Run(t.Context(), Options{
		URL: srv.url(), Token: srv.token, Conns: 2, Batch: 10,
		Duration: 500 * time.Millisecond, Subscribe: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent == 0 || rep.Sent%10 != 0 || rep.Sent != rep.Decided || rep.Sent != rep.Acked {
		t.Fatalf("sent %d acked %d decided %d", rep.Sent, rep.Acked, rep.Decided)
	}
	if rep.ThroughputPerS <= 0 {
		t.Fatalf("throughput %v", rep.ThroughputPerS)
	}
	checkJSONKeys(t, rep)
}

func TestRunAckLatencyWithoutSubscriber(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	rep, err := Run(t.Context(), Options{
		URL: srv.url(), Token: srv.token, Conns: 2, Rate: 400, Batch: 4, Duration: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 200 || rep.Acked != rep.Sent || rep.Decided != 0 {
		t.Fatalf("sent %d acked %d decided %d", rep.Sent, rep.Acked, rep.Decided)
	}
	if rep.LatencyMS.Max <= 0 {
		t.Fatalf("no ack latency: %+v", rep.LatencyMS)
	}
}

func TestRunRefusedToken(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	_, err := Run(t.Context(), Options{URL: srv.url(), Token: "wrong", Duration: time.Second, Subscribe: true})
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "token") {
		t.Fatalf("err = %v, want a 401 that says to fix the token", err)
	}
}

func TestRunStopsWithContext(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	rep, err := Run(ctx, Options{URL: srv.url(), Token: srv.token, Conns: 2, Rate: 100, Duration: time.Minute, Subscribe: true})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 10*time.Second || rep.Sent == 0 {
		t.Fatalf("took %v, sent %d", time.Since(start), rep.Sent)
	}
}

func checkJSONKeys(t *testing.T, rep *Report) {
	t.Helper()
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
	want := []string{"acked", "decided", "errors", "latency_ms", "seconds", "sent", "throughput_per_s", "windows"}
	if len(rep.SubsDecided) > 0 {
		want = []string{"acked", "decided", "errors", "latency_ms", "seconds", "sent", "subs_decided", "throughput_per_s", "windows"}
	}
	if !slices.Equal(keys, want) {
		t.Fatalf("report keys %v, want %v", keys, want)
	}
	var lat map[string]float64
	if err := json.Unmarshal(m["latency_ms"], &lat); err != nil {
		t.Fatal(err)
	}
	if len(lat) != 4 || lat["p50"] == 0 || lat["p99"] == 0 || lat["p999"] == 0 || lat["max"] == 0 {
		t.Fatalf("latency_ms %s, want p50, p99, p999, max", m["latency_ms"])
	}
}

func checkOutputs(t *testing.T, rep *Report) {
	t.Helper()
	var text, svg bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"sent", "decided", "p99.9", "throughput"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	if err := rep.WriteSVG(&svg); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(svg.Bytes()))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
	}
	if !strings.Contains(svg.String(), "<polyline") {
		t.Error("SVG has no lines")
	}
}

func TestFeedReconnects(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	srv.dropAfter = 5
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var log syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- Feed(ctx, FeedOptions{URL: srv.url(), Token: srv.token, Stream: "show", Rate: 200, Log: &log})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for srv.conns.Load() < 2 || srv.taken.Load() < 8 {
		if time.Now().After(deadline) {
			t.Fatalf("after 10s: %d connections, %d messages; log:\n%s", srv.conns.Load(), srv.taken.Load(), log.String())
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Feed returned %v on cancel", err)
	}
	if !strings.Contains(log.String(), "reconnecting") {
		t.Errorf("log does not mention the reconnect:\n%s", log.String())
	}
}

func TestFeedRefusedToken(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	err := Feed(t.Context(), FeedOptions{URL: srv.url(), Token: "wrong"})
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v, want 401", err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRunWindows: a run is cut into windows of Options.Window; their sent
// and decided add up to the run's, each window's latency is in order, and
// the JSON carries them as docs/WIRE.md says.
func TestRunWindows(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	rep, err := Run(t.Context(), Options{
		URL: srv.url(), Token: srv.token, Conns: 2, Rate: 400,
		Duration: 2500 * time.Millisecond, Subscribe: true, Seed: 1, Window: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Windows) < 3 {
		t.Fatalf("%d windows of 1s in a 2.5s run: %+v", len(rep.Windows), rep.Windows)
	}
	var sent, decided int64
	for i, w := range rep.Windows {
		sent += w.Sent
		decided += w.Decided
		if i < 2 && w.T != float64(i+1) {
			t.Errorf("window %d ends at %vs, want %ds", i, w.T, i+1)
		}
		if w.Decided > 0 && (w.P50 <= 0 || w.P50 > w.P99 || w.P99 > w.Max) {
			t.Errorf("window %d latency out of order: %+v", i, w)
		}
	}
	if sent != rep.Sent || decided != rep.Decided {
		t.Errorf("windows add up to sent %d decided %d; the run: %d, %d", sent, decided, rep.Sent, rep.Decided)
	}
	var buf bytes.Buffer
	rep.WriteJSON(&buf)
	var m struct {
		Windows []map[string]float64 `json:"windows"`
	}
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"t", "sent", "decided", "p50", "p99"} {
		if _, ok := m.Windows[0][k]; !ok {
			t.Errorf("window JSON %v without %q", m.Windows[0], k)
		}
	}
	var text bytes.Buffer
	rep.WriteText(&text)
	if !strings.Contains(text.String(), "window") || !strings.Contains(text.String(), "p99 ms") {
		t.Errorf("text report without windows:\n%s", text.String())
	}
	checkJSONKeys(t, rep)
}

// TestRunSubs: with several subscribers, each receives every decision.
func TestRunSubs(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	rep, err := Run(t.Context(), Options{
		URL: srv.url(), Token: srv.token, Conns: 2, Rate: 500,
		Duration: 600 * time.Millisecond, Subscribe: true, Subs: 3, Seed: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.SubsDecided) != 3 {
		t.Fatalf("subs_decided %v, want 3 counts", rep.SubsDecided)
	}
	for i, n := range rep.SubsDecided {
		if n != rep.Sent {
			t.Errorf("subscriber %d got %d decisions of %d sent", i+1, n, rep.Sent)
		}
	}
	checkJSONKeys(t, rep)
}
