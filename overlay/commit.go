package overlay

import (
	"bytes"
	"context"
	"net/http"
	"time"
)

// A change a REST call makes is acknowledged only once it is durable: the
// answer to a POST, PUT, PATCH or DELETE is held back until
// Options.Commit has returned, and a 2xx becomes a 503 when the store
// could not save the change. Many requests waiting at once share one
// commit (the store's group commit), so this costs one fsync per burst,
// not one per request.

// commitTimeout bounds how long an answer waits for its commit.
const commitTimeout = 10 * time.Second

// changes reports whether method may change state.
func changes(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// heldWriter keeps a handler's answer until the change is committed.
type heldWriter struct {
	w      http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (h *heldWriter) Header() http.Header { return h.w.Header() }

func (h *heldWriter) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}

func (h *heldWriter) Write(p []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return h.body.Write(p)
}

// serveCommitted runs next with its answer held, commits, and then sends
// the answer, or a 503 if the commit failed.
func (s *Server) serveCommitted(w http.ResponseWriter, r *http.Request, next http.Handler) {
	h := &heldWriter{w: w}
	next.ServeHTTP(h, r)
	if h.status == 0 {
		h.status = http.StatusOK
	}
	if h.status < 300 {
		ctx, cancel := context.WithTimeout(r.Context(), commitTimeout)
		err := s.opts.Commit(ctx)
		cancel()
		if err != nil {
			w.Header().Del("Content-Length")
			writeError(w, http.StatusServiceUnavailable, "not saved: "+err.Error()+"; retry the request")
			return
		}
	}
	w.WriteHeader(h.status)
	w.Write(h.body.Bytes())
}
