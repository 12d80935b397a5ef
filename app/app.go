package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/livemod/livemod/automate"
	"github.com/livemod/livemod/broker"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
	"github.com/livemod/livemod/config"
	"github.com/livemod/livemod/docs"
	"github.com/livemod/livemod/moderate"
	"github.com/livemod/livemod/overlay"
	"github.com/livemod/livemod/policy"
	"github.com/livemod/livemod/state"
	"github.com/livemod/livemod/store"
	"github.com/livemod/livemod/stream"
	"github.com/livemod/livemod/trend"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// App is one running livemod server, wired from a Config. app is the only
// package that knows every other.
type App struct {
	Cfg      config.Config
	reg      *prometheus.Registry
	Engine   *classify.Engine
	trending *trend.Trending // the engine's question clusters, which the host pins, answers and dismisses
	Pipeline *stream.Pipeline
	Hub      *stream.Hub
	ingest   *stream.Ingest
	DB       *store.DB
	audit    *store.AuditSink
	Desk     *moderate.Desk            // moderators' actions, recent decisions (issue 3)
	Host     *moderate.Host            // trending questions for the overlay (issue 3)
	kpis     *moderate.KPIs            // GET /v1/kpis counters
	Auto     *automation               // FAQ replies, handoffs, CRM webhook (issue 4)
	restr    *state.MemoryRestrictions // timeouts and bans, shared by desk and engine
	Policy   *policy.Book              // the streams' own rules, between the engine and automation
	Conn     *connectors               // platform connectors and their outbox; nil without any
	cluster  *clusterPart              // nil on one node (no redis)
	Server   *http.Server
	ln       net.Listener
	log      io.Writer
	commits  *prometheus.HistogramVec // livemod_store_commit_seconds{writer}
	// phase is what GET /readyz reports: starting until serve runs (the
	// store is open and the pipeline's shards run by then), ready, then
	// stopping from the start of shutdown.
	phase atomic.Int32
	// purger is the retention purge; purgeStop ends it, purgeDone says
	// it has.
	sampler   *store.Sampler    // quality-review sampling
	minutes   *store.KPIMinutes // KPIs per minute, in the store
	purger    *store.Purger
	purgeStop context.CancelFunc
	purgeDone chan struct{}
}

const (
	phaseStarting int32 = iota
	phaseReady
	phaseStopping
)

// roleOf is the role of the token named actor, for the audit log.
func (a *App) roleOf(actor string) string {
	for _, t := range a.Cfg.Auth.Tokens {
		if t.Name == actor {
			return string(t.Role)
		}
	}
	return ""
}

// ready answers GET /readyz.
func (a *App) Ready() error {
	switch a.phase.Load() {
	case phaseReady:
		return nil
	case phaseStopping:
		return errors.New("shutting down")
	}
	return errors.New("starting: the store and the pipeline are not running yet")
}

// newEngine builds the classify engine from the config: serve, demo and
// replay share it, so replay decides exactly as the server does.
func NewEngine(cfg config.Config) (*classify.Engine, error) {
	return newEngineWith(cfg, nil, trend.NewTrending(trend.TrendOptions{}))
}

// newEngineWith is newEngine asking restr about timeouts and bans first
// (serve: the moderation desk's; replay has none), with its questions
// clustered in tr (serve: the one the moderation host works on).
func newEngineWith(cfg config.Config, restr classify.Restrictions, tr *trend.Trending) (*classify.Engine, error) {
	opts := classify.Options{
		RepeatWindow:       cfg.Classify.RepeatWindow,
		RepeatCount:        cfg.Classify.RepeatCount,
		CopypastaWindow:    cfg.Classify.CopypastaWindow,
		CopypastaUsers:     cfg.Classify.CopypastaUsers,
		CopypastaMinLength: cfg.Classify.CopypastaMinLength,
		Restrictions:       restr,
		NoModel:            cfg.Classify.Model == "none",
		// Questions are clustered in the engine so that every decision
		// names its cluster, in replay exactly as in serve.
		Trending: tr,
	}
	if len(cfg.Classify.CopypastaStreams) > 0 {
		opts.CopypastaStreams = make(map[string]classify.CopypastaOptions, len(cfg.Classify.CopypastaStreams))
		for s, c := range cfg.Classify.CopypastaStreams {
			opts.CopypastaStreams[s] = classify.CopypastaOptions{MinLength: c.MinLength, Users: c.Users, Window: c.Window}
		}
	}
	if !opts.NoModel {
		m, err := LoadModel(cfg.Classify.Model)
		if err != nil {
			return nil, err
		}
		opts.Model = m
	}
	var err error
	if opts.Thresholds, err = labelScores("classify.thresholds", cfg.Classify.Thresholds); err != nil {
		return nil, err
	}
	if opts.HideThresholds, err = labelScores("classify.hide_thresholds", cfg.Classify.HideThresholds); err != nil {
		return nil, err
	}
	return classify.New(opts)
}

// labelScores turns a config map of label names into classify's.
func labelScores(key string, in map[string]float32) (map[chat.Label]float32, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make(map[chat.Label]float32, len(in))
	for name, v := range in {
		l, err := chat.ParseLabel(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w; labels are %s", key, err, LabelNames())
		}
		if !(v > 0 && v <= 1) {
			return nil, fmt.Errorf("%s.%s: %v is out of range; use a score in (0, 1]", key, name, v)
		}
		out[l] = v
	}
	return out, nil
}

// newApp validates cfg and builds the server, without listening yet.
func New(cfg config.Config, log io.Writer) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	auth, err := overlay.NewAuth(cfg.Auth.Tokens)
	if err != nil {
		return nil, err
	}
	// Timeouts and bans: set by the moderation desk, asked first by the
	// engine about every message (docs/ARCHITECTURE.md, "Order of
	// precedence").
	restr := &state.MemoryRestrictions{}
	tr := trend.NewTrending(trend.TrendOptions{})
	engine, err := newEngineWith(cfg, restr, tr)
	if err != nil {
		return nil, err
	}
	var tlsConfig *tls.Config
	if cfg.TLS.Cert != "" { // before the store opens: nothing to undo
		cert, err := tls.LoadX509KeyPair(cfg.TLS.Cert, cfg.TLS.Key)
		if err != nil {
			return nil, fmt.Errorf("tls: load %s and %s: %w", cfg.TLS.Cert, cfg.TLS.Key, err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	setMemoryLimit()
	setGCPercent()
	db, err := store.Open(cfg.Data)
	if err != nil {
		return nil, err
	}
	a := &App{Cfg: cfg, reg: prometheus.NewRegistry(), Engine: engine, trending: tr, log: log, DB: db, restr: restr}
	if cfg.Redis != "" {
		// Peers reach this node at its address: bind it now (Listen
		// then takes this listener).
		if err := a.Listen(); err != nil {
			db.Close()
			return nil, err
		}
		if err := a.openCluster(tlsConfig != nil); err != nil {
			a.ln.Close()
			db.Close()
			return nil, err
		}
	}
	m := a.wireStore()
	decider, err := a.wireParts(m)
	if err != nil {
		a.audit.Close(context.Background())
		if a.cluster != nil {
			a.cluster.close()
			a.ln.Close()
		}
		db.Close()
		return nil, err
	}
	a.wirePipeline(decider, m)
	var h http.Handler = a.routes(auth)
	if a.cluster != nil {
		a.cluster.start()
		h = a.cluster.handler(h)
	}
	a.Server = a.httpServer(h)
	if tlsConfig != nil {
		a.Server.TLSConfig = tlsConfig
	}
	return a, nil
}

// wireStore starts the store's writers (audit, KPI minutes, review
// samples) and the metrics registry with the store's and the
// restrictions' collectors, and returns the stream metrics.
func (a *App) wireStore() *stream.Metrics {
	cfg, db, log, restr := a.Cfg, a.DB, a.log, a.restr
	a.audit = store.NewAuditSink(db)
	a.audit.OnError = func(err error) { fmt.Fprintln(log, "livemod: audit write:", err) }
	a.audit.RoleOf = a.roleOf
	a.minutes = store.NewKPIMinutes(db)
	a.minutes.Meaningful = moderate.Meaningful
	a.minutes.OnError = func(err error) { fmt.Fprintln(log, "livemod: kpi minutes:", err) }
	if a.cluster != nil {
		a.minutes.SetMirror(a.cluster.mirrorKPIs)
	}
	a.sampler = store.NewSampler(db, cfg.Review.Share)
	a.sampler.OnError = func(err error) { fmt.Fprintln(log, "livemod: review sampling:", err) }
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.commits = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "livemod_store_commit_seconds",
		Help:    "Time one commit of the durable store takes (writes and fsync), by writer; acknowledgements of tickets, opt-outs and human actions wait for one.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	}, []string{"writer"})
	a.reg.MustRegister(a.commits)
	a.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "livemod_store_map_releases_total",
		Help: "Times the store dropped its file's pages from the process (more than 32 MiB of them were mapped since the last time); the page cache keeps them.",
	}, func() float64 { return float64(db.Releases()) }))
	auditCommits := a.commits.WithLabelValues("audit")
	a.audit.ObserveCommit = func(d time.Duration) { auditCommits.Observe(d.Seconds()) }
	m := stream.NewMetrics(a.reg)
	a.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "livemod_moderation_restricted_users",
		Help: "Users under a timeout or ban, whose messages the engine hides first (ended timeouts until the next moderator action).",
	}, func() float64 { return float64(restr.Len()) }))
	return m
}

// wireParts builds the hub, the connectors, the desks, the policies and
// automation, in that order (each needs the ones before), and returns the
// decider the pipeline runs.
func (a *App) wireParts(m *stream.Metrics) (chat.Decider, error) {
	cfg := a.Cfg
	var err error
	a.Hub = stream.NewHub(stream.HubOptions{
		MaxQueueBytes:  cfg.Fanout.MaxQueueBytes,
		WriteTimeout:   cfg.Fanout.WriteTimeout,
		PingInterval:   cfg.Fanout.PingInterval,
		PongTimeout:    cfg.Fanout.PongTimeout,
		OriginPatterns: cfg.Origins,
		Broker:         a.hubBroker(),
	}, m)
	if a.Conn, err = a.wireConnect(); err != nil {
		return nil, err
	}
	if err := a.wireDesks(); err != nil {
		return nil, err
	}
	if err := a.wirePolicy(); err != nil {
		return nil, err
	}
	return a.wireAutomation()
}

// wirePipeline builds the pipeline over the decider and the sinks, and
// the ingest that feeds it.
func (a *App) wirePipeline(decider chat.Decider, m *stream.Metrics) {
	cfg := a.Cfg
	// The desk comes before the hub: it keeps a decision before the hub
	// publishes it (stream.FlushSink).
	popts := stream.Options{
		Shards:   cfg.Pipeline.Shards,
		QueueLen: cfg.Pipeline.QueueLen,
		Commit:   committer{a.Auto.state},
	}
	node := ""
	if a.cluster != nil {
		popts.Forward = a.cluster
		node = a.cluster.node.ID()
	}
	a.Pipeline = stream.NewPipeline(decider, a.Conn.sinks(a.Desk, a.Hub, a.audit, a.kpis, a.Host, a.sampler, a.minutes), popts, m)
	a.ingest = stream.NewIngest(a.Pipeline, stream.IngestOptions{
		MaxFrameBytes:       cfg.Ingest.MaxFrameBytes,
		MaxMessagesPerFrame: cfg.Ingest.MaxMessagesPerFrame,
		RatePerSecond:       cfg.Ingest.RatePerSecond,
		Burst:               cfg.Ingest.Burst,
		AckDelay:            cfg.Ingest.AckDelay,
		IdleTimeout:         cfg.Ingest.IdleTimeout,
		DedupWindow:         cfg.Ingest.DedupWindow,
		DedupMaxIDs:         cfg.Ingest.DedupMaxIDs,
		OriginPatterns:      cfg.Origins,
		Node:                node,
	}, m)
}

// routes builds the HTTP router with every page and REST endpoint.
func (a *App) routes(auth *overlay.Auth) *overlay.Server {
	cfg, db := a.Cfg, a.DB
	hc := cfg.HTTP.WithDefaults()
	srv := overlay.NewServer(overlay.Options{
		Auth:     auth,
		Ingest:   a.ingest,
		Messages: http.HandlerFunc(a.ingest.ServeMessages),
		Status:   a.status,
		Feed:     a.Hub,
		Metrics:  promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{Registry: a.reg}),
		Pprof:    cfg.Pprof,
		Commit:   a.commit,
		Ready:    a.Ready,
		OpenAPI:  docs.OpenAPI,

		MaxBodyBytes: hc.MaxBodyBytes,
	})
	overlay.RegisterPages(srv)
	overlay.RegisterQuestions(srv, moderate.HostREST{Host: a.Host})
	overlay.RegisterModeration(srv, moderate.DeskREST{Desk: a.Desk})
	a.automationRoutes(srv)
	a.connectRoutes(srv)
	overlay.RegisterAdmin(srv, adminREST{a})
	overlay.RegisterKPIs(srv, adminREST{a})
	overlay.RegisterStreams(srv, streamsREST{a}, streamsREST{a})
	overlay.RegisterPolicy(srv, policyREST{a})
	overlay.RegisterAppeals(srv, appealsREST{a})
	overlay.RegisterReviews(srv, reviewsREST{a})
	a.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "livemod_reviews_open",
		Help: "Sampled automatic decisions waiting for a review (at most 10,000; sampling skips while full).",
	}, func() float64 { return float64(a.sampler.Open()) }))
	a.wirePurge()
	a.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "livemod_appeals_open",
		Help: "Appeals waiting for a moderator's decision (at most 100,000; more are refused with 429).",
	}, func() float64 { return float64(db.OpenAppeals()) }))
	return srv
}

// httpServer is the server of h with the configured limits.
func (a *App) httpServer(h http.Handler) *http.Server {
	hc := a.Cfg.HTTP.WithDefaults()
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: hc.ReadHeaderTimeout,
		ReadTimeout:       hc.ReadTimeout, // lifted for websockets by overlay
		IdleTimeout:       hc.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          stdlog.New(a.log, "livemod: http: ", 0), // TLS handshake errors and the like
	}
}

// commit waits until every change made before the call is on disk: the
// audit log's and the automation state's writers commit what they hold at
// once and many callers share each commit. Restrictions and labels are
// written synchronously already. A REST answer that changed state waits
// for it (overlay.Options.Commit).
func (a *App) commit(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- a.Auto.state.Sync(ctx) }()
	err := a.audit.Flush(ctx)
	return errors.Join(err, <-errc)
}

// committer is the pipeline's stream.Committer: an ingest ack of a
// message that opened a ticket or recorded an opt-out waits for the
// automation state's commit.
type committer struct{ state *store.Automation }

func (c committer) Changed(d *chat.Decision) bool { return automate.ChangedDurably(d) }

func (c committer) Committed() <-chan error { return c.state.Committed() }

// listen binds the configured address. It is split from serve so that
// callers (demo, tests) know the address before traffic starts.
func (a *App) Listen() error {
	if a.ln != nil {
		return nil // bound by New, for a cluster's advertised address
	}
	ln, err := net.Listen("tcp", a.Cfg.Listen)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("listen %s: the port is in use (is another livemod running?); pick another with --listen, such as --listen 127.0.0.1:0 for any free port", a.Cfg.Listen)
	}
	if err != nil {
		return fmt.Errorf("listen %s: %w", a.Cfg.Listen, err)
	}
	a.ln = ln
	return nil
}

// addr is the bound address, host:port.
func (a *App) Addr() string { return a.ln.Addr().String() }

// baseURL is the server's URL for scheme "http" or "ws": https and wss
// when it serves TLS.
func (a *App) BaseURL(scheme string) string {
	if a.Server.TLSConfig != nil {
		scheme += "s"
	}
	return scheme + "://" + a.Addr()
}

// serve runs until ctx ends, then shuts down in flow order: stop reading
// ingest, drain the pipeline, close subscribers, stop HTTP.
func (a *App) Serve(ctx context.Context) error {
	a.Conn.start() // platform chat starts flowing with the server
	errc := make(chan error, 1)
	// The store is open and the pipeline's shards run (NewPipeline
	// started them): take traffic.
	a.phase.CompareAndSwap(phaseStarting, phaseReady)
	a.startPurge()
	go func() {
		if a.Server.TLSConfig != nil {
			errc <- a.Server.ServeTLS(a.ln, "", "") // the certificate is in TLSConfig
			return
		}
		errc <- a.Server.Serve(a.ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return a.Shutdown(sctx)
}

func (a *App) Shutdown(ctx context.Context) error {
	a.phase.Store(phaseStopping)
	var errs []error
	if err := a.ingest.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("close ingest: %w", err))
	}
	// REST requests finish before the stores they use close (websockets
	// are hijacked: Shutdown does not wait for them).
	if err := a.Server.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stop http: %w", err))
	}
	if err := a.Pipeline.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("drain pipeline: %w", err))
	}
	if err := a.Policy.Close(ctx); err != nil { // its queued timeouts go to the desk
		errs = append(errs, fmt.Errorf("stop policy: %w", err))
	}
	if err := a.Conn.close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stop connectors: %w", err))
	}
	a.Desk.Close()
	if err := a.Host.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stop trending: %w", err))
	}
	errs = append(errs, a.closeAutomation(ctx)...)
	if a.purgeStop != nil {
		a.purgeStop()
		<-a.purgeDone
	}
	if err := a.minutes.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("flush kpi minutes: %w", err))
	}
	if err := a.sampler.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("flush review samples: %w", err))
	}
	if err := a.audit.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("flush audit: %w", err))
	}
	if a.cluster != nil {
		if err := a.cluster.close(); err != nil {
			errs = append(errs, fmt.Errorf("leave the cluster: %w", err))
		}
	}
	if err := a.Hub.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("close subscribers: %w", err))
	}
	if err := a.DB.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close store: %w", err))
	}
	return errors.Join(errs...)
}

// wireDesks builds the KPI counters, the moderation desk (with the
// timeouts and bans kept before a restart) and the host's trending list,
// and gives new moderator and overlay subscribers their snapshots (after
// any snapshot set before, e.g. the agent view's).
func (a *App) wireDesks() error {
	a.kpis = moderate.NewKPIs(moderate.KPIOptions{
		Tickets: func(s string) []*chat.Ticket { return a.Auto.state.List(s, "") },
		Keep:    a.minutes,
	})
	// The counters start where they stopped: every KPI is kept per
	// minute in the store (docs/ARCHITECTURE.md, "KPIs").
	hist, err := a.minutes.History(time.Now().Add(-time.Hour).UnixMilli())
	if err != nil {
		return fmt.Errorf("kpis: restore: %w", err)
	}
	for s, h := range hist {
		a.kpis.Restore(s, h)
	}
	a.Desk = moderate.NewDesk(moderate.DeskOptions{
		Publish: func(s string, line []byte) { a.Hub.Publish(s, broker.ViewModerator, line) },
		Audit:   a.audit,
		Labels:  a.DB,
		Keep:    a.keeper(),
		KPIs:    a.kpis,
		OnError: func(err error) { fmt.Fprintln(a.log, "livemod: moderation desk:", err) },
		// The engine reads the desk's timeouts and bans first; what a
		// person hides, and who is restricted, leaves the overlay.
		Restrictions: a.restr,
		Hidden:       func(s, user, id string) { a.Host.Hidden(s, user, id) },
		Actions:      a.Conn.port(),
		Shown:        func(s, user, id string, d []byte) { a.Host.Shown(s, user, id, d) },
	})
	rs, err := a.DB.Restrictions(time.Now().UnixMilli())
	if err != nil {
		return err
	}
	a.Desk.Restore(rs)
	a.Host = moderate.NewHost(moderate.HostOptions{
		Trending:       a.trending,
		EngineObserves: true,
		Publish:        func(s string, line []byte) { a.Hub.Publish(s, broker.ViewOverlay, line) },
		Audit:          a.audit,
	})
	a.Hub.AddSnapshot(func(s string, v broker.View) [][]byte {
		var out [][]byte
		switch v {
		case broker.ViewModerator:
			out = append(out, a.Desk.Snapshot(s)...)
		case broker.ViewOverlay:
			out = append(out, a.Host.Line(s))
		}
		return out
	})
	return nil
}

// close releases an app that never served (listen failed): the store
// above all, which only one process may hold.
func (a *App) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		fmt.Fprintln(a.log, "livemod: close:", err)
	}
}

// retention is the config's retention with its defaults.
func retention(c config.Retention) (store.Retention, time.Duration) {
	or := func(d, def time.Duration) time.Duration {
		if d <= 0 {
			return def
		}
		return d
	}
	const day = 24 * time.Hour
	return store.Retention{
		Support: or(c.Support, 365*day),
		Chat:    or(c.Chat, 365*day/2),
		Labels:  or(c.Labels, 365*day),
		OptOuts: or(c.OptOuts, 730*day),
	}, or(c.Interval, time.Hour)
}

// wirePurge builds the retention purge and its oldest-record gauge.
func (a *App) wirePurge() {
	r, _ := retention(a.Cfg.Retention)
	a.purger = &store.Purger{DB: a.DB, Automation: a.Auto.state, Retention: r, Now: time.Now,
		Audit:   a.audit.Record,
		OnError: func(err error) { fmt.Fprintln(a.log, "livemod: retention purge:", err) }}
	for _, kind := range store.RetentionKinds {
		if kind == "chat_detail" {
			continue
		}
		a.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "livemod_retention_oldest_seconds",
			Help:        "Age of the oldest record of each kind as of the last retention purge (0: none); the purge keeps it under the kind's retention.",
			ConstLabels: prometheus.Labels{"kind": kind},
		}, func() float64 {
			ts := a.purger.Oldest()[kind]
			if ts == 0 {
				return 0
			}
			return time.Since(time.UnixMilli(ts)).Seconds()
		}))
	}
}

// startPurge runs the purge once now and then every interval.
func (a *App) startPurge() {
	_, every := retention(a.Cfg.Retention)
	ctx, cancel := context.WithCancel(context.Background())
	tick := make(chan time.Time, 1)
	tick <- time.Now()
	a.purger.Tick = tick
	a.purgeStop, a.purgeDone = cancel, make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				select {
				case tick <- now:
				default:
				}
			}
		}
	}()
	go func() {
		defer close(a.purgeDone)
		a.purger.Run(ctx)
	}()
}

// hubBroker is the broker the hub publishes through: Redis in a cluster,
// nil (the hub's broker.Memory) on one node.
func (a *App) hubBroker() broker.Broker {
	if a.cluster == nil {
		return nil
	}
	return a.cluster.broker
}

// keeper is where the desk keeps timeouts and bans: the store, and in a
// cluster the replicated map too.
func (a *App) keeper() moderate.Keeper {
	if a.cluster == nil {
		return a.DB
	}
	return keeper{db: a.DB, c: a.cluster}
}

// status is what GET /readyz adds after "ready": the connectors' and the
// cluster's state.
func (a *App) status() string {
	s := a.Conn.status()
	if a.cluster != nil {
		s += a.cluster.status()
	}
	return s
}
