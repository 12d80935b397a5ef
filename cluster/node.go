package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Sentinel errors.
var (
	// ErrQueueFull: a bounded queue (forwarded lines, map writes) is full;
	// the item was not taken and the matching dropped counter counts it.
	ErrQueueFull = errors.New("cluster: queue full")
	// ErrDegraded: the call needs Redis and Redis is unreachable now.
	ErrDegraded = errors.New("cluster: redis unreachable")
	// ErrClosed: the Node is closed.
	ErrClosed = errors.New("cluster: node closed")
	// ErrTooLarge: a forwarded line is longer than MaxLine.
	ErrTooLarge = errors.New("cluster: line too large")
)

// Options configure a Node. The zero value of every field is a documented
// default; only URL is required.
type Options struct {
	// URL is redis:// or rediss:// (TLS), as go-redis's ParseURL reads it.
	URL string
	// NodeID names this node in Redis and to peers. Empty means the
	// hostname, "-" and 6 random hex digits (a new id per process, so a
	// restarted node never mistakes a lease of its former life for its own).
	NodeID string
	// Advertise is this node's base URL for peers (http://host:port), used
	// by the wiring to proxy REST calls to a stream's owner. Empty means
	// the node takes no proxied calls.
	Advertise string
	// Prefix starts every key and channel. Empty means "lm:". Tests give
	// each Node set its own prefix to share one server.
	Prefix string
	// LeaseTTL is how long a stream's lease lives without renewal: the
	// longest a dead node's streams wait for a new owner. Renewed every
	// LeaseTTL/3; other nodes look for lapsed leases every
	// min(1s, LeaseTTL/3). Zero means 10s; below 300ms is raised to 300ms.
	LeaseTTL time.Duration
	// MaxStreams bounds the streams whose owner this node caches. Over it,
	// the least recently used streams this node does not own are
	// forgotten at the next lease check. Zero means 100,000.
	MaxStreams int
	// ForwardQueue bounds the lines waiting to be written to Redis by
	// Forward (all streams together); beyond it Forward returns
	// ErrQueueFull. Zero means 65,536 lines.
	ForwardQueue int
	// ForwardQueueBytes bounds the same queue in bytes. Zero means 64 MiB.
	ForwardQueueBytes int
	// MaxLine bounds one forwarded line. Zero means 1 MiB.
	MaxLine int
	// ForwardMaxLen bounds each stream's forwarding log (lm:in:STREAM,
	// XADD MAXLEN ~) in entries, each entry a batch of lines. It only
	// matters while no owner consumes (committed entries are trimmed).
	// Zero means 100,000 entries.
	ForwardMaxLen int64
	// MapQueue bounds the replicated-map writes held while Redis is
	// unreachable (all maps together); beyond it Set and Delete return
	// ErrQueueFull. Zero means 10,000 writes.
	MapQueue int
	// Registerer receives the metrics. Nil means none are registered.
	Registerer prometheus.Registerer
	// Log receives operator messages (Redis lost and back, takeovers,
	// dropped data). Nil means discarded.
	Log io.Writer
}

func (o *Options) fill() error {
	if o.URL == "" {
		return errors.New("cluster: no Redis URL: set redis: redis://host:6379/0 in the config or --redis")
	}
	if o.NodeID == "" {
		host, _ := os.Hostname()
		if host == "" {
			host = "node"
		}
		var b [3]byte
		_, _ = rand.Read(b[:])
		o.NodeID = host + "-" + hex.EncodeToString(b[:])
	}
	if strings.ContainsAny(o.NodeID, " \x00") {
		return fmt.Errorf("cluster: node id %q has a space or NUL", o.NodeID)
	}
	if o.Prefix == "" {
		o.Prefix = "lm:"
	}
	if o.LeaseTTL == 0 {
		o.LeaseTTL = 10 * time.Second
	}
	o.LeaseTTL = max(o.LeaseTTL, 300*time.Millisecond)
	if o.MaxStreams <= 0 {
		o.MaxStreams = 100_000
	}
	if o.ForwardQueue <= 0 {
		o.ForwardQueue = 65_536
	}
	if o.ForwardQueueBytes <= 0 {
		o.ForwardQueueBytes = 64 << 20
	}
	if o.MaxLine <= 0 {
		o.MaxLine = 1 << 20
	}
	if o.ForwardMaxLen <= 0 {
		o.ForwardMaxLen = 100_000
	}
	if o.MapQueue <= 0 {
		o.MapQueue = 10_000
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return nil
}

// Health probing: a PING every healthEvery with healthTimeout; two
// failures in a row make the node degraded (at most ~1s after Redis went
// away: a refused connection fails at once, a hung one after the
// timeout), one success makes it whole again. Two, not one, so that a
// single slow fsync on a busy Redis does not make every node decide every
// stream by itself for a moment.
const (
	healthEvery   = 200 * time.Millisecond
	healthTimeout = 300 * time.Millisecond
	opTimeout     = 2 * time.Second // one background Redis round trip
	closeFlush    = 2 * time.Second // Close's budget for flushing queues
	heartbeat     = time.Second     // node heartbeat and peer refresh
	nodeTTL       = 3 * heartbeat   // a node missing 3 heartbeats is gone
)

// Peer is a live node of the cluster.
type Peer struct {
	ID   string // node id
	Addr string // advertised base URL ("" if the node takes no proxied calls)
}

// Node is this process's membership of the cluster. All methods are safe
// for concurrent use.
type Node struct {
	o    Options
	rdb  *redis.Client
	self Peer
	log  *log.Logger
	m    *metrics

	ctx    context.Context // cancelled by Close: stops the loops
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool

	degraded atomic.Bool
	upc      chan struct{} // closed and replaced each time Redis comes back (guarded by upMu)
	upMu     sync.Mutex

	peers atomic.Pointer[map[string]string] // id → addr, copy-on-write

	leases leaseTable
	fwd    fwdQueue
	cons   consumer
	maps   mapSet
	clock  atomic.Int64 // coarse unix nanos, refreshed by the health loop
}

// Open connects to Redis and starts the node's loops. A malformed URL is an
// error; Redis being down is not: the node starts degraded and keeps
// trying.
func Open(ctx context.Context, o Options) (*Node, error) {
	if err := o.fill(); err != nil {
		return nil, err
	}
	ro, err := redis.ParseURL(o.URL)
	if err != nil {
		return nil, fmt.Errorf("cluster: redis URL: %w (want redis://host:6379/0 or rediss://…)", err)
	}
	if ro.DialTimeout == 0 {
		ro.DialTimeout = 500 * time.Millisecond
	}
	if ro.ReadTimeout == 0 {
		ro.ReadTimeout = time.Second
	}
	if ro.WriteTimeout == 0 {
		ro.WriteTimeout = time.Second
	}
	ro.PoolTimeout = time.Second
	ro.MaxRetries = -1 // no silent retries: the loops retry, and a retried XADD would duplicate
	if ro.DialerRetries == 0 {
		ro.DialerRetries = 1 // a refused dial fails at once (the default 5 × 100ms delays "degraded")
	}
	ro.ContextTimeoutEnabled = true
	ro.DisableIdentity = true
	n := &Node{
		o:    o,
		rdb:  redis.NewClient(ro),
		self: Peer{ID: o.NodeID, Addr: o.Advertise},
		log:  log.New(o.Log, "cluster: ", log.LstdFlags),
		upc:  make(chan struct{}),
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.clock.Store(time.Now().UnixNano())
	empty := map[string]string{}
	n.peers.Store(&empty)
	n.leases.init()
	n.fwd.init(n)
	n.cons.init(n)
	n.maps.init(n)
	n.m = newMetrics(n)
	if o.Registerer != nil {
		if err := n.m.register(o.Registerer); err != nil {
			_ = n.rdb.Close()
			return nil, fmt.Errorf("cluster: metrics: %w", err)
		}
	}
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	err = n.rdb.Ping(pctx).Err()
	cancel()
	if err != nil {
		n.setDegraded(true)
		n.log.Printf("redis %s unreachable at start (%v): degraded, retrying", ro.Addr, err)
	} else {
		n.m.up.Set(1)
		n.heartbeat(ctx)
	}
	n.start(n.healthLoop)
	n.start(n.peerLoop)
	n.start(n.leaseLoop)
	n.start(n.fwd.loop)
	n.start(n.cons.loop)
	n.maps.start()
	return n, nil
}

func (n *Node) start(f func()) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
}

// ID returns this node's id.
func (n *Node) ID() string { return n.o.NodeID }

// Self returns this node as a Peer.
func (n *Node) Self() Peer { return n.self }

// Redis returns the client, for the broker and other Redis users in the
// same process (one pool per process).
func (n *Node) Redis() redis.UniversalClient { return n.rdb }

// Degraded reports whether Redis is unreachable now. While degraded the
// node decides every stream itself (Owner reports self).
func (n *Node) Degraded() bool { return n.degraded.Load() }

// Up returns a channel closed when Redis is next found reachable after
// being unreachable (closed at once if it is reachable now).
func (n *Node) Up() <-chan struct{} {
	n.upMu.Lock()
	defer n.upMu.Unlock()
	if !n.degraded.Load() {
		c := make(chan struct{})
		close(c)
		return c
	}
	return n.upc
}

func (n *Node) setDegraded(d bool) {
	n.upMu.Lock()
	was := n.degraded.Swap(d)
	if was && !d {
		close(n.upc)
		n.upc = make(chan struct{})
	}
	n.upMu.Unlock()
	if d {
		n.m.up.Set(0)
		n.m.degraded.Set(1)
	} else {
		n.m.up.Set(1)
		n.m.degraded.Set(0)
	}
	if was == d {
		return
	}
	if d {
		n.log.Printf("redis unreachable: degraded (this node decides all it receives; map writes and forwarded lines are queued)")
		return
	}
	n.log.Printf("redis reachable again: flushing queues, resyncing maps, renewing leases")
	n.heartbeat(n.ctx)
	n.fwd.kick()
	n.maps.resyncAll()
	n.leases.wake()
}

// waitUp blocks until Redis is reachable or the node closes; false when closed.
func (n *Node) waitUp() bool {
	select {
	case <-n.Up():
		return true
	case <-n.ctx.Done():
		return false
	}
}

// fail records a failed Redis operation.
func (n *Node) fail(op string, err error) {
	if err == nil || errors.Is(err, context.Canceled) && n.closed.Load() {
		return
	}
	n.m.errors.WithLabelValues(op).Inc()
}

func (n *Node) healthLoop() {
	t := time.NewTicker(healthEvery)
	defer t.Stop()
	fails := 0
	for {
		select {
		case <-n.ctx.Done():
			return
		case now := <-t.C:
			n.clock.Store(now.UnixNano())
		}
		ctx, cancel := context.WithTimeout(n.ctx, healthTimeout)
		err := n.rdb.Ping(ctx).Err()
		cancel()
		if n.ctx.Err() != nil {
			return
		}
		if err != nil {
			n.fail("ping", err)
			if fails++; fails >= 2 {
				n.setDegraded(true)
			}
			continue
		}
		fails = 0
		n.setDegraded(false)
	}
}

// heartbeat advertises this node and refreshes the peer list: one
// pipeline, then one more for the members' addresses.
func (n *Node) heartbeat(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	nodes := n.o.Prefix + "nodes"
	var members *redis.StringSliceCmd
	_, err := n.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, n.o.Prefix+"node:"+n.o.NodeID, n.o.Advertise, nodeTTL)
		p.SAdd(ctx, nodes, n.o.NodeID)
		members = p.SMembers(ctx, nodes)
		return nil
	})
	if err != nil {
		n.fail("heartbeat", err)
		return
	}
	ids := members.Val()
	addrs := make([]*redis.StringCmd, len(ids))
	_, err = n.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			addrs[i] = p.Get(ctx, n.o.Prefix+"node:"+id)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		n.fail("heartbeat", err)
		return
	}
	live := make(map[string]string, len(ids))
	var gone []any
	for i, id := range ids {
		a, err := addrs[i].Result()
		if errors.Is(err, redis.Nil) {
			gone = append(gone, id)
			continue
		}
		live[id] = a
	}
	if len(gone) > 0 {
		n.rdb.SRem(ctx, nodes, gone...)
	}
	n.peers.Store(&live)
}

func (n *Node) peerLoop() {
	t := time.NewTicker(heartbeat)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
		if !n.degraded.Load() {
			n.heartbeat(n.ctx)
		}
	}
}

// Peers returns the live nodes (this one included), as of the last
// heartbeat (at most a second old).
func (n *Node) Peers() []Peer {
	m := *n.peers.Load()
	out := make([]Peer, 0, len(m))
	for id, a := range m {
		out = append(out, Peer{ID: id, Addr: a})
	}
	return out
}

// Peer returns the live node id, as of the last heartbeat.
func (n *Node) Peer(id string) (Peer, bool) {
	if id == n.o.NodeID {
		return n.self, true
	}
	a, ok := (*n.peers.Load())[id]
	return Peer{ID: id, Addr: a}, ok
}

// Close stops the loops, flushes the forward and map queues (within 2s),
// releases this node's leases at once (so peers take its streams over at
// their next check instead of after the TTL), removes its heartbeat and
// closes the client. Calling it again returns ErrClosed.
func (n *Node) Close() error {
	if n.closed.Swap(true) {
		return ErrClosed
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeFlush)
	defer cancel()
	// Stop consuming first (what was handed on is committed; the rest is
	// re-read by the next owner), then release the leases at once so
	// peers take the streams over at their next check, then flush.
	n.cons.stop()
	if !n.degraded.Load() {
		n.releaseAll(ctx)
	}
	n.fwd.drain(ctx)
	n.maps.drain(ctx)
	n.cancel()
	n.maps.close() // unblocks the subscriber's read
	n.wg.Wait()
	if !n.degraded.Load() {
		n.rdb.Del(ctx, n.o.Prefix+"node:"+n.o.NodeID, n.wakeKey())
		n.rdb.SRem(ctx, n.o.Prefix+"nodes", n.o.NodeID)
	}
	n.m.unregister()
	return n.rdb.Close()
}
