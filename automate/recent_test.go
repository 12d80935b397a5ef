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

// BenchmarkRecentLogAdd: users the log knows (50,000), and an audience
// much bigger than the log (250,000, as livemod bench's 50 connections
// play: most messages are from a user the log does not hold).
func BenchmarkRecentLogAdd(b *testing.B) {
	for _, users := range []int{50_000, 250_000} {
		b.Run(strconv.Itoa(users), func(b *testing.B) { benchRecentLogAdd(b, users) })
	}
}

func benchRecentLogAdd(b *testing.B, users int) {
	var l recentLog
	l.init()
	msgs := make([]chat.Message, users)
	for i := range msgs {
		msgs[i] = chat.Message{ID: fmt.Sprintf("m-%d", i), Stream: "show", User: chat.User{ID: fmt.Sprintf("u-%d", i)}, Text: "kab tak aayega mera order?", TS: int64(i)}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		l.add(&msgs[i%len(msgs)], 5)
	}
}

// TestRecentLogBounded: fed far more users than it holds, the log keeps
// at most its table's worth, keeps the newest users (all of the last
// thousand, nearly all of the last 32,768), and a user it dropped has no
// messages, not another user's.
func TestRecentLogBounded(t *testing.T) {
	var l recentLog
	l.init()
	const users = 300_000
	id := func(i int) string { return "u-" + strconv.Itoa(i) }
	for i := range users {
		l.add(&chat.Message{ID: "m-" + strconv.Itoa(i), Stream: "s", User: chat.User{ID: id(i)}, Text: "hello " + id(i), TS: int64(i)}, 5)
	}
	if n, max := l.users(), recentShards*recentSets*recentWays; n != max {
		t.Errorf("holds %d users after %d, want its bound %d", n, users, max)
	}
	kept := 0
	for i := users - 32_768; i < users; i++ {
		got := l.get("s", id(i))
		if len(got) == 1 && got[0].Text == "hello "+id(i) {
			kept++
		} else if got != nil {
			t.Fatalf("user %d: %+v", i, got)
		} else if i >= users-1000 {
			t.Errorf("user %d, among the last thousand, was dropped", i)
		}
	}
	if kept < 32_768*99/100 {
		t.Errorf("kept %d of the last 32,768 users, want at least 99%%", kept)
	}
	if got := l.get("s", id(0)); got != nil {
		t.Errorf("the first user is still kept: %+v", got)
	}
}

// TestRecentLogErasedSlotIsReused: erasing a user empties their slot,
// which the next new user of the set takes before any other user's.
func TestRecentLogErasedSlotIsReused(t *testing.T) {
	var l recentLog
	l.init()
	// Users of one set: the same shard and set bits of their key.
	var same []string
	want := chat.UserKey("s", "u-0")
	for i := 0; len(same) < recentWays+1; i++ {
		u := "u-" + strconv.Itoa(i)
		if k := chat.UserKey("s", u); k&(recentShards-1) == want&(recentShards-1) && setOf(k) == setOf(want) {
			same = append(same, u)
		}
	}
	for _, u := range same[:recentWays] {
		l.add(&chat.Message{ID: "m", Stream: "s", User: chat.User{ID: u}, Text: "hi"}, 5)
	}
	if n := l.erase(same[3]); n != 1 {
		t.Fatalf("erase = %d, want 1", n)
	}
	l.add(&chat.Message{ID: "m", Stream: "s", User: chat.User{ID: same[recentWays]}, Text: "hi"}, 5)
	for i, u := range same {
		if got := l.get("s", u); (got == nil) != (i == 3) {
			t.Errorf("user %d of the set: %+v", i, got)
		}
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
