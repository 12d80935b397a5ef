// Package overlay is livemod's HTTP face: the router with its token
// checks, health and readiness, the subscribe endpoint that feeds the
// pages, the embedded pages (with the index at /, the stream picker and
// the page that explains a missing or wrong token) and the REST actions.
//
// overlay declares the small interfaces it needs (Feed) and cmd/livemod
// hands it the stream package's implementations. Server is goroutine-safe.
package overlay
