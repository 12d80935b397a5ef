package moderate

import "github.com/livemod/livemod/trend"

// DeskREST adapts a Desk to the overlay package's Moderation interface:
// the same actions, with results as JSON-ready values.
type DeskREST struct{ Desk *Desk }

// Message hides, approves or unhides a message.
func (r DeskREST) Message(actor, stream, id, action, reason string) (Event, error) {
	return r.Desk.Act(actor, stream, id, action, reason)
}

// User times out, bans or unbans a user: in stream only when inStream.
func (r DeskREST) User(actor, stream, user, action string, seconds int, reason string, inStream bool) (UserEvent, error) {
	if inStream {
		return r.Desk.UserIn(actor, stream, user, action, seconds, reason)
	}
	return r.Desk.User(actor, stream, user, action, seconds, reason)
}

// UndoRule undoes a rule's recent hides.
func (r DeskREST) UndoRule(actor, stream, rule string, since int64) (Undo, error) {
	return r.Desk.UndoRule(actor, stream, rule, since)
}

// HostREST adapts a Host to the overlay package's Questions interface.
type HostREST struct{ Host *Host }

// List is the stream's trending list, as the overlay view sends it.
func (r HostREST) List(stream string) Overlay { return r.Host.List(stream) }

// Act pins, marks answered or dismisses a question.
func (r HostREST) Act(actor, stream, cluster, action string) (trend.TrendQuestion, error) {
	return r.Host.Act(actor, stream, cluster, action)
}
