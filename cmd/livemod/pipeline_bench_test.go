package main

import (
	"context"
	"io"
	"strconv"
	"testing"

	"github.com/livemod/livemod/app"
	"github.com/livemod/livemod/bench"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/config"
)

// BenchmarkServerPipeline is the server's whole work on a message but the
// sockets: decoding it (as ingest does), the engine with its model,
// trending, automation with tickets, the moderation desk, host, KPIs, the
// audit log and the durable store, over the bench's audience (16 × 5,000
// viewers, as `livemod bench` sends), in frames of 64. It tells how much
// of an end-to-end figure is the pipeline and how much is the network.
func BenchmarkServerPipeline(b *testing.B) {
	a := newPipelineApp(b)

	const conns, batch = 16, 64
	auds := make([]*bench.Audience, conns)
	for i := range auds {
		auds[i] = bench.NewAudience(bench.AudienceOptions{Seed: int64(i), Stream: "bench", Users: 5000, UserPrefix: strconv.Itoa(i) + "-"})
	}
	ts := int64(1795000000000)
	var line []byte
	ctx := context.Background()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		aud := auds[n%conns]
		msgs := make([]*chat.Message, batch)
		for j := range msgs {
			line = aud.AppendNextSeq(line[:0], "m-", uint64(n*batch+j), ts)
			m := new(chat.Message)
			if err := chat.DecodeMessage(line, string(line), m); err != nil { // as ingest decodes
				b.Fatal(err)
			}
			msgs[j] = m
			ts++ // about 1,000 messages a second of message time: an hour in 3.6M
		}
		if err := a.Pipeline.Submit(ctx, msgs); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if err := a.Pipeline.Shutdown(ctx); err != nil { // the last frames are decided in the timing
		b.Fatal(err)
	}
	b.ReportMetric(float64(n*batch)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*batch), "ns/msg")
}

// newPipelineApp builds the whole server with default settings over a
// temporary store, for driving its pipeline directly (no listener is
// started); it shuts down when the test ends.
func newPipelineApp(tb testing.TB) *app.App {
	tb.Helper()
	cfg := config.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.Data = tb.TempDir()
	a, err := app.New(cfg, io.Discard)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Shutdown(context.Background()) })
	return a
}

// BenchmarkServerPipelineNeutral is BenchmarkServerPipeline on the common
// path of issue 17: ordinary chat that opens no ticket (bench.MixNeutral),
// one message per frame, 50 connections' audiences of 5,000 viewers, as
// ingest decodes and submits them. Its allocations are the message path's
// per message (one frame each).
func BenchmarkServerPipelineNeutral(b *testing.B) {
	a := newPipelineApp(b)

	const conns = 50
	auds := make([]*bench.Audience, conns)
	for i := range auds {
		auds[i] = bench.NewAudience(bench.AudienceOptions{Seed: int64(i), Stream: "bench", Users: 5000, UserPrefix: strconv.Itoa(i) + "-", Mix: bench.MixNeutral})
	}
	ts := int64(1795000000000)
	var line []byte
	ctx := context.Background()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		aud := auds[n%conns]
		line = aud.AppendNextSeq(line[:0], "m-", uint64(n), ts)
		m := new(chat.Message)
		if err := chat.DecodeMessage(line, string(line), m); err != nil { // as ingest decodes
			b.Fatal(err)
		}
		if err := a.Pipeline.Submit(ctx, []*chat.Message{m}); err != nil {
			b.Fatal(err)
		}
		ts++
		n++
	}
	if err := a.Pipeline.Shutdown(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}
