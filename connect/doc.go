// Package connect talks to the outside: platform connectors and outbound
// webhooks. webhook.go delivers handoff tickets to a CRM: each POST
// carries the ticket as JSON, signed with HMAC-SHA256 over the body
// (X-Livemod-Signature: sha256=HEX), from a durable outbox, retried with
// exponential backoff and jitter, dead-lettered after MaxAttempts failures.
// Delivery is at least once: receivers dedupe by the ticket id (also sent
// as X-Livemod-Ticket).
package connect
