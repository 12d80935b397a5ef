// Package overlay is livemod's HTTP face: the router with its token
// checks, health and readiness, the subscribe endpoint that feeds the
// pages, and (later) the embedded pages and REST actions.
//
// overlay declares the small interfaces it needs (Feed) and cmd/livemod
// hands it the stream package's implementations. Server is goroutine-safe.
package overlay
