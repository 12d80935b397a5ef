package stream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/livemod/livemod/chat"
)

// messagesAnswer is POST /v1/messages' answer: how many lines were
// accepted (queued for the pipeline), the last accepted id, and one
// error object per refused line, as the websocket's error frames.
type messagesAnswer struct {
	Accepted int               `json:"accepted"`
	Upto     string            `json:"upto,omitempty"`
	Errors   []json.RawMessage `json:"errors"`
}

// httpBucket is the rate limit of POST /v1/messages: one bucket shared by
// every HTTP bridge (a request has no connection to hold a bucket).
type httpBucket struct {
	mu sync.Mutex
	b  bucket
}

// ServeMessages serves POST /v1/messages?stream=ID: an NDJSON body of
// messages for bridges of platforms livemod has no connector for. It is
// the websocket's frame over HTTP: the same decoding, Admit, limits (the
// body is one frame: ingest.max_frame_bytes, ingest.max_messages_per_frame,
// ingest.rate_per_second) and per-line errors. The answer comes once the
// accepted lines are queued. Authorization is the caller's job.
func (in *Ingest) ServeMessages(w http.ResponseWriter, r *http.Request) {
	streamID := r.URL.Query().Get("stream")
	switch {
	case streamID == "":
		writeJSONError(w, http.StatusBadRequest, "stream: missing; use POST /v1/messages?stream=ID")
		return
	case len(streamID) > chat.MaxIDBytes:
		writeJSONError(w, http.StatusBadRequest, "stream: too long")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(in.opts.MaxFrameBytes)))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		in.metrics.IngestClosed.WithLabelValues("oversize").Inc()
		writeJSONError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body: over %d bytes (ingest.max_frame_bytes); send fewer lines per request", in.opts.MaxFrameBytes))
		return
	}
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	in.metrics.IngestFrames.Inc()
	in.metrics.IngestBytes.Add(float64(len(body)))
	msgs, errs, _ := in.parseFrame(body, streamID, nil, nil)
	ans := messagesAnswer{Errors: []json.RawMessage{}}
	for _, l := range bytes.Split(bytes.TrimSpace(errs), []byte{'\n'}) {
		if len(l) > 0 {
			ans.Errors = append(ans.Errors, json.RawMessage(l))
		}
	}
	if len(msgs) > 0 {
		in.httpRate.mu.Lock()
		ok := in.httpRate.b.take(len(msgs), time.Now())
		in.httpRate.mu.Unlock()
		if !ok {
			in.metrics.IngestClosed.WithLabelValues("rate").Inc()
			w.Header().Set("Retry-After", "1")
			writeJSONError(w, http.StatusTooManyRequests, fmt.Sprintf("over %g messages/s (ingest.rate_per_second); nothing of this request was accepted, send it again", in.opts.RatePerSecond))
			return
		}
		// Resent messages are answered as accepted, not decided again.
		n, upto := len(msgs), msgs[len(msgs)-1].ID
		var keys []uint64
		msgs, keys = in.dropSeen(msgs, nil, time.Now())
		if len(msgs) > 0 {
			// The answer waits for the decisions, and for the store's
			// commit when one changed durable state (a ticket, an
			// opt-out): a 200 means decided, as an ack does.
			rc := &receipt{commitTo: in.pipeline.commit, wake: make(chan struct{})}
			if err := in.pipeline.submit(r.Context(), msgs, rc); err != nil {
				in.metrics.IngestRefused.WithLabelValues("closed").Add(float64(len(msgs)))
				for _, k := range keys {
					in.seen.forget(k) // not taken: a resend must be decided
				}
				writeJSONError(w, http.StatusServiceUnavailable, "server: shutting down; nothing of this request was accepted, send it again")
				return
			}
			in.metrics.IngestMessages.Add(float64(len(msgs)))
			<-rc.wake // the pipeline decides every message it took
			if rc.commit != nil {
				if err := <-rc.commit; err != nil {
					writeJSONError(w, http.StatusServiceUnavailable, "not saved: "+err.Error()+"; send the request again")
					return
				}
			}
		}
		ans.Accepted, ans.Upto = n, upto
	}
	status := http.StatusOK
	if ans.Accepted == 0 && len(ans.Errors) > 0 {
		status = http.StatusBadRequest
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(&ans)
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Error string `json:"error"`
	}{msg})
}
