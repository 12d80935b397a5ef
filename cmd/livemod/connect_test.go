package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livemod/livemod/app"
	"github.com/livemod/livemod/broker"
	"github.com/livemod/livemod/config"
	"github.com/livemod/livemod/connect"
	"github.com/livemod/livemod/internal/testenv"
	"github.com/livemod/livemod/privacy"
	"github.com/livemod/livemod/store"
)

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// ircd is Debian's ngircd on a loopback port, configured in a temp dir.
type ircd struct {
	bin, conf string
	port      int
	cmd       *exec.Cmd
}

func startIRCd(t *testing.T) *ircd {
	t.Helper()
	bin := testenv.Need(t, testenv.IRCd)
	d := &ircd{bin: bin, port: freePort(t)}
	d.conf = filepath.Join(t.TempDir(), "ngircd.conf")
	conf := fmt.Sprintf(`[Global]
Name = irc.livemod.test
Info = livemod test server
Listen = 127.0.0.1
Ports = %d
[Limits]
MaxNickLength = 31
PingTimeout = 120
[Options]
PAM = no
Ident = no
DNS = no
`, d.port)
	if err := os.WriteFile(d.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	d.start(t)
	t.Cleanup(d.stop)
	return d
}

func (d *ircd) start(t *testing.T) {
	t.Helper()
	d.cmd = exec.Command(d.bin, "-n", "-f", d.conf)
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "ngircd listening", func() bool {
		c, err := net.Dial("tcp", d.addr())
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

func (d *ircd) stop() {
	if d.cmd != nil && d.cmd.Process != nil {
		d.cmd.Process.Kill()
		d.cmd.Wait()
		d.cmd = nil
	}
}

func (d *ircd) addr() string { return "127.0.0.1:" + strconv.Itoa(d.port) }

// ircClient is a plain IRC client: a viewer typing in the channel.
type ircClient struct {
	c net.Conn
	r *bufio.Reader
}

func joinAsViewer(t *testing.T, addr, nick, channel string) *ircClient {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	cl := &ircClient{c: c, r: bufio.NewReader(c)}
	cl.send(t, "NICK "+nick)
	cl.send(t, "USER "+nick+" 0 * :"+nick)
	cl.until(t, " 001 ")
	cl.send(t, "JOIN #"+channel)
	cl.until(t, " JOIN ")
	return cl
}

func (cl *ircClient) send(t *testing.T, line string) {
	t.Helper()
	if _, err := cl.c.Write([]byte(line + "\r\n")); err != nil {
		t.Fatal(err)
	}
}

func (cl *ircClient) until(t *testing.T, what string) {
	t.Helper()
	cl.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		l, err := cl.r.ReadString('\n')
		if err != nil {
			t.Fatalf("waiting for %q: %v", what, err)
		}
		if strings.HasPrefix(l, "PING") {
			cl.send(t, "PONG"+strings.TrimPrefix(strings.TrimSpace(l), "PING"))
		}
		if strings.Contains(l, what) {
			return
		}
	}
}

func health(a *app.App) connect.HealthState { return a.Conn.States()[0] }

// TestTwitchConnectorOnNgircd: the Twitch connector reads a real IRC
// server (ngircd; Twitch's CAP is NAKed or ignored there), a plain IRC
// client's chat becomes decisions, and after the server restarts the
// connector reconnects, joins again and carries on.
func TestTwitchConnectorOnNgircd(t *testing.T) {
	d := startIRCd(t)
	ta := runApp(t, t.TempDir(), func(c *config.Config) {
		c.Connect.Twitch = []config.Twitch{{Channel: "show", Stream: "show", Server: "irc://" + d.addr(), Nick: "livemodbot"}}
	})
	base := "http://" + ta.Addr()
	eventually(t, 20*time.Second, "connector joined", func() bool { return health(ta.App).Connected })

	viewer := joinAsViewer(t, d.addr(), "asha", "show")
	viewer.send(t, "PRIVMSG #show :how much is the blue jacket?")
	viewer.send(t, "PRIVMSG #show :FREE followers at bit.ly/xyz")
	seen := waitDecisions(t, base, "asha", 2)
	if d := seen["how much is the blue jacket?"]; d.Platform != "twitch" || d.Channel != "show" || d.Stream != "show" || d.User.ID != "asha" || d.Action.String() != "allow" {
		t.Fatalf("question decided as %+v", d)
	}
	if d := seen["FREE followers at bit.ly/xyz"]; d.Action.String() != "hide" {
		t.Fatalf("spam decided as %+v", d)
	}

	// The server goes away and comes back on the same port.
	d.stop()
	eventually(t, 20*time.Second, "connector noticed the server is gone", func() bool { return !health(ta.App).Connected })
	d.start(t)
	eventually(t, 30*time.Second, "connector rejoined", func() bool { h := health(ta.App); return h.Connected && h.Reconnects > 0 })
	viewer = joinAsViewer(t, d.addr(), "asha", "show")
	viewer.send(t, "PRIVMSG #show :back again, kitne ka hai ye?")
	if got := waitDecisions(t, base, "asha", 3); got["back again, kitne ka hai ye?"].Platform != "twitch" {
		t.Fatalf("after the restart: %+v", got)
	}
	_, metrics := get(t, base+"/metrics", adminSecret)
	for _, want := range []string{`livemod_connect_connected{connector="0",platform="twitch"} 1`, `livemod_connect_reconnects{connector="0",platform="twitch"}`,
		`livemod_connect_messages{connector="0",platform="twitch"} 3`, "livemod_connect_actions_pending"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	_, ready := get(t, base+"/readyz", adminSecret)
	if !strings.Contains(ready, "connector twitch:show (stream show, irc): connected") {
		t.Fatalf("/readyz: %s", ready)
	}
}

// waitDecisions polls the user's export until it holds n decisions, by text.
func waitDecisions(t *testing.T, base, user string, n int) map[string]decisionOut {
	t.Helper()
	got := map[string]decisionOut{}
	eventually(t, 15*time.Second, fmt.Sprintf("%d decisions of %s", n, user), func() bool {
		var ex export
		callJSON(t, "GET", base+"/v1/users/"+user+"/export", adminSecret, "", &ex)
		for _, m := range ex.Messages {
			var d decisionOut
			if json.Unmarshal(m.Decision, &d) == nil {
				got[d.Text] = d
			}
		}
		return len(got) >= n
	})
	return got
}

type decisionOut struct {
	ID       string `json:"id"`
	Stream   string `json:"stream"`
	Platform string `json:"platform"`
	Channel  string `json:"channel"`
	User     struct {
		ID string `json:"id"`
	} `json:"user"`
	Text   string     `json:"text"`
	Action actionName `json:"action"`
}

type actionName string

func (a actionName) String() string { return string(a) }

// recorded is one request a fake platform API received.
type recorded struct {
	Method, Path string
	Query        map[string][]string
	Body         map[string]any
	At           time.Time
}

// fakeAPI records requests and answers them with handle.
type fakeAPI struct {
	mu   sync.Mutex
	reqs []recorded
	srv  *httptest.Server
}

func newFakeAPI(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, n int)) *fakeAPI {
	f := &fakeAPI{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec := recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), At: time.Now()}
		json.Unmarshal(b, &rec.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, rec)
		n := 0
		for _, q := range f.reqs {
			if q.Method == r.Method && q.Path == r.URL.Path {
				n++
			}
		}
		f.mu.Unlock()
		handle(w, r, n)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) find(method, path string, match func(r recorded) bool) (recorded, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.reqs {
		if r.Method == method && r.Path == path && (match == nil || match(r)) {
			return r, true
		}
	}
	return recorded{}, false
}

func (f *fakeAPI) count(method, path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.reqs {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

// fakeTwitchChat is a minimal Twitch IRC server: it ACKs Twitch's CAP,
// welcomes, confirms the JOIN and then sends the lines a test gives it.
type fakeTwitchChat struct {
	ln    net.Listener
	lines chan string
}

func newFakeTwitchChat(t *testing.T) *fakeTwitchChat {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeTwitchChat{ln: ln, lines: make(chan string, 64)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	return f
}

func (f *fakeTwitchChat) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	done := make(chan struct{})
	defer close(done)
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return
		}
		m, _ := connect.ParseIRC(l)
		switch m.Command {
		case "CAP":
			if m.Param(0) == "REQ" {
				fmt.Fprintf(c, ":tmi.twitch.tv CAP * ACK :%s\r\n", m.Param(1))
			}
		case "NICK":
			fmt.Fprintf(c, ":tmi.twitch.tv 001 %s :Welcome, GLHF!\r\n", m.Param(0))
		case "JOIN":
			fmt.Fprintf(c, ":livemodbot!livemodbot@livemodbot.tmi.twitch.tv JOIN %s\r\n", m.Param(0))
			go func() {
				for {
					select {
					case <-done:
						return
					case l := <-f.lines:
						fmt.Fprintf(c, "%s\r\n", l)
					}
				}
			}()
		}
	}
}

// privmsg is a Twitch PRIVMSG line with the tags Twitch sends.
func privmsg(id, userID, login, text string) string {
	return fmt.Sprintf("@badge-info=;badges=subscriber/6;color=#0000FF;display-name=%s;emotes=;first-msg=0;flags=;id=%s;mod=0;room-id=1234;subscriber=1;tmi-sent-ts=%d;turbo=0;user-id=%s;user-type= :%s!%s@%s.tmi.twitch.tv PRIVMSG #show :%s",
		login, id, time.Now().UnixMilli(), userID, login, login, login, text)
}

func shippingFAQ(c *config.Config) {
	c.FAQ = []config.FAQ{{ID: "shipping", Match: []string{"shipping", "delivery time"}, Answer: "{author_name}, shipping is free over ₹999 and takes 3–5 days."}}
}

// TestTwitchActsThroughHelix drives the Twitch connector end to end
// against a fake Helix built from its documented requests and answers:
// spam hidden automatically → DELETE /moderation/chat with the message's
// ids; a moderator's timeout → POST /moderation/bans with a duration (the
// first answer a 429 with Ratelimit-Reset: retried after the reset); an
// FAQ reply → POST /chat/messages in reply to the asker's message; a
// CLEARMSG → the message hidden in livemod, the audit naming Twitch.
func TestTwitchActsThroughHelix(t *testing.T) {
	var resetAt time.Time
	helix := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.Header.Get("Authorization") != "Bearer tok-1" || r.Header.Get("Client-Id") != "cid" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"Unauthorized","status":401,"message":"Invalid OAuth token"}`)
			return
		}
		w.Header().Set("Ratelimit-Limit", "800")
		w.Header().Set("Ratelimit-Remaining", "799")
		switch r.Method + " " + r.URL.Path {
		case "DELETE /moderation/chat", "DELETE /moderation/bans":
			w.WriteHeader(http.StatusNoContent)
		case "POST /moderation/bans":
			if n == 1 {
				resetAt = time.Now().Add(1500 * time.Millisecond).Truncate(time.Second).Add(time.Second)
				w.Header().Set("Ratelimit-Remaining", "0")
				w.Header().Set("Ratelimit-Reset", strconv.FormatInt(resetAt.Unix(), 10))
				w.WriteHeader(http.StatusTooManyRequests)
				io.WriteString(w, `{"error":"Too Many Requests","status":429,"message":"rate limited"}`)
				return
			}
			io.WriteString(w, `{"data":[{"broadcaster_id":"1234","moderator_id":"5678","user_id":"44","created_at":"2026-12-03T09:00:00Z","end_time":"2026-12-03T09:10:00Z"}]}`)
		case "POST /chat/messages":
			io.WriteString(w, `{"data":[{"message_id":"abc-123","is_sent":true}]}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
	chat := newFakeTwitchChat(t)
	ta := runApp(t, t.TempDir(), func(c *config.Config) {
		shippingFAQ(c)
		t.Setenv("TEST_TWITCH_TOKEN", "tok-1")
		c.Connect.Twitch = []config.Twitch{{Channel: "show", Stream: "show", Server: "irc://" + chat.ln.Addr().String(), Nick: "livemodbot",
			Token: "env:TEST_TWITCH_TOKEN", ClientID: "cid", BroadcasterID: "1234", ModeratorID: "5678", API: helix.srv.URL}}
		c.Connect.Actions.Initial = 50 * time.Millisecond
	})
	base := "http://" + ta.Addr()
	eventually(t, 10*time.Second, "connector joined", func() bool { return health(ta.App).Connected })
	// The console's feed: platform outcomes arrive as events on the
	// moderator view.
	sub := dial(t, "ws://"+ta.Addr()+"/v1/subscribe?stream=show&view=moderator", modSecret)
	var emu sync.Mutex
	var platformEvents []map[string]any
	go func() {
		for {
			_, b, err := sub.Read(context.Background())
			if err != nil {
				return
			}
			for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				var ev map[string]any
				if json.Unmarshal([]byte(l), &ev) == nil && ev["type"] == "platform" {
					emu.Lock()
					platformEvents = append(platformEvents, ev)
					emu.Unlock()
				}
			}
		}
	}()
	eventually(t, 5*time.Second, "subscribed", func() bool { return ta.Hub.Subscribers("show", broker.ViewModerator) > 0 })

	chat.lines <- privmsg("spam-1", "42", "spammer", "FREE followers at bit.ly/xyz")
	chat.lines <- privmsg("q-1", "43", "asha", "what is the shipping time?")
	chat.lines <- privmsg("m-5", "45", "ravi", "hello all")

	eventually(t, 10*time.Second, "DELETE /moderation/chat for spam-1", func() bool {
		_, ok := helix.find("DELETE", "/moderation/chat", func(r recorded) bool {
			return r.Query["message_id"][0] == "spam-1" && r.Query["broadcaster_id"][0] == "1234" && r.Query["moderator_id"][0] == "5678"
		})
		return ok
	})
	eventually(t, 10*time.Second, "POST /chat/messages in reply to q-1", func() bool {
		r, ok := helix.find("POST", "/chat/messages", nil)
		if !ok {
			return false
		}
		if r.Body["reply_parent_message_id"] != "q-1" || r.Body["broadcaster_id"] != "1234" || r.Body["sender_id"] != "5678" ||
			!strings.HasPrefix(r.Body["message"].(string), "Automated reply:") || !strings.Contains(r.Body["message"].(string), "shipping is free") {
			t.Fatalf("chat message %+v", r.Body)
		}
		return true
	})

	// A moderator times out Twitch user 44 on the stream: Helix bans with
	// a duration; the first try meets a 429 and waits for the reset.
	if code, body := call(t, "POST", base+"/v1/users/44/timeout", modSecret, `{"stream":"show","seconds":600,"reason":"spam"}`); code != 200 {
		t.Fatalf("timeout: %d %s", code, body)
	}
	eventually(t, 15*time.Second, "ban retried after the 429", func() bool { return helix.count("POST", "/moderation/bans") >= 2 })
	helix.mu.Lock()
	var bans []recorded
	for _, r := range helix.reqs {
		if r.Path == "/moderation/bans" {
			bans = append(bans, r)
		}
	}
	helix.mu.Unlock()
	data, _ := bans[1].Body["data"].(map[string]any)
	if data["user_id"] != "44" || data["duration"] != float64(600) || data["reason"] != "spam" {
		t.Fatalf("ban body %+v", bans[1].Body)
	}
	if bans[1].At.Before(resetAt) {
		t.Fatalf("retried at %v, before the reset at %v", bans[1].At, resetAt)
	}
	if bans[0].Query["broadcaster_id"][0] != "1234" || bans[0].Query["moderator_id"][0] != "5678" {
		t.Fatalf("ban query %v", bans[0].Query)
	}

	// A moderator hides m-6 and unbans 44: both reach Helix.
	chat.lines <- privmsg("m-6", "46", "meera", "you are all boring")
	eventually(t, 10*time.Second, "m-6 decided", func() bool { _, ok := ta.Desk.State("show", "m-6"); return ok })
	if code, body := call(t, "POST", base+"/v1/messages/m-6/hide", modSecret, `{"stream":"show","reason":"rude"}`); code != 200 {
		t.Fatalf("hide: %d %s", code, body)
	}
	if code, body := call(t, "POST", base+"/v1/users/44/unban", modSecret, `{"stream":"show"}`); code != 200 {
		t.Fatalf("unban: %d %s", code, body)
	}
	eventually(t, 15*time.Second, "DELETE /moderation/chat for m-6 and DELETE /moderation/bans for 44", func() bool {
		_, hid := helix.find("DELETE", "/moderation/chat", func(r recorded) bool { return r.Query["message_id"][0] == "m-6" })
		_, unbanned := helix.find("DELETE", "/moderation/bans", func(r recorded) bool { return r.Query["user_id"][0] == "44" })
		return hid && unbanned
	})
	eventually(t, 10*time.Second, "platform events on the moderator view", func() bool {
		emu.Lock()
		defer emu.Unlock()
		var hideDone, retry bool
		for _, ev := range platformEvents {
			hideDone = hideDone || (ev["action"] == "hide" && ev["target"] == "m-6" && ev["state"] == "done" && ev["actor"] == "mods")
			retry = retry || (ev["action"] == "timeout" && ev["state"] == "pending" && strings.Contains(fmt.Sprint(ev["error"]), "429"))
		}
		return hideDone && retry
	})

	// Twitch deletes m-5 (CLEARMSG): it is hidden in livemod, by Twitch.
	chat.lines <- "@login=ravi;room-id=1234;target-msg-id=m-5;tmi-sent-ts=1642720582342 :tmi.twitch.tv CLEARMSG #show :hello all"
	eventually(t, 10*time.Second, "m-5 hidden", func() bool { s, _ := ta.Desk.State("show", "m-5"); return s == "hidden" })
	var audit struct {
		Entries []store.AuditEntry `json:"entries"`
	}
	eventually(t, 10*time.Second, "audit of the mirror and the outcomes", func() bool {
		callJSON(t, "GET", base+"/v1/audit?stream=show&limit=100", adminSecret, "", &audit)
		var mirrored, hideDone, banDone bool
		for _, e := range audit.Entries {
			mirrored = mirrored || (e.Actor == "twitch" && e.Action == "hide" && e.Target == "m-5")
			hideDone = hideDone || (e.Actor == "twitch" && e.Action == "platform.hide" && e.Target == "spam-1" && strings.HasPrefix(e.Reason, "done"))
			banDone = banDone || (e.Actor == "twitch" && e.Action == "platform.timeout" && strings.HasPrefix(e.Reason, "done"))
		}
		return mirrored && hideDone && banDone
	})

	// Export and erasure of Twitch user 43 reach what is kept under
	// twitch:43 (the automated reply to them) as well as under 43.
	var ex export
	callJSON(t, "GET", base+"/v1/users/43/export", adminSecret, "", &ex)
	if len(ex.Replies) != 1 || len(ex.Messages) != 1 {
		t.Fatalf("export of 43: %d replies, %d messages", len(ex.Replies), len(ex.Messages))
	}
	var gone privacy.Erasure
	callJSON(t, "DELETE", base+"/v1/users/twitch:43", adminSecret, "", &gone)
	if gone.Erased.Replies != 1 || gone.Erased.Messages != 1 {
		t.Fatalf("erase of twitch:43: %+v", gone.Erased)
	}
	callJSON(t, "GET", base+"/v1/users/43/export", adminSecret, "", &ex)
	if len(ex.Replies) != 0 || len(ex.Messages) != 0 {
		t.Fatalf("after erasure: %d replies, %d messages", len(ex.Replies), len(ex.Messages))
	}
}

// ytItem is a liveChatMessage resource as liveChatMessages.list returns it.
func ytText(id, channel, name, text string) map[string]any {
	return map[string]any{"kind": "youtube#liveChatMessage", "id": id,
		"snippet": map[string]any{"type": "textMessageEvent", "liveChatId": "chat-1", "authorChannelId": channel,
			"publishedAt": time.Now().UTC().Format(time.RFC3339Nano), "hasDisplayContent": true, "displayMessage": text,
			"textMessageDetails": map[string]any{"messageText": text}},
		"authorDetails": map[string]any{"channelId": channel, "displayName": name, "isChatSponsor": true}}
}

// TestYouTubeActsThroughDataAPI drives the YouTube connector against a
// fake Data API built from the documented liveChatMessages and
// liveChatBans shapes: pages followed by nextPageToken; spam hidden →
// liveChatMessages.delete with its id; a moderator's timeout →
// liveChatBans.insert, temporary with banDurationSeconds; an FAQ reply →
// liveChatMessages.insert; messageDeletedEvent and userBannedEvent
// mirrored; chatEndedEvent stops polling; the quota spent shows on
// /v1/connectors.
func TestYouTubeActsThroughDataAPI(t *testing.T) {
	var pmu sync.Mutex
	pages := map[string]map[string]any{
		"": {"kind": "youtube#liveChatMessageListResponse", "nextPageToken": "p2", "pollingIntervalMillis": 50,
			"items": []any{
				ytText("yt-spam", "UCspam", "spammer", "FREE followers at bit.ly/xyz"),
				ytText("yt-q", "UCasha", "asha", "what is the shipping time?"),
				ytText("yt-5", "UCravi", "ravi", "hello all"),
				ytText("yt-6", "UCmeera", "meera", "nice jacket"),
			}},
	}
	youtube := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.Header.Get("Authorization") != "Bearer yt-tok" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"code":401,"message":"Request had invalid authentication credentials.","errors":[{"reason":"authError"}]}}`)
			return
		}
		switch r.Method + " " + r.URL.Path {
		case "GET /liveChat/messages":
			if r.URL.Query().Get("liveChatId") != "chat-1" || !strings.Contains(r.URL.Query().Get("part"), "snippet") {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			pmu.Lock()
			p, ok := pages[r.URL.Query().Get("pageToken")]
			pmu.Unlock()
			if !ok {
				p = map[string]any{"nextPageToken": r.URL.Query().Get("pageToken"), "pollingIntervalMillis": 50, "items": []any{}}
			}
			json.NewEncoder(w).Encode(p)
		case "DELETE /liveChat/messages":
			w.WriteHeader(http.StatusNoContent)
		case "POST /liveChat/bans":
			io.WriteString(w, `{"kind":"youtube#liveChatBan","id":"ban-1","snippet":{"liveChatId":"chat-1","type":"temporary","banDurationSeconds":"300","bannedUserDetails":{"channelId":"UCmeera"}}}`)
		case "POST /liveChat/messages":
			io.WriteString(w, `{"kind":"youtube#liveChatMessage","id":"yt-reply","snippet":{"type":"textMessageEvent"}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
	ta := runApp(t, t.TempDir(), func(c *config.Config) {
		shippingFAQ(c)
		c.Connect.YouTube = []config.YouTube{{LiveChatID: "chat-1", Stream: "yt", Token: "yt-tok", API: youtube.srv.URL, QuotaPerDay: 1_000_000}}
		c.Connect.Actions.Initial = 50 * time.Millisecond
	})
	base := "http://" + ta.Addr()

	eventually(t, 10*time.Second, "liveChatMessages.delete of yt-spam", func() bool {
		_, ok := youtube.find("DELETE", "/liveChat/messages", func(r recorded) bool { return r.Query["id"][0] == "yt-spam" })
		return ok
	})
	eventually(t, 10*time.Second, "liveChatMessages.insert of the FAQ answer", func() bool {
		r, ok := youtube.find("POST", "/liveChat/messages", nil)
		if !ok {
			return false
		}
		sn, _ := r.Body["snippet"].(map[string]any)
		det, _ := sn["textMessageDetails"].(map[string]any)
		txt, _ := det["messageText"].(string)
		if sn["liveChatId"] != "chat-1" || sn["type"] != "textMessageEvent" || !strings.Contains(txt, "shipping is free") || !strings.Contains(txt, "asha") {
			t.Fatalf("reply %+v", r.Body)
		}
		return true
	})
	if code, body := call(t, "POST", base+"/v1/users/UCmeera/timeout", modSecret, `{"stream":"yt","seconds":300}`); code != 200 {
		t.Fatalf("timeout: %d %s", code, body)
	}
	eventually(t, 10*time.Second, "liveChatBans.insert", func() bool {
		r, ok := youtube.find("POST", "/liveChat/bans", nil)
		if !ok {
			return false
		}
		sn, _ := r.Body["snippet"].(map[string]any)
		bu, _ := sn["bannedUserDetails"].(map[string]any)
		if sn["type"] != "temporary" || sn["banDurationSeconds"] != float64(300) || bu["channelId"] != "UCmeera" || sn["liveChatId"] != "chat-1" {
			t.Fatalf("ban %+v", r.Body)
		}
		return true
	})
	if s, _ := ta.Desk.State("yt", "yt-6"); s != "hidden" {
		t.Fatalf("meera's message after her timeout: %q", s)
	}

	// YouTube deletes yt-5 and bans asha; then the chat ends.
	pmu.Lock()
	pages["p2"] = map[string]any{"nextPageToken": "p3", "pollingIntervalMillis": 50, "items": []any{
		map[string]any{"id": "del-1", "snippet": map[string]any{"type": "messageDeletedEvent", "liveChatId": "chat-1",
			"messageDeletedDetails": map[string]any{"deletedMessageId": "yt-5"}}},
		map[string]any{"id": "ban-2", "snippet": map[string]any{"type": "userBannedEvent", "liveChatId": "chat-1",
			"userBannedDetails": map[string]any{"bannedUserDetails": map[string]any{"channelId": "UCasha"}, "banType": "permanent"}}},
	}}
	pages["p3"] = map[string]any{"items": []any{map[string]any{"id": "end", "snippet": map[string]any{"type": "chatEndedEvent", "liveChatId": "chat-1"}}}}
	pmu.Unlock()
	eventually(t, 10*time.Second, "yt-5 and yt-q hidden by YouTube", func() bool {
		a, _ := ta.Desk.State("yt", "yt-5")
		b, _ := ta.Desk.State("yt", "yt-q")
		return a == "hidden" && b == "hidden"
	})
	var states []connect.HealthState
	eventually(t, 10*time.Second, "the connector says the chat ended", func() bool {
		callJSON(t, "GET", base+"/v1/connectors", modSecret, "", &states)
		return len(states) == 1 && states[0].State == "ended"
	})
	// 3 lists at 5 units and 3 writes at 50.
	if h := states[0]; h.QuotaLeft > 1_000_000-3*5-3*50 || h.Messages != 4 || h.Platform != "youtube" {
		t.Fatalf("health %+v", h)
	}
}
