//go:build !race

package main

import (
	"context"
	"encoding/json"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livemod/livemod/bench"
	"github.com/livemod/livemod/chat"
)

// TestMemoryMillionUsers runs a million distinct users through the whole
// server pipeline — engine with model and trending, automation, moderation
// desk, host, audit, hub — with message times spread over one hour, and
// checks that the process stays within 300 MB: every per-user table is
// bounded. (Not under -race, whose shadow memory would swamp the figure;
// .ci/run runs it on its own.)
func TestMemoryMillionUsers(t *testing.T) {
	users := 1_000_000
	if testing.Short() {
		users = 100_000
	}
	a := newPipelineApp(t)

	// Chat from the demo audience, each line from a new user.
	aud := bench.NewAudience(bench.AudienceOptions{Seed: 3, Stream: "big"})
	const distinct = 4096
	texts := make([]string, distinct)
	var buf []byte
	for i := range texts {
		buf = aud.AppendNext(buf[:0], "x", 0)
		var m chat.Message
		if err := json.Unmarshal(buf, &m); err != nil {
			t.Fatal(err)
		}
		texts[i] = m.Text
	}
	start := int64(1795000000000)
	step := int64(time.Hour/time.Millisecond) / int64(users)
	before := procStatus("VmRSS:")
	ctx := context.Background()
	const batch = 64
	for i := 0; i < users; i += batch {
		msgs := make([]*chat.Message, 0, batch)
		for j := i; j < i+batch && j < users; j++ {
			id := strconv.Itoa(j)
			msgs = append(msgs, &chat.Message{
				ID: "m-" + id, Stream: "big",
				User: chat.User{ID: "u-" + id, Name: "viewer" + id},
				Text: texts[j%distinct], TS: start + int64(j)*step,
			})
		}
		if err := a.Pipeline.Submit(ctx, msgs); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Pipeline.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	after, peak := procStatus("VmRSS:"), procStatus("VmHWM:")
	t.Logf("%d users: heap in use %.0f MB, RSS %.0f MB, peak RSS %.0f MB (%.0f MB before)", users, mb(ms.HeapInuse), mb(after), mb(peak), mb(before))
	if peak > 300<<20 {
		t.Errorf("peak RSS %.0f MB with %d distinct users, want ≤ 300 MB", mb(peak), users)
	}
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

// procStatus reads a size field (VmRSS:, VmHWM:) of this process from /proc.
func procStatus(field string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field) {
			f := strings.Fields(line)
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
