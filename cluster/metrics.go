package cluster

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	up, degraded             prometheus.Gauge
	fwdDropped, mapDropped   prometheus.Counter
	forwarded, consumed      prometheus.Counter
	consumeErrors, takeovers prometheus.Counter
	errors                   *prometheus.CounterVec
	all                      []prometheus.Collector
	reg                      prometheus.Registerer
}

func newMetrics(n *Node) *metrics {
	m := &metrics{
		up:            prometheus.NewGauge(prometheus.GaugeOpts{Name: "livemod_redis_up", Help: "1 while Redis answers this node's health checks."}),
		degraded:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "livemod_cluster_degraded", Help: "1 while Redis is unreachable: this node decides all it receives and queues cross-node writes."}),
		fwdDropped:    prometheus.NewCounter(prometheus.CounterOpts{Name: "livemod_cluster_forward_dropped_total", Help: "Lines not forwarded to their stream's owner: queue full, refused by Redis, or left at close."}),
		mapDropped:    prometheus.NewCounter(prometheus.CounterOpts{Name: "livemod_cluster_map_dropped_total", Help: "Replicated-map writes refused because the queue for an unreachable Redis was full."}),
		forwarded:     prometheus.NewCounter(prometheus.CounterOpts{Name: "livemod_cluster_forwarded_total", Help: "Lines written to the forwarding logs of streams owned elsewhere."}),
		consumed:      prometheus.NewCounter(prometheus.CounterOpts{Name: "livemod_cluster_consumed_total", Help: "Forwarded lines handed on by this node as their stream's owner."}),
		consumeErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "livemod_cluster_consume_errors_total", Help: "Batches of forwarded lines whose handler failed (offered again)."}),
		takeovers:     prometheus.NewCounter(prometheus.CounterOpts{Name: "livemod_cluster_takeovers_total", Help: "Streams this node took over after another node's lease lapsed or was released."}),
		errors:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "livemod_redis_errors_total", Help: "Failed Redis operations by operation."}, []string{"op"}),
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	m.all = []prometheus.Collector{
		m.up, m.degraded, m.fwdDropped, m.mapDropped, m.forwarded, m.consumed, m.consumeErrors, m.takeovers, m.errors,
		gauge("livemod_cluster_nodes", "Live nodes seen in the last heartbeat, this one included.", func() float64 { return float64(len(*n.peers.Load())) }),
		gauge("livemod_cluster_owned_streams", "Streams whose lease this node holds.", func() float64 {
			n.leases.mu.Lock()
			defer n.leases.mu.Unlock()
			return float64(len(n.leases.owned))
		}),
		gauge("livemod_cluster_streams", "Streams whose owner this node caches (bound: MaxStreams).", func() float64 { return float64(n.leases.count.Load()) }),
		gauge("livemod_cluster_forward_queue", "Lines waiting to be forwarded (bound: ForwardQueue).", func() float64 { return float64(n.fwd.lines.Load()) }),
		gauge("livemod_cluster_forward_queue_bytes", "Bytes of lines waiting to be forwarded (bound: ForwardQueueBytes).", func() float64 { return float64(n.fwd.bytes.Load()) }),
		gauge("livemod_cluster_map_notices", "Map notices received and not yet applied (bound: 4096; when full the subscriber waits, Redis drops it, and the node resyncs).", func() float64 { return float64(len(n.maps.events)) }),
		gauge("livemod_cluster_map_queue", "Replicated-map writes waiting for Redis (bound: MapQueue).", func() float64 { return float64(n.maps.qlen.Load()) }),
	}
	return m
}

func (m *metrics) register(r prometheus.Registerer) error {
	for i, c := range m.all {
		if err := r.Register(c); err != nil {
			for _, d := range m.all[:i] {
				r.Unregister(d)
			}
			return err
		}
	}
	m.reg = r
	return nil
}

// unregister lets a process open a new Node on the same registry after
// closing one.
func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.all {
		m.reg.Unregister(c)
	}
}
