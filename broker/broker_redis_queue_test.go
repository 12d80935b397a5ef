package broker

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// deliver decodes every message of outbox for dest on a node named dest,
// as its receive goroutine would, and returns what its subscribers got
// per topic.
func deliver(t *testing.T, outbox []outMsg, dest string, topics ...Topic) map[Topic][]string {
	t.Helper()
	rb := newRedis(nil, RedisOptions{NodeID: dest})
	recs := map[Topic]*recorder{}
	for _, tp := range topics {
		recs[tp] = &recorder{}
		rb.local.Subscribe(tp, recs[tp])
	}
	for _, m := range outbox {
		if m.dest == dest {
			rb.dispatch("lm:bk:n:"+dest, string(m.payload))
		}
	}
	out := map[Topic][]string{}
	for tp, r := range recs {
		out[tp] = r.all()
	}
	return out
}

// TestRedisTake: the queue's records reach each watching node whole and
// in order, through the lent buffer when every entry goes to the same
// nodes and through copies when they do not; a message kept for another
// attempt does not change when the queue is written again.
func TestRedisTake(t *testing.T) {
	show, other := Topic{"show", ViewModerator}, Topic{"other", ViewModerator}
	b := newRedis(nil, RedisOptions{NodeID: "a"})
	b.setRemote(show, "b", 1, false)
	b.setRemote(show, "c", 1, false)

	b.Publish("show", ViewModerator, []byte(`{"n":1}`))
	b.PublishLines("show", ViewModerator, []byte("{\"n\":2}\n{\"n\":3}\n"))
	b.Publish("show", ViewModerator, []byte(`{"n":4}`))
	outbox := b.take(nil)
	if len(outbox) != 2 || !outbox[0].lent || !outbox[1].lent {
		t.Fatalf("one topic, two nodes: want two lent messages, got %d (%+v)", len(outbox), outbox)
	}
	want := []string{`{"n":1}`, `{"n":2}`, `{"n":3}`, `{"n":4}`}
	for _, d := range []string{"b", "c"} {
		if got := deliver(t, outbox, d, show)[show]; !slices.Equal(got, want) {
			t.Fatalf("node %s got %q, want %q", d, got, want)
		}
	}
	if l, n := b.queued(); l != 8 || n != 2*len(outbox[0].payload) {
		t.Fatalf("in flight: %d lines, %d bytes; want 8 lines, %d bytes", l, n, 2*len(outbox[0].payload))
	}

	// The first message kept for another attempt: its chunk, free again,
	// takes the next lines.
	kept := outbox[:1]
	keep(kept)
	if kept[0].lent {
		t.Fatal("kept message still lent")
	}
	b.recycle()
	b.Publish("show", ViewModerator, []byte(`{"n":99}`))
	_ = b.take(nil)
	b.recycle()
	if got := deliver(t, kept, kept[0].dest, show)[show]; !slices.Equal(got, want) {
		t.Fatalf("kept message changed: %q", got)
	}

	// Two topics watched by different nodes: copies, each node its own.
	b.setRemote(other, "c", 1, false)
	b.Publish("show", ViewModerator, []byte(`{"s":1}`))
	b.Publish("other", ViewModerator, []byte(`{"o":1}`))
	b.Publish("show", ViewModerator, []byte(`{"s":2}`))
	outbox = b.take(nil)
	b.recycle()
	for _, m := range outbox {
		if m.lent {
			t.Fatalf("mixed destinations: message to %s lent", m.dest)
		}
	}
	gb := deliver(t, outbox, "b", show, other)
	gc := deliver(t, outbox, "c", show, other)
	if !slices.Equal(gb[show], []string{`{"s":1}`, `{"s":2}`}) || len(gb[other]) != 0 {
		t.Fatalf("node b got %q", gb)
	}
	if !slices.Equal(gc[show], []string{`{"s":1}`, `{"s":2}`}) || !slices.Equal(gc[other], []string{`{"o":1}`}) {
		t.Fatalf("node c got %q", gc)
	}
}

// TestRedisTakeSplits: much queued goes in several messages, in order,
// none above a chunk but for a record bigger than one alone.
func TestRedisTakeSplits(t *testing.T) {
	show := Topic{"show", ViewModerator}
	b := newRedis(nil, RedisOptions{NodeID: "a", MaxQueueBytes: 8 << 20})
	b.setRemote(show, "b", 1, false)
	line := strings.Repeat("x", 1000)
	var want []string
	for i := range 1500 { // about 1.5 MB
		l := fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, line)
		want = append(want, l)
		b.Publish("show", ViewModerator, []byte(l))
	}
	big := strings.Repeat("y", 3*chunkBytes)
	want = append(want, big, "last")
	b.PublishLines("show", ViewModerator, []byte(big+"\n"))
	b.Publish("show", ViewModerator, []byte("last"))
	outbox := b.take(nil)
	if len(outbox) < 1_500_000/chunkBytes {
		t.Fatalf("1.5 MB in %d messages, want at least %d", len(outbox), 1_500_000/chunkBytes)
	}
	over := 0
	for _, m := range outbox {
		if len(m.payload) > chunkBytes {
			over++
		}
	}
	if over != 1 {
		t.Fatalf("%d messages above a chunk (%d bytes), want the big record's alone", over, chunkBytes)
	}
	if got := deliver(t, outbox, "b", show)[show]; !slices.Equal(got, want) {
		t.Fatalf("got %d lines, want %d in order", len(got), len(want))
	}
}

// BenchmarkRedisQueue: what a publisher and the flusher spend per line
// on the way to Redis (enqueue and take, no I/O), 64 lines at a time.
func BenchmarkRedisQueue(b *testing.B) {
	r := newRedis(nil, RedisOptions{NodeID: "a"})
	r.setRemote(Topic{"show", ViewModerator}, "b", 1, false)
	line := `{"id":"m-1","stream":"show","user":"u1","action":"allow","text":"hello there, how is everyone doing tonight"}`
	batch := []byte(strings.Repeat(line+"\n", 64))
	b.ReportAllocs()
	b.SetBytes(int64(len(batch)))
	for i := 0; b.Loop(); i++ {
		r.PublishLines("show", ViewModerator, batch)
		if i%16 == 15 {
			outbox := r.take(nil)
			r.recycle()
			r.qmu.Lock()
			for _, m := range outbox {
				r.qLines -= m.lines
				r.qBytes -= m.bytes
			}
			r.qmu.Unlock()
		}
	}
}
