package stream

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/livemod/livemod/broker"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
)

type nopSink struct{ n atomic.Int64 }

func (s *nopSink) Decided(*chat.Decision, []byte) { s.n.Add(1) }

// BenchmarkPipeline measures messages decided per second through the
// shards, with the real engine, for 1 shard and for one per core: the
// ratio shows how the pipeline scales with cores.
//
//	go test ./stream -run x -bench Pipeline -benchmem -count 6 | tee new.txt
func BenchmarkPipeline(b *testing.B) {
	texts := []string{
		"how much is the blue jacket?",
		"love this show, greetings from Pune!",
		"ye jacket kitne ka hai bhai?",
		"कितने का है ये वाला?",
		"check my channel bit.ly/free-money",
		"my order 5521 hasn't arrived, refund please",
		"agent please, wrong item delivered",
		"nice!! 🔥🔥",
	}
	for _, shards := range []int{1, 0} {
		name := "shards=cores"
		if shards == 1 {
			name = "shards=1"
		}
		b.Run(name, func(b *testing.B) {
			engine, err := classify.New(classify.Options{})
			if err != nil {
				b.Fatal(err)
			}
			sink := &nopSink{}
			p := NewPipeline(engine, []Sink{sink}, Options{Shards: shards}, nil)
			const batch = 64
			msgs := make([]chat.Message, 4096)
			for i := range msgs {
				msgs[i] = chat.Message{ID: "m" + strconv.Itoa(i), Stream: "show", User: chat.User{ID: fmt.Sprint("u", i%997)}, Text: texts[i%len(texts)], TS: 1795000000000 + int64(i)}
			}
			b.ReportAllocs()
			b.ResetTimer()
			sent := 0
			for sent < b.N {
				n := min(batch, b.N-sent)
				bt := make([]*chat.Message, n)
				for j := range bt {
					bt[j] = &msgs[(sent+j)%len(msgs)]
				}
				if err := p.Submit(context.Background(), bt); err != nil {
					b.Fatal(err)
				}
				sent += n
			}
			p.Shutdown(context.Background()) // drain before the timer stops
			b.StopTimer()
			if got := sink.n.Load(); got != int64(b.N) {
				b.Fatalf("decided %d of %d", got, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkHubPublish measures fan-out of one encoded decision to 8
// subscriber queues.
func BenchmarkHubPublish(b *testing.B) {
	h := NewHub(HubOptions{MaxQueueBytes: 1 << 30}, nil)
	subs := make([]*subscriber, 8)
	for i := range subs {
		subs[i] = &subscriber{topic: broker.Topic{Stream: "show", View: broker.ViewModerator}, max: 1 << 30, notify: make(chan struct{}, 1), quit: make(chan struct{})}
		h.add(subs[i])
	}
	line := []byte(`{"id":"m-42","stream":"show","user":{"id":"u-7","name":"asha"},"text":"how much is the blue jacket?","ts":1795000000000,"labels":["question"],"action":"allow","reasons":[],"faq":null,"question":null,"handoff":null,"dup":{"count":1}}`)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	spares := make([][]byte, len(subs))
	for i := 0; i < b.N; i++ {
		h.Publish("show", broker.ViewModerator, line)
		if i%1024 == 0 {
			for j, s := range subs {
				spares[j], _ = s.take(spares[j])
			}
		}
	}
}
