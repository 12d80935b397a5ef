package overlay

import (
	"context"
	"net/http"

	"github.com/livemod/livemod/auth"
)

// StreamInfo is one stream as the stream picker shows it.
type StreamInfo struct {
	Stream            string  `json:"stream"`
	Messages          int64   `json:"messages"`            // decided since the server started
	MessagesPerSecond float64 `json:"messages_per_second"` // over the last minute
	OpenHandoffs      int     `json:"open_handoffs"`
	LastTS            int64   `json:"last_ts"` // Unix ms of the last message
}

// Caller is who a token is, as GET /v1/streams tells a page.
type Caller struct {
	Name    string    `json:"name"`
	Role    auth.Role `json:"role"`
	Streams []string  `json:"streams,omitempty"` // the streams a limited token may use
}

// StreamList answers GET /v1/streams.
type StreamList struct {
	You     Caller       `json:"you"`
	Streams []StreamInfo `json:"streams"`
}

// Streams lists the streams the server has seen, the most recently
// active first (app adapts moderate.KPIs).
type Streams interface {
	Streams(ctx context.Context, limit int) []StreamInfo
}

// StreamsMax caps GET /v1/streams: a picker of more is no help.
const StreamsMax = 200

// Restricted is one running timeout or ban, for the unban list.
type Restricted struct {
	User string `json:"user"`
	// Stream is set when the restriction holds in that stream only.
	Stream string `json:"stream,omitempty"`
	Until  int64  `json:"until,omitempty"` // Unix ms the timeout ends; absent for a ban
	Reason string `json:"reason,omitempty"`
}

// Restrictions lists running timeouts and bans (moderate.Desk via app).
type Restrictions interface {
	Restrictions(limit int) []Restricted
}

// RestrictedMax caps GET /v1/users/restricted.
const RestrictedMax = 1000

// RegisterStreams adds:
//
//	GET /v1/streams            {"you":{"name","role"},"streams":[…]}   any token
//	GET /v1/users/restricted   {"restricted":[{"user","until","reason"}…]}   moderator
//
// The pages use the first for their stream picker and the index, the
// second for the moderators' unban list. Either may be nil.
func RegisterStreams(s *Server, st Streams, rs Restrictions) {
	if st != nil {
		s.Handle("GET /v1/streams", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := PrincipalFrom(r.Context())
			list := st.Streams(r.Context(), StreamsMax)
			if p.Scoped() {
				// A limited token sees its own streams, active or not.
				seen := map[string]bool{}
				kept := list[:0:0]
				for _, si := range list {
					if p.Sees(si.Stream) {
						kept = append(kept, si)
						seen[si.Stream] = true
					}
				}
				for _, id := range p.Streams() {
					if !seen[id] {
						kept = append(kept, StreamInfo{Stream: id})
					}
				}
				list = kept
			}
			if list == nil {
				list = []StreamInfo{}
			}
			writeJSON(w, http.StatusOK, StreamList{You: Caller{Name: p.Name, Role: p.Role, Streams: p.Streams()}, Streams: list})
		}), auth.Roles...)
	}
	if rs != nil {
		s.Handle("GET /v1/users/restricted", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			list := rs.Restrictions(RestrictedMax)
			if p := PrincipalFrom(r.Context()); p.Scoped() {
				// A limited token sees, and may lift, only its streams' own.
				kept := list[:0:0]
				for _, x := range list {
					if x.Stream != "" && p.Sees(x.Stream) {
						kept = append(kept, x)
					}
				}
				list = kept
			}
			if list == nil {
				list = []Restricted{}
			}
			writeJSON(w, http.StatusOK, struct {
				Restricted []Restricted `json:"restricted"`
			}{list})
		}), auth.RoleModerator)
	}
}
