// Package bench loads a livemod server from the outside, the way a platform
// or a crowd would, and reports what it saw.
//
// It knows the server only by its wire contract (docs/WIRE.md): messages go in
// over GET /v1/ingest, acks and errors come back on the same socket, and
// decisions come out of GET /v1/subscribe. It imports no other livemod
// package, so it measures the product rather than its internals.
//
// Entry points:
//
//   - NewAudience: a seeded generator of live-shopping chat in English, Hindi
//     and Hinglish, with scenes (spam waves, copypasta raids, trolls, calls
//     for an agent) that come in bursts. One Audience per goroutine.
//   - Feed: paces an Audience into a server at a steady rate, for
//     `livemod demo`; reconnects when the connection drops.
//   - Run: the load tool behind `livemod bench`. Open-loop rate control,
//     latency from the intended send time to the decision (no coordinated
//     omission), per-second samples, and a Report that prints as a table,
//     as JSON or as an SVG chart.
//
// Run and Feed are safe to call from several goroutines at once; an
// Audience and a Hist are not goroutine-safe.
package bench
