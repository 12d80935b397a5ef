package connect

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"
)

// fakeTwitchWS is Twitch's IRC over websockets as its documentation
// describes it: lines end in CRLF, several may share a frame.
type fakeTwitchWS struct {
	mu    sync.Mutex
	conns int
	got   []string // every line a client sent, with its connection's number
	// silent: after the JOIN the server says nothing, not even PONG.
	silent bool
}

func (f *fakeTwitchWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	f.mu.Lock()
	f.conns++
	n := f.conns
	silent := f.silent
	f.mu.Unlock()
	ctx := r.Context()
	nick := ""
	send := func(lines ...string) { c.Write(ctx, websocket.MessageText, []byte(strings.Join(lines, "\r\n")+"\r\n")) }
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return
		}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\r\n") {
			f.mu.Lock()
			f.got = append(f.got, string(rune('0'+n))+" "+l)
			f.mu.Unlock()
			m, _ := ParseIRC(l)
			switch {
			case m.Command == "CAP" && m.Param(0) == "REQ":
				send(":tmi.twitch.tv CAP * ACK :twitch.tv/tags twitch.tv/commands")
			case m.Command == "NICK":
				nick = m.Param(0)
				send(":tmi.twitch.tv 001 "+m.Param(0)+" :Welcome, GLHF!", ":tmi.twitch.tv 376 "+m.Param(0)+" :>")
			case m.Command == "JOIN" && silent:
				send(":" + nick + "!" + nick + "@" + nick + ".tmi.twitch.tv JOIN #show")
			case m.Command == "JOIN" && n == 1:
				send(":"+nick+"!"+nick+"@"+nick+".tmi.twitch.tv JOIN #show", "PING :tmi.twitch.tv",
					"@badges=;display-name=Asha;id=a-1;tmi-sent-ts=1;user-id=42 :asha!asha@asha.tmi.twitch.tv PRIVMSG #show :one",
					"@badges=;display-name=Ravi;id=a-2;tmi-sent-ts=2;user-id=43 :ravi!ravi@ravi.tmi.twitch.tv PRIVMSG #show :two")
			case m.Command == "PONG" && n == 1:
				send(":tmi.twitch.tv RECONNECT")
			case m.Command == "JOIN":
				send(":"+nick+"!"+nick+"@"+nick+".tmi.twitch.tv JOIN #show",
					"@badges=;display-name=Asha;id=a-3;tmi-sent-ts=3;user-id=42 :asha!asha@asha.tmi.twitch.tv PRIVMSG #show :three")
			}
		}
	}
}

func (f *fakeTwitchWS) sent(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, l := range f.got {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// TestTwitchIRCOverWebsocket: the default transport; CAP, an anonymous
// justinfan nick, JOIN; PING answered; two lines of one frame read;
// RECONNECT → a new connection that joins again and reads on.
func TestTwitchIRCOverWebsocket(t *testing.T) {
	f := &fakeTwitchWS{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	sink := &recordSink{}
	tw, err := NewTwitch(TwitchOptions{Channel: "#Show", Server: "ws" + strings.TrimPrefix(srv.URL, "http"), MinBackoff: time.Millisecond, Joins: testJoins()}, sink)
	if err != nil {
		t.Fatal(err)
	}
	tw.Start()
	defer tw.Close(context.Background())
	eventually(t, "three messages over two connections", func() bool { m, _ := sink.counts(); return m == 3 })
	for _, want := range []string{"1 CAP REQ :twitch.tv/tags twitch.tv/commands", "1 NICK justinfan", "1 JOIN #show", "1 PONG :tmi.twitch.tv", "2 JOIN #show"} {
		if f.sent(want) != 1 {
			t.Errorf("the client sent %q %d times, want once", want, f.sent(want))
		}
	}
	if f.sent("1 PASS") != 0 {
		t.Error("an anonymous client sent PASS")
	}
	sink.mu.Lock()
	if m := sink.msgs[2]; m.ID != "a-3" || m.Text != "three" || m.Channel != "show" || m.User.ID != "42" {
		t.Errorf("third message %+v", m)
	}
	sink.mu.Unlock()
	if h := tw.Health(); h.Reconnects != 1 || !h.Connected || h.Messages != 3 {
		t.Errorf("health %+v", h)
	}
}

// TestTwitchKeepAlive: a connection that goes quiet gets our PING, and
// without an answer is dropped and made again.
func TestTwitchKeepAlive(t *testing.T) {
	f := &fakeTwitchWS{silent: true}
	srv := httptest.NewServer(f)
	defer srv.Close()
	tw, err := NewTwitch(TwitchOptions{Channel: "show", Server: "ws" + strings.TrimPrefix(srv.URL, "http"),
		KeepAlive: 20 * time.Millisecond, MinBackoff: time.Millisecond, Joins: testJoins()}, &recordSink{})
	if err != nil {
		t.Fatal(err)
	}
	tw.Start()
	defer tw.Close(context.Background())
	eventually(t, "a PING of ours, then a new connection", func() bool { return f.sent("1 PING :livemod") > 0 && f.sent("2 JOIN #show") == 1 })
	eventually(t, "the reason in the health", func() bool { return strings.Contains(tw.Health().LastError, "not even an answer to our PING") })
}

// testJoins is a join limiter of the test's own: the process-wide one
// holds Twitch's 20 per 10 s across every test of the package.
func testJoins() *rate.Limiter { return rate.NewLimiter(rate.Inf, 1) }

// TestTwitchJoinLimit: the shared limiter is Twitch's, 20 JOINs per 10 s.
func TestTwitchJoinLimit(t *testing.T) {
	if twitchJoins.Burst() != 20 || float64(twitchJoins.Limit())*10 != 20 {
		t.Fatalf("burst %d, %v per second", twitchJoins.Burst(), twitchJoins.Limit())
	}
	tw, _ := NewTwitch(TwitchOptions{Channel: "show"}, &recordSink{})
	if tw.opts.Joins != twitchJoins {
		t.Fatal("a connector without its own limiter does not share the process's")
	}
}
