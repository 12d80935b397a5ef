package cluster

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livemod/livemod/internal/testenv"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// benchLine is a typical chat message line (about 190 bytes).
var benchLine = []byte(`{"id":"m-1234567","stream":"launch","platform":"twitch","channel":"launch","user":{"id":"u-98765","name":"asha"},"text":"how much is the blue jacket in size M?","ts":"2026-12-03T14:00:00Z"}`)

// BenchmarkForward: node B forwards lines of one stream owned by node A.
// "written": until Redis has taken every line (XADD acknowledged);
// "consumed": until A's handler has received every line (end to end:
// XADD, blocking XREAD, decode, commit). msgs/s is the figure; the
// producer holds back (not counted as drops) when the queue is half full.
func BenchmarkForward(b *testing.B) {
	for _, mode := range []string{"written", "consumed"} {
		b.Run(mode, func(b *testing.B) {
			r := testenv.StartRedis(b)
			a, nb := open(b, r, "a", 10*time.Second), open(b, r, "b", 10*time.Second)
			var got atomic.Int64
			a.Consume(func(_ string, lines [][]byte) error { got.Add(int64(len(lines))); return nil })
			a.Owner("bench")
			if _, self := nb.Owner("bench"); self {
				b.Fatal("b owns the stream")
			}
			half := int64(nb.o.ForwardQueue / 2)
			b.SetBytes(int64(len(benchLine)))
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				for nb.fwd.lines.Load() > half {
					time.Sleep(50 * time.Microsecond)
				}
				if err := nb.Forward("bench", benchLine); err != nil {
					b.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := nb.ForwardSync(ctx, "bench", nil); err != nil {
				b.Fatal(err)
			}
			if mode == "consumed" {
				for got.Load() < int64(b.N) {
					if ctx.Err() != nil {
						b.Fatalf("consumed %d of %d", got.Load(), b.N)
					}
					time.Sleep(100 * time.Microsecond)
				}
			}
			el := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
			if v := testutil.ToFloat64(nb.m.fwdDropped); v != 0 {
				b.Fatalf("%v lines dropped", v)
			}
		})
	}
}

// BenchmarkOwner: the hot path's ownership check of a stream already
// seen: no Redis round trip, no allocation.
func BenchmarkOwner(b *testing.B) {
	r := testenv.StartRedis(b)
	a, nb := open(b, r, "a", 10*time.Second), open(b, r, "b", 10*time.Second)
	a.Owner("bench")
	nb.Owner("bench")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, self := nb.Owner("bench"); self {
				b.Fatal("b owns the stream")
			}
		}
	})
}
