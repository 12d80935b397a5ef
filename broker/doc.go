// Package broker is the publish/subscribe port of livemod's fan-out:
// lines published per topic (a stream and a view: moderator, overlay,
// agent, replies) reach that topic's subscribers, and a new subscriber
// first gets a snapshot (broker.go). Memory is the implementation within
// one process (broker_memory.go); one over Redis can stand beside it
// (broker_redis.go, later), shaped like centrifugal/centrifuge's brokers.
// stream.Hub carries the websocket subscribers and publishes through it;
// the desks publish through the Hub.
//
// Everything in it is goroutine-safe. Memory's lock order: its snapshot
// list's lock is never held with a shard's; a shard's lock is never held
// while a subscriber is called.
package broker
