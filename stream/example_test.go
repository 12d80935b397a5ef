package stream_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
	"github.com/livemod/livemod/stream"
)

// printSink prints each decision's id, action and labels.
type printSink struct{ mu sync.Mutex }

func (s *printSink) Decided(d *chat.Decision, _ []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Println(d.ID, d.Action, d.Labels.Slice())
}

// A pipeline decides each message on its user's shard and hands the
// decision to the sinks; Shutdown waits until every queued message is
// decided.
func ExampleNewPipeline() {
	engine, err := classify.New(classify.Options{})
	if err != nil {
		panic(err)
	}
	p := stream.NewPipeline(engine, []stream.Sink{&printSink{}}, stream.Options{Shards: 1}, nil)
	msgs := []*chat.Message{
		{ID: "m-1", Stream: "launch", User: chat.User{ID: "u-1"}, Text: "check my channel bit.ly/free-coins", TS: 1795000000000},
		{ID: "m-2", Stream: "launch", User: chat.User{ID: "u-1"}, Text: "love this jacket", TS: 1795000001000},
	}
	if err := p.Submit(context.Background(), msgs); err != nil {
		panic(err)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		panic(err)
	}
	// Output:
	// m-1 hide [spam link]
	// m-2 allow []
}
