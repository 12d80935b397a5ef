// Package app is the wiring: from a config.Config it builds one running
// livemod server (New, Listen, Serve, Shutdown) out of the other
// packages: the engine (classify) with the streams' policies (policy) and
// automation (automate) as the pipeline's decider (stream), the desks and
// the host (moderate) and the store's writers as its sinks, the broker
// and hub for fan-out, platform connectors (connect), and the REST
// adapters that give overlay its typed answers. It is the only package
// that knows every other; only cmd/livemod imports it
// (docs/ARCHITECTURE.md, "What may import what").
//
// An App is goroutine-safe once Serve runs; build and close it from one
// goroutine. Its exported fields (Desk, Host, Hub, Pipeline, DB…) are for
// cmd/livemod's commands and tests to read, never to replace.
package app
