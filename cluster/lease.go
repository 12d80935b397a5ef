package cluster

import (
	"cmp"
	"context"
	_ "embed"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

var (
	//go:embed lua/acquire.lua
	acquireLua    string
	acquireScript = redis.NewScript(acquireLua)
	//go:embed lua/renew.lua
	renewLua    string
	renewScript = redis.NewScript(renewLua)
	//go:embed lua/release.lua
	releaseLua    string
	releaseScript = redis.NewScript(releaseLua)
)

// scriptChunk bounds the keys one script call touches, so that renewing
// thousands of leases never blocks Redis for long in one call.
const scriptChunk = 500

// lease is what this node knows of one stream's lease. owner and self are
// read lock-free on the hot path; pos and gen change only under
// leaseTable.mu, when the node takes the lease.
type lease struct {
	stream string
	ready  chan struct{} // closed once the first sighting resolved the owner
	done   atomic.Bool   // ready is closed (a closed channel's receive takes its lock)
	owner  atomic.Pointer[string]
	self   atomic.Bool
	used   atomic.Int64 // coarse clock at the last Owner call
	pos    string       // committed forwarding position when taken (under mu)
	gen    uint64       // incremented each time this node takes the lease (under mu)
}

type leaseTable struct {
	m     sync.Map // stream → *lease
	count atomic.Int64
	wakec chan struct{}

	mu        sync.Mutex
	owned     map[string]*lease
	onAcquire func(ctx context.Context, stream string) error
	onRelease func(stream string)
	// lastRenew is read and written by the lease loop only.
	lastRenew time.Time
}

func (t *leaseTable) init() {
	t.owned = map[string]*lease{}
	t.wakec = make(chan struct{}, 1)
}

func (t *leaseTable) wake() {
	select {
	case t.wakec <- struct{}{}:
	default:
	}
}

func (n *Node) leaseKey(stream string) string { return n.o.Prefix + "lease:" + stream }
func (n *Node) posKey(stream string) string   { return n.o.Prefix + "pos:" + stream }
func (n *Node) inKey(stream string) string    { return n.o.Prefix + "in:" + stream }

func (n *Node) ttlMillis() string { return strconv.FormatInt(n.o.LeaseTTL.Milliseconds(), 10) }

// checkEvery is how often the lease loop looks for lapsed leases.
func (n *Node) checkEvery() time.Duration { return min(time.Second, n.o.LeaseTTL/3) }

// OnAcquire sets the function run each time this node takes a stream's
// lease (first sighting or takeover), before Owner reports the stream as
// this node's: it loads what the new owner needs (records). If it fails,
// the lease is released again and taken at a later check. Set it before
// the first Owner call. It is called without locks held, one stream at a
// time per caller.
func (n *Node) OnAcquire(f func(ctx context.Context, stream string) error) {
	n.leases.mu.Lock()
	n.leases.onAcquire = f
	n.leases.mu.Unlock()
}

// OnRelease sets the function run when this node stops owning a stream
// (lost to another node, lapsed, or Close), after Owner stopped reporting
// it as this node's.
func (n *Node) OnRelease(f func(stream string)) {
	n.leases.mu.Lock()
	n.leases.onRelease = f
	n.leases.mu.Unlock()
}

// Owner returns the node that decides stream's messages, and whether it
// is this one. After the first sighting it is a lock-free cache read (the
// lease loop keeps the cache true); the first sighting costs one round
// trip (the acquire script), plus OnAcquire when this node takes it.
// Concurrent first sightings of one stream wait for one resolution.
// Degraded (or closed), every stream is this node's.
func (n *Node) Owner(stream string) (owner Peer, self bool) {
	if n.degraded.Load() || n.closed.Load() {
		return n.self, true
	}
	v, ok := n.leases.m.Load(stream)
	if !ok {
		l := &lease{stream: strings.Clone(stream), ready: make(chan struct{})}
		v, ok = n.leases.m.LoadOrStore(stream, l)
		if !ok {
			n.leases.count.Add(1)
			n.firstSight(l)
		}
	}
	l := v.(*lease)
	if !l.done.Load() {
		<-l.ready
	}
	if now := n.clock.Load(); l.used.Load() != now { // no shared-line write per call
		l.used.Store(now)
	}
	if l.self.Load() {
		return n.self, true
	}
	o := l.owner.Load()
	if o == nil || *o == "" {
		// Unresolved (Redis failed us, or OnAcquire did): decide here,
		// as degraded; the next sighting asks again.
		return n.self, true
	}
	p, _ := n.Peer(*o)
	return p, false
}

// firstSight resolves a stream's owner, taking the lease if it is free.
func (n *Node) firstSight(l *lease) {
	defer func() {
		l.done.Store(true)
		close(l.ready)
	}()
	ctx, cancel := context.WithTimeout(n.ctx, opTimeout)
	defer cancel()
	if !n.tryAcquire(ctx, l, false) && l.owner.Load() == nil {
		// Not resolved: forget the stream so the next sighting retries.
		n.forget(l)
	}
}

// owns reports whether this node holds stream's lease now.
func (n *Node) owns(stream string) bool {
	v, ok := n.leases.m.Load(stream)
	return ok && v.(*lease).self.Load()
}

func (n *Node) forget(l *lease) {
	if n.leases.m.CompareAndDelete(l.stream, l) {
		n.leases.count.Add(-1)
	}
}

// tryAcquire runs the acquire script for l and, when it took the lease,
// OnAcquire; then marks the stream owned. It reports whether this node
// owns the stream now; otherwise l.owner holds the holder (or is left
// unset on a Redis error).
func (n *Node) tryAcquire(ctx context.Context, l *lease, takeover bool) bool {
	res, err := acquireScript.Run(ctx, n.rdb, []string{n.leaseKey(l.stream), n.posKey(l.stream)},
		n.o.NodeID, n.ttlMillis()).Slice()
	if err != nil || len(res) != 2 {
		n.fail("acquire", err)
		return false
	}
	val, _ := res[1].(string)
	if took, _ := res[0].(int64); took != 1 {
		n.setOwner(l, val)
		return false
	}
	n.leases.mu.Lock()
	onAcquire := n.leases.onAcquire
	n.leases.mu.Unlock()
	if onAcquire != nil {
		if err := onAcquire(ctx, l.stream); err != nil {
			n.log.Printf("stream %q: taking it over failed (%v): lease released, retried at a later check", l.stream, err)
			n.m.errors.WithLabelValues("on_acquire").Inc()
			_ = releaseScript.Run(ctx, n.rdb, []string{n.leaseKey(l.stream)}, n.o.NodeID).Err()
			empty := ""
			l.owner.Store(&empty)
			return false
		}
	}
	n.leases.mu.Lock()
	l.pos = val
	l.gen++
	n.leases.owned[l.stream] = l
	n.leases.mu.Unlock()
	me := n.o.NodeID
	l.owner.Store(&me)
	l.self.Store(true)
	if takeover {
		n.m.takeovers.Inc()
		n.log.Printf("stream %q: took over (resuming after %s)", l.stream, val)
	}
	n.cons.wake()
	return true
}

// setOwner records that holder (another node, or "" for nobody) holds l;
// if this node held it, it releases it locally.
func (n *Node) setOwner(l *lease, holder string) {
	if cur := l.owner.Load(); cur == nil || *cur != holder {
		l.owner.Store(&holder)
	}
	if !l.self.Load() {
		return
	}
	n.leases.mu.Lock()
	delete(n.leases.owned, l.stream)
	onRelease := n.leases.onRelease
	n.leases.mu.Unlock()
	l.self.Store(false)
	n.cons.wake()
	if holder != "" {
		n.log.Printf("stream %q: lease lost to %s", l.stream, holder)
	}
	if onRelease != nil {
		onRelease(l.stream)
	}
}

// Owned returns the streams this node owns now.
func (n *Node) Owned() []string {
	n.leases.mu.Lock()
	defer n.leases.mu.Unlock()
	out := make([]string, 0, len(n.leases.owned))
	for s := range n.leases.owned {
		out = append(out, s)
	}
	return out
}

func (n *Node) ownedLeases() []*lease {
	n.leases.mu.Lock()
	defer n.leases.mu.Unlock()
	out := make([]*lease, 0, len(n.leases.owned))
	for _, l := range n.leases.owned {
		out = append(out, l)
	}
	return out
}

// leaseLoop renews this node's leases every TTL/3 and, every
// min(1s, TTL/3), reads the leases of the other streams seen here, taking
// over those that lapsed.
func (n *Node) leaseLoop() {
	t := time.NewTicker(n.checkEvery())
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		case <-n.leases.wakec:
		}
		if n.degraded.Load() || n.closed.Load() {
			continue
		}
		n.leaseRound()
	}
}

func (n *Node) leaseRound() {
	ctx, cancel := context.WithTimeout(n.ctx, opTimeout)
	var lapsed []*lease
	lapsed = append(lapsed, n.renewDue(ctx)...)
	lapsed = append(lapsed, n.check(ctx)...)
	cancel()
	for i := 0; i < len(lapsed); i++ { // grows while renewals find more
		l := lapsed[i]
		if n.ctx.Err() != nil || n.closed.Load() {
			return
		}
		if l.self.Load() {
			// Our own lease lapsed (Redis was away longer than the TTL):
			// someone may have held the stream meanwhile, so give the
			// state up and take the stream as a new owner would.
			n.setOwner(l, "")
		}
		// Each takeover has its own budget (OnAcquire loads records), and
		// a long run of takeovers (a dead node's thousands of streams)
		// still renews this node's own leases in time.
		ctx, cancel := context.WithTimeout(n.ctx, opTimeout)
		n.tryAcquire(ctx, l, true)
		more := n.renewDue(ctx)
		cancel()
		lapsed = append(lapsed, more...)
	}
	n.evict()
}

// renewDue renews the owned leases if LeaseTTL/3 passed since the last
// renewal; it returns those that lapsed.
func (n *Node) renewDue(ctx context.Context) []*lease {
	if time.Since(n.leases.lastRenew) < n.o.LeaseTTL/3 {
		return nil
	}
	lapsed, ok := n.renew(ctx)
	if ok {
		n.leases.lastRenew = time.Now()
	}
	return lapsed
}

// renew extends the owned leases; it returns those that lapsed.
func (n *Node) renew(ctx context.Context) (lapsed []*lease, ok bool) {
	owned := n.ownedLeases()
	ok = true
	for chunk := range slices.Chunk(owned, scriptChunk) {
		keys := make([]string, len(chunk))
		for i, l := range chunk {
			keys[i] = n.leaseKey(l.stream)
		}
		holders, err := renewScript.Run(ctx, n.rdb, keys, n.o.NodeID, n.ttlMillis()).StringSlice()
		if err != nil || len(holders) != len(chunk) {
			n.fail("renew", err)
			ok = false
			continue
		}
		for i, l := range chunk {
			switch h := holders[i]; h {
			case n.o.NodeID:
			case "":
				lapsed = append(lapsed, l)
			default:
				n.setOwner(l, h)
			}
		}
	}
	return lapsed, ok
}

// check reads the leases of the streams seen here and not owned, in
// MGET chunks; it returns those that lapsed.
func (n *Node) check(ctx context.Context) (lapsed []*lease) {
	var seen []*lease
	n.leases.m.Range(func(_, v any) bool {
		l := v.(*lease)
		select {
		case <-l.ready:
			if !l.self.Load() {
				seen = append(seen, l)
			}
		default:
		}
		return true
	})
	for chunk := range slices.Chunk(seen, scriptChunk) {
		keys := make([]string, len(chunk))
		for i, l := range chunk {
			keys[i] = n.leaseKey(l.stream)
		}
		vals, err := n.rdb.MGet(ctx, keys...).Result()
		if err != nil || len(vals) != len(chunk) {
			n.fail("check", err)
			return lapsed
		}
		for i, l := range chunk {
			h, _ := vals[i].(string)
			if h == "" {
				lapsed = append(lapsed, l)
				continue
			}
			if h == n.o.NodeID {
				// Held under our id but not owned here: a former life of
				// this node; take it properly (acquire accepts own id).
				lapsed = append(lapsed, l)
				continue
			}
			n.setOwner(l, h)
		}
	}
	return lapsed
}

// evict forgets the least recently sighted streams not owned here while
// more than MaxStreams are cached.
func (n *Node) evict() {
	over := int(n.leases.count.Load()) - n.o.MaxStreams
	if over <= 0 {
		return
	}
	var cand []*lease
	n.leases.m.Range(func(_, v any) bool {
		if l := v.(*lease); !l.self.Load() {
			cand = append(cand, l)
		}
		return true
	})
	slices.SortFunc(cand, func(a, b *lease) int { return cmp.Compare(a.used.Load(), b.used.Load()) })
	for _, l := range cand[:min(over, len(cand))] {
		n.forget(l)
	}
}

// releaseAll deletes this node's leases (those still its own) and runs
// OnRelease for each.
func (n *Node) releaseAll(ctx context.Context) {
	owned := n.ownedLeases()
	for chunk := range slices.Chunk(owned, scriptChunk) {
		keys := make([]string, len(chunk))
		for i, l := range chunk {
			keys[i] = n.leaseKey(l.stream)
		}
		if err := releaseScript.Run(ctx, n.rdb, keys, n.o.NodeID).Err(); err != nil {
			n.fail("release", err)
		}
	}
	for _, l := range owned {
		n.setOwner(l, "")
	}
}
