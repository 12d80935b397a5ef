package moderate

import (
	"fmt"
	"strings"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/store"
)

// Actions is the port through which the desk acts on the platform of a
// connected stream: a moderator's hide deletes the message there, a
// timeout or ban bans there, an unban lifts it. connect.Actions
// implements it with a durable outbox.
type Actions interface {
	// Platform is the platform of stream's connector, "" when no
	// connector feeds it (or connectors of several platforms do).
	Platform(stream string) string
	// Enqueue saves the actions of connected streams (others are
	// skipped) and returns once they are durable.
	Enqueue(as ...store.Action) error
}

// platformOf returns the platform a user action on stream concerns and
// the user's platform id: the stream's connector's platform, or the one
// named in the id ("youtube:UC…", for a stream fed by several
// platforms). Without either the platform is "": the action concerns the
// user id on every platform, as before connectors.
func (d *Desk) platformOf(stream, user string) (string, string) {
	if p, u, ok := strings.Cut(user, ":"); ok && (p == "twitch" || p == "youtube") && u != "" {
		return p, u
	}
	if d.opts.Actions != nil && stream != "" {
		return d.opts.Actions.Platform(stream), user
	}
	return "", user
}

// toPlatform queues a for the platform when its stream is connected.
func (d *Desk) toPlatform(a store.Action) error {
	if d.opts.Actions == nil || a.Platform == "" {
		return nil // not from a platform: the action stays in livemod
	}
	if err := d.opts.Actions.Enqueue(a); err != nil {
		return fmt.Errorf("%s: queue for the platform: %v", a.Kind, err)
	}
	return nil
}

// restrictionOf is the running timeout or ban of the user on platform in
// stream: one given for (platform, user), or one given for the user id
// without a platform (which holds on every platform), of every stream or
// of stream only.
func (d *Desk) restrictionOf(stream, platform, user string) (restriction, bool) {
	subjects := []string{user}
	if platform != "" {
		subjects = append(subjects, chat.Subject(platform, user))
	}
	for _, s := range subjects {
		if r, ok := d.restriction(s); ok {
			return r, true
		}
		if stream != "" {
			if r, ok := d.restriction(restrictKey(stream, s)); ok {
				return r, true
			}
		}
	}
	return restriction{}, false
}

// PlatformEvent tells the moderator view how a platform action went:
// {"type":"platform","id":"pa-3","action":"hide","state":"done",…}.
type PlatformEvent struct {
	Type     string `json:"type"` // "platform"
	ID       string `json:"id"`   // the outbox entry
	Stream   string `json:"stream"`
	Platform string `json:"platform"`
	Action   string `json:"action"` // hide, timeout, ban, unban, reply
	Target   string `json:"target,omitempty"`
	User     string `json:"user,omitempty"`
	State    string `json:"state"` // done, refused, pending (will retry)
	Error    string `json:"error,omitempty"`
	Attempts int    `json:"attempts"`
	Actor    string `json:"actor"`
	TS       int64  `json:"ts"`
}

// PlatformOutcome publishes an action's outcome to the moderator view of
// its stream and records done and refused ones in the audit (actor: the
// platform; reason: who asked, and why it was refused).
func (d *Desk) PlatformOutcome(a store.Action) {
	ev := PlatformEvent{Type: "platform", ID: a.ID, Stream: a.Stream, Platform: a.Platform, Action: a.Kind, Target: a.Target,
		User: a.User, State: a.State, Error: a.LastError, Attempts: a.Attempts, Actor: a.Actor, TS: d.now()}
	d.opts.Publish(a.Stream, mustJSON(&ev))
	if a.State == store.ActionPending {
		return
	}
	target := a.Target
	if target == "" {
		target = a.User
	}
	reason := a.State + " (asked by " + a.Actor + ")"
	if a.LastError != "" {
		reason += ": " + a.LastError
	}
	d.audit(store.AuditEntry{TS: ev.TS, Actor: a.Platform, Action: "platform." + a.Kind, Target: target, Stream: a.Stream, User: a.User, Reason: reason})
}

// Mirror applies a moderation the platform made itself: kind "delete"
// hides message target; kind "clear" hides user's recent messages on the
// platform (a timeout or ban there), or every recent message of the
// platform in stream when user is empty (a cleared chat). The events
// name the platform as actor, and so does the audit. Nothing is sent
// back to the platform.
func (d *Desk) Mirror(platform, stream, kind, target, user string, seconds int, reason string) int {
	now := d.now()
	var lines [][]byte
	var evs []Event
	sh := d.shard(stream)
	sh.mu.Lock()
	if r := sh.streams[stream]; r != nil {
		hide := func(e *entry) {
			if e.state == StateHidden || e.lineLen == 0 {
				return
			}
			ev := Event{Type: "moderation", ID: e.id, Stream: stream, User: e.user, State: StateHidden, Action: "hide",
				Actor: platform, Reason: reason, TS: now}
			e.state, e.auto, e.change = StateHidden, false, mustJSON(&ev)
			lines, evs = append(lines, e.change), append(evs, ev)
		}
		switch kind {
		case "delete":
			if e := r.find(target); e != nil {
				hide(e)
			}
		case "clear":
			r.each(func(e *entry) {
				if e.platform == platform && (user == "" || e.user == user) {
					hide(e)
				}
			})
		}
	}
	sh.mu.Unlock()
	for i, l := range lines {
		d.opts.Hidden(stream, evs[i].User, evs[i].ID) // it leaves the overlay's questions too
		d.opts.Publish(stream, l)
		d.audit(store.AuditEntry{TS: now, Actor: platform, Action: "hide", Target: evs[i].ID, Stream: stream, User: evs[i].User, Reason: reason})
	}
	if kind == "clear" && user != "" {
		d.opts.Hidden(stream, user, "")
	}
	if kind == "clear" {
		action, tgt := "clear", stream
		if user != "" {
			action, tgt = "ban", user
			if seconds > 0 {
				action = "timeout"
			}
		}
		d.audit(store.AuditEntry{TS: now, Actor: platform, Action: action, Target: tgt, Stream: stream, User: user,
			Reason: reason + " (mirrored; " + time.Duration(seconds*int(time.Second)).String() + ")"})
	}
	return len(lines)
}
