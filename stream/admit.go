package stream

import (
	"context"
	"fmt"
	"strconv"

	"github.com/livemod/livemod/classify"
)

// Admit is the one admission of a message, whatever brought it (the
// websocket ingest, POST /v1/messages, a platform connector): the stream
// must be streamID (filled in when empty), a missing id is given a
// server id unique across restarts, a missing ts the server's time, and
// the message must pass classify's validation. The error reads
// "field: problem", as clients are told.
func (in *Ingest) Admit(m *classify.Message, streamID string) error {
	if m.Stream == "" {
		m.Stream = streamID
	} else if m.Stream != streamID {
		return fmt.Errorf("stream: %q does not match the connection's stream %q", m.Stream, streamID)
	}
	if m.ID == "" {
		m.ID = in.idPrefix + strconv.FormatUint(in.nextID.Add(1), 36)
	}
	if m.TS == 0 {
		m.TS = in.opts.Now().UnixMilli()
	} else if now := in.opts.Now().UnixMilli(); m.TS > now+MaxClockSkew.Milliseconds() || m.TS < now-MaxClockSkew.Milliseconds() {
		// A ts a day or more away from the server's clock is a broken
		// or hostile clock: the message is still moderated, at the
		// server's time, so that windows, tickets and KPIs stay sane.
		m.TS = now
		in.metrics.IngestClamped.Inc()
	}
	return m.Validate()
}

// Accept admits msgs of streamID and submits the valid ones to the
// pipeline, returning once they are queued (blocking while the pipeline
// is full: backpressure). It returns the refused ones' reasons, by index
// in msgs. Connectors feed the pipeline through it.
func (in *Ingest) Accept(ctx context.Context, streamID string, msgs []*classify.Message) (refused map[int]string, err error) {
	batch := make([]*classify.Message, 0, len(msgs))
	for i, m := range msgs {
		if err := in.Admit(m, streamID); err != nil {
			if refused == nil {
				refused = map[int]string{}
			}
			refused[i] = err.Error()
			in.metrics.IngestRefused.WithLabelValues("invalid").Inc()
			continue
		}
		batch = append(batch, m)
	}
	if len(batch) == 0 {
		return refused, nil
	}
	if err := in.pipeline.Submit(ctx, batch); err != nil {
		in.metrics.IngestRefused.WithLabelValues("closed").Add(float64(len(batch)))
		return refused, err
	}
	in.metrics.IngestMessages.Add(float64(len(batch)))
	return refused, nil
}
