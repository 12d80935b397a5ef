// Package stream is the I/O of livemod's pipeline: the websocket ingest,
// the sharded queues that feed classify, and the fan-out hub that delivers
// decisions to subscribers.
//
// One message flows Ingest → Pipeline → Sink. Ingest reads a frame, refuses
// what is malformed with an error frame, groups the rest by shard and hands
// them to Pipeline.Submit, which blocks while a shard's queue is full: the
// connection stops being read and TCP pushes back on the sender; nothing is
// dropped. Each shard runs one goroutine that decides its messages in order
// and hands every decision, encoded once, to the sinks (the Hub, the audit
// log…). The Hub never blocks on a subscriber: each has a byte-bounded
// queue, and one that falls behind is disconnected and counted.
//
// Messages are sharded by xxhash(stream, user) so that one big show uses
// every core while one user's messages stay in order.
//
// Pipeline, Ingest and Hub are goroutine-safe.
package stream
