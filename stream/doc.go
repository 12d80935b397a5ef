// Package stream is livemod's streaming core: the sharded pipeline that
// runs the decider (chat.Decider) and hands each decision to the sinks
// (Sink, ShardSink), the websocket ingest and POST /v1/messages as two
// ways in (connectors are a third, through Ingest.Accept; every way in
// admits through chat.Admit), and the hub that carries the websocket
// subscribers and publishes through a broker.Broker.
//
// One message flows Ingest → Pipeline → Sink. Ingest reads a frame, refuses
// what is malformed with an error frame, groups the rest by shard and hands
// them to Pipeline.Submit, which blocks while a shard's queue is full: the
// connection stops being read and TCP pushes back on the sender; nothing is
// dropped. Each shard runs one goroutine that decides its messages in order
// and hands every decision, encoded once, to the sinks (the Hub, the audit
// log…). The Hub never blocks on a subscriber: each has a byte-bounded
// queue, and one that falls behind is disconnected and counted.
// Lock order: a shard's queue lock is never held while deciding or
// calling a sink; the hub's lock (subscriber set) is never held while the
// broker is called.
//
// Messages are sharded by xxhash(stream, user) so that one big show uses
// every core while one user's messages stay in order.
//
// Pipeline, Ingest and Hub are goroutine-safe.
package stream
