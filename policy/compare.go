package policy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
)

// Report is what a proposed policy would change on recorded chat.
type Report struct {
	Messages    int          `json:"messages"`
	Changed     int          `json:"changed"`      // decisions whose action differs
	NewlyHidden int          `json:"newly_hidden"` // allowed before, hidden or held now
	Released    int          `json:"released"`     // hidden or held before, allowed now
	Timeouts    int          `json:"timeouts"`     // messages that would time their author out now and did not before
	Rules       []RuleChange `json:"rules"`        // by rule, most messages first
}

// RuleChange is the change one rule causes.
type RuleChange struct {
	Rule     string    `json:"rule"`
	Hidden   int       `json:"hidden"`
	Released int       `json:"released"`
	Examples []Example `json:"examples"`
}

// Example is one changed message.
type Example struct {
	ID     string `json:"id"`
	User   string `json:"user"`
	Text   string `json:"text"`
	Before string `json:"before"`
	After  string `json:"after"`
	Detail string `json:"detail,omitempty"`
}

// trialWait is how long a trial waits for another to end.
const trialWait = 5 * time.Second

// examplesPerRule bounds the examples a report gives for one rule.
const examplesPerRule = 3

// MaxTrialMessages bounds the messages one trial decides twice.
const MaxTrialMessages = 50_000

// Compare decides msgs under before and under after, each with a fresh
// engine from newEngine (so neither touches live state, and dedup and
// escalation count as they would have), and reports the difference.
// Timeouts are counted, never given.
func Compare(ctx context.Context, newEngine func() (*classify.Engine, error), before, after Config, msgs []*chat.Message) (*Report, error) {
	if newEngine == nil {
		return nil, ErrNoTrials
	}
	if len(msgs) > MaxTrialMessages {
		return nil, fmt.Errorf("%w: %d messages; try at most %d", ErrInvalid, len(msgs), MaxTrialMessages)
	}
	run := func(cfg Config) ([]chat.Decision, error) {
		e, err := newEngine()
		if err != nil {
			return nil, err
		}
		b, err := New(e, cfg, Options{RecentBytes: -1})
		if err != nil {
			return nil, err
		}
		defer b.Close(context.Background())
		out := make([]chat.Decision, len(msgs))
		for i, m := range msgs {
			if i%1024 == 0 && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			b.DecideInto(&out[i], m)
		}
		return out, nil
	}
	var errs []error
	a, err := run(before)
	if err != nil {
		errs = append(errs, fmt.Errorf("current policy: %w", err))
	}
	b, err := run(after)
	if err != nil {
		errs = append(errs, fmt.Errorf("proposed policy: %w", err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	rep := &Report{Messages: len(msgs), Rules: []RuleChange{}}
	by := map[string]*RuleChange{}
	for i := range msgs {
		da, db := &a[i], &b[i]
		ta, tb := hasTimeout(da), hasTimeout(db)
		if tb && !ta {
			rep.Timeouts++
		}
		if da.Action == db.Action && ta == tb {
			continue
		}
		rep.Changed++
		var rule string
		var rc *RuleChange
		switch {
		case da.Action == chat.Allow:
			rep.NewlyHidden++
			rule = firstRule(db)
		case db.Action == chat.Allow:
			rep.Released++
			rule = firstRule(da)
		default:
			rule = firstRule(db)
		}
		if rc = by[rule]; rc == nil {
			rc = &RuleChange{Rule: rule, Examples: []Example{}}
			by[rule] = rc
		}
		if db.Action == chat.Allow {
			rc.Released++
		} else {
			rc.Hidden++
		}
		if len(rc.Examples) < examplesPerRule {
			ex := Example{ID: msgs[i].ID, User: msgs[i].User.ID, Text: clip(msgs[i].Text, 200), Before: actionText(da), After: actionText(db)}
			if len(db.Reasons) > 0 && db.Action != chat.Allow {
				ex.Detail = db.Reasons[0].Detail
			} else if len(da.Reasons) > 0 {
				ex.Detail = da.Reasons[0].Detail
			}
			rc.Examples = append(rc.Examples, ex)
		}
	}
	for _, rc := range by {
		rep.Rules = append(rep.Rules, *rc)
	}
	slices.SortFunc(rep.Rules, func(x, y RuleChange) int {
		if n := (y.Hidden + y.Released) - (x.Hidden + x.Released); n != 0 {
			return n
		}
		return strings.Compare(x.Rule, y.Rule)
	})
	return rep, nil
}

func firstRule(d *chat.Decision) string {
	for _, r := range d.Reasons {
		if strings.HasPrefix(r.Rule, "policy.") {
			return r.Rule
		}
	}
	if len(d.Reasons) > 0 {
		return d.Reasons[0].Rule
	}
	return "(none)"
}

func hasTimeout(d *chat.Decision) bool {
	for _, r := range d.Reasons {
		if strings.HasPrefix(r.Rule, "policy.") && strings.Contains(r.Detail, "timeout ") {
			return true
		}
	}
	return false
}

func actionText(d *chat.Decision) string {
	if d.Action == chat.Hide && hasTimeout(d) {
		return "hide+timeout"
	}
	return d.Action.String()
}

// Try reports what proposed, as stream's override, would change over
// msgs, or over the stream's recent messages since sinceMS (Unix ms)
// when msgs is nil.
// One trial runs at a time: each decides up to MaxTrialMessages twice, on
// the cores the live pipeline uses. Another waits for it up to
// trialWait, then gets ErrBusy.
func (b *Book) Try(ctx context.Context, stream string, proposed Policy, msgs []*chat.Message, sinceMS int64) (*Report, error) {
	if err := proposed.Validate("policy"); err != nil {
		return nil, err
	}
	wait := time.NewTimer(trialWait)
	defer wait.Stop()
	select {
	case b.trial <- struct{}{}:
		defer func() { <-b.trial }()
	case <-wait.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if msgs == nil && b.rec != nil {
		msgs = b.rec.since(stream, sinceMS, MaxTrialMessages)
	}
	b.mu.Lock()
	cur := effective(b.cfg, b.stored, stream)
	prop := Merge(b.cfg.Default, proposed)
	b.mu.Unlock()
	return Compare(ctx, b.opts.NewEngine, Config{Default: cur}, Config{Default: prop}, msgs)
}
