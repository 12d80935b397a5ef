// Package broker is the publish/subscribe port of livemod's fan-out:
// lines published per topic (a stream and a view: moderator, overlay,
// agent, replies) reach that topic's subscribers, and a new subscriber
// first gets a snapshot (broker.go). Memory is the implementation within
// one process (broker_memory.go); Redis stands beside it for several
// nodes sharing one Redis server (broker_redis.go; its watch set in
// broker_redis_watch.go, its messages in broker_redis_wire.go), shaped like
// centrifugal/centrifuge's brokers. stream.Hub carries the websocket
// subscribers and publishes through it; the desks publish through the Hub.
//
// # Redis: pub/sub, not streams
//
// Redis carries the fan-out with pub/sub (PUBLISH to one channel per
// node), not with Redis Streams, because what it carries is live: a line
// is worth something to a page that is connected now, and a page that
// was away or missed lines does not replay them, it resyncs from a
// snapshot (the recent decisions, the trending list, the open tickets)
// that the stream's owner builds from its memory. Streams would store
// every line of every show in Redis, with trimming, consumer positions
// and memory to size, to give a durability nobody reads: the durable
// state (tickets, drafts, audit, opt-outs) lives elsewhere, in the
// stores and in the cluster's records, and is written before it is
// acknowledged. Pub/sub costs one PUBLISH per receiving node per batch
// and keeps nothing.
//
// # What Redis guarantees and what it does not
//
//   - Local subscribers get every line at once, through a Memory broker,
//     whatever Redis does.
//   - A line for a topic that another node watches goes out over Redis to
//     that node only, once (the node skips a message that carries its own
//     id), batched (many lines per PUBLISH, in chunks of up to 256 KiB that
//     leave as they were queued, without a copy) and pipelined
//     (every PUBLISH of a batch in one round trip) by one goroutine, so the
//     lines of a topic arrive in the order they were published on one
//     node. Lines of one topic published on two nodes have no order
//     between them (one node owns a stream and publishes its lines).
//   - Which node watches which topic is kept in Redis (a hash per node with
//     an expiry, refreshed every WatchTTL/3) and announced on a channel, so
//     that a publisher knows a new remote subscriber within a round trip
//     and Watched and Subscribers count the subscribers of every node.
//   - Snapshots: a new subscriber of a stream owned by another node asks
//     the owner over Redis. The owner first records the asking node as a
//     watcher of the topic, then builds the snapshot, so every line it
//     records after building it also goes to the asking node: nothing is
//     lost between the snapshot and the live lines if the owner records a
//     line before it publishes it (the desks do). A line may come both in
//     the snapshot and live (pages dedupe by id); stream.Hub puts the
//     snapshot before every live line. No answer within SnapshotTimeout
//     (1 s) or an owner that does not listen: no snapshot lines.
//   - Redis unreachable: Degraded is true, local delivery goes on, lines
//     for other nodes wait in a queue bounded by MaxQueue lines and
//     MaxQueueBytes; beyond it they are dropped and counted
//     (livemod_broker_redis_dropped_total{reason="queue_full"}). When Redis
//     answers again, go-redis resubscribes, the broker writes its watch set
//     again (Redis may have lost it) and asks the others to announce
//     theirs, and the queue is sent, in order, without a restart. A node
//     that has not resubscribed yet does not hear a message: the sender
//     keeps what nobody heard for up to 2 s and sends it again, in order;
//     after that it is dropped and counted (reason "no_receiver"). Lines
//     lost this way are not replayed: the page resyncs by snapshot when
//     it reconnects.
//
// Everything in it is goroutine-safe. Memory's lock order: its snapshot
// list's lock is never held with a shard's; a shard's lock is never held
// while a subscriber is called. Redis holds no lock across a Redis call or
// a subscriber call; its locks (queue, watch set, pending snapshots,
// notices, then a remote shard) are leaves, except that applying a notice
// or a reload takes the notices' lock and then remote shard locks one at
// a time.
package broker
