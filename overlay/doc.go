// Package overlay is livemod's HTTP face: the router with its token
// checks, health and readiness, the subscribe endpoint that feeds the
// pages, the embedded pages (with the index at /, the stream picker and
// the page that explains a missing or wrong token) and the REST actions.
//
// overlay declares the small interfaces it needs, each with its typed
// answer (Feed, Moderation, Questions, Admin, Appeals, Reviews…), and
// app hands it implementations over the desks and the store; the desks'
// errors carry their kind (chat.Error), which overlay alone turns into
// HTTP statuses (statusOf). Roles and tokens are package auth's values;
// overlay checks them (Auth). Server is goroutine-safe.
package overlay
