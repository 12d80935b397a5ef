// Package chat holds what every other package of livemod speaks: the
// wire types of docs/WIRE.md (Message, User, Decision with its Labels,
// Action, Reasons and Scores; Ticket, Reply, Draft, OptOut), their hand
// written codec (DecodeMessage, the AppendJSON encoders, AppendJSONString),
// the limits on every field (Validate, CheckField, CheckID), the keys of
// per-user state (Subject, UserKey), Admit, the one admission that every
// way in calls (the websocket ingest, POST /v1/messages, platform
// connectors, replay and policy trials), the Decider the pipeline runs,
// and the kinds of failure the desks report (Error: ErrNotFound,
// ErrConflict, ErrInvalid, ErrTooMany), which overlay turns into HTTP.
//
// It imports nothing of livemod but internal/words, and no package that
// does I/O. Its functions are pure and goroutine-safe; its values are
// not: a Message or Decision belongs to one goroutine at a time, and a
// Ticket version that a store has shared is read, never written (change
// a Clone). See docs/ARCHITECTURE.md.
package chat
