// Package handoff owns where agent tickets are kept and the rules of
// keeping them: the Tickets port (one active ticket per user and stream,
// upsert, join a chat line, claim and resolve through Update, pages for
// the inbox), its errors (ErrTicketNotFound, ErrTicketState), and
// MemoryTickets, the lock-sharded memory implementation that store wraps
// with a write-behind to bbolt. The policy of when a ticket opens lives
// in automate (automate/handoff.go); the ticket's wire form in chat.
//
// It also holds the packed message lines (lines.go) that tickets and the
// moderator desk keep many of: one packed ring for both.
//
// MemoryTickets is goroutine-safe: its index is split in parts with a
// lock each, split by the user key as the pipeline's shards are (lock
// order: a part's, the resolved tickets', an id part's, a ticket's). Tickets it
// returns are shared versions: read them, change a Clone. See
// docs/ARCHITECTURE.md.
package handoff
