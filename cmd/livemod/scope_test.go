package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/livemod/livemod/app"
	"github.com/livemod/livemod/auth"
	"github.com/livemod/livemod/config"
	"github.com/livemod/livemod/overlay"
)

const showAModSecret = "test-show-a-moderator"

// withShowAModerator adds a moderator token limited to stream show-a.
func withShowAModerator(c *config.Config) {
	c.Auth.Tokens = append(c.Auth.Tokens, auth.Token{Name: "mod-a", Role: auth.RoleModerator, Secret: showAModSecret, Streams: []string{"show-a"}})
}

// TestScopedTokenRefusedOnOtherStreams: a moderator token limited to
// show-a works on show-a and is refused (403) on show-b's REST calls,
// websocket and pages, and on the endpoints that span every stream.
func TestScopedTokenRefusedOnOtherStreams(t *testing.T) {
	ta := runApp(t, t.TempDir(), withShowAModerator)
	base := "http://" + ta.Addr()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for st, line := range map[string]string{
		"show-a": `{"id":"a1","user":{"id":"ua","name":"A"},"text":"hello from a"}`,
		"show-b": `{"id":"b1","user":{"id":"ub","name":"B"},"text":"hello from b"}`,
	} {
		in := dial(t, "ws://"+ta.Addr()+"/v1/ingest?stream="+st, ingestSecret)
		if err := in.Write(ctx, websocket.MessageText, []byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "both messages on the desk", func() bool {
		return len(ta.Desk.Snapshot("show-a")) > 0 && len(ta.Desk.Snapshot("show-b")) > 0
	})

	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		// Its own stream.
		{"GET", "/v1/audit?stream=show-a", "", 200},
		{"GET", "/v1/audit", "", 200}, // one stream: taken to mean show-a
		{"GET", "/v1/kpis?stream=show-a", "", 200},
		{"POST", "/v1/messages/a1/hide", `{"stream":"show-a","reason":"test"}`, 200},
		{"POST", "/v1/messages/a1/unhide", `{}`, 200}, // body without stream: its one stream
		{"GET", "/v1/replies/drafts", "", 200},
		// Another stream.
		{"GET", "/v1/audit?stream=show-b", "", 403},
		{"GET", "/v1/kpis?stream=show-b", "", 403},
		{"GET", "/v1/replies/drafts?stream=show-b", "", 403},
		{"POST", "/v1/messages/b1/hide", `{"stream":"show-b"}`, 403},
		{"POST", "/v1/messages/b1/hide", `{"stream":"show-a"}`, 404}, // b1 is not show-a's
		{"POST", "/v1/rules/spam/undo", `{"stream":"show-b","since":0}`, 403},
		{"POST", "/v1/users/ub/timeout", `{"stream":"show-b"}`, 403},
		{"GET", "/v1/streams/show-b/policy", "", 403},
		{"GET", "/v1/streams/show-a/policy", "", 200},
		// Every stream at once.
		{"GET", "/metrics", "", 403},
		{"GET", "/v1/webhooks/dead", "", 403},
		// Pages.
		{"GET", "/moderator?stream=show-a&token=" + showAModSecret, "", 200},
		{"GET", "/moderator?stream=show-b&token=" + showAModSecret, "", 403},
		{"GET", "/overlay/show-b?token=" + showAModSecret, "", 403},
		{"GET", "/overlay/show-a?token=" + showAModSecret, "", 200},
	} {
		code, body := call(t, c.method, base+c.path, showAModSecret, c.body)
		if code != c.want {
			t.Errorf("%s %s: %d %s; want %d", c.method, c.path, code, body, c.want)
		}
		if c.want == 403 && strings.HasPrefix(c.path, "/moderator") && !strings.Contains(body, "limited to the streams show-a") {
			t.Errorf("%s %s: the denied page does not name the token's streams: %s", c.method, c.path, body)
		}
	}
	// The unlimited moderator still reaches show-b.
	if code, body := call(t, "POST", base+"/v1/messages/b1/hide", modSecret, `{"stream":"show-b"}`); code != 200 {
		t.Errorf("unlimited moderator on show-b: %d %s", code, body)
	}
	// GET /v1/streams lists only show-a for the limited token.
	var sl overlay.StreamList
	callJSON(t, "GET", base+"/v1/streams", showAModSecret, "", &sl)
	if len(sl.Streams) != 1 || sl.Streams[0].Stream != "show-a" || len(sl.You.Streams) != 1 {
		t.Errorf("GET /v1/streams for mod-a = %+v; want show-a only", sl)
	}

	// The websocket: show-b refused before the upgrade, show-a accepted.
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	hdr := http.Header{"Authorization": {"Bearer " + showAModSecret}}
	_, res, err := websocket.Dial(wctx, "ws://"+ta.Addr()+"/v1/subscribe?stream=show-b&view=moderator", &websocket.DialOptions{HTTPHeader: hdr})
	if err == nil || res == nil || res.StatusCode != 403 {
		code := 0
		if res != nil {
			code = res.StatusCode
		}
		t.Errorf("subscribe to show-b with mod-a: err %v, status %d; want 403", err, code)
	}
	c, _, err := websocket.Dial(wctx, "ws://"+ta.Addr()+"/v1/subscribe?stream=show-a&view=moderator", &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		t.Fatalf("subscribe to show-a with mod-a: %v", err)
	}
	c.CloseNow()
}

// TestDuplicateTokenNames: two tokens with one name are a config error,
// as is a scoped ingest token; --token ROLE:STREAM=SECRET parses.
func TestDuplicateTokenNames(t *testing.T) {
	cfg := config.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.Auth.Tokens = []auth.Token{
		{Name: "alice", Role: auth.RoleModerator, Secret: "secret-one-1"},
		{Name: "alice", Role: auth.RoleHost, Secret: "secret-two-2"},
	}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), `name "alice" is also auth.tokens[0]'s`) {
		t.Errorf("duplicate names: %v", err)
	}
	tok, err := auth.ParseToken("moderator:show-a=long-enough-secret")
	if err != nil || tok.Name != "moderator:show-a" || tok.Role != auth.RoleModerator || len(tok.Streams) != 1 || tok.Streams[0] != "show-a" {
		t.Errorf("ParseToken(moderator:show-a=…) = %+v, %v", tok, err)
	}
	if _, err := auth.ParseToken("ingest:show-a=long-enough-secret"); err == nil || !strings.Contains(err.Error(), "cannot be limited") {
		t.Errorf("scoped ingest token: %v", err)
	}
}

// TestReadyz: not ready before serve, ready while serving, not ready
// once shutting down.
func TestReadyz(t *testing.T) {
	cfg := config.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.Data = t.TempDir()
	cfg.Auth.Tokens = []auth.Token{{Name: "ops", Role: auth.RoleAdmin, Secret: adminSecret}}
	a, err := app.New(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Ready(); err == nil || !strings.Contains(err.Error(), "starting") {
		t.Errorf("before serve: %v", err)
	}
	if err := a.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	eventually(t, 5*time.Second, "ready", func() bool { return a.Ready() == nil })
	if code, body := call(t, "GET", "http://"+a.Addr()+"/readyz", adminSecret, ""); code != 200 {
		t.Errorf("GET /readyz while serving: %d %s", code, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := a.Ready(); err == nil || !strings.Contains(err.Error(), "shutting down") {
		t.Errorf("after shutdown: %v", err)
	}
}

// TestScopedRestrictionsHoldOnTheirStreams: a ban given through a token
// limited to show-a silences the user on show-a only, after a restart
// too; the unban list and GET /v1/connectors of that token show only
// show-a's; an unlimited moderator's ban still holds everywhere.
func TestScopedRestrictionsHoldOnTheirStreams(t *testing.T) {
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		io.WriteString(w, `{"kind":"youtube#liveChatMessageListResponse","nextPageToken":"p","pollingIntervalMillis":1000,"items":[]}`)
	})
	dir := t.TempDir()
	opts := func(c *config.Config) {
		withShowAModerator(c)
		c.Connect.YouTube = []config.YouTube{
			{LiveChatID: "chat-a", Stream: "show-a", Token: "yt-tok", API: api.srv.URL, QuotaPerDay: 1_000_000},
			{LiveChatID: "chat-b", Stream: "show-b", Token: "yt-tok", API: api.srv.URL, QuotaPerDay: 1_000_000},
		}
	}
	ta := runApp(t, dir, opts)
	base := "http://" + ta.Addr()
	for _, c := range []struct{ token, path, body string }{
		{showAModSecret, "/v1/users/raider/ban", `{"stream":"show-a","reason":"raid on show-a"}`},
		{modSecret, "/v1/users/everywhere/ban", `{"stream":"show-b","reason":"raid"}`},
	} {
		if code, body := call(t, "POST", base+c.path, c.token, c.body); code != 200 {
			t.Fatalf("%s: %d %s", c.path, code, body)
		}
	}
	check := func(ta *testApp, when string) {
		base := "http://" + ta.Addr()
		// Both streams are YouTube chats: their messages and bans name
		// the platform.
		yt := func(id, user, text string) string {
			return strings.Replace(msg(id, user, text, 0), "{", `{"platform":"youtube",`, 1)
		}
		for _, st := range []string{"show-a", "show-b"} {
			brIngest(t, ta.Addr(), st,
				yt(when+"-r-"+st, "raider", "hello again from "+st),
				yt(when+"-e-"+st, "everywhere", "hello again from "+st))
		}
		want := map[string]string{ // message → state on the desk
			when + "-r-show-a": "hidden", when + "-r-show-b": "visible",
			when + "-e-show-a": "hidden", when + "-e-show-b": "hidden",
		}
		for id, state := range want {
			st := "show-a"
			if strings.HasSuffix(id, "show-b") {
				st = "show-b"
			}
			if got, _ := ta.Desk.State(st, id); got != state {
				t.Errorf("%s: %s is %s; want %s", when, id, got, state)
			}
		}
		var rl struct{ Restricted []overlay.Restricted }
		callJSON(t, "GET", base+"/v1/users/restricted", showAModSecret, "", &rl)
		if len(rl.Restricted) != 1 || rl.Restricted[0].User != "youtube:raider" || rl.Restricted[0].Stream != "show-a" {
			t.Errorf("%s: mod-a's unban list = %+v; want raider on show-a only", when, rl.Restricted)
		}
		callJSON(t, "GET", base+"/v1/users/restricted", modSecret, "", &rl)
		if len(rl.Restricted) != 2 {
			t.Errorf("%s: the unlimited unban list = %+v; want both", when, rl.Restricted)
		}
	}
	check(ta, "before")
	// The limited token lifts its own ban only, not one of every stream.
	if code, body := call(t, "POST", base+"/v1/users/everywhere/unban", showAModSecret, `{"stream":"show-a"}`); code != 409 {
		t.Errorf("mod-a lifting a ban of every stream: %d %s; want 409", code, body)
	}
	var cs []struct{ Stream string }
	callJSON(t, "GET", base+"/v1/connectors", showAModSecret, "", &cs)
	if len(cs) != 1 || cs[0].Stream != "show-a" {
		t.Errorf("mod-a's connectors = %+v; want show-a's only", cs)
	}
	callJSON(t, "GET", base+"/v1/connectors", modSecret, "", &cs)
	if len(cs) != 2 {
		t.Errorf("the unlimited moderator's connectors = %+v; want both", cs)
	}
	ta.stop(t)
	ta = runApp(t, dir, opts)
	check(ta, "after")
	if code, body := call(t, "POST", "http://"+ta.Addr()+"/v1/users/raider/unban", showAModSecret, `{"stream":"show-a"}`); code != 200 {
		t.Errorf("mod-a lifting its ban: %d %s", code, body)
	}
}
