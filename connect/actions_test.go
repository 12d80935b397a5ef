package connect

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/store"
)

type nopSink struct{}

func (nopSink) Accept(context.Context, string, []*chat.Message) error { return nil }
func (nopSink) Mirror(Mirror)                                         {}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func twitchFor(t *testing.T, api string, mutate func(*TwitchOptions)) *Twitch {
	t.Helper()
	o := TwitchOptions{Channel: "show", Token: "tok", ClientID: "cid", BroadcasterID: "1", ModeratorID: "2", API: api}
	if mutate != nil {
		mutate(&o)
	}
	tw, err := NewTwitch(o, nopSink{})
	if err != nil {
		t.Fatal(err)
	}
	return tw
}

// idle is a connector that acts through tw but reads nothing (Start and
// Close do nothing): these tests are about the outbox.
type idle struct{ *Twitch }

func (idle) Start()                      {}
func (idle) Close(context.Context) error { return nil }

// TestOutboxSurvivesRestart: an action queued while Helix fails stays in
// the store across a restart and is carried out by the next process.
func TestOutboxSurvivesRestart(t *testing.T) {
	var up atomic.Bool
	var deletes atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if r.Method == "DELETE" && r.URL.Path == "/moderation/chat" && r.URL.Query().Get("message_id") == "m-1" {
			deletes.Add(1)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer api.Close()
	dir := t.TempDir()
	db, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []store.Action
	var mu sync.Mutex
	opts := ActionsOptions{Initial: 20 * time.Millisecond, Max: 50 * time.Millisecond, OnOutcome: func(a store.Action) {
		mu.Lock()
		outcomes = append(outcomes, a)
		mu.Unlock()
	}}
	x := NewActions(db, []Connector{idle{twitchFor(t, api.URL, nil)}}, opts)
	x.Start()
	if err := x.Enqueue(store.Action{Kind: store.ActHide, Stream: "show", Target: "m-1", Actor: "mods"},
		store.Action{Kind: store.ActHide, Stream: "elsewhere", Target: "m-2", Actor: "mods"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a failed attempt", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(outcomes) > 0
	})
	x.Close(context.Background())
	db.Close()
	mu.Lock()
	if o := outcomes[0]; o.State != store.ActionPending || !strings.Contains(o.LastError, "503") || o.Platform != "twitch" {
		t.Fatalf("first outcome %+v", o)
	}
	mu.Unlock()

	up.Store(true)
	db, err = store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	all, _ := db.Actions()
	if len(all) != 1 || all[0].State != store.ActionPending {
		t.Fatalf("after restart the outbox holds %+v (the unconnected stream's action is not queued)", all)
	}
	x = NewActions(db, []Connector{idle{twitchFor(t, api.URL, nil)}}, opts)
	x.Start()
	defer x.Close(context.Background())
	eventually(t, "the delete after restart", func() bool { return deletes.Load() == 1 })
	eventually(t, "done in the store", func() bool {
		all, _ := db.Actions()
		return len(all) == 1 && all[0].State == store.ActionDone
	})
}

// TestRefusedIsNotRetried: a 4xx other than 429 refuses the action, with
// Helix's message.
func TestRefusedIsNotRetried(t *testing.T) {
	var calls atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"Bad Request","status":400,"message":"The user specified in the user_id field is already banned."}`)
	}))
	defer api.Close()
	db, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	x := NewActions(db, []Connector{idle{twitchFor(t, api.URL, nil)}}, ActionsOptions{Initial: time.Millisecond})
	x.Start()
	defer x.Close(context.Background())
	x.Enqueue(store.Action{Kind: store.ActBan, Stream: "show", User: "42", Actor: "mods"})
	eventually(t, "refused", func() bool {
		all, _ := db.Actions()
		return len(all) == 1 && all[0].State == store.ActionRefused && strings.Contains(all[0].LastError, "already banned")
	})
	if calls.Load() != 1 {
		t.Fatalf("%d calls, want 1", calls.Load())
	}
}

// TestDryRunCallsNothing: a dry-run connector logs what it would do.
func TestDryRunCallsNothing(t *testing.T) {
	var calls atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer api.Close()
	var logged []string
	tw := twitchFor(t, api.URL, func(o *TwitchOptions) {
		o.DryRun = true
		o.Log = func(s string) { logged = append(logged, s) }
	})
	if err := tw.Act(context.Background(), store.Action{Kind: store.ActTimeout, User: "42", Seconds: 600}); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 0 || len(logged) != 1 || !strings.Contains(logged[0], "dry run: would POST") || !strings.Contains(logged[0], `"duration":600`) {
		t.Fatalf("calls %d, logged %q", calls.Load(), logged)
	}
}

// TestTokenRefreshedOn401: Helix refusing the token makes the connector
// refresh it (golang.org/x/oauth2, refresh_token grant) and try again.
func TestTokenRefreshedOn401(t *testing.T) {
	var grants atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/oauth2/token":
			r.ParseForm()
			if r.Form.Get("grant_type") != "refresh_token" || r.Form.Get("refresh_token") != "ref-1" || r.Form.Get("client_secret") != "sec" {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			grants.Add(1)
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"access_token":"tok-2","refresh_token":"ref-2","expires_in":14400,"token_type":"bearer"}`)
		case r.Header.Get("Authorization") == "Bearer tok-2":
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"Unauthorized","status":401,"message":"Invalid OAuth token"}`)
		}
	}))
	defer api.Close()
	tw := twitchFor(t, api.URL, func(o *TwitchOptions) {
		o.RefreshToken, o.ClientSecret, o.TokenURL = "ref-1", "sec", api.URL+"/oauth2/token"
	})
	if err := tw.Act(context.Background(), store.Action{Kind: store.ActHide, Target: "m-1"}); err != nil {
		t.Fatal(err)
	}
	if grants.Load() != 1 {
		t.Fatalf("%d refreshes", grants.Load())
	}
	// Without a refresh token a 401 is a refusal that says what to do.
	tw = twitchFor(t, api.URL, nil)
	err := tw.Act(context.Background(), store.Action{Kind: store.ActHide, Target: "m-1"})
	if _, ok := err.(*Refused); !ok || !strings.Contains(err.Error(), "refresh_token") {
		t.Fatalf("err %v", err)
	}
}

// TestYouTubeInterval: the poll interval spreads the quota left over the
// rest of the show, never below YouTube's pollingIntervalMillis, and says
// how long the quota lasts.
func TestYouTubeInterval(t *testing.T) {
	now := time.Unix(1795000000, 0)
	y, err := NewYouTube(YouTubeOptions{LiveChatID: "c", APIKey: "k", Now: func() time.Time { return now }}, nopSink{})
	if err != nil {
		t.Fatal(err)
	}
	// 10,000 units: 2,000 lists over 4 hours → 7.2s.
	wait, follow := y.Interval(1500*time.Millisecond, 10000)
	if wait != 7200*time.Millisecond || follow != 4*time.Hour {
		t.Fatalf("wait %v follow %v", wait, follow)
	}
	// YouTube asks for slower polling than the budget needs.
	if wait, _ := y.Interval(10*time.Second, 10000); wait != 10*time.Second {
		t.Fatalf("wait %v", wait)
	}
	// Spent: wait for the quota's day to turn (midnight Pacific).
	if wait, follow := y.Interval(time.Second, 4); follow != 0 || wait <= 0 || wait > 24*time.Hour {
		t.Fatalf("wait %v follow %v", wait, follow)
	}
	if left := y.spend(5); left != 9995 || y.Health().QuotaLeft != 9995 {
		t.Fatalf("left %d", left)
	}
}

// TestYouTubeQuotaSurvivesRestart: what a run spent today counts after a
// restart; a new day starts from zero.
func TestYouTubeQuotaSurvivesRestart(t *testing.T) {
	db, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 12, 3, 20, 0, 0, 0, time.UTC) // noon in California
	opts := YouTubeOptions{LiveChatID: "c", APIKey: "k", Quota: db, Now: func() time.Time { return now }}
	y, _ := NewYouTube(opts, nopSink{})
	y.spend(5)
	y.spend(50)
	y, _ = NewYouTube(opts, nopSink{}) // a restart
	if left := y.spend(5); left != 10000-60 {
		t.Fatalf("after a restart: %d left", left)
	}
	now = now.Add(24 * time.Hour)
	y, _ = NewYouTube(opts, nopSink{})
	if left := y.spend(5); left != 10000-5 {
		t.Fatalf("the next day: %d left", left)
	}
}

// TestAutoHideOnlyOfConnectorMessages: an automatic hide goes to the
// platform only for a message its connector read; one that a bridge sent
// with the same platform name stays in livemod.
func TestAutoHideOnlyOfConnectorMessages(t *testing.T) {
	db, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tw := twitchFor(t, "http://127.0.0.1:1", func(o *TwitchOptions) { o.Stream = "show"; o.DryRun = true })
	tw.ids.add("read-1")
	x := NewActions(db, []Connector{idle{tw}}, ActionsOptions{})
	x.Start()
	for _, d := range []chat.Decision{
		{ID: "read-1", Stream: "show", Platform: "twitch", Action: chat.Hide, Reasons: []chat.Reason{{Rule: "spam.link"}}},
		{ID: "bridged-1", Stream: "show", Platform: "twitch", Action: chat.Hide},
		{ID: "read-1", Stream: "other", Platform: "twitch", Action: chat.Hide},
		{ID: "read-1", Stream: "show", Platform: "youtube", Action: chat.Hide},
		{ID: "read-1", Stream: "show", Platform: "twitch", Action: chat.Hold},
	} {
		x.Decided(&d, nil)
	}
	x.Close(context.Background()) // saves what was handed over
	all, _ := db.Actions()
	if len(all) != 1 || all[0].Target != "read-1" || all[0].Kind != store.ActHide || all[0].Reason != "spam.link" || all[0].Actor != "auto" {
		t.Fatalf("outbox %+v", all)
	}
}
