package app

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/livemod/livemod/broker"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/cluster"
	"github.com/livemod/livemod/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// clusterPart is this node's part in a cluster of nodes sharing one Redis
// (cfg.Redis; docs/SCALING.md): each stream is decided by the node that
// holds its lease, messages of other nodes' streams are forwarded there,
// REST calls about them are handed there, and what every node must know
// at once (timeouts and bans, opt-outs) is a replicated map.
type clusterPart struct {
	a      *App
	node   *cluster.Node
	broker *broker.Redis
	// The replicated maps; set by start, after the desk and the
	// automation state they apply to exist.
	restr, optout, policies *cluster.Map
	client                  *http.Client // REST calls handed to peers
	// leftToOwner counts what this node's connectors read of streams
	// another node decides (that node's connector reads them too).
	leftToOwner prometheus.Counter

	// adopted is, per stream, the other nodes' KPI minutes this node has
	// added to its counters (at takeovers), so that a later takeover adds
	// only what is new.
	kmu     sync.Mutex
	adopted map[string]map[string]store.KPIMinute
}

// maxAdoptedMinutes bounds adopted per stream: past it the stream's record
// starts again (a later takeover may then count old minutes twice).
const maxAdoptedMinutes = 50_000

// Bucket names of the records a node keeps in Redis for the node that
// takes a stream over.
const (
	bucketTickets = "tickets"
	bucketKPIs    = "kpis" // each node's count of each minute, keyed node/minute
)

// openCluster joins the cluster named by cfg.Redis: the node (leases,
// forwarding, maps) and the Redis broker the hub publishes through.
func (a *App) openCluster(tls bool) error {
	quietRedis.Do(func() { redis.SetLogger(redisLog{}) })
	cfg := a.Cfg
	node, err := cluster.Open(context.Background(), cluster.Options{
		URL:        cfg.Redis,
		NodeID:     cfg.Cluster.Node,
		Advertise:  advertise(cfg.Cluster.Advertise, a.ln.Addr().String(), tls),
		LeaseTTL:   cfg.Cluster.LeaseTTL,
		Registerer: a.reg,
		Log:        a.log,
	})
	if err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	c := &clusterPart{a: a, node: node, client: &http.Client{Timeout: 10 * time.Second},
		leftToOwner: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "livemod_connector_left_to_owner_total",
			Help: "Messages and platform events this node's connectors read of streams another node decides (its own connector reads them), dropped here.",
		})}
	a.reg.MustRegister(c.leftToOwner)
	c.broker = broker.NewRedis(node.Redis(), broker.RedisOptions{
		NodeID:     node.ID(),
		Owner:      c.snapshotOwner,
		Registerer: a.reg,
	})
	a.cluster = c
	a.DB.SetNode(node.ID())
	return nil
}

// quietRedis silences go-redis's own process-wide log: while Redis is
// away it writes a line per failed dial, many a second. The node logs
// when Redis goes and comes back, /readyz and livemod_cluster_degraded
// say it, and livemod_redis_errors_total counts the failures.
var quietRedis sync.Once

type redisLog struct{}

func (redisLog) Printf(context.Context, string, ...any) {}

// snapshotOwner is who answers a new subscriber's snapshot: the stream's
// owner if it has one, without taking the stream (a page watching a
// stream does not make its node the decider).
func (c *clusterPart) snapshotOwner(stream string) (string, bool) {
	p, self, known := c.node.OwnerOf(stream)
	if !known {
		return c.node.ID(), true
	}
	return p.ID, self
}

// start makes the replicated maps (now that the desk and the automation
// state exist), loads a stream's tickets whenever this node takes one
// over, and consumes the messages other nodes forward.
func (c *clusterPart) start() {
	a := c.a
	c.restr = c.node.Map("restrictions", func(key string, val []byte) {
		if val == nil {
			a.Desk.Lift(key)
			return
		}
		var r store.Restriction
		if err := json.Unmarshal(val, &r); err != nil {
			fmt.Fprintf(a.log, "livemod: cluster: restriction %q: %v\n", key, err)
			return
		}
		a.Desk.Restore([]store.Restriction{r})
		if err := a.DB.PutRestriction(r); err != nil { // found again after a restart without Redis
			fmt.Fprintln(a.log, "livemod: cluster: keep restriction:", err)
		}
	})
	c.optout = c.node.Map("optouts", func(key string, val []byte) {
		var o chat.OptOut
		if val == nil || json.Unmarshal(val, &o) != nil || o.User == "" {
			return
		}
		a.Auto.state.ApplyOptOut(o)
	})
	c.policies = c.node.Map("policies", func(stream string, doc []byte) {
		if doc == nil {
			return
		}
		if err := a.Policy.Adopt(stream, doc); err != nil {
			fmt.Fprintf(a.log, "livemod: cluster: policy of %q: %v\n", stream, err)
			return
		}
		if err := a.DB.PutPolicy(stream, doc); err != nil {
			fmt.Fprintln(a.log, "livemod: cluster: keep policy:", err)
		}
	})
	a.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "livemod_cluster_mirror_pending",
		Help: "Committed tickets and opt-outs not yet copied to Redis (Redis unreachable); at most 100,000, then the oldest are dropped.",
	}, func() float64 { p, _ := a.Auto.state.MirrorPending(); return float64(p) }))
	a.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "livemod_cluster_mirror_dropped_total",
		Help: "Committed tickets and opt-outs never copied to Redis because it stayed unreachable past the queue's bound (this node's disk has them).",
	}, func() float64 { _, d := a.Auto.state.MirrorPending(); return float64(d) }))
	c.node.OnAcquire(c.takeOver)
	c.node.Consume(c.consume)
}

// takeOver loads the tickets of stream, which this node now decides,
// from Redis (the previous owner mirrored every committed change there).
func (c *clusterPart) takeOver(ctx context.Context, stream string) error {
	recs, err := c.node.Records(ctx, bucketTickets, stream)
	if err != nil {
		return err
	}
	ts := make([]*chat.Ticket, 0, len(recs))
	for id, v := range recs {
		var t chat.Ticket
		if err := json.Unmarshal(v, &t); err != nil {
			fmt.Fprintf(c.a.log, "livemod: cluster: ticket %s of %s: %v\n", id, stream, err)
			continue
		}
		ts = append(ts, &t)
	}
	c.a.Auto.state.Adopt(ts)
	return c.adoptKPIs(ctx, stream)
}

// adoptKPIs adds to this node's counters what the other nodes counted of
// stream (their minutes in Redis) since this node last looked, so that
// GET /v1/kpis on the stream's owner covers every node that decided it.
func (c *clusterPart) adoptKPIs(ctx context.Context, stream string) error {
	recs, err := c.node.Records(ctx, bucketKPIs, stream)
	if err != nil {
		return err
	}
	recent := time.Now().Add(-time.Hour).UnixMilli()
	h := &store.KPIHistory{}
	c.kmu.Lock()
	if c.adopted == nil {
		c.adopted = map[string]map[string]store.KPIMinute{}
	}
	seen := c.adopted[stream]
	if seen == nil || len(seen) > maxAdoptedMinutes {
		seen = map[string]store.KPIMinute{}
		c.adopted[stream] = seen
	}
	for key, v := range recs {
		if node, _, _ := strings.Cut(key, "/"); node == c.node.ID() {
			continue // this node's own counts are in its counters
		}
		var m store.KPIMinute
		if json.Unmarshal(v, &m) != nil {
			continue
		}
		d := m.Less(seen[key])
		seen[key] = m
		if h.Total.Minute == 0 || m.Minute < h.Total.Minute {
			h.Total.Minute = m.Minute
		}
		h.Total.Add(d)
		if m.Minute >= recent {
			h.Recent = append(h.Recent, d)
		}
	}
	c.kmu.Unlock()
	slices.SortFunc(h.Recent, func(x, y store.KPIMinute) int { return cmp.Compare(x.Minute, y.Minute) })
	c.a.kpis.Restore(stream, h)
	return nil
}

// mirrorKPIs is store.KPIMinutes' mirror: this node's minutes, for the
// next owner of their streams.
func (c *clusterPart) mirrorKPIs(recs []store.MirrorRecord) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out := make([]cluster.Record, len(recs))
	for i, r := range recs {
		out[i] = cluster.Record{Stream: r.Stream, Key: c.node.ID() + "/" + r.Key, Value: r.Value}
	}
	return c.node.PutRecords(ctx, bucketKPIs, out)
}

// consume decides the messages other nodes forwarded for a stream this
// node owns.
func (c *clusterPart) consume(stream string, lines [][]byte) error {
	msgs := make([]*chat.Message, 0, len(lines))
	for _, l := range lines {
		m := new(chat.Message)
		if err := chat.DecodeMessage(l, string(l), m); err != nil {
			fmt.Fprintf(c.a.log, "livemod: cluster: forwarded message of %s: %v (dropped)\n", stream, err)
			continue
		}
		msgs = append(msgs, m)
	}
	return c.a.Pipeline.Submit(context.Background(), msgs)
}

// Elsewhere implements stream.Forwarder: the first node to see a stream's
// messages takes its lease (one round trip, once per stream).
func (c *clusterPart) Elsewhere(stream string) bool {
	_, self := c.node.Owner(stream)
	return !self
}

// Forward implements stream.Forwarder.
func (c *clusterPart) Forward(ctx context.Context, msgs []*chat.Message) error {
	for len(msgs) > 0 {
		s, n := msgs[0].Stream, 1
		for n < len(msgs) && msgs[n].Stream == s {
			n++
		}
		lines := make([][]byte, n)
		for i, m := range msgs[:n] {
			l, err := json.Marshal(m)
			if err != nil {
				return err
			}
			lines[i] = l
		}
		if err := c.node.ForwardSync(ctx, s, lines); err != nil {
			return err
		}
		msgs = msgs[n:]
	}
	return nil
}

// mirror is store.AutomationOptions.Mirror: tickets to the records a new
// owner loads, opt-outs to the replicated map.
func (c *clusterPart) mirror(recs []store.MirrorRecord) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var tickets []cluster.Record
	var optouts []cluster.KV
	for _, r := range recs {
		switch r.Kind {
		case "ticket":
			tickets = append(tickets, cluster.Record{Stream: r.Stream, Key: r.Key, Value: r.Value})
		case "optout":
			optouts = append(optouts, cluster.KV{Key: r.Key, Val: r.Value})
		}
	}
	if len(optouts) > 0 {
		if c.optout == nil {
			return fmt.Errorf("cluster not started")
		}
		if err := c.optout.SetMany(ctx, optouts); err != nil {
			return err
		}
	}
	if len(tickets) == 0 {
		return nil
	}
	return c.node.PutRecords(ctx, bucketTickets, tickets)
}

// reserve is store.AutomationOptions.Reserve: ids unique across nodes.
func (c *clusterPart) reserve(kind string, count uint64) (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.node.ReserveIDs(ctx, kind, count)
}

// keeper is the desk's moderate.Keeper in a cluster: a timeout or ban is
// saved here and in the replicated map before the desk answers, so every
// node applies it (within the map's notice, milliseconds).
type keeper struct {
	db *store.DB
	c  *clusterPart
}

func (k keeper) PutRestriction(r store.Restriction) error {
	if err := k.db.PutRestriction(r); err != nil {
		return err
	}
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return k.set(r.Key(), v)
}

func (k keeper) DeleteRestriction(key string) error {
	if err := k.db.DeleteRestriction(key); err != nil {
		return err
	}
	return k.set(key, nil)
}

func (k keeper) set(key string, v []byte) error {
	if k.c.restr == nil {
		return fmt.Errorf("cluster not started")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if v == nil {
		return k.c.restr.Delete(ctx, key)
	}
	return k.c.restr.Set(ctx, key, v)
}

// advertise is the URL peers reach this node at: cluster.advertise, or
// the bound address.
func advertise(configured, addr string, tls bool) string {
	if configured != "" {
		return configured
	}
	scheme := "http://"
	if tls {
		scheme = "https://"
	}
	host, port, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1" // reachable at least from this machine; set cluster.advertise for others
	}
	return scheme + net.JoinHostPort(host, port)
}

// status is the cluster's lines of GET /readyz.
func (c *clusterPart) status() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cluster: node %s, %d nodes, %d streams owned here", c.node.ID(), len(c.node.Peers()), len(c.node.Owned()))
	if c.node.Degraded() {
		b.WriteString(", degraded: Redis unreachable; deciding every stream that reaches this node, cross-node events queued")
	}
	b.WriteString("\n")
	return b.String()
}

// close leaves the cluster: the leases go at once, so other nodes take
// this node's streams without waiting for them to lapse.
func (c *clusterPart) close() error {
	err := c.broker.Close()
	if cerr := c.node.Close(); cerr != nil {
		err = cerr
	}
	return err
}

// policyStore is the policies' store in a cluster: a stream's policy set
// over REST is saved here and in the replicated map before the answer, so
// every node (and the next owner of the stream) applies it.
type policyStore struct {
	db *store.DB
	c  *clusterPart
}

func (p policyStore) Policies() (map[string][]byte, error) { return p.db.Policies() }

func (p policyStore) PutPolicy(stream string, doc []byte) error {
	if err := p.db.PutPolicy(stream, doc); err != nil {
		return err
	}
	if p.c.policies == nil {
		return fmt.Errorf("cluster not started")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return p.c.policies.Set(ctx, stream, doc)
}

// ClusterNode returns this node's id and the URL peers reach it at; both
// empty on a single node.
func (a *App) ClusterNode() (id, advertised string) {
	if a.cluster == nil {
		return "", ""
	}
	self := a.cluster.node.Self()
	return self.ID, self.Addr
}
