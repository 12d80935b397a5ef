package connect

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/livemod/livemod/store"
)

// Outbox is the durable queue the deliverer drains. *store.DB implements it.
type Outbox interface {
	OutboxDue(now int64, limit int) (due []store.OutboxEntry, next int64, err error)
	OutboxDelivered(id string) error
	OutboxFailed(id, reason string, nextAt int64, dead bool, now int64) error
	OutboxDead() ([]store.OutboxEntry, error)
	OutboxRetry(id string, now int64) (store.OutboxEntry, error)
}

// WebhookOptions configure a Webhook. Every zero value means its
// documented default, but URL and Secret.
type WebhookOptions struct {
	URL    string // required
	Secret string // HMAC-SHA256 key; required
	// MaxAttempts failed attempts dead-letter an entry. Zero means 8.
	MaxAttempts int
	// Initial is the wait after the first failure; it doubles per failure
	// up to Max, and each wait is jittered to 50–100% so that a CRM that
	// comes back is not hit by every entry at once. Zero means 1s and 5m.
	Initial, Max time.Duration
	// Timeout bounds one POST. Zero means 10s.
	Timeout time.Duration
	// Client sends the POSTs. Nil means a client with Timeout.
	Client *http.Client
	// OnError receives outbox read and write errors; nil drops them.
	OnError func(error)
}

// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the body.
const SignatureHeader = "X-Livemod-Signature"

// EventHeader names what happened to the ticket: created, claimed or
// resolved. A receiver dedupes by X-Livemod-Ticket and this header (or by
// X-Livemod-Delivery).
const EventHeader = "X-Livemod-Event"

// Sign returns the signature header value of body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether sig is body's signature under secret, in
// constant time: what a receiver does.
func Verify(secret string, body []byte, sig string) bool {
	return hmac.Equal([]byte(sig), []byte(Sign(secret, body)))
}

// batchSize bounds the entries one pass sends: one slow CRM must not hold
// a long read of the outbox.
const batchSize = 64

// Webhook delivers the outbox to a CRM. Create it with NewWebhook, start
// it with Start, stop it with Close.
type Webhook struct {
	opts   WebhookOptions
	outbox Outbox
	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once

	mu  sync.Mutex
	rng *rand.Rand
}

// ErrNoWebhook is returned by NewWebhook without a URL or secret.
var ErrNoWebhook = errors.New("connect: webhook needs a URL and a secret")

// NewWebhook returns a deliverer of outbox to opts.URL.
func NewWebhook(outbox Outbox, opts WebhookOptions) (*Webhook, error) {
	if opts.URL == "" || opts.Secret == "" {
		return nil, ErrNoWebhook
	}
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
		opts.Timeout = 10 * time.Second
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: opts.Timeout}
	}
	return &Webhook{
		opts:   opts,
		outbox: outbox,
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		rng:    rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x6c6976656d6f64)),
	}, nil
}

// Start runs the delivery goroutine until Close.
func (w *Webhook) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go w.run(ctx)
}

// Notify wakes the deliverer: new entries were committed. It never blocks.
func (w *Webhook) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Close stops delivering and waits for the goroutine, or for ctx. An
// entry in flight stays in the outbox and is sent again after a restart.
func (w *Webhook) Close(ctx context.Context) error {
	w.once.Do(func() {
		if w.cancel == nil {
			close(w.done)
			return
		}
		w.cancel()
	})
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *Webhook) run(ctx context.Context) {
	defer close(w.done)
	drain(ctx, w.wake, w.pass)
}

// drain works an outbox until ctx ends: pass carries out what is due and
// returns when the next entry falls due (0: none); it runs again then, when
// wake says something was queued, and once a minute whatever happens.
func drain(ctx context.Context, wake <-chan struct{}, pass func(context.Context) int64) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-wake:
		}
		next := pass(ctx)
		wait := time.Minute // look again now and then even if idle
		if next > 0 {
			wait = min(wait, max(0, time.Until(time.UnixMilli(next))))
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// pass sends what is due and returns when the next entry falls due.
func (w *Webhook) pass(ctx context.Context) int64 {
	for {
		now := time.Now().UnixMilli()
		due, next, err := w.outbox.OutboxDue(now, batchSize)
		if err != nil {
			w.fail(fmt.Errorf("read webhook outbox: %w", err))
			return now + time.Second.Milliseconds()
		}
		if len(due) == 0 {
			return next
		}
		for _, e := range due {
			if ctx.Err() != nil {
				return 0
			}
			w.deliver(ctx, e)
		}
	}
}

func (w *Webhook) deliver(ctx context.Context, e store.OutboxEntry) {
	err := w.post(ctx, e)
	if ctx.Err() != nil {
		return // shutting down: the entry stays due
	}
	now := time.Now().UnixMilli()
	if err == nil {
		if err := w.outbox.OutboxDelivered(e.ID); err != nil {
			w.fail(fmt.Errorf("webhook outbox %s: %w", e.ID, err))
		}
		return
	}
	dead := e.Attempts+1 >= w.opts.MaxAttempts
	next := now + w.backoff(e.Attempts+1).Milliseconds()
	if err := w.outbox.OutboxFailed(e.ID, err.Error(), next, dead, now); err != nil {
		w.fail(fmt.Errorf("webhook outbox %s: %w", e.ID, err))
	}
}

// backoff is the wait after the n-th failure: Initial·2^(n-1), capped at
// Max, times a jitter in [0.5, 1).
func (w *Webhook) backoff(n int) time.Duration {
	d := w.opts.Initial
	for i := 1; i < n && d < w.opts.Max; i++ {
		d *= 2
	}
	d = min(d, w.opts.Max)
	w.mu.Lock()
	j := 0.5 + w.rng.Float64()/2
	w.mu.Unlock()
	return time.Duration(float64(d) * j)
}

func (w *Webhook) post(ctx context.Context, e store.OutboxEntry) error {
	ctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.opts.URL, bytes.NewReader(e.Body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "livemod-webhook/1")
	req.Header.Set(SignatureHeader, Sign(w.opts.Secret, e.Body))
	req.Header.Set("X-Livemod-Ticket", e.Ticket)
	event := e.Event
	if event == "" {
		event = "created"
	}
	req.Header.Set(EventHeader, event)
	req.Header.Set("X-Livemod-Delivery", e.ID)
	resp, err := w.opts.Client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s answered %s", w.opts.URL, resp.Status)
	}
	return nil
}

func (w *Webhook) fail(err error) {
	if w.opts.OnError != nil {
		w.opts.OnError(err)
	}
}

// DeadLetters returns the entries that ran out of attempts.
func (w *Webhook) DeadLetters() ([]store.OutboxEntry, error) { return w.outbox.OutboxDead() }

// Retry brings dead-lettered entry id back and wakes the deliverer.
func (w *Webhook) Retry(id string) (store.OutboxEntry, error) {
	e, err := w.outbox.OutboxRetry(id, time.Now().UnixMilli())
	if err == nil {
		w.Notify()
	}
	return e, err
}
