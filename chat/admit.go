package chat

import (
	"fmt"
	"time"
)

// MaxClockSkew is how far a message's ts may be from the server's clock;
// a ts further away is clamped to the server's time (and counted in
// livemod_ingest_ts_clamped_total), not refused: the message is still
// moderated.
const MaxClockSkew = 24 * time.Hour

// Admission is what a way in knows about the messages it admits: the
// stream of the connection, how it names a message that has no id, and
// the time it gives one without a ts. Every way in (the websocket ingest,
// POST /v1/messages, connectors, replay) admits through Admit with one.
type Admission struct {
	// Stream fills in a message that names no stream.
	Stream string
	// AnyStream lets a message name a stream other than Stream (replay
	// reads files that mix streams); otherwise that is refused.
	AnyStream bool
	// ID returns the id of a message that has none.
	ID func() string
	// Now is the time (Unix ms) of a message without ts.
	Now int64
	// Clamp moves a ts further than MaxClockSkew from Now to Now: the
	// server's clock. Replay, which has no clock, leaves ts as it is.
	Clamp bool
}

// Admit is the one admission of a message: the stream filled in or
// matched, a missing id and ts given, a ts from a broken clock clamped,
// and the message validated. It reports whether ts was clamped. The
// error reads "field: problem", as clients are told.
func Admit(m *Message, a *Admission) (clamped bool, err error) {
	if m.Stream == "" {
		m.Stream = a.Stream
	} else if m.Stream != a.Stream && !a.AnyStream {
		return false, fmt.Errorf("stream: %q does not match the connection's stream %q", m.Stream, a.Stream)
	}
	if m.ID == "" {
		m.ID = a.ID()
	}
	skew := MaxClockSkew.Milliseconds()
	if m.TS == 0 {
		m.TS = a.Now
	} else if a.Clamp && (m.TS > a.Now+skew || m.TS < a.Now-skew) {
		// A ts a day or more away from the server's clock is a broken
		// or hostile clock: the message is still moderated, at the
		// server's time, so that windows, tickets and KPIs stay sane.
		m.TS = a.Now
		clamped = true
	}
	return clamped, m.Validate()
}
