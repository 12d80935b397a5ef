package automate

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/livemod/livemod/chat"
)

func TestRecentLogKeepsTheLastMessagesInOrder(t *testing.T) {
	var l recentLog
	l.init()
	for i := range 8 {
		l.add(&chat.Message{ID: fmt.Sprintf("m-%d", i), Stream: "s", User: chat.User{ID: "u-1"}, Text: strings.Repeat("x", i*40), TS: int64(i)}, 5)
	}
	l.add(&chat.Message{ID: "other", Stream: "s2", User: chat.User{ID: "u-1"}, Text: "elsewhere", TS: 9}, 5)
	l.add(&chat.Message{ID: "theirs", Stream: "s", User: chat.User{ID: "u-2"}, Text: "someone else", TS: 9}, 5)

	got := l.get("s", "u-1")
	if len(got) != 5 {
		t.Fatalf("kept %d messages, want the last 5", len(got))
	}
	for i, m := range got {
		want := i + 3
		if m.ID != fmt.Sprintf("m-%d", want) || m.Text != strings.Repeat("x", want*40) || m.TS != int64(want) {
			t.Errorf("message %d = %+v, want m-%d", i, m, want)
		}
	}
	if all := l.ofUser("u-1", nil); len(all) != 6 {
		t.Errorf("ofUser kept %d messages over two streams, want 6", len(all))
	}
	if n := l.erase("u-1"); n != 6 {
		t.Errorf("erase removed %d, want 6", n)
	}
	if got := l.get("s", "u-1"); got != nil {
		t.Errorf("after erase: %+v", got)
	}
	if got := l.get("s", "u-2"); len(got) != 1 || got[0].Text != "someone else" {
		t.Errorf("erasing u-1 touched u-2: %+v", got)
	}
}

func TestRecentLogAddAllocatesNothingForAKnownUser(t *testing.T) {
	var l recentLog
	l.init()
	m := &chat.Message{ID: "m-1", Stream: "s", User: chat.User{ID: "u-1"}, Text: "hello there", TS: 1}
	for range 10 {
		l.add(m, 5)
	}
	if n := testing.AllocsPerRun(100, func() { l.add(m, 5) }); n != 0 {
		t.Errorf("add allocates %v times per message, want 0", n)
	}
}

func BenchmarkRecentLogAdd(b *testing.B) {
	var l recentLog
	l.init()
	msgs := make([]chat.Message, 50_000)
	for i := range msgs {
		msgs[i] = chat.Message{ID: fmt.Sprintf("m-%d", i), Stream: "show", User: chat.User{ID: fmt.Sprintf("u-%d", i)}, Text: "kab tak aayega mera order?", TS: int64(i)}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		l.add(&msgs[i%len(msgs)], 5)
	}
}

// TestRecentShardsAlignWithPipeline: a user's recent-log shard is picked
// by the low bits of the user key, as the pipeline's shard is, and each
// shard fills one cache line, so two pipeline shards never share a lock's
// line.
func TestRecentShardsAlignWithPipeline(t *testing.T) {
	if n := unsafe.Sizeof(recentShard{}); n != 64 {
		t.Errorf("recentShard is %d bytes, want one 64-byte cache line", n)
	}
	var l recentLog
	for i := range 1000 {
		k := chat.UserKey("show", "u-"+strconv.Itoa(i))
		idx := (uintptr(unsafe.Pointer(l.shard(k))) - uintptr(unsafe.Pointer(&l.shards[0]))) / unsafe.Sizeof(recentShard{})
		if int(idx)&1 != int(k&1) { // two pipeline shards: k & 1
			t.Fatalf("key %x: recent shard %d, pipeline shard %d", k, idx, k&1)
		}
	}
}
