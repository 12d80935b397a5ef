package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
	"github.com/livemod/livemod/config"
	"github.com/livemod/livemod/overlay"
	"github.com/livemod/livemod/policy"
	"github.com/livemod/livemod/store"
	"github.com/prometheus/client_golang/prometheus"
)

// wirePolicy builds the streams' own rules over the engine: kept in the
// store, audited, timing users out through the desk (a policy timeout is
// a desk timeout: saved, restored after a restart, hiding the user's
// next messages), and tried on fresh engines built like the live one.
func (a *App) wirePolicy() error {
	cfg := a.Cfg
	var ps policy.Store = a.DB
	if a.cluster != nil {
		ps = policyStore{a.DB, a.cluster}
	}
	b, err := policy.New(a.Engine, cfg.Policy, policy.Options{
		Store: ps,
		Audit: func(actor, streamID, diff string) {
			a.audit.Record(store.AuditEntry{Actor: actor, Action: "policy", Target: streamID, Stream: streamID, Reason: diff})
		},
		Timeout: func(streamID, user string, seconds int, reason string) error {
			_, err := a.Desk.User("auto", streamID, user, "timeout", seconds, reason)
			return err
		},
		OnError:   func(err error) { fmt.Fprintln(a.log, "livemod: policy:", err) },
		NewEngine: func() (*classify.Engine, error) { return NewEngine(cfg) },
	})
	if err != nil {
		return err
	}
	a.Policy = b
	gauge := func(name, help string, f func(policy.Stats) float64) {
		a.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(b.Stats()) }))
	}
	gauge("livemod_policy_streams", "Streams with a policy of their own.", func(s policy.Stats) float64 { return float64(s.Streams) })
	gauge("livemod_policy_offenders", "Users in the escalation table (bounded).", func(s policy.Stats) float64 { return float64(s.Offenders) })
	gauge("livemod_policy_recent_bytes", "Bytes of recent messages kept for policy trials (bounded).", func(s policy.Stats) float64 { return float64(s.RecentBytes) })
	gauge("livemod_policy_recent_streams", "Streams whose recent messages are kept for trials (bounded).", func(s policy.Stats) float64 { return float64(s.RecentStreams) })
	gauge("livemod_policy_timeouts_queued", "Policy timeouts waiting for the desk (bounded at 1024).", func(s policy.Stats) float64 { return float64(s.TimeoutsQueued) })
	a.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "livemod_policy_timeouts_dropped_total", Help: "Policy timeouts refused because the queue was full (the message was still hidden)."},
		func() float64 { return float64(b.Stats().TimeoutsDropped) }))
	return nil
}

// reloadPolicy reads the config file again and applies its policy
// section (SIGHUP). Other keys need a restart.
func (a *App) ReloadPolicy(path string) error {
	if path == "" {
		return errors.New("reload: no --config file to read")
	}
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	if err := cfg.Policy.Validate("policy"); err != nil {
		return fmt.Errorf("reload %s: %w; the policy in force is unchanged", path, err)
	}
	return a.Policy.Reload(cfg.Policy, "sighup")
}

// WatchReload calls reload on every SIGHUP until ctx ends.
func WatchReload(ctx context.Context, reload func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	go func() {
		defer signal.Stop(ch)
		for {
			select {
			case <-ch:
				reload()
			case <-ctx.Done():
				return
			}
		}
	}()
}

// policyREST adapts policy.Book to overlay.Policies.
type policyREST struct{ a *App }

// streamPolicy is GET's answer.
func (p policyREST) Get(streamID string) (overlay.StreamPolicy, error) {
	return overlay.StreamPolicy{Stream: streamID, Policy: p.a.Policy.Effective(streamID)}, nil
}

func (p policyREST) Put(actor, streamID string, doc []byte) (policy.Result, error) {
	pol, err := policy.ParseJSON(doc)
	if err != nil {
		// Not a policy document (empty, not JSON, unknown keys): the
		// caller's to fix.
		return policy.Result{}, chat.Kinded(chat.ErrInvalid, err)
	}
	res, err := p.a.Policy.Put(actor, streamID, pol)
	return res, policyError(err)
}

func (p policyREST) Try(ctx context.Context, streamID string, doc []byte, msgs []*chat.Message, minutes int) (*policy.Report, error) {
	pol, err := policy.ParseJSON(doc)
	if err != nil {
		// Not a policy document (empty, not JSON, unknown keys): the
		// caller's to fix.
		return nil, chat.Kinded(chat.ErrInvalid, err)
	}
	since := time.Now().Add(-time.Duration(minutes) * time.Minute).UnixMilli()
	rep, err := p.a.Policy.Try(ctx, streamID, pol, msgs, since)
	return rep, policyError(err)
}

// policyError gives policy's errors their kind (chat.ErrInvalid,
// chat.ErrTooMany), which overlay answers in HTTP.
func policyError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, policy.ErrInvalid), errors.Is(err, policy.ErrTooManyStreams):
		return chat.Kinded(chat.ErrInvalid, err)
	case errors.Is(err, policy.ErrBusy):
		return chat.Kinded(chat.ErrTooMany, err)
	}
	return err
}
