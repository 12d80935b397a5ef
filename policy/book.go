package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
)

// Store keeps the policies set over REST across restarts. *store.DB
// implements it.
type Store interface {
	Policies() (map[string][]byte, error)
	PutPolicy(stream string, p []byte) error
}

// Options configure a Book. Every zero value means its documented default.
type Options struct {
	// Store keeps stream policies set with Put. Nil keeps them in memory.
	Store Store
	// Audit records a policy change: who, which stream, and the diff.
	// Nil records nothing.
	Audit func(actor, stream, diff string)
	// Timeout times a user out (the moderation desk's timeout). It is
	// called from the Book's own goroutine, never from a shard. Nil gives
	// no timeouts: the message is still hidden.
	Timeout func(stream, user string, seconds int, reason string) error
	// OnError receives errors of Timeout. Nil drops them.
	OnError func(error)
	// NewEngine builds a fresh engine for trials (Try), so that a trial
	// touches no live state. Nil refuses trials.
	NewEngine func() (*classify.Engine, error)
	// RecentBytes bounds the recent messages kept per stream for trials
	// over the last minutes. Zero means 1 MiB (about 10,000 chat lines);
	// negative keeps none.
	RecentBytes int
	// RecentStreams bounds the streams whose recent messages are kept;
	// the one quiet longest is dropped. Zero means 64.
	RecentStreams int
	// MaxOffenders bounds the users the escalation table holds. Zero
	// means 100,000.
	MaxOffenders int
}

// timeoutQueue bounds the timeouts waiting for the desk: a raid can earn
// hundreds in a second, and each is a durable write.
const timeoutQueue = 1024

// Book holds the policy of every stream and decides messages with it:
// the engine, then the stream's rules. Policies change with Put and
// Reload and apply from the next message on; readers never wait.
type Book struct {
	engine *classify.Engine
	opts   Options
	env    *Env
	rec    *recent

	cur atomic.Pointer[set]

	mu     sync.Mutex        // writers: Put, Reload
	cfg    Config            // from the file
	stored map[string]Policy // set over REST; replaces cfg.Streams[id]

	trial    chan struct{} // one trial at a time
	tq       chan timeoutReq
	dropped  atomic.Int64
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

type timeoutReq struct {
	stream, user string
	seconds      int
	reason       string
}

// set is one version of every stream's compiled rules.
type set struct {
	def     *Bound // nil: no default policy
	streams map[string]*Bound
}

func (s *set) of(stream string) *Bound {
	if len(s.streams) == 0 {
		return s.def
	}
	if b, ok := s.streams[stream]; ok {
		return b
	}
	return s.def
}

// Errors of Put.
var (
	ErrTooManyStreams = errors.New("policy: too many streams with their own policy")
	ErrNoTrials       = errors.New("policy: trials need an engine factory")
	ErrBusy           = errors.New("policy: another trial is running; try again when it ends")
)

// New builds a Book deciding with engine under cfg, with the policies
// opts.Store kept. Close it to stop its goroutine.
func New(engine *classify.Engine, cfg Config, opts Options) (*Book, error) {
	if err := cfg.Validate("policy"); err != nil {
		return nil, err
	}
	b := &Book{engine: engine, opts: opts, cfg: cfg, stored: map[string]Policy{},
		tq: make(chan timeoutReq, timeoutQueue), stop: make(chan struct{}), done: make(chan struct{}), trial: make(chan struct{}, 1)}
	b.env = NewEnv(opts.MaxOffenders, b.enqueue)
	if opts.RecentBytes >= 0 {
		b.rec = newRecent(opts.RecentBytes, opts.RecentStreams)
	}
	if opts.Store != nil {
		kept, err := opts.Store.Policies()
		if err != nil {
			return nil, fmt.Errorf("load stream policies: %w", err)
		}
		for id, raw := range kept {
			p, err := ParseJSON(raw)
			if err != nil {
				return nil, fmt.Errorf("stream %q: stored policy: %w", id, err)
			}
			b.stored[id] = p
		}
	}
	s, err := b.build(b.cfg, b.stored)
	if err != nil {
		return nil, err
	}
	b.cur.Store(s)
	go b.run()
	return b, nil
}

// build compiles every stream's rules.
func (b *Book) build(cfg Config, stored map[string]Policy) (*set, error) {
	s := &set{streams: map[string]*Bound{}}
	if !reflect.DeepEqual(cfg.Default, Policy{}) {
		r, err := Compile(cfg.Default)
		if err != nil {
			return nil, fmt.Errorf("policy.default: %w", err)
		}
		s.def = r.Bind(b.env)
	}
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(overrides(cfg, stored))) {
		r, err := Compile(effective(cfg, stored, id))
		if err != nil {
			errs = append(errs, fmt.Errorf("stream %q: %w", id, err))
			continue
		}
		s.streams[id] = r.Bind(b.env)
	}
	return s, errors.Join(errs...)
}

func overrides(cfg Config, stored map[string]Policy) map[string]bool {
	ids := map[string]bool{}
	for id := range cfg.Streams {
		ids[id] = true
	}
	for id := range stored {
		ids[id] = true
	}
	return ids
}

// effective is stream's policy: the default with its override merged over.
func effective(cfg Config, stored map[string]Policy, stream string) Policy {
	if p, ok := stored[stream]; ok {
		return Merge(cfg.Default, p)
	}
	if p, ok := cfg.Streams[stream]; ok {
		return Merge(cfg.Default, p)
	}
	return cfg.Default
}

// Decide implements chat.Decider.
func (b *Book) Decide(m *chat.Message) chat.Decision {
	var d chat.Decision
	b.DecideInto(&d, m)
	return d
}

// DecideInto decides m with the engine and its stream's rules, and keeps
// m among the stream's recent messages for trials.
func (b *Book) DecideInto(d *chat.Decision, m *chat.Message) {
	if r := b.cur.Load().of(m.Stream); r != nil {
		b.engine.DecideWith(d, m, r.allow, r)
	} else {
		b.engine.DecideInto(d, m)
	}
	if b.rec != nil {
		b.rec.add(m)
	}
}

// Effective returns the policy in force on stream.
func (b *Book) Effective(stream string) Policy {
	b.mu.Lock()
	defer b.mu.Unlock()
	return effective(b.cfg, b.stored, stream)
}

// Result is what Put did.
type Result struct {
	Stream  string   `json:"stream"`
	Policy  Policy   `json:"policy"` // in force now: the default with the stream's override
	Changes []Change `json:"changes"`
}

// Put replaces stream's override with p, durably, and applies it from the
// next message on. The change is audited as actor's, with its diff.
func (b *Book) Put(actor, stream string, p Policy) (Result, error) {
	if stream == "" || len(stream) > MaxStreamID {
		return Result{}, fmt.Errorf("%w: stream id must be 1 to %d bytes", ErrInvalid, MaxStreamID)
	}
	if err := p.Validate("policy"); err != nil {
		return Result{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.stored[stream]; !ok && len(b.stored) >= MaxStreams {
		return Result{}, fmt.Errorf("%w: %d already; reuse a stream's policy", ErrTooManyStreams, MaxStreams)
	}
	eff := Merge(b.cfg.Default, p)
	r, err := Compile(eff)
	if err != nil {
		return Result{}, err
	}
	before := effective(b.cfg, b.stored, stream)
	if b.opts.Store != nil {
		raw, err := json.Marshal(p)
		if err != nil {
			return Result{}, err
		}
		if err := b.opts.Store.PutPolicy(stream, raw); err != nil {
			return Result{}, fmt.Errorf("save policy of %q: %w", stream, err)
		}
	}
	b.stored[stream] = p
	old := b.cur.Load()
	next := &set{def: old.def, streams: maps.Clone(old.streams)}
	next.streams[stream] = r.Bind(b.env)
	b.cur.Store(next)
	changes := Diff(before, eff)
	if b.opts.Audit != nil {
		b.opts.Audit(actor, stream, DiffText(changes))
	}
	return Result{Stream: stream, Policy: eff, Changes: changes}, nil
}

// Reload replaces the file's policies (SIGHUP). The streams' policies
// set over REST stay. A bad policy changes nothing.
func (b *Book) Reload(cfg Config, actor string) error {
	if err := cfg.Validate("policy"); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s, err := b.build(cfg, b.stored)
	if err != nil {
		return err
	}
	before := b.cfg.Default
	b.cfg = cfg
	b.cur.Store(s)
	if b.opts.Audit != nil {
		b.opts.Audit(actor, "", "reloaded from the config file; default: "+DiffText(Diff(before, cfg.Default)))
	}
	return nil
}

// enqueue hands a timeout to the Book's goroutine; it never blocks.
func (b *Book) enqueue(stream, user, _ string, seconds int, reason string) {
	select {
	case b.tq <- timeoutReq{stream, user, seconds, reason}:
	default:
		b.dropped.Add(1)
	}
}

func (b *Book) run() {
	defer close(b.done)
	for {
		select {
		case t := <-b.tq:
			if b.opts.Timeout == nil {
				continue
			}
			if err := b.opts.Timeout(t.stream, t.user, t.seconds, t.reason); err != nil && b.opts.OnError != nil {
				b.opts.OnError(fmt.Errorf("timeout %q by %s: %w", t.user, t.reason, err))
			}
		case <-b.stop:
			for {
				select {
				case t := <-b.tq:
					if b.opts.Timeout != nil {
						b.opts.Timeout(t.stream, t.user, t.seconds, t.reason)
					}
				default:
					return
				}
			}
		}
	}
}

// Close gives the queued timeouts and stops. Call it after the pipeline
// has drained, before the desk closes.
func (b *Book) Close(ctx context.Context) error {
	b.stopOnce.Do(func() { close(b.stop) })
	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats are the Book's bounded state, for gauges.
type Stats struct {
	Streams         int   // streams with their own compiled policy
	Offenders       int   // users in the escalation table
	RecentBytes     int   // bytes of recent messages kept for trials
	RecentStreams   int   // streams whose recent messages are kept
	TimeoutsQueued  int   // timeouts waiting for the desk
	TimeoutsDropped int64 // timeouts refused because the queue was full
}

// Stats reads the Book's state sizes.
func (b *Book) Stats() Stats {
	s := Stats{Streams: len(b.cur.Load().streams), Offenders: b.env.Offenders(), TimeoutsQueued: len(b.tq), TimeoutsDropped: b.dropped.Load()}
	if b.rec != nil {
		s.RecentBytes, s.RecentStreams = b.rec.size()
	}
	return s
}

// Adopt puts in force the policy doc (JSON, as Put keeps it) that another
// node of a cluster set for stream, and saved and audited there; this Book
// neither saves nor audits it again.
func (b *Book) Adopt(stream string, doc []byte) error {
	p, err := ParseJSON(doc)
	if err != nil {
		return err
	}
	if err := p.Validate("policy"); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.stored[stream]; !ok && len(b.stored) >= MaxStreams {
		return fmt.Errorf("%w: %d already", ErrTooManyStreams, MaxStreams)
	}
	r, err := Compile(Merge(b.cfg.Default, p))
	if err != nil {
		return err
	}
	b.stored[stream] = p
	old := b.cur.Load()
	next := &set{def: old.def, streams: maps.Clone(old.streams)}
	next.streams[stream] = r.Bind(b.env)
	b.cur.Store(next)
	return nil
}
