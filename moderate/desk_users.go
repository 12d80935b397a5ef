package moderate

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/store"
)

type restriction struct {
	until  int64 // Unix ms; 0 = banned
	reason string
	// stream is set when the restriction holds in that stream only;
	// subject is the user (chat.Subject).
	stream, subject string
}

// restrictKey keys the desk's restrictions, as store.Restriction.Key
// keys the kept ones: the subject alone for a restriction of every
// stream, stream NUL subject for one of a stream only.
func restrictKey(stream, subject string) string {
	if stream == "" {
		return subject
	}
	return stream + "\x00" + subject
}

func (d *Desk) restriction(user string) (restriction, bool) {
	d.rmu.RLock()
	r, ok := d.restricted[user]
	d.rmu.RUnlock()
	if ok && r.until != 0 && r.until <= d.now() {
		return restriction{}, false
	}
	return r, ok
}

// User applies a timeout (for seconds; zero means 600), ban or unban by
// actor to user. A timeout or ban also hides the user's recent messages.
// Events go to stream, or to every stream with recent messages of the
// user when stream is empty.
func (d *Desk) User(actor, stream, user, action string, seconds int, reason string) (UserEvent, error) {
	return d.user(actor, stream, user, action, seconds, reason, false)
}

// UserIn is User for a restriction that holds in stream only: the one a
// moderator limited to some streams gives (platforms ban per channel
// too). An unban lifts only the stream's own restriction.
func (d *Desk) UserIn(actor, stream, user, action string, seconds int, reason string) (UserEvent, error) {
	if stream == "" {
		return UserEvent{}, badRequest("stream: missing; a restriction of one stream names it")
	}
	return d.user(actor, stream, user, action, seconds, reason, true)
}

func (d *Desk) user(actor, stream, user, action string, seconds int, reason string, inStream bool) (UserEvent, error) {
	now := d.now()
	ev, seconds, err := userEvent(actor, user, action, seconds, reason, now)
	if err != nil {
		return UserEvent{}, err
	}
	platform, user := d.platformOf(stream, user)
	ev.User = user
	ev.InStream = inStream
	subject := chat.Subject(platform, user) // Twitch user 42 is not YouTube user 42
	scope := ""
	if inStream {
		scope = stream
	}
	key := restrictKey(scope, subject)
	// A no-op is refused with the state it met, and not audited.
	if r, restricted := d.restriction(key); action == "unban" && !restricted {
		return UserEvent{}, conflict("none", "user %q is neither banned nor timed out; nothing to unban", user)
	} else if action != "unban" && restricted && r.until == 0 {
		return UserEvent{}, conflict("banned", "user %q is already banned; unban first to %s", user, action)
	}
	if err := d.keepRestriction(action, key, store.Restriction{User: subject, Stream: scope, Until: ev.Until, Reason: reason, Actor: actor, TS: now}); err != nil {
		return UserEvent{}, fmt.Errorf("%s %q: save: %v", action, user, err)
	}
	if err := d.toPlatform(store.Action{Kind: action, Stream: stream, Platform: platform, User: user, Seconds: seconds, Reason: reason, Actor: actor}); err != nil {
		return UserEvent{}, err
	}
	d.setRestriction(action, key, restriction{until: ev.Until, reason: reason, stream: scope, subject: subject}, stream, inStream, now)
	if action != "unban" {
		d.opts.Hidden(stream, user, "")
	}
	outs := d.hideRecent(stream, user, platform, action, actor, now)
	d.announce(&ev, stream, outs)
	d.opts.KPIs.human(stream, false)
	e := store.AuditEntry{TS: now, Actor: actor, Action: action, Target: user, Stream: stream, User: user, Reason: reason}
	if action == "timeout" {
		e.Reason = strconv.Itoa(seconds) + "s"
		if reason != "" {
			e.Reason += ": " + reason
		}
	}
	d.audit(e)
	return ev, nil
}

// userEvent checks a user action and starts its event: a timeout's
// seconds (600 when not given, at most MaxTimeout) set Until.
func userEvent(actor, user, action string, seconds int, reason string, now int64) (UserEvent, int, error) {
	if user == "" {
		return UserEvent{}, 0, badRequest("user: empty")
	}
	ev := UserEvent{Type: "user", User: user, Action: action, Actor: actor, Reason: reason, TS: now}
	switch action {
	case "timeout":
		if seconds <= 0 {
			seconds = 600
		}
		if int64(seconds) > int64(MaxTimeout/time.Second) { // compared in seconds: no overflow
			return UserEvent{}, 0, badRequest("seconds: at most %d (14 days); use ban for longer", int(MaxTimeout/time.Second))
		}
		ev.Until = now + int64(seconds)*1000
	case "ban", "unban":
	default:
		return UserEvent{}, 0, badRequest("action %q: want timeout, ban or unban", action)
	}
	return ev, seconds, nil
}

// keepRestriction saves the restriction (or its lifting) first: a
// restriction that is not kept is not given.
func (d *Desk) keepRestriction(action, key string, r store.Restriction) error {
	if d.opts.Keep == nil {
		return nil
	}
	if action == "unban" {
		return d.opts.Keep.DeleteRestriction(key)
	}
	return d.opts.Keep.PutRestriction(r)
}

// setRestriction puts the restriction in force (or lifts it) in the
// desk's table and the engine's.
func (d *Desk) setRestriction(action, key string, r restriction, stream string, inStream bool, now int64) {
	d.rmu.Lock()
	defer d.rmu.Unlock()
	_, had := d.restricted[key]
	if action == "unban" {
		delete(d.restricted, key)
		if had {
			d.nRestricted.Add(-1)
		}
		if inStream {
			d.opts.Restrictions.DeleteIn(stream, r.subject)
		} else {
			d.opts.Restrictions.Delete(r.subject)
		}
		return
	}
	d.restricted[key] = r
	if !had {
		d.nRestricted.Add(1)
	}
	// From here on the engine hides what the user sends. Ended
	// timeouts go first: the table holds only running ones.
	d.opts.Restrictions.Sweep(now)
	if inStream {
		d.opts.Restrictions.SetIn(stream, r.subject, r.until)
	} else {
		d.opts.Restrictions.Set(r.subject, r.until)
	}
}

// hidden is what a user action hid in one stream: the moderation events
// to announce there.
type hidden struct {
	stream string
	lines  [][]byte
}

// hideRecent hides what the user said recently (in stream, or in every
// stream when it is empty) and returns, per stream where they spoke, the
// events to announce; an unban hides nothing but still finds the streams.
func (d *Desk) hideRecent(stream, user, platform, action, actor string, now int64) []hidden {
	var outs []hidden
	hideReason := "user " + action
	if action == "timeout" {
		hideReason = "user timed out"
	} else if action == "ban" {
		hideReason = "user banned"
	}
	for i := range d.shards {
		sh := &d.shards[i]
		sh.mu.Lock()
		for name, r := range sh.streams {
			if stream != "" && name != stream {
				continue
			}
			o := hidden{stream: name}
			seen := false
			r.each(func(e *entry) {
				if e.user != user || (platform != "" && e.platform != platform) {
					return
				}
				seen = true
				if action == "unban" || e.state == StateHidden {
					return
				}
				mev := Event{Type: "moderation", ID: e.id, Stream: name, User: user, State: StateHidden,
					Action: "hide", Actor: actor, Reason: hideReason, TS: now}
				e.state, e.auto, e.change = StateHidden, false, mustJSON(&mev)
				o.lines = append(o.lines, e.change)
			})
			if seen {
				outs = append(outs, o)
			}
		}
		sh.mu.Unlock()
	}
	if stream != "" && len(outs) == 0 {
		outs = append(outs, hidden{stream: stream})
	}
	return outs
}

// announce publishes each stream's hides and then the user event, and
// leaves ev as the caller's answer: stream as asked, Hidden in all.
func (d *Desk) announce(ev *UserEvent, stream string, outs []hidden) {
	for _, o := range outs {
		ev.Stream = o.stream
		ev.Hidden = len(o.lines)
		for _, l := range o.lines {
			d.opts.Publish(o.stream, l)
		}
		d.opts.Publish(o.stream, mustJSON(ev))
	}
	ev.Stream = stream
	ev.Hidden = 0
	for _, o := range outs {
		ev.Hidden += len(o.lines)
	}
}

// Restore puts back the timeouts and bans kept before a restart (a
// timeout that has ended is skipped).
func (d *Desk) Restore(rs []store.Restriction) {
	now := d.now()
	d.rmu.Lock()
	defer d.rmu.Unlock()
	for _, r := range rs {
		if r.User == "" || (r.Until != 0 && r.Until <= now) {
			continue
		}
		key := restrictKey(r.Stream, r.User)
		if _, had := d.restricted[key]; !had {
			d.nRestricted.Add(1)
		}
		d.restricted[key] = restriction{until: r.Until, reason: r.Reason, stream: r.Stream, subject: r.User}
		if r.Stream != "" {
			d.opts.Restrictions.SetIn(r.Stream, r.User, r.Until)
		} else {
			d.opts.Restrictions.Set(r.User, r.Until)
		}
	}
}

// Restricted reports the user's running timeout (until, Unix ms) or ban
// (until 0) of every stream.
func (d *Desk) Restricted(user string) (until int64, reason string, ok bool) {
	r, ok := d.restriction(user)
	return r.until, r.reason, ok
}

// RestrictedIn reports the user's running timeout or ban of stream only
// (one given through UserIn).
func (d *Desk) RestrictedIn(stream, user string) (until int64, reason string, ok bool) {
	if stream == "" {
		return 0, "", false
	}
	r, ok := d.restriction(restrictKey(stream, user))
	return r.until, r.reason, ok
}

// UserMessage is one of a user's messages kept by the desk: the decision
// as published, the message's state and the event that last changed it.
type UserMessage struct {
	Decision json.RawMessage `json:"decision"`
	State    string          `json:"state"`
	Change   json.RawMessage `json:"change,omitempty"`
}

// UserMessages returns the user's messages among the recent ones of
// every stream, oldest first within a stream.
func (d *Desk) UserMessages(user string) []UserMessage {
	out := []UserMessage{}
	for i := range d.shards {
		sh := &d.shards[i]
		sh.mu.Lock()
		for _, r := range sh.streams {
			r.each(func(e *entry) {
				if e.user == user && e.lineLen != 0 {
					out = append(out, UserMessage{Decision: r.line(e), State: e.state, Change: e.change})
				}
			})
		}
		sh.mu.Unlock()
	}
	return out
}

// EraseUser forgets the user's recent messages in every stream and
// returns how many. A running timeout or ban stays (erasure must not let
// a banned raider back in) but loses its reason; the kept copy too.
func (d *Desk) EraseUser(user string) (int, error) {
	n := 0
	for i := range d.shards {
		sh := &d.shards[i]
		sh.mu.Lock()
		for _, r := range sh.streams {
			r.each(func(e *entry) {
				if e.user != user || e.lineLen == 0 {
					return
				}
				r.lines.wipe(e.lineAt, e.lineLen)
				*e = entry{lineAt: e.lineAt} // where its line was: the ring's bound
				n++
			})
		}
		sh.mu.Unlock()
	}
	var kept []restriction
	d.rmu.Lock()
	for key, r := range d.restricted {
		if r.subject == user || key == user {
			r.reason = ""
			d.restricted[key] = r
			kept = append(kept, r)
		}
	}
	d.rmu.Unlock()
	if d.opts.Keep != nil {
		for _, r := range kept {
			if err := d.opts.Keep.PutRestriction(store.Restriction{User: user, Stream: r.stream, Until: r.until, Actor: "erased", TS: d.now()}); err != nil {
				return n, fmt.Errorf("erase %q: keep restriction: %w", user, err)
			}
		}
	}
	return n, nil
}

// Lift ends the restriction kept under key (store.Restriction.Key: the
// user, or stream NUL user) in the desk's table and the engine's, without
// saving or auditing: another node of a cluster lifted it and did both.
func (d *Desk) Lift(key string) {
	stream, user, inStream := strings.Cut(key, "\x00")
	if !inStream {
		stream, user = "", key
	}
	d.setRestriction("unban", restrictKey(stream, user), restriction{subject: user}, stream, inStream, d.now())
}
