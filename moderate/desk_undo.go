package moderate

import (
	"github.com/livemod/livemod/classify"
	"github.com/livemod/livemod/store"
)

// Skip is a message undo by rule left hidden, and why.
type Skip struct {
	ID     string `json:"id"`
	User   string `json:"user,omitempty"`
	Reason string `json:"reason"`
}

// Undo is what an undo by rule did.
type Undo struct {
	Rule    string  `json:"rule"`
	Stream  string  `json:"stream"`
	Undone  int     `json:"undone"`
	Events  []Event `json:"events"`
	Skipped []Skip  `json:"skipped"`
}

// UndoRule unhides (or releases, if held) every message of stream that
// rule hid or held automatically at or after since (Unix ms of the
// message; zero means the last five minutes), and says what it skipped:
// a message a person decided on since, and a message of a user who is
// timed out or banned now (undo never lets a restricted user speak).
// Only hides the rule made count: a spam hide is not undone by
// "question.mark" because the spam also ended with '?'. A rule livemod
// does not have, or one that never hides or holds, is not found (404).
func (d *Desk) UndoRule(actor, stream, rule string, since int64) (Undo, error) {
	if stream == "" || rule == "" {
		return Undo{}, badRequest("stream and rule are required")
	}
	if !classify.UndoableRule(rule) {
		return Undo{}, notFound("rule %q: no such rule hides or holds messages; undo takes a rule such as spam.link or flood.copypasta", rule)
	}
	now := d.now()
	if since <= 0 {
		since = now - 5*60*1000
	}
	out := Undo{Rule: rule, Stream: stream, Events: []Event{}, Skipped: []Skip{}}
	var lines, decided [][]byte
	sh := d.shard(stream)
	sh.mu.Lock()
	if r := sh.streams[stream]; r != nil {
		r.each(func(e *entry) {
			if e.ts < since || e.first == StateVisible || !hasRule(e.rules, rule) {
				return
			}
			if !e.auto || (e.state != StateHidden && e.state != StateHeld) {
				out.Skipped = append(out.Skipped, Skip{ID: e.id, User: e.user, Reason: "a moderator already decided: " + e.state})
				return
			}
			if _, ok := d.restrictionOf(stream, e.platform, e.user); ok {
				out.Skipped = append(out.Skipped, Skip{ID: e.id, User: e.user, Reason: "user is timed out or banned"})
				return
			}
			ev := Event{Type: "moderation", ID: e.id, Stream: stream, User: e.user, State: StateVisible,
				Action: "unhide", Actor: actor, Reason: "undo rule " + rule, Rule: rule, TS: now}
			if e.state == StateHeld {
				ev.State, ev.Action = StateApproved, "approve"
			}
			e.state, e.auto, e.change = ev.State, false, mustJSON(&ev)
			out.Events = append(out.Events, ev)
			lines = append(lines, e.change)
			decided = append(decided, r.line(e))
		})
	}
	sh.mu.Unlock()
	out.Undone = len(out.Events)
	for i, l := range lines {
		d.opts.Publish(stream, l)
		ev := out.Events[i]
		d.audit(store.AuditEntry{TS: now, Actor: actor, Action: ev.Action, Target: ev.ID, Stream: stream, User: ev.User, Reason: ev.Reason, Rule: rule})
		d.opts.KPIs.human(stream, true)
		d.label(decided[i], ev.Action, ev.Reason, actor, now)
	}
	return out, nil
}

func hasRule(rules []string, rule string) bool {
	for _, r := range rules {
		if r == rule {
			return true
		}
	}
	return false
}
