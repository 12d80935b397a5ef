package stream

import (
	"context"
	"strconv"

	"github.com/livemod/livemod/chat"
)

// Admit admits m to streamID through chat.Admit, the one admission of
// every way in: a message without an id gets a server id unique across
// restarts, one without ts the server's time, and a ts from a broken
// clock is clamped (counted in livemod_ingest_ts_clamped_total).
func (in *Ingest) Admit(m *chat.Message, streamID string) error {
	a := chat.Admission{Stream: streamID, ID: in.newID, Now: in.opts.Now().UnixMilli(), Clamp: true}
	clamped, err := chat.Admit(m, &a)
	if clamped {
		in.metrics.IngestClamped.Inc()
	}
	return err
}

// serverID returns a new server id: the ingest's prefix (its start
// time) and a counter.
func (in *Ingest) serverID() string {
	return in.idPrefix + strconv.FormatUint(in.nextID.Add(1), 36)
}

// Accept admits msgs of streamID and submits the valid ones to the
// pipeline, returning once they are queued (blocking while the pipeline
// is full: backpressure). It returns the refused ones' reasons, by index
// in msgs. Connectors feed the pipeline through it.
func (in *Ingest) Accept(ctx context.Context, streamID string, msgs []*chat.Message) (refused map[int]string, err error) {
	batch := make([]*chat.Message, 0, len(msgs))
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
