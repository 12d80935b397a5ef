// Package store holds livemod's state and durability: one embedded
// durable store (bbolt, in the --data directory) for the whole binary —
// audit log, moderator actions, handoffs, webhook outbox, opt-outs — and
// the implementations of the state interfaces that classify declares.
//
// DB is goroutine-safe. Writers that sit on the hot path (the audit sink)
// queue and batch their writes so that one transaction carries many
// entries.
package store
