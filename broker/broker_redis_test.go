package broker

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/livemod/livemod/internal/testenv"
)

// newRedisBroker returns a broker over its own client to r, closed when
// the test ends.
func newRedisBroker(t testing.TB, r *testenv.Redis, o RedisOptions) (*Redis, *redis.Client) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: r.Addr(), DialTimeout: time.Second, MaxRetries: -1})
	b := NewRedis(c, o)
	t.Cleanup(func() {
		_ = b.Close()
		_ = c.Close()
	})
	return b, c
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.lines)
}

// TestRedisSingleNode: the contract, one node over Redis.
func TestRedisSingleNode(t *testing.T) {
	r := testenv.StartRedis(t)
	b, _ := newRedisBroker(t, r, RedisOptions{NodeID: "a"})
	testBroker(t, b)
	waitFor(t, "the subscription", func() bool { return !b.Degraded() })
}

// twoNodes is a Broker made of two Redis brokers: it publishes on A and
// subscribes on B, and waits in each call until the effect is visible
// across them, so that testBroker's synchronous checks hold.
type twoNodes struct {
	t      *testing.T
	a, b   *Redis
	marker *recorder // B's subscriber of the marker topic
	seq    int
}

var markerTopic = Topic{"marker", ViewReplies} // a view testBroker never looks at

func newTwoNodes(t *testing.T) *twoNodes {
	r := testenv.StartRedis(t)
	a, _ := newRedisBroker(t, r, RedisOptions{NodeID: "a"})
	b, _ := newRedisBroker(t, r, RedisOptions{NodeID: "b", Owner: func(string) (string, bool) { return "a", false }})
	n := &twoNodes{t: t, a: a, b: b, marker: &recorder{}}
	b.Subscribe(markerTopic, n.marker)
	waitFor(t, "A to see B's marker subscriber", func() bool {
		return a.Subscribers(markerTopic.Stream, markerTopic.View) == 1 && !a.Degraded() && !b.Degraded()
	})
	return n
}

// sync publishes a marker on A and waits for it on B: lines A published
// to B before it have been delivered there (one channel, in order).
func (n *twoNodes) sync() {
	n.seq++
	want := strconv.Itoa(n.seq)
	n.a.Publish(markerTopic.Stream, markerTopic.View, []byte(want))
	waitFor(n.t, "marker "+want, func() bool {
		l := n.marker.all()
		return len(l) > 0 && l[len(l)-1] == want
	})
}

func (n *twoNodes) Publish(s string, v View, line []byte) { n.a.Publish(s, v, line); n.sync() }
func (n *twoNodes) PublishLines(s string, v View, lines []byte) {
	n.a.PublishLines(s, v, lines)
	n.sync()
}
func (n *twoNodes) Watched(v View) bool              { return n.a.Watched(v) }
func (n *twoNodes) Subscribers(s string, v View) int { return n.a.Subscribers(s, v) }
func (n *twoNodes) Subscribe(t Topic, s Subscriber) {
	n.b.Subscribe(t, s)
	n.settle(t)
}
func (n *twoNodes) Unsubscribe(t Topic, s Subscriber) {
	n.b.Unsubscribe(t, s)
	n.settle(t)
}

// settle waits until A counts B's subscribers of t.
func (n *twoNodes) settle(t Topic) {
	want := n.b.local.Subscribers(t.Stream, t.View)
	waitFor(n.t, fmt.Sprintf("A to count %d subscribers of %v", want, t), func() bool { return n.a.Subscribers(t.Stream, t.View) == want })
}
func (n *twoNodes) AddSnapshot(f SnapshotFunc)         { n.a.AddSnapshot(f) }
func (n *twoNodes) Snapshot(s string, v View) [][]byte { return n.b.Snapshot(s, v) }

// TestRedisTwoNodesContract: the contract with the subscribers on B, the
// publisher on A and the snapshots asked of A (the owner) by B.
func TestRedisTwoNodesContract(t *testing.T) { testBroker(t, newTwoNodes(t)) }

// TestRedisTwoNodesOrder: every line published on A reaches B's
// subscribers once and in order, Publish and PublishLines mixed, while
// other topics are published at once; a node never delivers its own line
// twice although each node watches the topic (and so is the other's
// remote watcher).
func TestRedisTwoNodesOrder(t *testing.T) {
	n := newTwoNodes(t)
	a, b := n.a, n.b
	onA, onB1, onB2, other := &recorder{}, &recorder{}, &recorder{}, &recorder{}
	topic := Topic{"show", ViewModerator}
	a.Subscribe(topic, onA)
	b.Subscribe(topic, onB1)
	b.Subscribe(topic, onB2)
	b.Subscribe(Topic{"other", ViewOverlay}, other)
	waitFor(t, "A to see B's two subscribers", func() bool { return a.Subscribers("show", ViewModerator) == 3 })
	waitFor(t, "B to see A's subscriber", func() bool { return b.Subscribers("show", ViewModerator) == 3 })

	const total = 20000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // noise on another topic, from another goroutine
		defer wg.Done()
		for i := range 5000 {
			a.Publish("other", ViewOverlay, []byte(strconv.Itoa(i)))
		}
	}()
	var batch []byte
	for i := 0; i < total; {
		if i%7 == 0 {
			batch = batch[:0]
			for k := 0; k < 5 && i < total; k++ {
				batch = append(strconv.AppendInt(batch, int64(i), 10), '\n')
				i++
			}
			a.PublishLines("show", ViewModerator, batch)
			continue
		}
		a.Publish("show", ViewModerator, []byte(strconv.Itoa(i)))
		i++
	}
	b.Publish("show", ViewModerator, []byte("from-b")) // B's own line: once on B, once on A
	wg.Wait()
	n.sync()
	waitFor(t, "A's subscriber to get B's line", func() bool { return onA.len() == total+1 })
	for name, r := range map[string]*recorder{"A": onA, "B1": onB1, "B2": onB2} {
		got := r.all()
		if len(got) != total+1 {
			t.Fatalf("%s got %d lines, want %d", name, len(got), total+1)
		}
		seen := 0
		for _, l := range got {
			if l == "from-b" {
				continue
			}
			if l != strconv.Itoa(seen) {
				t.Fatalf("%s: line %d is %q", name, seen, l)
			}
			seen++
		}
	}
	if got := other.len(); got != 5000 {
		t.Errorf("B's other subscriber got %d of 5000", got)
	}
	if s := a.Stats(); s.Dropped != 0 || s.QueuedLines != 0 {
		t.Errorf("A's stats after the run: %+v", s)
	}
}

// TestRedisWatchedRemote: A learns that B subscribes (Watched,
// Subscribers) and unsubscribes; a node that starts later loads the
// watches from Redis.
func TestRedisWatchedRemote(t *testing.T) {
	r := testenv.StartRedis(t)
	a, _ := newRedisBroker(t, r, RedisOptions{NodeID: "a"})
	b, _ := newRedisBroker(t, r, RedisOptions{NodeID: "b"})
	waitFor(t, "both subscribed", func() bool { return !a.Degraded() && !b.Degraded() })
	if a.Watched(ViewAgent) {
		t.Fatal("agent view watched before anyone subscribed")
	}
	s1, s2 := &recorder{}, &recorder{}
	b.Subscribe(Topic{"x", ViewAgent}, s1)
	b.Subscribe(Topic{"x", ViewAgent}, s2)
	waitFor(t, "A.Watched(agent)", func() bool { return a.Watched(ViewAgent) && a.Subscribers("x", ViewAgent) == 2 })
	if a.Watched(ViewOverlay) || a.Subscribers("y", ViewAgent) != 0 {
		t.Error("A sees watches B does not have")
	}
	c, _ := newRedisBroker(t, r, RedisOptions{NodeID: "c"})
	waitFor(t, "C to load B's watches", func() bool { return c.Subscribers("x", ViewAgent) == 2 })
	b.Unsubscribe(Topic{"x", ViewAgent}, s1)
	b.Unsubscribe(Topic{"x", ViewAgent}, s2)
	waitFor(t, "A to see B leave", func() bool { return !a.Watched(ViewAgent) && a.Subscribers("x", ViewAgent) == 0 })
	b.Subscribe(Topic{"x", ViewAgent}, s1)
	waitFor(t, "C to see B again", func() bool { return c.Subscribers("x", ViewAgent) == 1 })
	_ = b.Close() // a node that closes takes its watches with it
	waitFor(t, "C to see B close", func() bool { return !c.Watched(ViewAgent) })
}

// TestRedisSnapshotFromOwner: a subscriber on B of a stream A owns gets
// A's snapshot, then the live lines; with A publishing all along, no line
// is lost between the snapshot and the live lines (some come in both:
// pages dedupe by id) and the order holds.
func TestRedisSnapshotFromOwner(t *testing.T) {
	r := testenv.StartRedis(t)
	a, _ := newRedisBroker(t, r, RedisOptions{NodeID: "a"})
	owner := func(s string) (string, bool) {
		if s == "nobody-owns" {
			return "gone", false
		}
		return "a", false
	}
	b, _ := newRedisBroker(t, r, RedisOptions{NodeID: "b", Owner: owner})
	waitFor(t, "both subscribed", func() bool { return !a.Degraded() && !b.Degraded() })

	// A records each line before it publishes it, as the desks do; its
	// snapshot is every line recorded so far.
	var mu sync.Mutex
	var recorded []string
	a.AddSnapshot(func(s string, v View) [][]byte {
		mu.Lock()
		defer mu.Unlock()
		out := make([][]byte, len(recorded))
		for i, l := range recorded {
			out[i] = []byte(l)
		}
		return out
	})
	b.AddSnapshot(func(string, View) [][]byte { return [][]byte{[]byte("B's own: not the owner's")} })
	started := make(chan struct{})
	done := make(chan struct{})
	var stop atomic.Bool
	total := 0
	go func() { // until told to stop, after B got live lines
		defer close(done)
		for i := 0; !stop.Load(); i++ {
			l := strconv.Itoa(i)
			mu.Lock()
			recorded = append(recorded, l)
			mu.Unlock()
			a.Publish("show", ViewModerator, []byte(l))
			total = i + 1
			if i == 1000 {
				close(started)
			}
		}
	}()
	<-started
	sub := &recorder{}
	b.Subscribe(Topic{"show", ViewModerator}, sub) // as stream.Hub: subscribe, then snapshot
	snap := b.Snapshot("show", ViewModerator)
	waitFor(t, "live lines on B", func() bool { return sub.len() >= 200 })
	stop.Store(true)
	<-done
	t.Logf("snapshot: %d lines, then %d published", len(snap), total)
	if len(snap) < 1000 {
		t.Fatalf("snapshot has %d lines, want at least 1000", len(snap))
	}
	var seq []string
	for _, l := range snap {
		seq = append(seq, string(l))
	}
	waitFor(t, "the last line on B", func() bool {
		l := sub.all()
		return len(l) > 0 && l[len(l)-1] == strconv.Itoa(total-1)
	})
	seq = append(seq, sub.all()...)
	next := 0
	for _, l := range seq {
		i, err := strconv.Atoi(l)
		if err != nil {
			t.Fatalf("line %q", l)
		}
		switch {
		case i < next: // in the snapshot and live: deduped by id
		case i == next:
			next++
		default:
			t.Fatalf("line %d lost (next came %d); snapshot %d lines", next, i, len(snap))
		}
	}
	if next != total {
		t.Fatalf("got %d of %d lines", next, total)
	}
	if got := b.Snapshot("nobody-owns", ViewModerator); got != nil {
		t.Errorf("snapshot of a stream whose owner is gone: %q", got)
	}
	if got := fmt.Sprintf("%q", a.Snapshot("show", ViewOverlay)); !strings.HasPrefix(got, `["0" "1"`) {
		t.Errorf("A's own snapshot: %.40s", got)
	}
}

// TestRedisOutage: Redis stopped mid-stream: A's local subscriber keeps
// getting every line, the lines for B queue within the bound and the rest
// are dropped and counted, A and B say degraded; Redis back (having lost
// the watch set): the subscriptions and the watch set are restored
// without a restart and lines reach B again.
func TestRedisOutage(t *testing.T) {
	r := testenv.StartRedis(t)
	reg := prometheus.NewRegistry()
	const maxQueue = 1000
	a, ca := newRedisBroker(t, r, RedisOptions{NodeID: "a", MaxQueue: maxQueue, Registerer: reg})
	b, _ := newRedisBroker(t, r, RedisOptions{NodeID: "b"})
	topic := Topic{"show", ViewModerator}
	onA, onB := &recorder{}, &recorder{}
	a.Subscribe(topic, onA)
	b.Subscribe(topic, onB)
	waitFor(t, "A to see B", func() bool { return a.Subscribers("show", ViewModerator) == 2 })
	n := 0
	publish := func(k int) {
		for range k {
			a.Publish("show", ViewModerator, []byte(strconv.Itoa(n)))
			n++
		}
	}
	publish(100)
	waitFor(t, "100 lines on B", func() bool { return onB.len() == 100 })

	if err := ca.FlushAll(context.Background()).Err(); err != nil { // Redis will come back without the watch set
		t.Fatal(err)
	}
	r.Stop()
	waitFor(t, "A degraded", a.Degraded)
	publish(5000)
	if got := onA.len(); got != 5100 {
		t.Fatalf("A's local subscriber got %d of 5100 during the outage", got)
	}
	s := a.Stats()
	if s.QueuedLines > maxQueue || s.Dropped < 5000-maxQueue {
		t.Fatalf("during the outage: %+v (bound %d)", s, maxQueue)
	}
	if got := testutil.ToFloat64(a.m.droppedFull); got < 5000-maxQueue {
		t.Errorf("livemod_broker_redis_dropped_total{reason=queue_full} = %v", got)
	}
	if got := gauge(t, reg, "livemod_broker_redis_queue_lines"); got > maxQueue || got < 1 {
		t.Errorf("livemod_broker_redis_queue_lines = %v", got)
	}
	if got := gauge(t, reg, "livemod_broker_redis_degraded"); got != 1 {
		t.Errorf("livemod_broker_redis_degraded = %v", got)
	}

	r.Start()
	waitFor(t, "A and B back", func() bool { return !a.Degraded() && !b.Degraded() })
	c, _ := newRedisBroker(t, r, RedisOptions{NodeID: "c"})
	waitFor(t, "C to load A's and B's restored watches", func() bool { return c.Subscribers("show", ViewModerator) == 2 })
	waitFor(t, "A's queue to drain", func() bool { return a.Stats().QueuedLines == 0 })
	before := n
	publish(100)
	last := strconv.Itoa(n - 1)
	waitFor(t, "lines on B after Redis came back", func() bool {
		l := onB.all()
		return len(l) > 0 && l[len(l)-1] == last
	})
	// On B: the 100 before the outage, some of the queued ones, the 100
	// after; each once, in order.
	got := onB.all()
	prev := -1
	for _, l := range got {
		i, _ := strconv.Atoi(l)
		if i <= prev {
			t.Fatalf("B got %d after %d", i, prev)
		}
		prev = i
	}
	if len(got) < 200 || got[99] != "99" || got[len(got)-100] != strconv.Itoa(before) {
		t.Fatalf("B got %d lines: %v … %v", len(got), got[:3], got[len(got)-3:])
	}
	t.Logf("B got %d lines, %d of the 5000 published during the outage; A dropped %d", len(got), len(got)-200, a.Stats().Dropped)
}

func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// counter is a Subscriber that counts lines.
type counter struct{ n atomic.Int64 }

func (c *counter) Push([]byte) { c.n.Add(1) }
func (c *counter) PushLines(lines []byte) {
	c.n.Add(int64(strings.Count(string(lines), "\n")))
}

// BenchmarkRedisPublish: lines per second from a publisher on A to a
// subscriber on B through a real redis-server, counted when B delivered
// them; the publisher waits while A's queue is more than half full
// (sustained rate, nothing dropped).
func BenchmarkRedisPublish(b *testing.B) {
	for _, per := range []int{1, 64} {
		b.Run(fmt.Sprintf("lines=%d", per), func(b *testing.B) {
			r := testenv.StartRedis(b)
			const maxQueue = 200_000
			na, _ := newRedisBroker(b, r, RedisOptions{NodeID: "a", MaxQueue: maxQueue})
			nb, _ := newRedisBroker(b, r, RedisOptions{NodeID: "b"})
			sub := &counter{}
			nb.Subscribe(Topic{"show", ViewModerator}, sub)
			waitFor(b, "A to see B", func() bool { return na.Watched(ViewModerator) })
			line := []byte(`{"id":"m-1","stream":"show","user":"u1","action":"allow","text":"hello there"}`)
			batch := []byte(strings.Repeat(string(line)+"\n", per))
			b.ReportAllocs()
			b.SetBytes(int64(len(batch)))
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if per == 1 {
					na.Publish("show", ViewModerator, line)
				} else {
					na.PublishLines("show", ViewModerator, batch)
				}
				if i%64 == 0 {
					for na.Stats().QueuedLines > maxQueue/2 {
						time.Sleep(20 * time.Microsecond)
					}
				}
			}
			want := int64(b.N * per)
			waitFor(b, "B to get every line", func() bool { return sub.n.Load() >= want })
			el := time.Since(start)
			b.StopTimer()
			if s := na.Stats(); s.Dropped != 0 {
				b.Fatalf("dropped %d", s.Dropped)
			}
			b.ReportMetric(float64(want)/el.Seconds(), "lines/s")
		})
	}
}

// FuzzRedisDispatch: whatever arrives on a node's channels, the broker
// does not panic, and what it knows of remote watches stays consistent
// (the pair count and the per-view counts match the map).
func FuzzRedisDispatch(f *testing.F) {
	peer := newRedis(nil, RedisOptions{NodeID: "peer"})
	lines := []byte{wireVersion, kindLines}
	lines = appendString(lines, "peer")
	lines = appendString(lines, "show")
	lines = append(lines, byte(ViewModerator))
	lines = appendBytes(lines, []byte("{\"id\":\"m-1\"}\n{\"id\":\"m-2\"}\n"))
	f.Add("lm:bk:n:self", lines)
	f.Add("lm:bk:watch", peer.encodeWatch(0, 5, []watchRec{{Topic{"show", ViewAgent}, 2}, {Topic{"x", ViewOverlay}, 0}}))
	f.Add("lm:bk:watch", peer.encodeWatch(watchFull|watchHello, 9, []watchRec{{Topic{"show", ViewModerator}, 1}}))
	req := []byte{wireVersion, kindSnapReq}
	req = appendUvarint(appendString(req, "peer"), 7)
	req = appendUvarint(append(appendString(append(req, byte(ViewOverlay)), "show"), 1), 6)
	f.Add("lm:bk:n:self", req)
	reply := appendUvarint(appendUvarint(appendString([]byte{wireVersion, kindSnapReply}, "peer"), 1), 1)
	f.Add("lm:bk:n:self", appendBytes(reply, []byte("line")))
	f.Fuzz(func(t *testing.T, channel string, payload []byte) {
		b := newRedis(nil, RedisOptions{NodeID: "self"})
		sub := &recorder{}
		b.local.Subscribe(Topic{"show", ViewModerator}, sub)
		ch := make(chan [][]byte, 1)
		b.pending[1] = ch
		b.dispatch(channel, string(payload))
		b.dispatch(channel, string(payload)) // twice: notices are idempotent
		pairs, views := 0, [NumViews]int64{}
		for i := range b.remote {
			for top, nodes := range b.remote[i].m {
				if len(nodes) == 0 {
					t.Fatalf("topic %v kept with no node", top)
				}
				for _, c := range nodes {
					if c <= 0 {
						t.Fatalf("topic %v: count %d kept", top, c)
					}
				}
				pairs += len(nodes)
				views[top.View] += int64(len(nodes))
			}
		}
		if int64(pairs) != b.remotePair.Load() {
			t.Fatalf("pairs %d, counted %d", pairs, b.remotePair.Load())
		}
		for v := range NumViews {
			if views[v] != b.remoteView[v].Load() {
				t.Fatalf("view %v: %d pairs, counted %d", v, views[v], b.remoteView[v].Load())
			}
		}
	})
}

// TestRedisStartsWithoutRedis: a broker made while Redis is down serves
// its local subscribers, says degraded, bounds its queue in bytes, and
// joins the other node once Redis is up.
func TestRedisStartsWithoutRedis(t *testing.T) {
	r := testenv.StartRedis(t)
	b, _ := newRedisBroker(t, r, RedisOptions{NodeID: "b"})
	onB := &recorder{}
	b.Subscribe(Topic{"show", ViewModerator}, onB)
	waitFor(t, "B subscribed", func() bool { return !b.Degraded() })
	r.Stop()
	a, _ := newRedisBroker(t, r, RedisOptions{NodeID: "a", MaxQueueBytes: 4096})
	onA := &recorder{}
	a.Subscribe(Topic{"show", ViewModerator}, onA)
	a.Publish("show", ViewModerator, []byte("local"))
	if !a.Degraded() || onA.got() != "local" {
		t.Fatalf("degraded %v, local subscriber got %q", a.Degraded(), onA.got())
	}
	r.Start()
	waitFor(t, "A to see B", func() bool { return a.Subscribers("show", ViewModerator) == 2 && !a.Degraded() })
	big := []byte(strings.Repeat("x", 3000))
	a.Publish("show", ViewModerator, big)
	a.Publish("show", ViewModerator, big) // may find the first still queued: over 4096 bytes, dropped
	a.Publish("show", ViewModerator, []byte("last"))
	waitFor(t, "the last line on B", func() bool {
		l := onB.all()
		return len(l) > 0 && l[len(l)-1] == "last"
	})
	// A releases the message when Redis's reply comes, which may be after
	// B got it.
	waitFor(t, "A's queue empty", func() bool { s := a.Stats(); return s.QueuedBytes == 0 && s.QueuedLines == 0 })
	if s := a.Stats(); uint64(onB.len())+s.Dropped != 3 {
		t.Fatalf("B got %d lines; A's stats %+v", onB.len(), s)
	}
}

// TestRedisDeafNode: a node that stops listening (its subscription gone,
// as when it is killed) is heard by nobody: A keeps its lines for 2 s,
// then drops and counts them and forgets the node's watches, so that its
// publishers skip lines nobody reads.
func TestRedisDeafNode(t *testing.T) {
	r := testenv.StartRedis(t)
	a, _ := newRedisBroker(t, r, RedisOptions{NodeID: "a"})
	b, _ := newRedisBroker(t, r, RedisOptions{NodeID: "b"})
	b.Subscribe(Topic{"show", ViewAgent}, &recorder{})
	waitFor(t, "A to see B", func() bool { return a.Watched(ViewAgent) })
	_ = b.ps.Close() // B hears nothing any more
	waitFor(t, "B degraded", b.Degraded)
	for i := 0; a.Watched(ViewAgent); i++ {
		if i > 5000 {
			t.Fatal("A still sends to B after 10 s")
		}
		a.Publish("show", ViewAgent, []byte("x"))
		time.Sleep(2 * time.Millisecond)
	}
	if got := testutil.ToFloat64(a.m.droppedDeaf); got < 1 {
		t.Errorf("dropped{no_receiver} = %v", got)
	}
	waitFor(t, "A's queue to drain", func() bool { return a.Stats().QueuedLines == 0 })
}
