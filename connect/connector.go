package connect

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/store"
)

// Sink takes what a connector reads from its platform. app implements
// it over stream.Ingest (Accept, the same admission, chat.Admit, as the
// websocket and HTTP ingest) and the moderation desk (Mirror).
type Sink interface {
	// Accept admits msgs (fills in missing ids and times, validates) and
	// submits the valid ones to the pipeline; it returns when they are
	// queued. Refused messages are counted and logged, not returned.
	Accept(ctx context.Context, stream string, msgs []*chat.Message) error
	// Mirror applies a deletion, timeout or ban the platform made.
	Mirror(m Mirror)
}

// Mirror is a moderation the platform itself made (a Twitch moderator's
// /delete or /ban, YouTube's messageDeletedEvent or userBannedEvent),
// which livemod mirrors: the message leaves the console and overlay and
// the audit names the platform as actor.
type Mirror struct {
	Platform string
	Stream   string
	Kind     string // "delete": message Target; "clear": user User's messages, or every message when User is empty
	Target   string // the platform's message id
	User     string // the platform's user id
	Seconds  int    // a timeout's length; 0 is a ban (for "clear" of one user)
	Reason   string
}

// Actor carries out platform actions: Helix for Twitch, the YouTube Data
// API for YouTube.
type Actor interface {
	Act(ctx context.Context, a store.Action) error
}

// Refused is an action the platform will not take (4xx other than rate
// limits, or a message it dropped): retrying cannot help.
type Refused struct{ Reason string }

func (e *Refused) Error() string { return "refused: " + e.Reason }

// RetryAt is a temporary failure with a time to try again (a rate limit's
// reset, a quota's day): sooner would fail again.
type RetryAt struct {
	At  time.Time
	Err error
}

func (e *RetryAt) Error() string {
	return e.Err.Error() + " (retry at " + e.At.UTC().Format(time.RFC3339) + ")"
}
func (e *RetryAt) Unwrap() error { return e.Err }

// ErrNoToken is an action on a connector that only reads.
var ErrNoToken = errors.New("connect: this connector has no token to act with: set token in its connect entry")

// HealthState is a connector's state, on /readyz, /metrics and the
// console.
type HealthState struct {
	Name        string `json:"name"`     // "twitch:show" or "youtube:Cg0KC…"
	Platform    string `json:"platform"` // twitch, youtube
	Stream      string `json:"stream"`
	Reader      string `json:"reader"`               // irc, eventsub, poll
	State       string `json:"state"`                // connecting, connected, waiting, ended, stopped
	Connected   bool   `json:"connected"`            // reading now
	Reconnects  int    `json:"reconnects"`           // since start
	Messages    int64  `json:"messages"`             // read since start
	LastMessage int64  `json:"last_message"`         // Unix ms, 0 before the first
	LastError   string `json:"last_error"`           // the latest, "" if none
	QuotaLeft   int    `json:"quota_left"`           // YouTube units left today; -1 where no quota applies
	FollowFor   string `json:"follow_for,omitempty"` // YouTube: how much longer the quota follows the show
	DryRun      bool   `json:"dry_run"`
	// IDs is how many message ids the connector remembers to route
	// replies and hides (at most 8,192); Bans how many ban ids a YouTube
	// connector keeps for unbans (at most 10,000).
	IDs  int `json:"ids"`
	Bans int `json:"bans"`
}

// health is a connector's HealthState behind a lock.
type health struct {
	mu sync.Mutex
	s  HealthState
}

func (h *health) get() HealthState {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.s
}

func (h *health) set(fn func(s *HealthState)) {
	h.mu.Lock()
	fn(&h.s)
	h.mu.Unlock()
}

func (h *health) fail(err error) {
	h.set(func(s *HealthState) { s.LastError = err.Error() })
}

func (h *health) read(n int, now time.Time) {
	h.set(func(s *HealthState) { s.Messages += int64(n); s.LastMessage = now.UnixMilli() })
}

// backoff is a reconnect policy: Min doubling per failure to Max, each
// wait jittered to 50–100% so that many connectors that lost their
// server together do not come back together.
type backoff struct {
	Min, Max time.Duration
	n        int
}

func (b *backoff) next() time.Duration {
	d := b.Min
	for i := 0; i < b.n && d < b.Max; i++ {
		d *= 2
	}
	b.n++
	d = min(d, b.Max)
	return time.Duration(float64(d) * (0.5 + rand.Float64()/2))
}

func (b *backoff) reset() { b.n = 0 }

// sleep waits d or until ctx ends, and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// recentIDs remembers the newest message ids a connector read, so that a
// reply or a hide of a stream read by several connectors finds its
// platform. Bounded: the oldest id is forgotten first.
type recentIDs struct {
	mu   sync.Mutex
	ring []string
	next int
	set  map[string]struct{}
}

const recentIDsMax = 8192 // a few minutes of a busy show

func (r *recentIDs) add(id string) {
	if id == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.set == nil {
		r.ring, r.set = make([]string, recentIDsMax), make(map[string]struct{}, recentIDsMax)
	}
	if _, ok := r.set[id]; ok {
		return
	}
	delete(r.set, r.ring[r.next])
	r.ring[r.next] = id
	r.set[id] = struct{}{}
	r.next = (r.next + 1) % len(r.ring)
}

func (r *recentIDs) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.set)
}

func (r *recentIDs) has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.set[id]
	return ok
}
