package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/config"
	"github.com/livemod/livemod/store"
	"github.com/livemod/livemod/trend"
)

// openAPIMaxBody is the test server's http.max_body_bytes: a larger body
// gets the 413 every operation with a body documents.
const openAPIMaxBody = 4096

// openAPIConfig gives the OpenAPI test server what its battery needs: an
// FAQ that drafts, a webhook that fails at once (dead entries), a low
// HTTP ingest rate (a 429) and small bodies (a 413).
func openAPIConfig(c *config.Config) {
	withAgent(c)
	withShowAModerator(c)
	c.HTTP.MaxBodyBytes = openAPIMaxBody
	c.Ingest.RatePerSecond, c.Ingest.Burst = 1, 40
	c.FAQ = []config.FAQ{{ID: "shipping", Match: []string{"shipping", "when will it arrive"}, Answer: "{author_name}, shipping takes 3 to 5 days.", Approve: true}}
	c.Handoff.Webhook, c.Handoff.WebhookSecret = "http://127.0.0.1:1/hook", "openapi-test-webhook-secret"
	c.Handoff.Retry = config.WebhookRetry{MaxAttempts: 1, Initial: time.Millisecond, Max: time.Millisecond}
	c.Review.Share = 1
}

// openAPIUnexercised says why a documented answer ("METHOD /path CODE")
// gets no request of the battery, or "" when one must get it; the test
// fails when one it names is answered after all.
func openAPIUnexercised(key string) string {
	method, rest, _ := strings.Cut(key, " ")
	path, code, _ := strings.Cut(rest, " ")
	switch {
	case code == "503" && method != "GET" && path != "/v1/messages":
		// Every change waits for the store's commit (overlay/commit.go);
		// TestCommitFailureIs503 in overlay answers it.
		return "the store's commit failed"
	case key == "POST /v1/messages 503":
		return "the pipeline is shutting down, or the commit of a durable change failed (stream/http_ingest.go)"
	case key == "GET /readyz 503":
		return "starting or shutting down (TestReadyz)"
	case key == "POST /v1/appeals 429":
		return "store.MaxOpenAppeals (100,000) appeals open: too many to make here"
	case key == "POST /v1/streams/{id}/policy/try 429":
		return "another trial is running (policy.ErrBusy): only under a race of two trials"
	}
	return ""
}

// openAPIBattery records, per operation ("METHOD /pattern"), the statuses
// the real server answered, with an example answer.
type openAPIBattery struct {
	t    *testing.T
	base string
	seen map[string]map[int]string
}

func (b *openAPIBattery) do(key, method, url, token, body string) (int, string) {
	b.t.Helper()
	code, out := call(b.t, method, url, token, body)
	if b.seen[key] == nil {
		b.seen[key] = map[int]string{}
	}
	if _, ok := b.seen[key][code]; !ok {
		b.seen[key][code] = method + " " + strings.TrimPrefix(url, b.base) + " → " + strings.TrimSpace(out)
	}
	return code, out
}

// req is do for a route of the battery: key's method, path with query.
func (b *openAPIBattery) req(key, path, token, body string) (int, string) {
	b.t.Helper()
	method, _, _ := strings.Cut(key, " ")
	return b.do(key, method, b.base+path, token, body)
}

// want is req that must answer code.
func (b *openAPIBattery) want(code int, key, path, token, body string) string {
	b.t.Helper()
	got, out := b.req(key, path, token, body)
	if got != code {
		b.t.Errorf("%s %s: %d %s; want %d", key, path, got, out, code)
	}
	return out
}

// dial records a websocket's handshake status.
func (b *openAPIBattery) dial(key, path, token string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, res, err := websocket.Dial(ctx, strings.Replace(b.base, "http://", "ws://", 1)+path, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		b.t.Errorf("dial %s: %v", path, err)
		return
	}
	c.CloseNow()
	if b.seen[key] == nil {
		b.seen[key] = map[int]string{}
	}
	b.seen[key][res.StatusCode] = "websocket " + path
}

// battery makes the requests that get each operation's answers beyond
// the probes of TestOpenAPIMatchesRouter: the successes, the conflicts,
// the not-founds of real ids, the limits.
func (b *openAPIBattery) battery(t *testing.T, ta *testApp) {
	const st = "oa"
	lines := func(ms ...string) string { return strings.Join(ms, "\n") }
	b.want(200, "POST /v1/messages", "/v1/messages?stream="+st, ingestSecret, lines(
		msg("q-1", "asker-1", "is the blue one in stock?", 0),
		msg("q-2", "asker-2", "is the blue one in stock?", 0),
		msg("q-3", "asker-3", "is the blue one in stock?", 0),
		msg("sp-1", "spammer", "FREE followers at bit.ly/xyz", 0),
		msg("h-1", "buyer", "agent please, order 5521 refund nahi mila", 0),
		msg("d-1", "shipper-1", "how long does shipping take?", 0),
		msg("v-1", "viewer", "lovely colours today", 0),
	))
	b.want(400, "POST /v1/messages", "/v1/messages?stream="+st, ingestSecret, "not json")
	var many []string
	for i := 0; i < 41; i++ {
		many = append(many, msg(fmt.Sprint("r-", i), "rater", "hello", 0))
	}
	b.want(413, "POST /v1/messages", "/v1/messages?stream="+st, ingestSecret, msg("big", "big", strings.Repeat("x", openAPIMaxBody), 0))
	b.want(429, "POST /v1/messages", "/v1/messages?stream="+st, ingestSecret, lines(many...))

	b.dial("GET /v1/ingest", "/v1/ingest?stream="+st, ingestSecret)
	b.want(400, "GET /v1/ingest", "/v1/ingest", ingestSecret, "")
	b.dial("GET /v1/subscribe", "/v1/subscribe?stream="+st+"&view=moderator", modSecret)
	b.want(400, "GET /v1/subscribe", "/v1/subscribe?stream="+st+"&view=nonsense", modSecret, "")

	// Questions.
	var qs struct{ Questions []trend.TrendQuestion }
	json.Unmarshal([]byte(b.want(200, "GET /v1/questions", "/v1/questions?stream="+st, hostSecret, "")), &qs)
	b.want(400, "GET /v1/questions", "/v1/questions", hostSecret, "")
	if len(qs.Questions) == 0 {
		t.Fatalf("no trending question on %s", st)
	}
	cl := qs.Questions[0].Cluster
	for _, a := range []string{"pin", "answered", "dismiss"} {
		key := "POST /v1/questions/{cluster}/" + a
		b.want(200, key, "/v1/questions/"+cl+"/"+a, hostSecret, `{"stream":"`+st+`"}`)
		b.want(404, key, "/v1/questions/c-none/"+a, hostSecret, `{"stream":"`+st+`"}`)
	}

	// Moderation.
	for _, c := range []struct{ action, id string }{{"hide", "v-1"}, {"unhide", "v-1"}, {"approve", "sp-1"}} {
		key := "POST /v1/messages/{id}/" + c.action
		b.want(200, key, "/v1/messages/"+c.id+"/"+c.action, modSecret, `{"stream":"`+st+`"}`)
		b.want(409, key, "/v1/messages/"+c.id+"/"+c.action, modSecret, `{"stream":"`+st+`"}`)
		b.want(404, key, "/v1/messages/none/"+c.action, modSecret, `{"stream":"`+st+`"}`)
	}
	b.want(200, "POST /v1/users/{id}/timeout", "/v1/users/u-t/timeout", modSecret, `{"stream":"`+st+`","seconds":60}`)
	b.want(400, "POST /v1/users/{id}/timeout", "/v1/users/u-t/timeout", modSecret, `{"seconds":-1}`)
	b.want(200, "POST /v1/users/{id}/ban", "/v1/users/u-b/ban", modSecret, `{"stream":"`+st+`"}`)
	b.want(409, "POST /v1/users/{id}/ban", "/v1/users/u-b/ban", modSecret, `{"stream":"`+st+`"}`)
	b.want(409, "POST /v1/users/{id}/timeout", "/v1/users/u-b/timeout", modSecret, `{"stream":"`+st+`"}`)
	b.want(200, "POST /v1/users/{id}/unban", "/v1/users/u-b/unban", modSecret, `{"stream":"`+st+`"}`)
	b.want(409, "POST /v1/users/{id}/unban", "/v1/users/u-b/unban", modSecret, `{"stream":"`+st+`"}`)
	b.want(200, "POST /v1/rules/{rule}/undo", "/v1/rules/spam.link/undo", modSecret, `{"stream":"`+st+`"}`)

	// Handoffs and the webhook's dead letters.
	var hs struct{ Handoffs []chat.Ticket }
	json.Unmarshal([]byte(b.want(200, "GET /v1/handoffs", "/v1/handoffs?stream="+st, agentSecret, "")), &hs)
	b.want(400, "GET /v1/handoffs", "/v1/handoffs?stream="+st+"&state=nonsense", agentSecret, "")
	if len(hs.Handoffs) == 0 {
		t.Fatalf("no handoff on %s", st)
	}
	h := hs.Handoffs[0].ID
	b.want(200, "POST /v1/handoffs/{id}/claim", "/v1/handoffs/"+h+"/claim", agentSecret, "")
	b.want(409, "POST /v1/handoffs/{id}/claim", "/v1/handoffs/"+h+"/claim", agentSecret, "")
	b.want(200, "POST /v1/handoffs/{id}/convert", "/v1/handoffs/"+h+"/convert", agentSecret, `{"order_value":10}`)
	b.want(200, "POST /v1/handoffs/{id}/resolve", "/v1/handoffs/"+h+"/resolve", agentSecret, "")
	b.want(409, "POST /v1/handoffs/{id}/resolve", "/v1/handoffs/"+h+"/resolve", agentSecret, "")
	b.want(404, "POST /v1/handoffs/{id}/convert", "/v1/handoffs/none/convert", agentSecret, `{"order_value":10}`)
	var dead []store.OutboxEntry
	eventually(t, 10*time.Second, "a dead webhook delivery", func() bool {
		var d struct{ Dead []store.OutboxEntry }
		code, out := call(t, "GET", b.base+"/v1/webhooks/dead", adminSecret, "")
		json.Unmarshal([]byte(out), &d)
		dead = d.Dead
		return code == 200 && len(dead) > 0
	})
	b.want(200, "GET /v1/webhooks/dead", "/v1/webhooks/dead", adminSecret, "")
	b.want(200, "POST /v1/webhooks/dead/{id}/retry", "/v1/webhooks/dead/"+dead[0].ID+"/retry", adminSecret, "")

	// Drafts: one approved, a second rejected.
	draftOf := func() string {
		var ds struct{ Drafts []chat.Draft }
		json.Unmarshal([]byte(b.want(200, "GET /v1/replies/drafts", "/v1/replies/drafts?stream="+st+"&state=pending", modSecret, "")), &ds)
		if len(ds.Drafts) == 0 {
			t.Fatalf("no pending draft on %s", st)
		}
		return ds.Drafts[0].ID
	}
	b.want(400, "GET /v1/replies/drafts", "/v1/replies/drafts?stream="+st+"&state=nonsense", modSecret, "")
	d1 := draftOf()
	b.want(200, "POST /v1/replies/drafts/{id}/approve", "/v1/replies/drafts/"+d1+"/approve", modSecret, "{}")
	b.want(409, "POST /v1/replies/drafts/{id}/approve", "/v1/replies/drafts/"+d1+"/approve", modSecret, "{}")
	b.want(409, "POST /v1/replies/drafts/{id}/reject", "/v1/replies/drafts/"+d1+"/reject", modSecret, "{}")
	b.want(200, "POST /v1/messages", "/v1/messages?stream="+st, ingestSecret, msg("d-2", "shipper-2", "when will it arrive, shipping to Pune?", 0))
	b.want(200, "POST /v1/replies/drafts/{id}/reject", "/v1/replies/drafts/"+draftOf()+"/reject", modSecret, "{}")

	// Audit, users, KPIs, streams.
	b.want(200, "GET /v1/audit", "/v1/audit?stream="+st, adminSecret, "")
	b.want(400, "GET /v1/audit", "/v1/audit?stream="+st+"&before=nonsense", adminSecret, "")
	b.want(200, "GET /v1/users/{id}/export", "/v1/users/asker-1/export", adminSecret, "")
	b.want(200, "DELETE /v1/users/{id}", "/v1/users/asker-3", adminSecret, "")
	long := strings.Repeat("u", chat.MaxIDBytes+1)
	b.want(400, "GET /v1/users/{id}/export", "/v1/users/"+long+"/export", adminSecret, "")
	b.want(400, "DELETE /v1/users/{id}", "/v1/users/"+long, adminSecret, "")
	b.want(200, "GET /v1/kpis", "/v1/kpis?stream="+st, modSecret, "")
	b.want(400, "GET /v1/kpis", "/v1/kpis?stream="+st+"&since=nonsense", modSecret, "")
	b.want(200, "GET /v1/streams", "/v1/streams", modSecret, "")
	b.want(200, "GET /v1/users/restricted", "/v1/users/restricted", modSecret, "")
	b.want(200, "GET /v1/connectors", "/v1/connectors", modSecret, "")

	// Policies.
	b.want(200, "GET /v1/streams/{id}/policy", "/v1/streams/"+st+"/policy", modSecret, "")
	b.want(200, "PUT /v1/streams/{id}/policy", "/v1/streams/"+st+"/policy", modSecret, `{}`)
	b.want(400, "PUT /v1/streams/{id}/policy", "/v1/streams/"+st+"/policy", modSecret, `{"nonsense":1}`)
	b.want(200, "POST /v1/streams/{id}/policy/try", "/v1/streams/"+st+"/policy/try", modSecret, `{"policy":{},"messages":[{"id":"t-1","user":{"id":"u"},"text":"hello"}]}`)

	// Appeals and reviews.
	var ap struct{ ID string }
	json.Unmarshal([]byte(b.want(200, "POST /v1/appeals", "/v1/appeals", ingestSecret, `{"stream":"`+st+`","user":{"id":"spammer"},"message_id":"sp-1","text":"not spam"}`)), &ap)
	var ap2 struct{ ID string }
	json.Unmarshal([]byte(b.want(200, "POST /v1/appeals", "/v1/appeals", ingestSecret, `{"stream":"`+st+`","user":{"id":"viewer"},"text":"why?"}`)), &ap2)
	b.want(200, "GET /v1/appeals", "/v1/appeals?stream="+st+"&state=open", modSecret, "")
	b.want(400, "GET /v1/appeals", "/v1/appeals?stream="+st+"&state=nonsense", modSecret, "")
	b.want(200, "POST /v1/appeals/{id}/uphold", "/v1/appeals/"+ap.ID+"/uphold", modSecret, `{"reason":"spam"}`)
	b.want(409, "POST /v1/appeals/{id}/uphold", "/v1/appeals/"+ap.ID+"/uphold", modSecret, `{"reason":"spam"}`)
	b.want(409, "POST /v1/appeals/{id}/overturn", "/v1/appeals/"+ap.ID+"/overturn", modSecret, `{"reason":"spam"}`)
	b.want(404, "POST /v1/appeals/{id}/uphold", "/v1/appeals/none/uphold", modSecret, `{"reason":"spam"}`)
	b.want(404, "POST /v1/appeals/{id}/overturn", "/v1/appeals/none/overturn", modSecret, `{"reason":"spam"}`)
	b.want(200, "POST /v1/appeals/{id}/overturn", "/v1/appeals/"+ap2.ID+"/overturn", modSecret, `{"reason":"fair"}`)
	var rv struct{ Reviews []store.Review }
	json.Unmarshal([]byte(b.want(200, "GET /v1/reviews", "/v1/reviews?stream="+st+"&state=open", modSecret, "")), &rv)
	b.want(400, "GET /v1/reviews", "/v1/reviews?stream="+st+"&state=nonsense", modSecret, "")
	if len(rv.Reviews) < 2 {
		t.Fatalf("reviews on %s: %+v; want two", st, rv.Reviews)
	}
	b.want(200, "POST /v1/reviews/{id}/right", "/v1/reviews/"+rv.Reviews[0].ID+"/right", modSecret, "{}")
	b.want(409, "POST /v1/reviews/{id}/wrong", "/v1/reviews/"+rv.Reviews[0].ID+"/wrong", modSecret, "{}")
	b.want(200, "POST /v1/reviews/{id}/wrong", "/v1/reviews/"+rv.Reviews[1].ID+"/wrong", modSecret, "{}")
	b.want(409, "POST /v1/reviews/{id}/right", "/v1/reviews/"+rv.Reviews[1].ID+"/right", modSecret, "{}")

	// The rest.
	b.want(200, "GET /readyz", "/readyz", modSecret, "")
	b.want(200, "GET /metrics", "/metrics", adminSecret, "")
	b.want(200, "GET /healthz", "/healthz", "", "")
	b.want(200, "GET /v1/openapi.yaml", "/v1/openapi.yaml", "", "")
}
