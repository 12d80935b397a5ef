// Package store holds livemod's state and durability: one embedded
// durable store (bbolt, in the --data directory) for the whole binary —
// audit log, moderator actions, handoffs, webhook outbox, opt-outs — and
// the durable implementations of the state ports: handoff.Tickets,
// state.OptOuts and state.IDs (Automation), behind one write-behind
// batcher (batcher.go) that the audit sink shares.
//
// DB is goroutine-safe. Writers that sit on the hot path (the audit sink)
// queue and batch their writes so that one transaction carries many
// entries.
package store
