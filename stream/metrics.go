package stream

import (
	"github.com/livemod/livemod/broker"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the pipeline's Prometheus collectors. Build one with
// NewMetrics and pass it to the pipeline, ingest and hub.
type Metrics struct {
	IngestMessages    prometheus.Counter
	IngestFrames      prometheus.Counter
	IngestBytes       prometheus.Counter
	IngestRefused     *prometheus.CounterVec
	IngestConnections prometheus.Gauge
	IngestClosed      *prometheus.CounterVec
	IngestDuplicates  prometheus.Counter
	IngestClamped     prometheus.Counter
	Forwarded         prometheus.Counter // to the node that decides their stream
	ForwardFailed     prometheus.Counter // could not be forwarded: decided here
	DedupFull         prometheus.Counter
	Decisions         *prometheus.CounterVec
	DecisionLabels    *prometheus.CounterVec
	DecisionLatency   prometheus.Histogram
	Subscribers       *prometheus.GaugeVec
	SlowDisconnects   *prometheus.CounterVec
	FanoutBytes       prometheus.Counter

	reg prometheus.Registerer
}

// NewMetrics creates the collectors and registers them with reg. A nil
// reg leaves them unregistered (tests, replay).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		IngestMessages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "livemod_ingest_messages_total",
			Help: "Messages accepted by ingest and handed to the pipeline.",
		}),
		IngestFrames: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "livemod_ingest_frames_total",
			Help: "Websocket frames read by ingest.",
		}),
		IngestBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "livemod_ingest_bytes_total",
			Help: "Bytes of frames read by ingest.",
		}),
		IngestRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livemod_ingest_refused_total",
			Help: "Messages refused by ingest, by reason (malformed, invalid, empty frames, closed).",
		}, []string{"reason"}),
		IngestConnections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "livemod_ingest_connections",
			Help: "Open ingest websocket connections.",
		}),
		IngestClosed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livemod_ingest_policy_closes_total",
			Help: "Ingest connections closed by policy, by reason (oversize, rate, idle, slow: not reading its answers).",
		}, []string{"reason"}),
		IngestDuplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "livemod_ingest_duplicates_total",
			Help: "Messages acknowledged without a decision: their (stream, id) was taken within ingest.dedup_window.",
		}),
		IngestClamped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "livemod_ingest_ts_clamped_total",
			Help: "Messages whose ts was more than a day from the server's clock, taken at the server's time instead.",
		}),
		Forwarded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "livemod_ingest_forwarded_total",
			Help: "Messages handed to the node of the cluster that decides their stream.",
		}),
		ForwardFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "livemod_ingest_forward_failed_total",
			Help: "Messages of a stream another node decides that could not be forwarded (Redis unreachable) and were decided here.",
		}),
		DedupFull: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "livemod_ingest_dedup_full_total",
			Help: "Generations of remembered ids retired early because ingest.dedup_max_ids was reached (the window shortened).",
		}),
		Decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livemod_decisions_total",
			Help: "Decisions taken, by action.",
		}, []string{"action"}),
		DecisionLabels: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livemod_decision_labels_total",
			Help: "Labels given to messages, by label.",
		}, []string{"label"}),
		DecisionLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "livemod_decision_latency_seconds",
			Help:    "Time from a frame arriving at ingest to its decisions being handed to the sinks.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
		Subscribers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "livemod_fanout_subscribers",
			Help: "Connected subscribers, by view.",
		}, []string{"view"}),
		SlowDisconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livemod_fanout_slow_disconnects_total",
			Help: "Subscribers disconnected as slow, by reason (queue: over fanout.max_queue_bytes; write: a write stalled past fanout.write_timeout; ping: no pong within fanout.pong_timeout).",
		}, []string{"reason"}),
		FanoutBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "livemod_fanout_bytes_total",
			Help: "Bytes written to subscribers.",
		}),
		reg: reg,
	}
	for _, a := range []string{"allow", "hide", "hold"} {
		m.Decisions.WithLabelValues(a)
	}
	for _, r := range []string{"malformed", "invalid", "empty", "closed"} {
		m.IngestRefused.WithLabelValues(r)
	}
	for v := range broker.NumViews {
		m.Subscribers.WithLabelValues(v.String())
	}
	for _, r := range []string{"oversize", "rate", "idle", "slow"} {
		m.IngestClosed.WithLabelValues(r)
	}
	for _, r := range []string{slowQueue, slowWrite, slowPing} {
		m.SlowDisconnects.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.IngestMessages, m.IngestFrames, m.IngestBytes, m.IngestRefused,
			m.IngestConnections, m.IngestClosed, m.IngestDuplicates, m.IngestClamped, m.Forwarded, m.ForwardFailed, m.DedupFull, m.Decisions, m.DecisionLabels,
			m.DecisionLatency, m.Subscribers, m.SlowDisconnects, m.FanoutBytes)
	}
	return m
}

// register adds a collector created elsewhere in the package (queue depth
// gauges) to the same registry.
func (m *Metrics) register(c prometheus.Collector) {
	if m.reg != nil {
		m.reg.MustRegister(c)
	}
}
