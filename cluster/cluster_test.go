package cluster

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livemod/livemod/internal/testenv"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
)

// open starts a Node on r with a short lease, closed when the test ends.
func open(t testing.TB, r *testenv.Redis, id string, ttl time.Duration, mod ...func(*Options)) *Node {
	t.Helper()
	o := Options{URL: r.URL(), NodeID: id, Advertise: "http://" + id + ".test", LeaseTTL: ttl, Registerer: prometheus.NewRegistry()}
	for _, f := range mod {
		f(&o)
	}
	n, err := Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// crash stops n as SIGKILL would: no release, no flush, no commit.
func (n *Node) crash(t testing.TB) {
	n.closed.Store(true)
	n.cancel()
	_ = n.rdb.Close()
	t.Cleanup(n.wg.Wait)
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func client(t testing.TB, r *testenv.Redis) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: r.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// sink collects consumed lines per stream.
type sink struct {
	mu    sync.Mutex
	lines map[string][]string
}

func (s *sink) consume(stream string, lines [][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lines == nil {
		s.lines = map[string][]string{}
	}
	for _, l := range lines {
		s.lines[stream] = append(s.lines[stream], string(l))
	}
	return nil
}

func (s *sink) get(stream string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lines[stream])
}

func seq(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

func TestOpenBadURL(t *testing.T) {
	for _, u := range []string{"", "http://x", "redis://h:notaport/0"} {
		if _, err := Open(context.Background(), Options{URL: u}); err == nil {
			t.Errorf("Open(%q): no error", u)
		}
	}
}

// TestOwnerRace: two nodes, many goroutines each, racing for the same
// streams: every caller on both nodes agrees on one owner per stream, and
// exactly one node says "self".
func TestOwnerRace(t *testing.T) {
	r := testenv.StartRedis(t)
	nodes := []*Node{open(t, r, "a", 5*time.Second), open(t, r, "b", 5*time.Second)}
	const streams, workers = 40, 16
	var acquired [2]atomic.Int64
	for i, n := range nodes {
		n.OnAcquire(func(context.Context, string) error { acquired[i].Add(1); return nil })
	}
	type seen struct {
		owner string
		self  bool
	}
	var mu sync.Mutex
	got := map[string]map[int][]seen{} // stream → node → answers
	var wg sync.WaitGroup
	for ni, n := range nodes {
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for s := range streams {
					st := "s" + strconv.Itoa((s+w)%streams)
					p, self := n.Owner(st)
					mu.Lock()
					if got[st] == nil {
						got[st] = map[int][]seen{}
					}
					got[st][ni] = append(got[st][ni], seen{p.ID, self})
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	c := client(t, r)
	for st, byNode := range got {
		holder, err := c.Get(context.Background(), "lm:lease:"+st).Result()
		if err != nil {
			t.Fatalf("%s: lease: %v", st, err)
		}
		selves := 0
		for ni, answers := range byNode {
			for _, a := range answers {
				if a.owner != holder || a.self != (nodes[ni].ID() == holder) {
					t.Fatalf("%s: node %s answered %+v, lease held by %s", st, nodes[ni].ID(), a, holder)
				}
			}
			if answers[0].self {
				selves++
			}
		}
		if selves != 1 {
			t.Errorf("%s: %d nodes say they own it", st, selves)
		}
	}
	if a, b := acquired[0].Load(), acquired[1].Load(); a+b != streams {
		t.Errorf("OnAcquire ran %d+%d times for %d streams", a, b, streams)
	}
	if n := len(nodes[0].Owned()) + len(nodes[1].Owned()); n != streams {
		t.Errorf("owned %d streams in all, want %d", n, streams)
	}
	// The addresses come from the heartbeat.
	p, self := nodes[1].Owner(nodes[0].Owned()[0])
	if self || p.Addr != "http://a.test" {
		t.Errorf("owner seen from b: %+v self=%v", p, self)
	}
}

// TestForwardInOrder: lines forwarded by B reach owner A once, in order,
// whether queued (Forward) or acknowledged (ForwardSync).
func TestForwardInOrder(t *testing.T) {
	r := testenv.StartRedis(t)
	a, b := open(t, r, "a", 5*time.Second), open(t, r, "b", 5*time.Second)
	var got sink
	a.Consume(got.consume)
	if _, self := a.Owner("show"); !self {
		t.Fatal("a does not own a fresh stream")
	}
	if p, self := b.Owner("show"); self || p.ID != "a" {
		t.Fatalf("b sees owner %+v self=%v", p, self)
	}
	const total = 20000
	for i := range total / 2 {
		if err := b.Forward("show", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	var batch [][]byte
	for i := total / 2; i < total; i++ {
		batch = append(batch, []byte(strconv.Itoa(i)))
		if len(batch) == 100 {
			if err := b.ForwardSync(context.Background(), "show", batch); err != nil {
				t.Fatal(err)
			}
			batch = nil
		}
	}
	waitFor(t, 10*time.Second, "a got every line", func() bool { return len(got.get("show")) >= total })
	if lines := got.get("show"); !slices.Equal(lines, seq(0, total)) {
		t.Fatalf("a got %d lines, not 0…%d in order", len(lines), total-1)
	}
	if v := testutil.ToFloat64(b.m.forwarded); v != total {
		t.Errorf("forwarded_total %v", v)
	}
	// The committed position trims the log.
	c := client(t, r)
	waitFor(t, 5*time.Second, "committed position", func() bool {
		pos, _ := c.Get(context.Background(), "lm:pos:show").Result()
		last, _ := c.XRevRangeN(context.Background(), "lm:in:show", "+", "-", 1).Result()
		return len(last) == 1 && pos == last[0].ID
	})
}

// TestCloseTakeover: A closes; B, which has seen the stream, takes it over
// within the TTL, running OnAcquire before Owner says self.
func TestCloseTakeover(t *testing.T) {
	r := testenv.StartRedis(t)
	const ttl = 3 * time.Second
	a, b := open(t, r, "a", ttl), open(t, r, "b", ttl)
	var released atomic.Bool
	a.OnRelease(func(s string) { released.Store(s == "show") })
	a.Owner("show")
	var acquiredAt atomic.Int64
	var ownerDuring atomic.Value
	b.OnAcquire(func(_ context.Context, s string) error {
		p, self := b.Owner(s) // must not yet be self
		ownerDuring.Store(fmt.Sprintf("%s %v", p.ID, self))
		acquiredAt.Store(time.Now().UnixNano())
		return nil
	})
	if p, _ := b.Owner("show"); p.ID != "a" {
		t.Fatalf("owner %v", p)
	}
	start := time.Now()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if !released.Load() {
		t.Error("OnRelease did not run on Close")
	}
	waitFor(t, ttl, "b owns the stream within the TTL", func() bool { _, self := b.Owner("show"); return self })
	t.Logf("takeover after %v", time.Since(start))
	if acquiredAt.Load() == 0 {
		t.Fatal("OnAcquire did not run")
	}
	if got := ownerDuring.Load(); got != "a false" {
		t.Errorf("during OnAcquire Owner said %v", got)
	}
	if v := testutil.ToFloat64(b.m.takeovers); v != 1 {
		t.Errorf("takeovers_total %v", v)
	}
	if a.Close() != ErrClosed {
		t.Error("second Close")
	}
}

// TestCrashTakeover: A dies mid-batch without releasing anything; B takes
// the stream over after the TTL and resumes after A's committed position:
// nothing lost, and the only lines seen twice are A's uncommitted batch.
func TestCrashTakeover(t *testing.T) {
	r := testenv.StartRedis(t)
	const ttl = time.Second
	a, b := open(t, r, "a", ttl), open(t, r, "b", ttl)
	var aMu sync.Mutex
	var aDone, aStuck []string
	stuck := make(chan struct{})
	unblock := make(chan struct{})
	a.Consume(func(_ string, lines [][]byte) error {
		aMu.Lock()
		if len(aDone) < 100 {
			for _, l := range lines {
				aDone = append(aDone, string(l))
			}
			aMu.Unlock()
			return nil
		}
		for _, l := range lines {
			aStuck = append(aStuck, string(l))
		}
		aMu.Unlock()
		close(stuck) // the process "dies" while handling this batch
		<-unblock
		return errors.New("dead")
	})
	var bGot sink
	b.Consume(bGot.consume)
	a.Owner("show")
	if p, _ := b.Owner("show"); p.ID != "a" {
		t.Fatalf("owner %v", p)
	}
	next := 0
	for blocked := false; !blocked; {
		if next > 100000 {
			t.Fatal("a never took a second batch")
		}
		var batch [][]byte
		for range 10 {
			batch = append(batch, []byte(strconv.Itoa(next)))
			next++
		}
		if err := b.ForwardSync(context.Background(), "show", batch); err != nil {
			t.Fatal(err)
		}
		select {
		case <-stuck:
			blocked = true
		case <-time.After(2 * time.Millisecond):
		}
	}
	a.crash(t)
	close(unblock)
	const more = 500
	for range more {
		if err := b.Forward("show", []byte(strconv.Itoa(next))); err != nil {
			t.Fatal(err)
		}
		next++
	}
	waitFor(t, 10*ttl, "b took over", func() bool { _, self := b.Owner("show"); return self })
	aMu.Lock()
	done, dup := slices.Clone(aDone), slices.Clone(aStuck)
	aMu.Unlock()
	waitFor(t, 10*time.Second, "b consumed the rest", func() bool { return len(bGot.get("show")) >= next-len(done) })
	if !slices.Equal(done, seq(0, len(done))) {
		t.Fatalf("a handled %v", done)
	}
	if got := bGot.get("show"); !slices.Equal(got, seq(len(done), next)) {
		t.Fatalf("b resumed with %d lines from %v, want %d…%d", len(got), got[:min(3, len(got))], len(done), next-1)
	}
	if len(dup) == 0 || dup[0] != strconv.Itoa(len(done)) {
		t.Errorf("a's uncommitted batch %v does not follow its committed lines", dup[:min(3, len(dup))])
	}
	t.Logf("a committed %d lines, %d redelivered to b (a's uncommitted batch), %d after", len(done), len(dup), next-len(done)-len(dup))
}

// TestMapReplicates: a write on A is applied on B within a second; so is
// a deletion.
func TestMapReplicates(t *testing.T) {
	r := testenv.StartRedis(t)
	a, b := open(t, r, "a", 5*time.Second), open(t, r, "b", 5*time.Second)
	ma := a.Map("bans", nil)
	var applied sync.Map
	mb := b.Map("bans", func(k string, v []byte) { applied.Store(k, v) })
	ctx := context.Background()
	start := time.Now()
	if err := ma.Set(ctx, "u1", []byte("ban")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "b has the ban", func() bool { v, ok := mb.Get("u1"); return ok && string(v) == "ban" })
	t.Logf("applied on b after %v", time.Since(start))
	if v, _ := applied.Load("u1"); string(v.([]byte)) != "ban" {
		t.Errorf("apply got %q", v)
	}
	if v, ok := ma.Get("u1"); !ok || string(v) != "ban" {
		t.Error("a does not have its own write")
	}
	if err := mb.Delete(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "a has the deletion", func() bool { return ma.Len() == 0 })
	if v, _ := applied.Load("u1"); v.([]byte) != nil {
		t.Error("apply did not get nil for the deletion")
	}
	// A map opened later loads what is there.
	if err := ma.Set(ctx, "u2", []byte("x")); err != nil {
		t.Fatal(err)
	}
	c := open(t, r, "c", 5*time.Second)
	if mc := c.Map("bans", nil); mc.Len() != 1 {
		t.Errorf("late map has %d keys", mc.Len())
	}
}

// TestMapResyncAfterReconnect: a write B never heard of (its pub/sub
// connection was cut) is picked up by the HGETALL after reconnecting.
func TestMapResyncAfterReconnect(t *testing.T) {
	r := testenv.StartRedis(t)
	b := open(t, r, "b", 5*time.Second)
	mb := b.Map("optouts", nil)
	c := client(t, r)
	ctx := context.Background()
	if err := c.HSet(ctx, "lm:map:optouts", "u9", "1").Err(); err != nil { // no notice
		t.Fatal(err)
	}
	if err := c.ClientKillByFilter(ctx, "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "b resynced", func() bool { _, ok := mb.Get("u9"); return ok })
}

// TestRedisOutage: Redis stops mid-stream: both nodes become degraded and
// decide for themselves; forwarded lines and map writes are queued; when
// Redis is back they are written, the owner gets every line in order,
// each node sees the other's writes, and nothing was restarted.
func TestRedisOutage(t *testing.T) {
	r := testenv.StartRedis(t)
	a, b := open(t, r, "a", 2*time.Second), open(t, r, "b", 2*time.Second)
	var got sink
	a.Consume(got.consume)
	ma, mb := a.Map("timeouts", nil), b.Map("timeouts", nil)
	a.Owner("show")
	b.Owner("show")
	ctx := context.Background()
	next := 0
	for range 1000 {
		if err := b.Forward("show", []byte(strconv.Itoa(next))); err != nil {
			t.Fatal(err)
		}
		next++
	}
	r.Stop()
	start := time.Now()
	waitFor(t, 1500*time.Millisecond, "both degraded within ~1s", func() bool { return a.Degraded() && b.Degraded() })
	t.Logf("degraded after %v", time.Since(start))
	if v := testutil.ToFloat64(a.m.degraded); v != 1 {
		t.Errorf("degraded gauge %v", v)
	}
	if _, self := b.Owner("show"); !self {
		t.Error("degraded b does not decide show itself")
	}
	for range 1000 {
		if err := b.Forward("show", []byte(strconv.Itoa(next))); err != nil {
			t.Fatal(err)
		}
		next++
	}
	if q := b.fwd.lines.Load(); q == 0 {
		t.Error("nothing queued while Redis is down")
	}
	if err := ma.Set(ctx, "u1", []byte("600")); err != nil {
		t.Fatal(err)
	}
	if err := mb.Set(ctx, "u2", []byte("60")); err != nil {
		t.Fatal(err)
	}
	if _, ok := ma.Get("u1"); !ok {
		t.Error("write not applied locally while degraded")
	}
	if a.maps.qlen.Load() != 1 {
		t.Errorf("map queue %d", a.maps.qlen.Load())
	}
	if _, err := a.ReserveIDs(ctx, "h", 10); !errors.Is(err, ErrDegraded) {
		t.Errorf("ReserveIDs while degraded: %v", err)
	}
	r.Start()
	waitFor(t, 5*time.Second, "both whole again", func() bool { return !a.Degraded() && !b.Degraded() })
	waitFor(t, 10*time.Second, "a got every line", func() bool { return len(got.get("show")) >= next })
	if lines := got.get("show"); !slices.Equal(lines, seq(0, next)) {
		t.Fatalf("a got %d lines, not 0…%d in order", len(lines), next-1)
	}
	waitFor(t, 5*time.Second, "each sees the other's write", func() bool {
		_, x := ma.Get("u2")
		_, y := mb.Get("u1")
		return x && y
	})
	if b.fwd.lines.Load() != 0 || a.maps.qlen.Load() != 0 || b.maps.qlen.Load() != 0 {
		t.Error("queues not empty after Redis came back")
	}
	if _, self := b.Owner("show"); self {
		t.Error("b still decides show itself")
	}
}

// TestStartDegraded: a node opened while Redis is down starts degraded
// and joins when it is up.
func TestStartDegraded(t *testing.T) {
	r := testenv.StartRedis(t)
	r.Stop()
	a := open(t, r, "a", time.Second)
	if !a.Degraded() {
		t.Fatal("not degraded")
	}
	m := a.Map("bans", nil)
	if err := m.Set(context.Background(), "u", []byte("1")); err != nil {
		t.Fatal(err)
	}
	r.Start()
	select {
	case <-a.Up():
	case <-time.After(5 * time.Second):
		t.Fatal("never up")
	}
	c := client(t, r)
	waitFor(t, 5*time.Second, "the queued write reached Redis", func() bool {
		v, _ := c.HGet(context.Background(), "lm:map:bans", "u").Result()
		return v == "1"
	})
	waitFor(t, 5*time.Second, "a in the peers", func() bool { _, ok := a.Peer("a"); return ok && len(a.Peers()) == 1 })
}

func TestReserveIDsUnique(t *testing.T) {
	r := testenv.StartRedis(t)
	nodes := []*Node{open(t, r, "a", 5*time.Second), open(t, r, "b", 5*time.Second)}
	var mu sync.Mutex
	seen := map[uint64]bool{}
	var wg sync.WaitGroup
	for _, n := range nodes {
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 50 {
					first, err := n.ReserveIDs(context.Background(), "h", 7)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for id := first; id < first+7; id++ {
						if seen[id] || id == 0 {
							t.Errorf("id %d twice", id)
						}
						seen[id] = true
					}
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	if len(seen) != 2*8*50*7 {
		t.Errorf("%d ids", len(seen))
	}
	if _, err := nodes[0].ReserveIDs(context.Background(), "h", 0); err == nil {
		t.Error("count 0 accepted")
	}
}

func TestRecords(t *testing.T) {
	r := testenv.StartRedis(t)
	a, b := open(t, r, "a", 5*time.Second), open(t, r, "b", 5*time.Second)
	ctx := context.Background()
	err := a.PutRecords(ctx, "tickets", []Record{
		{Stream: "s1", Key: "h-1", Value: []byte(`{"id":"h-1"}`)},
		{Stream: "s1", Key: "h-2", Value: []byte(`{"id":"h-2"}`)},
		{Stream: "s2", Key: "h-3", Value: []byte(`{"id":"h-3"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Records(ctx, "tickets", "s1")
	if err != nil || len(got) != 2 || string(got["h-2"]) != `{"id":"h-2"}` {
		t.Fatalf("Records: %v %q", err, got)
	}
	if s, ok, err := b.StreamOf(ctx, "tickets", "h-3"); err != nil || !ok || s != "s2" {
		t.Fatalf("StreamOf: %q %v %v", s, ok, err)
	}
	if err := b.PutRecords(ctx, "tickets", []Record{{Stream: "s1", Key: "h-1"}}); err != nil {
		t.Fatal(err)
	}
	got, _ = a.Records(ctx, "tickets", "s1")
	if _, ok := got["h-1"]; ok || len(got) != 1 {
		t.Errorf("after delete: %q", got)
	}
	if _, ok, _ := a.StreamOf(ctx, "tickets", "h-1"); ok {
		t.Error("index kept a deleted record")
	}
	if got, _ := a.Records(ctx, "drafts", "s1"); len(got) != 0 {
		t.Errorf("other bucket: %q", got)
	}
	if err := a.PutRecords(ctx, "bad:name", []Record{{Stream: "s", Key: "k", Value: []byte("v")}}); err == nil {
		t.Error("bad bucket accepted")
	}
}

// TestQueuesBounded: with Redis away, the forward and map queues take
// their bound and refuse (and count) the rest; when Redis is back what was
// taken is written.
func TestQueuesBounded(t *testing.T) {
	r := testenv.StartRedis(t)
	a := open(t, r, "a", time.Second)
	b := open(t, r, "b", time.Second, func(o *Options) { o.ForwardQueue = 10; o.MapQueue = 5 })
	var got sink
	a.Consume(got.consume)
	a.Owner("show")
	b.Owner("show")
	r.Stop()
	waitFor(t, 3*time.Second, "degraded", b.Degraded)
	for i := range 10 {
		if err := b.Forward("show", []byte(strconv.Itoa(i))); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
	}
	if err := b.Forward("show", []byte("x")); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("11th line: %v", err)
	}
	if err := b.ForwardSync(context.Background(), "show", [][]byte{[]byte("y")}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("ForwardSync over the bound: %v", err)
	}
	if v := testutil.ToFloat64(b.m.fwdDropped); v != 2 {
		t.Errorf("forward dropped %v", v)
	}
	m := b.Map("bans", nil)
	for i := range 5 {
		if err := m.Set(context.Background(), strconv.Itoa(i), []byte("1")); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Set(context.Background(), "over", []byte("1")); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("6th write: %v", err)
	}
	if _, ok := m.Get("over"); ok {
		t.Error("a refused write was applied")
	}
	if v := testutil.ToFloat64(b.m.mapDropped); v != 1 {
		t.Errorf("map dropped %v", v)
	}
	if err := b.Forward("show", make([]byte, b.o.MaxLine+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized line: %v", err)
	}
	r.Start()
	waitFor(t, 10*time.Second, "the 10 lines arrive", func() bool { return len(got.get("show")) == 10 })
	if !slices.Equal(got.get("show"), seq(0, 10)) {
		t.Errorf("got %v", got.get("show"))
	}
	waitFor(t, 5*time.Second, "map queue flushed", func() bool { return b.maps.qlen.Load() == 0 })
}

// TestLeaseRenewed: an owner keeps its lease across many TTLs.
func TestLeaseRenewed(t *testing.T) {
	r := testenv.StartRedis(t)
	// A TTL long enough that a loaded machine (the race detector, other
	// tests) cannot stall the renewal past it: this is no timing test.
	const ttl = 1500 * time.Millisecond
	a, b := open(t, r, "a", ttl), open(t, r, "b", ttl)
	a.Owner("show")
	b.Owner("show")
	end := time.Now().Add(3 * ttl)
	for time.Now().Before(end) {
		if p, self := b.Owner("show"); self || p.ID != "a" {
			t.Fatalf("b sees %+v self=%v while a renews", p, self)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if v := testutil.ToFloat64(b.m.takeovers); v != 0 {
		t.Errorf("takeovers %v", v)
	}
	waitFor(t, 3*time.Second, "peers", func() bool { return len(a.Peers()) == 2 && len(b.Peers()) == 2 })
	if p, ok := b.Peer("a"); !ok || p.Addr != "http://a.test" {
		t.Errorf("peer a: %+v %v", p, ok)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "a gone from b's peers", func() bool { _, ok := b.Peer("a"); return !ok })
}

// TestLeaseLapsedDuringOutage: Redis is away longer than the TTL, so every
// lease lapses; when it is back the former owner gives the stream up
// (OnRelease) and exactly one node takes it as a new owner (OnAcquire).
func TestLeaseLapsedDuringOutage(t *testing.T) {
	r := testenv.StartRedis(t)
	const ttl = 500 * time.Millisecond
	a, b := open(t, r, "a", ttl), open(t, r, "b", ttl)
	var acq, rel atomic.Int64
	for _, n := range []*Node{a, b} {
		n.OnAcquire(func(context.Context, string) error { acq.Add(1); return nil })
		n.OnRelease(func(string) { rel.Add(1) })
	}
	a.Owner("show")
	b.Owner("show")
	r.Stop()
	waitFor(t, 3*time.Second, "degraded", func() bool { return a.Degraded() && b.Degraded() })
	time.Sleep(2 * ttl) // let the lease lapse
	r.Start()
	waitFor(t, 5*time.Second, "one owner again", func() bool {
		_, sa := a.Owner("show")
		_, sb := b.Owner("show")
		return !a.Degraded() && !b.Degraded() && sa != sb && rel.Load() == 1 && acq.Load() == 2
	})
	holder, _ := client(t, r).Get(context.Background(), "lm:lease:show").Result()
	if owned := append(a.Owned(), b.Owned()...); len(owned) != 1 || (holder != "a" && holder != "b") {
		t.Errorf("owned %v, lease %q", owned, holder)
	}
}

// TestForwardRetryDeduplicated: an entry written twice by one producer
// (a pipeline resent after its replies were lost) is handed on once.
func TestForwardRetryDeduplicated(t *testing.T) {
	r := testenv.StartRedis(t)
	a := open(t, r, "a", 5*time.Second)
	var got sink
	a.Consume(got.consume)
	a.Owner("show")
	c := client(t, r)
	last := ""
	pack := func(s string) []byte { return append(binary.AppendUvarint(nil, uint64(len(s))), s...) }
	for _, e := range []struct{ prod, seq, line string }{
		{"x/1", "1", "one"}, {"x/1", "1", "one"}, {"y/1", "1", "other"}, {"x/1", "2", "two"}, {"x/1", "2", "two"},
	} {
		id, err := c.XAdd(context.Background(), &redis.XAddArgs{Stream: "lm:in:show", Values: []any{fieldProd, e.prod, fieldSeq, e.seq, field, pack(e.line)}}).Result()
		if err != nil {
			t.Fatal(err)
		}
		last = id
	}
	waitFor(t, 5*time.Second, "every entry committed", func() bool {
		pos, _ := c.Get(context.Background(), "lm:pos:show").Result()
		return pos == last
	})
	if g := got.get("show"); !slices.Equal(g, []string{"one", "other", "two"}) {
		t.Errorf("got %q", g)
	}
}

// TestMapConverges: two nodes writing the same keys at once end with the
// same map as Redis (the last write in Redis's order wins everywhere).
func TestMapConverges(t *testing.T) {
	r := testenv.StartRedis(t)
	a, b := open(t, r, "a", 5*time.Second), open(t, r, "b", 5*time.Second)
	maps := []*Map{a.Map("bans", nil), b.Map("bans", nil)}
	var wg sync.WaitGroup
	for i, m := range maps {
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range 200 {
					k := "k" + strconv.Itoa(j%5)
					var err error
					if j%7 == 0 {
						err = m.Delete(context.Background(), k)
					} else {
						err = m.Set(context.Background(), k, []byte(fmt.Sprintf("%d-%d-%d", i, w, j)))
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	c := client(t, r)
	var want map[string]string
	waitFor(t, 5*time.Second, "both maps equal Redis's", func() bool {
		want, _ = c.HGetAll(context.Background(), "lm:map:bans").Result()
		for _, m := range maps {
			got := map[string]string{}
			m.Range(func(k string, v []byte) bool { got[k] = string(v); return true })
			if fmt.Sprint(got) != fmt.Sprint(want) {
				return false
			}
		}
		return true
	})
}

// TestMetricsRegistered: the documented metrics are on the registry, and
// a second Node on it after Close registers again.
func TestMetricsRegistered(t *testing.T) {
	r := testenv.StartRedis(t)
	reg := prometheus.NewRegistry()
	a := open(t, r, "a", time.Second, func(o *Options) { o.Registerer = reg })
	a.m.errors.WithLabelValues("ping").Add(0)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	for _, want := range []string{"livemod_redis_up", "livemod_cluster_degraded", "livemod_cluster_nodes", "livemod_cluster_owned_streams",
		"livemod_cluster_forward_queue", "livemod_cluster_forward_dropped_total", "livemod_cluster_map_queue", "livemod_cluster_map_dropped_total",
		"livemod_cluster_takeovers_total", "livemod_redis_errors_total"} {
		if !slices.Contains(names, want) {
			t.Errorf("%s not registered", want)
		}
	}
	if _, err := Open(context.Background(), Options{URL: r.URL(), Registerer: reg}); err == nil {
		t.Error("a second Node on the same registry registered")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	open(t, r, "b", time.Second, func(o *Options) { o.Registerer = reg })
}

// TestMapSetMany: many keys in one round trip reach the other node; with
// Redis away they are applied here, queued, and flushed when it is back.
func TestMapSetMany(t *testing.T) {
	r := testenv.StartRedis(t)
	a, b := open(t, r, "a", 5*time.Second), open(t, r, "b", 5*time.Second)
	ma, mb := a.Map("optouts", nil), b.Map("optouts", nil)
	ctx := context.Background()
	if err := ma.SetMany(ctx, []KV{{"u1", []byte("1")}, {"u2", []byte("2")}, {"u3", []byte("3")}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "b has all three", func() bool { return mb.Len() == 3 })
	r.Stop()
	waitFor(t, 5*time.Second, "a degraded", a.Degraded)
	if err := ma.SetMany(ctx, []KV{{"u4", []byte("4")}, {"u5", []byte("5")}}); err != nil {
		t.Fatal(err)
	}
	if v, ok := ma.Get("u5"); !ok || string(v) != "5" {
		t.Error("a does not have its own queued write")
	}
	r.Start()
	waitFor(t, 10*time.Second, "b has the queued two", func() bool { return mb.Len() == 5 })
}
