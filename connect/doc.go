// Package connect talks to the outside: platform connectors, the outbox of
// platform actions, and the CRM webhook.
//
// Connectors (connector.go) read a platform's chat into a stream through a
// Sink and act back on it as an Actor: twitch_irc.go reads Twitch chat over
// IRC (websocket or TCP; irc.go parses the lines, twitch.go reads Twitch's
// tags), twitch_eventsub.go over EventSub, twitch_helix.go acts through
// Helix; youtube.go polls a YouTube live chat and acts through the Data API.
// actions.go is the Actions port of the moderation desk and automation: a
// durable outbox (store's actions bucket) drained by one worker that routes
// each action to the connector of its stream and platform, retried with
// backoff, outcomes reported. Connectors and Actions are safe for
// concurrent use; each owns its goroutines and stops them in Close.
//
// webhook.go delivers handoff tickets to a CRM: each POST carries the
// ticket as JSON, signed with HMAC-SHA256 over the body
// (X-Livemod-Signature: sha256=HEX), from a durable outbox, retried with
// exponential backoff and jitter, dead-lettered after MaxAttempts failures.
// Delivery is at least once: receivers dedupe by the ticket id (also sent
// as X-Livemod-Ticket).
package connect
