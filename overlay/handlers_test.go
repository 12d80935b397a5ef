package overlay_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/livemod/livemod/auth"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
	"github.com/livemod/livemod/moderate"
	"github.com/livemod/livemod/overlay"
	"github.com/livemod/livemod/trend"
)

// Handler tests per concern, over the real desks (moderate.Desk and
// moderate.Host in memory): the route, the body, the typed answer, and
// the status each kind of error gets (chat.ErrNotFound 404,
// chat.ErrConflict 409 with the state, chat.ErrInvalid 400).

const (
	modSecret  = "mod-secret-handlers"
	hostSecret = "host-secret-handlers"
)

func newServer(t *testing.T) *overlay.Server {
	t.Helper()
	a, err := overlay.NewAuth([]auth.Token{
		{Name: "mods", Role: auth.RoleModerator, Secret: modSecret},
		{Name: "host", Role: auth.RoleHost, Secret: hostSecret},
	})
	if err != nil {
		t.Fatal(err)
	}
	return overlay.NewServer(overlay.Options{Auth: a})
}

// do sends method path with body as the token's holder and returns the
// status and the decoded JSON answer.
func do(t *testing.T, s http.Handler, token, method, path, body string) (int, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	var out map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: %d, not a JSON object: %q", method, path, w.Code, w.Body)
	}
	return w.Code, out
}

// decide hands the desk a decision as the pipeline would.
func decide(d *moderate.Desk, id, user, text string, action chat.Action) {
	dec := chat.Decision{ID: id, Stream: "show", User: chat.User{ID: user}, Text: text, TS: time.Now().UnixMilli(), Action: action}
	if action != chat.Allow {
		dec.AddReason("spam.link", "test")
	}
	d.Decided(&dec, dec.AppendJSON(nil))
}

func TestModerationHandlers(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	desk := moderate.NewDesk(moderate.DeskOptions{})
	overlay.RegisterModeration(s, moderate.DeskREST{Desk: desk})
	decide(desk, "m-1", "u-1", "hello", chat.Allow)
	decide(desk, "m-2", "u-2", "buy followers", chat.Hide)

	code, ev := do(t, s, modSecret, "POST", "/v1/messages/m-1/hide", `{"stream":"show","reason":"rude"}`)
	if code != 200 || ev["type"] != "moderation" || ev["id"] != "m-1" || ev["action"] != "hide" || ev["actor"] != "mods" || ev["reason"] != "rude" {
		t.Fatalf("hide: %d %v", code, ev)
	}
	// The same hide again is a conflict that names the state it met.
	if code, ev := do(t, s, modSecret, "POST", "/v1/messages/m-1/hide", `{"stream":"show"}`); code != 409 || ev["state"] == nil || ev["error"] == nil {
		t.Fatalf("hide again: %d %v", code, ev)
	}
	if code, ev := do(t, s, modSecret, "POST", "/v1/messages/m-404/hide", `{"stream":"show"}`); code != 404 || ev["error"] == nil {
		t.Fatalf("hide of an unknown message: %d %v", code, ev)
	}
	if code, ev := do(t, s, modSecret, "POST", "/v1/messages/m-2/unhide", `{"stream":"show"}`); code != 200 || ev["action"] != "unhide" {
		t.Fatalf("unhide: %d %v", code, ev)
	}
	if code, ev := do(t, s, modSecret, "POST", "/v1/messages/m-1/hide", `{"stream":"show","reason":`); code != 400 {
		t.Fatalf("a broken body: %d %v", code, ev)
	}

	code, ue := do(t, s, modSecret, "POST", "/v1/users/u-1/timeout", `{"stream":"show","seconds":60,"reason":"cool off"}`)
	if code != 200 || ue["type"] != "user" || ue["action"] != "timeout" || ue["until"] == nil {
		t.Fatalf("timeout: %d %v", code, ue)
	}
	if code, ue := do(t, s, modSecret, "POST", "/v1/users/u-1/timeout", `{"stream":"show","seconds":-1}`); code != 400 {
		t.Fatalf("a negative timeout: %d %v", code, ue)
	}
	if code, ue := do(t, s, modSecret, "POST", "/v1/users/u-9/unban", `{"stream":"show"}`); code != 409 || ue["state"] != "none" {
		t.Fatalf("unban of a free user: %d %v", code, ue)
	}
	if code, u := do(t, s, modSecret, "POST", "/v1/rules/spam.link/undo", `{"stream":"show","since":0}`); code != 200 {
		t.Fatalf("undo by rule: %d %v", code, u)
	}
	if code, u := do(t, s, modSecret, "POST", "/v1/rules/spam.link/undo", `{"since":0}`); code != 400 {
		t.Fatalf("undo without a stream: %d %v", code, u)
	}
	// A host may not moderate.
	if code, _ := do(t, s, hostSecret, "POST", "/v1/messages/m-1/unhide", `{"stream":"show"}`); code != 403 {
		t.Fatalf("a host's unhide: %d", code)
	}
}

func TestQuestionHandlers(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tr := trend.NewTrending(trend.TrendOptions{})
	host := moderate.NewHost(moderate.HostOptions{Trending: tr, EngineObserves: true})
	t.Cleanup(func() { host.Close(context.Background()) })
	overlay.RegisterQuestions(s, moderate.HostREST{Host: host})
	now := time.Now().UnixMilli()
	var cluster string
	for i, q := range []string{"how much is the blue jacket?", "blue jacket price?", "what is the price of the blue jacket"} {
		cluster, _ = tr.Observe("show", fmt.Sprint("u-", i), q, classify.Normalize(q), now+int64(i))
	}
	if cluster == "" {
		t.Fatal("no cluster")
	}

	code, list := do(t, s, hostSecret, "GET", "/v1/questions?stream=show", "")
	qs, _ := list["questions"].([]any)
	if code != 200 || list["type"] != "trending" || len(qs) != 1 {
		t.Fatalf("list: %d %v", code, list)
	}
	if code, q := do(t, s, hostSecret, "POST", "/v1/questions/"+cluster+"/pin", `{"stream":"show"}`); code != 200 || q["cluster"] != cluster || q["state"] != trend.QuestionPinned {
		t.Fatalf("pin: %d %v", code, q)
	}
	if code, q := do(t, s, hostSecret, "POST", "/v1/questions/q-nope/pin", `{"stream":"show"}`); code != 404 || q["error"] == nil {
		t.Fatalf("pin of an unknown cluster: %d %v", code, q)
	}
	if code, q := do(t, s, hostSecret, "GET", "/v1/questions", ""); code != 400 || q["error"] == nil {
		t.Fatalf("list without a stream: %d %v", code, q)
	}
	if code, q := do(t, s, hostSecret, "POST", "/v1/questions/"+cluster+"/dismiss", `{"stream":"show"}`); code != 200 || q["state"] != trend.QuestionDismissed {
		t.Fatalf("dismiss: %d %v", code, q)
	}
	if code, _ := do(t, s, modSecret, "POST", "/v1/questions/"+cluster+"/pin", `{"stream":"show"}`); code != 403 {
		t.Fatalf("a moderator's pin: %d", code)
	}
}
