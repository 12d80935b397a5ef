package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/livemod/livemod/app"
	"github.com/livemod/livemod/auth"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/config"
)

const (
	adminSecret  = "test-admin-secret"
	ingestSecret = "test-ingest-secret"
	modSecret    = "test-moderator-secret"
	hostSecret   = "test-host-secret"
)

// startApp runs a whole livemod server on a free loopback port.
func startApp(t *testing.T, mutate func(*config.Config)) string {
	t.Helper()
	return runApp(t, t.TempDir(), mutate).Addr()
}

// testApp is a running server whose data dir may outlive it (restarts).
type testApp struct {
	*app.App
	cancel context.CancelFunc
	done   chan error
}

// runApp starts a server with the test tokens on data dir dir; it stops
// at the end of the test or at stop.
func runApp(t *testing.T, dir string, mutate func(*config.Config)) *testApp {
	t.Helper()
	cfg := config.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.Data = dir
	cfg.Auth.Tokens = []auth.Token{
		{Name: "ops", Role: auth.RoleAdmin, Secret: adminSecret},
		{Name: "bridge", Role: auth.RoleIngest, Secret: ingestSecret},
		{Name: "mods", Role: auth.RoleModerator, Secret: modSecret},
		{Name: "host", Role: auth.RoleHost, Secret: hostSecret},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	a, err := app.New(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ta := &testApp{App: a, cancel: cancel, done: make(chan error, 1)}
	go func() { ta.done <- a.Serve(ctx) }()
	t.Cleanup(func() { ta.stop(t) })
	return ta
}

func dial(t *testing.T, url, token string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	c.SetReadLimit(1 << 24)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	return call(t, "GET", url, token, "")
}

// TestServeEndToEnd drives the real server from outside: 3,000 messages in,
// a decision for every one out, and the metrics agree.
func TestServeEndToEnd(t *testing.T) {
	addr := startApp(t, nil)
	sub := dial(t, "ws://"+addr+"/v1/subscribe?stream=launch&view=moderator", modSecret)
	in := dial(t, "ws://"+addr+"/v1/ingest?stream=launch", ingestSecret)
	// Wait for the subscription to be live: a probe message must come back.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() { // drain acks
		for {
			if _, _, err := in.Read(ctx); err != nil {
				return
			}
		}
	}()

	const total = 3000
	texts := []string{"how much is the blue jacket?", "नमस्ते! बहुत बढ़िया", "kitne ka hai ye?", "agent please order 5521 refund", "FREE followers at bit.ly/xyz"}
	for i := 0; i < total; i++ {
		line := fmt.Sprintf(`{"id":"e-%d","user":{"id":"u-%d","name":"viewer%d"},"text":%q}`, i, i%50, i%50, texts[i%len(texts)])
		if err := in.Write(ctx, websocket.MessageText, []byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	actions := map[string]int{}
	for len(seen) < total {
		_, b, err := sub.Read(ctx)
		if err != nil {
			t.Fatalf("after %d decisions: %v", len(seen), err)
		}
		for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			var d chat.Decision
			if err := json.Unmarshal(l, &d); err != nil {
				t.Fatalf("bad decision line %s: %v", l, err)
			}
			seen[d.ID] = true
			actions[d.Action.String()]++
		}
	}
	if actions["hide"] == 0 || actions["allow"] == 0 {
		t.Errorf("actions = %v; want both allow and hide among 3,000 mixed messages", actions)
	}
	code, metrics := get(t, "http://"+addr+"/metrics", adminSecret)
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		fmt.Sprintf("livemod_ingest_messages_total %d", total),
		`livemod_decisions_total{action="allow"}`,
		"livemod_decision_latency_seconds_bucket",
		"livemod_pipeline_queue_batches",
		`livemod_fanout_slow_disconnects_total{reason="queue"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestEveryEndpointNeedsAToken: nothing but /healthz (and the pages'
// static scripts and styles, which hold no secrets) answers without one,
// and roles are checked. Every route the server registers is listed here.
func TestEveryEndpointNeedsAToken(t *testing.T) {
	addr := startApp(t, func(c *config.Config) { c.Pprof = true; withAgent(c) })
	base := "http://" + addr
	if code, _ := get(t, base+"/healthz", ""); code != 200 {
		t.Errorf("/healthz without token: %d, want 200", code)
	}
	for _, p := range []string{
		"GET /readyz", "GET /metrics", "GET /v1/ingest?stream=s", "GET /v1/subscribe?stream=s&view=moderator", "GET /v1/subscribe?stream=s&view=overlay",
		"GET /debug/pprof/", "GET /debug/pprof/profile?seconds=1", "GET /debug/pprof/trace?seconds=1",
		"GET /overlay/s", "GET /host/s", "GET /moderator", "GET /agent", "GET /moderator/tools", "GET /",
		"GET /v1/streams", "GET /v1/users/restricted",
		"GET /v1/questions?stream=s", "POST /v1/questions/q-1/pin", "POST /v1/questions/q-1/answered", "POST /v1/questions/q-1/dismiss",
		"POST /v1/messages/m-1/hide", "POST /v1/messages/m-1/approve", "POST /v1/messages/m-1/unhide",
		"POST /v1/users/u-1/timeout", "POST /v1/users/u-1/ban", "POST /v1/users/u-1/unban", "POST /v1/rules/spam.link/undo",
		"GET /v1/handoffs", "POST /v1/handoffs/h-1/claim", "POST /v1/handoffs/h-1/resolve", "POST /v1/handoffs/h-1/convert",
		"GET /v1/replies/drafts", "POST /v1/replies/drafts/r-1/approve", "POST /v1/replies/drafts/r-1/reject",
		"GET /v1/webhooks/dead", "POST /v1/webhooks/dead/w-1/retry",
		"GET /v1/audit", "GET /v1/users/u-1/export", "DELETE /v1/users/u-1", "GET /v1/kpis?stream=s",
		"GET /v1/streams/s/policy", "PUT /v1/streams/s/policy", "POST /v1/streams/s/policy/try", "GET /moderator/policy",
		"POST /v1/messages?stream=s", "GET /v1/connectors",
	} {
		method, path, _ := strings.Cut(p, " ")
		if code, _ := call(t, method, base+path, "", ""); code != http.StatusUnauthorized {
			t.Errorf("%s without token: %d, want 401", p, code)
		}
		if code, _ := call(t, method, base+path, "not-a-real-token", ""); code != http.StatusUnauthorized {
			t.Errorf("%s with a wrong token: %d, want 401", p, code)
		}
	}
	for _, c := range []struct {
		route, token string
		want         int
	}{
		{"GET /metrics", hostSecret, 403},
		{"POST /v1/messages?stream=s", modSecret, 403},
		{"GET /v1/connectors", ingestSecret, 403},
		{"GET /v1/connectors", modSecret, 200},
		{"GET /v1/ingest?stream=s", modSecret, 403},
		{"GET /v1/subscribe?stream=s&view=moderator", hostSecret, 403},
		{"GET /v1/subscribe?stream=s&view=moderator", ingestSecret, 403},
		{"GET /v1/subscribe?stream=s&view=nope", adminSecret, 400},
		{"GET /readyz", hostSecret, 200},
		{"GET /debug/pprof/", modSecret, 403},
		{"GET /debug/pprof/mutex", adminSecret, 200}, // sampled when --pprof is on
		{"GET /debug/pprof/block", adminSecret, 200},
		{"GET /overlay/s", ingestSecret, 403},
		{"GET /host/s", modSecret, 403},
		{"GET /moderator", hostSecret, 403},
		{"GET /agent", modSecret, 403},
		{"GET /v1/questions?stream=s", ingestSecret, 403},
		{"GET /v1/questions?stream=s", hostSecret, 200},
		{"POST /v1/questions/q-1/pin", modSecret, 403},
		{"POST /v1/messages/m-1/hide", hostSecret, 403},
		{"POST /v1/messages/m-1/hide", modSecret, 404},
		{"POST /v1/users/u-1/ban", agentSecret, 403},
		{"POST /v1/rules/spam.link/undo", hostSecret, 403},
		{"GET /v1/handoffs", modSecret, 403},
		{"GET /v1/handoffs", agentSecret, 200},
		{"POST /v1/handoffs/h-1/claim", modSecret, 403},
		{"POST /v1/handoffs/h-1/claim", agentSecret, 404},
		{"GET /v1/replies/drafts", agentSecret, 403},
		{"GET /v1/replies/drafts", modSecret, 200},
		{"POST /v1/replies/drafts/r-1/approve", agentSecret, 403},
		{"GET /v1/webhooks/dead", hostSecret, 403},
		{"POST /v1/webhooks/dead/w-1/retry", agentSecret, 403},
		{"GET /v1/audit", hostSecret, 403},
		{"GET /v1/streams/s/policy", hostSecret, 403},
		{"GET /v1/streams/s/policy", ingestSecret, 403},
		{"GET /v1/streams/s/policy", modSecret, 200},
		{"PUT /v1/streams/s/policy", agentSecret, 403},
		{"POST /v1/streams/s/policy/try", hostSecret, 403},
		{"GET /moderator/policy", hostSecret, 403},
		{"GET /moderator/policy", modSecret, 200},
		{"GET /v1/audit", agentSecret, 403},
		{"GET /v1/audit", modSecret, 200},
		{"GET /v1/audit", adminSecret, 200},
		{"GET /v1/users/u-1/export", modSecret, 403},
		{"GET /v1/users/u-1/export", adminSecret, 200},
		{"DELETE /v1/users/u-1", modSecret, 403},
		{"DELETE /v1/users/u-1", hostSecret, 403},
		{"GET /v1/kpis?stream=s", ingestSecret, 403},
		{"GET /v1/kpis?stream=s", agentSecret, 403},
		{"GET /v1/kpis?stream=s", hostSecret, 200},
		{"GET /moderator/tools", hostSecret, 403},
		{"GET /moderator/tools", modSecret, 200},
		{"GET /", ingestSecret, 200},
		{"GET /", agentSecret, 200},
		{"GET /v1/streams", ingestSecret, 200},
		{"GET /v1/streams", hostSecret, 200},
		{"GET /v1/users/restricted", hostSecret, 403},
		{"GET /v1/users/restricted", agentSecret, 403},
		{"GET /v1/users/restricted", modSecret, 200},
		{"GET /nope", adminSecret, 404},
	} {
		method, path, _ := strings.Cut(c.route, " ")
		if code, body := call(t, method, base+path, c.token, ""); code != c.want {
			t.Errorf("%s: %d, want %d (%s)", c.route, code, c.want, body)
		}
	}
}

func TestNonLoopbackWithoutTokensRefusesToStart(t *testing.T) {
	cfg := config.Defaults()
	cfg.Listen = "0.0.0.0:0"
	_, err := app.New(cfg, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "needs tokens") || !strings.Contains(err.Error(), "--listen 127.0.0.1:0") {
		t.Fatalf("newApp on 0.0.0.0 without tokens = %v, want a refusal that says how to fix it", err)
	}
}

// TestWebsocketOriginChecked: a page on another origin cannot open a
// websocket with a token it got hold of; the server's own origin can.
func TestWebsocketOriginChecked(t *testing.T) {
	addr := startApp(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for origin, wantOK := range map[string]bool{"http://evil.example": false, "http://" + addr: true} {
		h := http.Header{"Authorization": {"Bearer " + modSecret}, "Origin": {origin}}
		c, resp, err := websocket.Dial(ctx, "ws://"+addr+"/v1/subscribe?stream=s&view=moderator", &websocket.DialOptions{HTTPHeader: h})
		if wantOK != (err == nil) {
			t.Errorf("origin %s: err %v, want ok=%v", origin, err, wantOK)
		}
		if err == nil {
			c.CloseNow()
		} else if resp != nil && resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %s: status %d, want 403", origin, resp.StatusCode)
		}
	}
}
