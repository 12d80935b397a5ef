package broker

import (
	"fmt"
)

// View is what a subscriber receives.
type View uint8

// The views of /v1/subscribe.
const (
	ViewModerator View = iota // every decision of the stream
	ViewOverlay               // trending questions, pins, counters
	ViewAgent                 // handoffs
	ViewReplies               // automated replies, for bridges
	NumViews
)

var viewNames = [...]string{"moderator", "overlay", "agent", "replies"}

func (v View) String() string {
	if int(v) < len(viewNames) {
		return viewNames[v]
	}
	return fmt.Sprintf("View(%d)", v)
}

// ParseView returns the view named s.
func ParseView(s string) (View, error) {
	for i, n := range viewNames {
		if n == s {
			return View(i), nil
		}
	}
	return 0, fmt.Errorf("view %q: want moderator, overlay, agent or replies", s)
}

// Topic is what a subscriber subscribes to: one view of one stream.
type Topic struct {
	Stream string
	View   View
}

// A Subscriber takes the lines published to its topic. Its methods are
// called by publishers and must not block: a subscriber queues what it
// is given and disconnects itself when it falls behind (stream.Hub's
// websocket subscribers do).
type Subscriber interface {
	// Push takes one line, a JSON object without a newline; the caller
	// may reuse line at once.
	Push(line []byte)
	// PushLines takes lines, each followed by a newline.
	PushLines(lines []byte)
}

// SnapshotFunc returns the lines a new subscriber of stream and view
// gets before any published line (the trending list for an overlay, the
// open tickets for an agent, the recent decisions for a moderator).
type SnapshotFunc func(stream string, view View) [][]byte

// Broker is the publish/subscribe port of livemod's fan-out, per topic
// (stream, view), with snapshots for new subscribers. Memory is the
// implementation in one process; Redis stands beside it so that several
// servers share subscribers (broker_redis.go).
//
// Publishing never blocks on a subscriber and reports no error: a broker
// that does I/O queues and counts its failures itself. Implementations
// are goroutine-safe.
type Broker interface {
	// Publish sends line (one JSON object, no newline) to every
	// subscriber of stream and view.
	Publish(stream string, view View, line []byte)
	// PublishLines sends lines (each followed by a newline) likewise.
	PublishLines(stream string, view View, lines []byte)
	// Watched reports whether any stream's view has a subscriber, so
	// that a publisher skips building lines nobody reads.
	Watched(view View) bool
	// Subscribers returns how many subscribers stream and view have.
	Subscribers(stream string, view View) int
	// Subscribe adds s to t; Unsubscribe removes it.
	Subscribe(t Topic, s Subscriber)
	Unsubscribe(t Topic, s Subscriber)
	// AddSnapshot adds f to the sources of snapshots; Snapshot returns
	// their lines for stream and view, in the order they were added.
	AddSnapshot(f SnapshotFunc)
	Snapshot(stream string, view View) [][]byte
}
