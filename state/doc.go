// Package state holds the automation's small state ports and their
// memory implementations: OptOuts (who sent STOP) and IDs (reply, ticket
// and draft numbers). The tickets' port is handoff.Tickets; the engine's
// own ports (classify.Seen, classify.Restrictions, classify.Questions)
// sit with the engine. store implements these over bbolt.
//
// Contract for any implementation, a remote one included: the calls on
// the message path (OptedOut, SetOptOut, Next) do no I/O while the caller
// waits: a durable or remote implementation keeps the set in memory and
// writes behind (store.Automation), and values go in and out by value,
// never as pointers the caller may change. The memory implementations are
// goroutine-safe; MemoryOptOuts splits users over parts, one lock each.
package state
