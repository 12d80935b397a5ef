// Package state holds the small state ports of automation and their
// memory implementations: OptOuts (who sent STOP) and IDs (reply, ticket
// and draft numbers); and the memory implementations of the engine's
// ports, which the engine declares (classify.Seen: MemorySeen, the dedup
// window; classify.Restrictions: MemoryRestrictions, timeouts and bans).
// The tickets' port is handoff.Tickets; trending questions are trend's.
// store implements the durable ones over bbolt.
//
// Contract for any implementation, a remote one included: the calls on
// the message path (OptedOut, SetOptOut, Next) do no I/O while the caller
// waits: a durable or remote implementation keeps the set in memory and
// writes behind (store.Automation), and values go in and out by value,
// never as pointers the caller may change. The memory implementations are
// goroutine-safe; MemoryOptOuts splits users over parts, one lock each.
package state
