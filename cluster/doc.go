// Package cluster makes several livemod nodes one service over Redis
// (github.com/redis/go-redis/v9).
//
// Each stream has one owning node, by a lease in Redis (SET NX PX through
// the acquire script, renewed every LeaseTTL/3 by a check-and-extend
// script, released on Close by a check-and-delete script). The owner keeps
// the stream's state in memory on the message path; the other nodes
// forward the stream's lines to it. Entry points:
//
//   - Open / Close: membership (a heartbeat key per node, Peers), the
//     health check (Degraded) and the loops below.
//   - Owner: who decides a stream. A lock-free cache read after the first
//     sighting; the lease loop keeps the cache true and takes over the
//     lapsed leases of streams seen here, running OnAcquire before Owner
//     reports the stream as this node's.
//   - Forward / ForwardSync / Consume: lines for a stream owned elsewhere
//     go into its forwarding log, a Redis stream lm:in:STREAM, packed many
//     lines per entry, one XADD per stream per flush, all in one pipeline.
//     The owner reads all its streams with one blocking XREAD and commits
//     its position (lease-checked) after the handler returned nil, so a new
//     owner resumes there: at least once, in order per stream. Each entry
//     carries its producer and a sequence number, so an entry written
//     twice (a pipeline resent after Redis died before replying) is handed
//     on once.
//   - Map: small replicated maps (bans, timeouts, opt-outs): a hash plus a
//     pub/sub notice per write, the whole map in memory on every node,
//     resynced with HGETALL at start and after every reconnection.
//   - PutRecords / Records / StreamOf: durable per-stream records (tickets,
//     drafts) a new owner loads in OnAcquire.
//   - ReserveIDs: blocks of ids unique across nodes (INCRBY).
//
// Redis operations per forwarded message: none of its own. Owner is a
// memory read; Forward appends to an in-memory batch; the flusher writes
// one XADD per stream per batch and batches grow with load; the owner
// reads up to 32 entries per stream per XREAD and commits once per read.
//
// When Redis is unreachable (two failed health checks, 200ms apart, each
// with a 300ms timeout: ≤ about 1s) the node is degraded: Owner returns
// this node for every stream, forwarded lines and map writes wait in
// bounded queues (ForwardQueue, MapQueue; full → ErrQueueFull and a
// dropped counter), and PutRecords, Records, StreamOf and ReserveIDs
// return ErrDegraded. When Redis answers again the queues are written,
// the maps resynced and the leases renewed (a lease that lapsed meanwhile
// is given up — OnRelease — and taken again as a new owner would, with
// OnAcquire), without a restart.
//
// Keys, under Options.Prefix ("lm:"): lease:STREAM, pos:STREAM, in:STREAM,
// wake:NODE, node:NODE, nodes, map:NAME, maps (the notice channel),
// rec:BUCKET:STREAM, recidx:BUCKET, ids:KIND.
//
// Additions to the issue-16 design note, with reasons: Options.Prefix and
// the queue bounds (ForwardQueue, ForwardQueueBytes, MaxLine,
// ForwardMaxLen, MapQueue, MaxStreams) because every queue has a bound;
// Self and Up (a channel closed when Redis is back) for the wiring's
// readiness; Map.Get and Map.Range because the wiring may read a map
// without keeping its own copy; ErrQueueFull, ErrDegraded, ErrClosed,
// ErrTooLarge as sentinels. Map opens with a synchronous load (so a map
// is complete when Map returns, unless degraded).
//
// All methods of Node and Map are safe for concurrent use. Lock order:
// mapSet.mu before Map.mu; leaseTable.mu is never held across I/O or a
// callback.
package cluster
