package moderate

import (
	"encoding/json"
	"fmt"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/store"
)

// Act applies a moderator's action (hide, approve or unhide) by actor to
// message id. stream may be empty when the id is unique among the kept
// messages.
func (d *Desk) Act(actor, stream, id, action, reason string) (Event, error) {
	var state string
	switch action {
	case "hide":
		state = StateHidden
	case "approve":
		state = StateApproved
	case "unhide":
		state = StateVisible
	default:
		return Event{}, badRequest("action %q: want hide, approve or unhide", action)
	}
	if stream == "" {
		var ok bool
		if stream, ok = d.find(id); !ok {
			return Event{}, notFound("message %q: not among the recent messages of any stream", id)
		}
	}
	ev := Event{Type: "moderation", ID: id, Stream: stream, State: state, Action: action, Actor: actor, Reason: reason, TS: d.now()}
	sh := d.shard(stream)
	sh.mu.Lock()
	r := sh.streams[stream]
	var e *entry
	if r != nil {
		e = r.find(id)
	}
	if e == nil {
		sh.mu.Unlock()
		return Event{}, notFound("message %q: not among the recent messages of stream %q", id, stream)
	}
	ev.User = e.user
	// A no-op or a wrong-state action changes nothing and is not
	// audited again: hide of a hidden message, approve of an approved
	// one, unhide of one that shows.
	switch {
	case action == "hide" && e.state == StateHidden,
		action == "approve" && e.state == StateApproved,
		action == "unhide" && (e.state == StateVisible || e.state == StateApproved):
		cur := e.state
		sh.mu.Unlock()
		return Event{}, conflict(cur, "message %q of stream %q is already %s; nothing to %s", id, stream, cur, action)
	}
	line := mustJSON(&ev)
	undo := e.auto && (e.state == StateHidden || e.state == StateHeld) && action != "hide"
	decided := r.line(e)
	platform := e.platform
	wasHidden := e.state == StateHidden || e.state == StateHeld
	e.state, e.auto, e.change = state, false, line
	sh.mu.Unlock()

	if action == "hide" {
		d.opts.Hidden(stream, ev.User, id)
		if err := d.toPlatform(store.Action{Kind: store.ActHide, Stream: stream, Platform: platform, Target: id, User: ev.User, Reason: reason, Actor: actor}); err != nil {
			return ev, err
		}
	} else if _, restricted := d.restrictionOf(stream, platform, ev.User); wasHidden && !restricted && d.opts.Shown != nil {
		// A restricted user's questions stay off the overlay.
		d.opts.Shown(stream, ev.User, id, decided)
	}
	d.opts.Publish(stream, line)
	d.audit(store.AuditEntry{TS: ev.TS, Actor: actor, Action: action, Target: id, Stream: stream, User: ev.User, Reason: reason})
	d.opts.KPIs.human(stream, undo)
	d.label(decided, action, reason, actor, ev.TS)
	return ev, nil
}

// label records a moderator's action on the decision line decided as a
// labeled example.
func (d *Desk) label(decided []byte, action, reason, actor string, at int64) {
	if d.opts.Labels == nil || decided == nil {
		return
	}
	var dec chat.Decision
	if err := json.Unmarshal(decided, &dec); err != nil {
		d.opts.OnError(fmt.Errorf("label %s: decode decision: %w", action, err))
		return
	}
	msg := chat.Message{ID: dec.ID, Stream: dec.Stream, User: dec.User, Text: dec.Text, TS: dec.TS}
	err := d.opts.Labels.AppendLabel(store.LabeledExample{Message: msg, Labels: store.LabelsFromAction(action, dec.Labels, reason),
		Source: action, Actor: actor, At: at})
	if err != nil {
		d.opts.OnError(fmt.Errorf("label %s of %s: %w", action, dec.ID, err))
	}
}

// find returns the stream that keeps message id.
func (d *Desk) find(id string) (string, bool) {
	for i := range d.shards {
		sh := &d.shards[i]
		sh.mu.Lock()
		for name, r := range sh.streams {
			if r.find(id) != nil {
				sh.mu.Unlock()
				return name, true
			}
		}
		sh.mu.Unlock()
	}
	return "", false
}
