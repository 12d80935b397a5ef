package connect

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livemod/livemod/store"
)

// TestHelixWaitsForTheReset: once Ratelimit-Remaining is 0, the next call
// waits for Ratelimit-Reset instead of spending a 429.
func TestHelixWaitsForTheReset(t *testing.T) {
	var mu sync.Mutex
	var at []time.Time
	var reset time.Time
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		at = append(at, time.Now())
		if len(at) == 1 {
			reset = time.Now().Add(time.Second).Truncate(time.Second).Add(time.Second)
			w.Header().Set("Ratelimit-Remaining", "0")
			w.Header().Set("Ratelimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		}
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer api.Close()
	tw := twitchFor(t, api.URL, nil)
	for _, id := range []string{"m-1", "m-2"} {
		if err := tw.Act(context.Background(), store.Action{Kind: store.ActHide, Target: id}); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(at) != 2 || at[1].Before(reset) {
		t.Fatalf("second call at %v, the bucket refilled at %v", at[1], reset)
	}
}

// TestHelixDroppedReplyIsRefused: a chat message Twitch does not send
// (is_sent false) is refused with Twitch's drop reason, not retried.
func TestHelixDroppedReplyIsRefused(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"data":[{"message_id":"","is_sent":false,"drop_reason":{"code":"msg_duplicate","message":"This message is a duplicate."}}]}`)
	}))
	defer api.Close()
	err := twitchFor(t, api.URL, nil).Act(context.Background(), store.Action{Kind: store.ActReply, Target: "q-1", Text: "Automated reply: hi"})
	r, ok := err.(*Refused)
	if !ok || !strings.Contains(r.Reason, "msg_duplicate") {
		t.Fatalf("err %v", err)
	}
}

// TestHelixServerErrorIsRetried: 5xx is a temporary failure.
func TestHelixServerErrorIsRetried(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	defer api.Close()
	err := twitchFor(t, api.URL, nil).Act(context.Background(), store.Action{Kind: store.ActBan, User: "42"})
	if _, refused := err.(*Refused); err == nil || refused {
		t.Fatalf("err %v: want a temporary error", err)
	}
}
