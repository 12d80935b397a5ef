// Package automate is the stage after classify: it turns decisions into
// automated replies and agent handoffs. It answers FAQ questions (with the
// disclosure prefix, a per-user hourly cap, one answer per FAQ per stream
// per cooldown that names every asker it covers, approval drafts for
// sensitive entries), honours STOP and START, and opens one handoff ticket
// per user per stream for support and agent requests, with a public notice
// once per ticket.
//
// Like classify it has no clock and no I/O: time is the message's ts, ids
// come from a state.IDs, and state sits behind the state.OptOuts and
// handoff.Tickets ports (memory in state and handoff, durable in store). That is what makes
// "livemod replay" give the same FAQ and handoff fields as the server:
// both run Stage.Wrap(engine).
//
// Entry points: New builds a Stage; Stage.Wrap(d) is a chat.Decider that
// decides and then automates; Stage.Apply automates one decision;
// Stage.Drafts and Stage.DecideDraft serve the moderator approval queue.
// A Stage is goroutine-safe. Lock order: a stream shard's lock, then the
// cap lock; the ticket store's lock is never held with either. Output is
// called with no lock held.
package automate
