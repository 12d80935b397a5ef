package connect

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/livemod/livemod/chat"
)

// recordSink keeps what a connector hands on.
type recordSink struct {
	mu      sync.Mutex
	msgs    []chat.Message
	mirrors []Mirror
}

func (s *recordSink) Accept(_ context.Context, _ string, msgs []*chat.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range msgs {
		s.msgs = append(s.msgs, *m)
	}
	return nil
}

func (s *recordSink) Mirror(m Mirror) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mirrors = append(s.mirrors, m)
}

func (s *recordSink) counts() (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs), len(s.mirrors)
}

func esNote(typ string, event string) string {
	return fmt.Sprintf(`{"metadata":{"message_id":"n-%s","message_type":"notification","message_timestamp":"2026-12-03T09:00:00.123456789Z","subscription_type":%q,"subscription_version":"1"},"payload":{"subscription":{"type":%q},"event":%s}}`,
		typ, typ, typ, event)
}

// TestEventSubReader: with eventsub on, the connector takes the welcome,
// subscribes to chat and its moderations through Helix with the session
// id, reads channel.chat.message and mirrors channel.chat.message_delete,
// and follows a session_reconnect without subscribing again.
func TestEventSubReader(t *testing.T) {
	var mu sync.Mutex
	var subs []map[string]any
	subscribed := make(chan struct{}, 8)
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("/eventsub/subscriptions", func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		json.NewDecoder(r.Body).Decode(&b)
		mu.Lock()
		subs = append(subs, b)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"data":[{"id":"sub-%d","status":"enabled","type":%q,"version":"1","cost":0}],"total":1,"total_cost":0,"max_total_cost":10}`, len(subs), b["type"])
		subscribed <- struct{}{}
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := r.Context()
		c.Write(ctx, websocket.MessageText, []byte(`{"metadata":{"message_id":"w1","message_type":"session_welcome","message_timestamp":"2026-12-03T09:00:00Z"},"payload":{"session":{"id":"sess-1","status":"connected","keepalive_timeout_seconds":10,"reconnect_url":null}}}`))
		for range eventSubTypes {
			<-subscribed
		}
		c.Write(ctx, websocket.MessageText, []byte(esNote("channel.chat.message", `{"broadcaster_user_id":"1","chatter_user_id":"42","chatter_user_login":"asha","chatter_user_name":"Asha","message_id":"es-1","message":{"text":"how much is it?","fragments":[]},"badges":[{"set_id":"subscriber","id":"6","info":"6"}],"message_type":"text"}`)))
		c.Write(ctx, websocket.MessageText, []byte(esNote("channel.chat.message_delete", `{"broadcaster_user_id":"1","target_user_id":"42","target_user_login":"asha","message_id":"es-1"}`)))
		u := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws2"
		c.Write(ctx, websocket.MessageText, []byte(`{"metadata":{"message_id":"r1","message_type":"session_reconnect"},"payload":{"session":{"id":"sess-1","status":"reconnecting","reconnect_url":"`+u+`"}}}`))
		c.Read(ctx) // until the client leaves
	})
	mux.HandleFunc("/ws2", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := r.Context()
		c.Write(ctx, websocket.MessageText, []byte(`{"metadata":{"message_id":"w2","message_type":"session_welcome"},"payload":{"session":{"id":"sess-1","status":"connected","keepalive_timeout_seconds":10}}}`))
		c.Write(ctx, websocket.MessageText, []byte(esNote("channel.chat.message", `{"chatter_user_id":"43","chatter_user_login":"ravi","chatter_user_name":"","message_id":"es-2","message":{"text":"hello"},"badges":[]}`)))
		c.Read(ctx)
	})
	srv = httptest.NewServer(mux)
	defer srv.Close()

	sink := &recordSink{}
	tw, err := NewTwitch(TwitchOptions{Channel: "show", Token: "tok", ClientID: "cid", BroadcasterID: "1", ModeratorID: "2",
		API: srv.URL, EventSub: true, EventSubURL: "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"}, sink)
	if err != nil {
		t.Fatal(err)
	}
	tw.Start()
	defer tw.Close(context.Background())
	eventually(t, "two messages and a mirror", func() bool { m, d := sink.counts(); return m == 2 && d == 1 })
	sink.mu.Lock()
	defer sink.mu.Unlock()
	m := sink.msgs[0]
	if m.ID != "es-1" || m.User.ID != "42" || m.User.Name != "Asha" || m.Text != "how much is it?" || m.Platform != "twitch" ||
		m.Channel != "show" || len(m.User.Badges) != 1 || m.User.Badges[0] != "subscriber" || m.TS != time.Date(2026, 12, 3, 9, 0, 0, 123456789, time.UTC).UnixMilli() {
		t.Fatalf("message %+v", m)
	}
	if sink.msgs[1].User.Name != "ravi" {
		t.Fatalf("second message %+v", sink.msgs[1])
	}
	if d := sink.mirrors[0]; d.Kind != "delete" || d.Target != "es-1" || d.Platform != "twitch" {
		t.Fatalf("mirror %+v", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(subs) != len(eventSubTypes) {
		t.Fatalf("%d subscriptions, want %d (none again after session_reconnect)", len(subs), len(eventSubTypes))
	}
	tr, _ := subs[0]["transport"].(map[string]any)
	cond, _ := subs[0]["condition"].(map[string]any)
	if subs[0]["type"] != "channel.chat.message" || tr["method"] != "websocket" || tr["session_id"] != "sess-1" ||
		cond["broadcaster_user_id"] != "1" || cond["user_id"] != "2" {
		t.Fatalf("subscription %+v", subs[0])
	}
	if h := tw.Health(); h.Reader != "eventsub" || !h.Connected || h.Reconnects != 1 {
		t.Fatalf("health %+v", h)
	}
}

// TestYouTubeDocumentedPage reads the documented liveChatMessages.list
// answer (testdata/youtube_livechat_response.json).
func TestYouTubeDocumentedPage(t *testing.T) {
	b, err := os.ReadFile("testdata/youtube_livechat_response.json")
	if err != nil {
		t.Fatal(err)
	}
	sink := &recordSink{}
	y, _ := NewYouTube(YouTubeOptions{LiveChatID: "c", Stream: "show", APIKey: "k"}, sink)
	next, every, err := y.page(context.Background(), b)
	if err != nil || next != "GMq3wfej0dkCIJOw_uCl0dkC" || every != 1526*time.Millisecond {
		t.Fatalf("next %q every %v err %v", next, every, err)
	}
	m := sink.msgs[0]
	if len(sink.msgs) != 1 || m.Text != "test" || m.User.ID != "UCG7yIWtVwcENg_ZS-nahg5g" || m.Platform != "youtube" ||
		m.TS != time.Date(2018, 3, 3, 22, 45, 18, 656e6, time.UTC).UnixMilli() || !strings.HasPrefix(m.ID, "LCC.") {
		t.Fatalf("%+v", sink.msgs)
	}
}

func FuzzYouTubePage(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		sink := &recordSink{}
		y, _ := NewYouTube(YouTubeOptions{LiveChatID: "c", Stream: "show", APIKey: "k"}, sink)
		if _, _, err := y.page(context.Background(), b); err != nil {
			return
		}
		for _, m := range sink.msgs {
			if strings.TrimSpace(m.Text) == "" || m.Platform != "youtube" || m.Stream != "show" {
				t.Fatalf("message %+v", m)
			}
		}
		for _, m := range sink.mirrors {
			if m.Kind != "delete" && m.Kind != "clear" {
				t.Fatalf("mirror %+v", m)
			}
		}
	})
}
