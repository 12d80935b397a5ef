package connect

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/store"
	"github.com/prometheus/client_golang/prometheus"
)

// ActionStore is the durable outbox of platform actions. *store.DB
// implements it.
type ActionStore interface {
	EnqueueActions(as []store.Action, keep int) ([]store.Action, error)
	ActionsDue(now int64, limit int) (due []store.Action, next int64, err error)
	UpdateAction(id string, fn func(a *store.Action)) (store.Action, error)
}

// Connector is a platform connector as the outbox sees it: it feeds a
// stream and acts on its platform. *Twitch and *YouTube implement it.
type Connector interface {
	Actor
	Platform() string
	Stream() string
	Saw(id string) bool // the connector read message id lately
	Health() HealthState
	Start()
	Close(ctx context.Context) error
}

var (
	_ Connector = (*Twitch)(nil)
	_ Connector = (*YouTube)(nil)
)

// ActionsOptions configure Actions. Every zero value means its default.
type ActionsOptions struct {
	// MaxAttempts failed attempts refuse an action for good. Zero means 8.
	MaxAttempts int
	// Initial is the wait after the first failure, doubling up to Max,
	// jittered. Zero means 1s and 5m.
	Initial, Max time.Duration
	// Timeout bounds one attempt. Zero means 30s.
	Timeout time.Duration
	// Keep is how many finished actions the outbox keeps for the audit
	// trail of the console. Zero means 1000.
	Keep int
	// OnOutcome is told each attempt's outcome: State done or refused,
	// or pending with LastError after a failure that will be retried.
	OnOutcome func(a store.Action)
	// OnError receives outbox read and write errors. Nil drops them.
	OnError func(error)
	// Registerer takes the outbox's metrics. Nil registers none.
	Registerer prometheus.Registerer
}

// Actions is the Actions port for connected streams: the moderation desk
// and automation queue hides, timeouts, bans, unbans and replies into a
// durable outbox, and a worker carries each out through the connector of
// its stream and platform, retrying with backoff. Create it with
// NewActions; it is safe for concurrent use.
type Actions struct {
	opts  ActionsOptions
	db    ActionStore
	conns []Connector

	auto   chan store.Action // the pipeline's automatic hides, saved by the writer
	wake   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup

	pending  prometheus.Gauge
	outcomes *prometheus.CounterVec
}

// autoQueue bounds the automatic hides waiting to be saved: a spam wave
// of a few seconds; beyond it the pipeline waits (backpressure).
const autoQueue = 4096

// NewActions returns the outbox over db for conns.
func NewActions(db ActionStore, conns []Connector, opts ActionsOptions) *Actions {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 8
	}
	if opts.Initial <= 0 {
		opts.Initial = time.Second
	}
	if opts.Max <= 0 {
		opts.Max = 5 * time.Minute
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Keep <= 0 {
		opts.Keep = 1000
	}
	x := &Actions{opts: opts, db: db, conns: conns, auto: make(chan store.Action, autoQueue), wake: make(chan struct{}, 1),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "livemod_connect_actions_pending",
			Help: "Platform actions in the outbox waiting for an attempt."}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "livemod_connect_actions_total",
			Help: "Attempts of platform actions by platform and outcome (done, refused, retry)."}, []string{"platform", "outcome"}),
	}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(x.pending, x.outcomes,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "livemod_connect_actions_auto_queued",
				Help: "Automatic hides waiting to be saved to the outbox (at most 4096)."}, func() float64 { return float64(len(x.auto)) }))
	}
	return x
}

// Connectors returns the connectors the outbox acts through.
func (x *Actions) Connectors() []Connector { return x.conns }

// Platform returns the platform of stream's connectors, "" when no
// connector feeds it or when connectors of several platforms do (then
// the caller must name one).
func (x *Actions) Platform(stream string) string {
	p := ""
	for _, c := range x.conns {
		if c.Stream() != stream {
			continue
		}
		if p != "" && p != c.Platform() {
			return ""
		}
		p = c.Platform()
	}
	return p
}

// route returns the connector that carries out a, or nil when a's stream
// is not connected (then the action stays in livemod).
func (x *Actions) route(a *store.Action) Connector {
	var first Connector
	for _, c := range x.conns {
		if c.Stream() != a.Stream || (a.Platform != "" && c.Platform() != a.Platform) {
			continue
		}
		if a.Target != "" && c.Saw(a.Target) {
			return c
		}
		if first == nil {
			first = c
		}
	}
	return first
}

// Enqueue saves the actions that concern a connected stream (filling in
// their platform) and returns once they are durable; actions on streams
// no connector feeds are skipped.
func (x *Actions) Enqueue(as ...store.Action) error {
	keep := as[:0:0]
	now := time.Now().UnixMilli()
	for _, a := range as {
		c := x.route(&a)
		if c == nil {
			continue
		}
		a.Platform = c.Platform()
		if a.TS == 0 {
			a.TS = now
		}
		keep = append(keep, a)
	}
	if len(keep) == 0 {
		return nil
	}
	if _, err := x.db.EnqueueActions(keep, x.opts.Keep); err != nil {
		return fmt.Errorf("save platform action: %w", err)
	}
	x.notify()
	return nil
}

// Decided implements stream.Sink: an automatic hide of a message read by
// a connector goes to its platform. It is queued for the writer, which
// saves a run of them in one transaction.
func (x *Actions) Decided(d *chat.Decision, _ []byte) {
	if d.Action != chat.Hide || d.Platform == "" {
		return
	}
	reason := ""
	if len(d.Reasons) > 0 {
		reason = d.Reasons[0].Rule
	}
	a := store.Action{Kind: store.ActHide, Stream: d.Stream, Platform: d.Platform, Channel: d.Channel, Target: d.ID,
		User: d.User.ID, Reason: reason, Actor: "auto"}
	if c := x.route(&a); c == nil || !c.Saw(a.Target) {
		return // not read by a connector (a bridge named the platform): nothing to delete there
	}
	x.auto <- a // blocks when 4096 wait: the pipeline slows down, nothing is dropped
}

func (x *Actions) notify() {
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

// Start runs the connectors, the writer of automatic hides and the
// delivery worker until Close.
func (x *Actions) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	x.cancel = cancel
	for _, c := range x.conns {
		c.Start()
	}
	x.wg.Add(2)
	go x.write(ctx)
	go x.run(ctx)
}

// Close stops the connectors and the worker. Automatic hides already
// queued are saved first; an action in flight stays in the outbox and
// is tried again after a restart.
func (x *Actions) Close(ctx context.Context) error {
	var errs []error
	for _, c := range x.conns {
		if err := c.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if x.cancel != nil {
		x.cancel()
		done := make(chan struct{})
		go func() { x.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			errs = append(errs, ctx.Err())
		}
	}
	return errors.Join(errs...)
}

func (x *Actions) write(ctx context.Context) {
	defer x.wg.Done()
	batch := make([]store.Action, 0, 256)
	for {
		select {
		case a := <-x.auto:
			batch = append(batch[:0], a)
		case <-ctx.Done():
			batch = batch[:0]
			for len(x.auto) > 0 { // drain what the pipeline handed over
				batch = append(batch, <-x.auto)
			}
			if len(batch) > 0 {
				x.save(batch)
			}
			return
		}
		for len(batch) < cap(batch) && len(x.auto) > 0 {
			batch = append(batch, <-x.auto)
		}
		x.save(batch)
	}
}

func (x *Actions) save(batch []store.Action) {
	now := time.Now().UnixMilli()
	for i := range batch {
		batch[i].TS = now
	}
	if _, err := x.db.EnqueueActions(batch, x.opts.Keep); err != nil {
		x.fail(fmt.Errorf("save %d automatic hides: %w", len(batch), err))
		return
	}
	x.notify()
}

func (x *Actions) run(ctx context.Context) {
	defer x.wg.Done()
	drain(ctx, x.wake, x.pass)
}

// pass carries out what is due and returns when the next action is.
func (x *Actions) pass(ctx context.Context) int64 {
	for {
		now := time.Now().UnixMilli()
		due, next, err := x.db.ActionsDue(now, 64)
		if err != nil {
			x.fail(fmt.Errorf("read platform outbox: %w", err))
			return now + 1000
		}
		x.pending.Set(float64(len(due)))
		if len(due) == 0 {
			return next
		}
		for _, a := range due {
			if ctx.Err() != nil {
				return 0
			}
			x.attempt(ctx, a)
		}
	}
}

func (x *Actions) attempt(ctx context.Context, a store.Action) {
	c := x.route(&a)
	var err error
	if c == nil {
		err = &Refused{Reason: "no connector for " + a.Platform + " on stream " + a.Stream + " any more"}
	} else {
		actx, cancel := context.WithTimeout(ctx, x.opts.Timeout)
		err = c.Act(actx, a)
		cancel()
	}
	if ctx.Err() != nil {
		return // shutting down: it stays due
	}
	now := time.Now()
	var refused *Refused
	var later *RetryAt
	upd := func(s *store.Action) {
		s.Attempts++
		switch {
		case err == nil:
			s.State, s.LastError, s.DoneAt = store.ActionDone, "", now.UnixMilli()
		case errors.As(err, &refused), s.Attempts >= x.opts.MaxAttempts:
			s.State, s.LastError, s.DoneAt = store.ActionRefused, err.Error(), now.UnixMilli()
		case errors.As(err, &later):
			s.LastError, s.NextAt = err.Error(), later.At.UnixMilli()
		default:
			s.LastError, s.NextAt = err.Error(), now.Add(x.backoff(s.Attempts)).UnixMilli()
		}
	}
	saved, serr := x.db.UpdateAction(a.ID, upd)
	if serr != nil {
		x.fail(fmt.Errorf("platform action %s: %w", a.ID, serr))
		return
	}
	outcome := "retry"
	switch saved.State {
	case store.ActionDone:
		outcome = "done"
	case store.ActionRefused:
		outcome = "refused"
	}
	x.outcomes.WithLabelValues(saved.Platform, outcome).Inc()
	if x.opts.OnOutcome != nil {
		x.opts.OnOutcome(saved)
	}
}

// backoff is the wait after the n-th failure.
func (x *Actions) backoff(n int) time.Duration {
	b := backoff{Min: x.opts.Initial, Max: x.opts.Max, n: n - 1}
	return b.next()
}

func (x *Actions) fail(err error) {
	if x.opts.OnError != nil {
		x.opts.OnError(err)
	}
}
