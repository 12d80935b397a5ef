package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/livemod/livemod/auth"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/config"
	"github.com/livemod/livemod/moderate"
	"github.com/livemod/livemod/overlay"
	"github.com/livemod/livemod/store"
	"github.com/livemod/livemod/trend"
)

const agentSecret = "test-agent-secret-2"

// withAgent adds an agent token to startApp's tokens.
func withAgent(c *config.Config) {
	c.Auth.Tokens = append(c.Auth.Tokens, auth.Token{Name: "agent-anita", Role: auth.RoleAgent, Secret: agentSecret})
}

// call makes a request with an optional JSON body and returns the status
// and body.
func call(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// callJSON makes a request that must answer 200 and decodes the answer.
func callJSON(t *testing.T, method, url, token, body string, v any) {
	t.Helper()
	code, got := call(t, method, url, token, body)
	if code != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, url, code, got)
	}
	if err := json.Unmarshal([]byte(got), v); err != nil {
		t.Fatalf("%s %s: %v in %s", method, url, err, got)
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// msg is one chat message in the wire format; ts zero means now.
func msg(id, user, text string, ts int64) string {
	if ts == 0 {
		ts = time.Now().UnixMilli()
	}
	b, _ := json.Marshal(map[string]any{"id": id, "user": map[string]string{"id": user, "name": user}, "text": text, "ts": ts})
	return string(b)
}

// decisionsOf polls the users' exports until the desk holds a decision
// for each of ids, and returns them. (The moderator view is not used:
// a subscriber misses what is decided while it connects.)
func decisionsOf(t *testing.T, base string, ids map[string]string) map[string]chat.Decision {
	t.Helper()
	got := map[string]chat.Decision{}
	eventually(t, 10*time.Second, fmt.Sprintf("decisions for %v", ids), func() bool {
		for id, user := range ids {
			if _, ok := got[id]; ok {
				continue
			}
			var ex export
			callJSON(t, "GET", base+"/v1/users/"+url.PathEscape(user)+"/export", adminSecret, "", &ex)
			for _, m := range ex.Messages {
				var d chat.Decision
				if json.Unmarshal(m.Decision, &d) == nil && d.ID == id {
					got[id] = d
				}
			}
		}
		return len(got) == len(ids)
	})
	return got
}

func TestAuditEndpoint(t *testing.T) {
	addr := startApp(t, nil)
	base := "http://" + addr
	for _, c := range []struct{ query, want string }{
		{"limit=0", "limit"},
		{"limit=ten", "limit"},
		{"limit=-3", "limit"},
		{"since=yesterday", "since"},
		{"since=-5", "since"},
		{"users=u-1", `users`},
	} {
		code, body := get(t, base+"/v1/audit?"+c.query, adminSecret)
		if code != http.StatusBadRequest || !strings.Contains(body, c.want) || !strings.Contains(body, `"error"`) {
			t.Errorf("/v1/audit?%s: %d %s, want 400 naming %s", c.query, code, body, c.want)
		}
	}
	var capped struct {
		Entries []store.AuditEntry `json:"entries"`
		Limit   int                `json:"limit"`
	}
	callJSON(t, "GET", base+"/v1/audit?limit=5000", modSecret, "", &capped)
	if capped.Limit != overlay.MaxAuditLimit || capped.Entries == nil {
		t.Errorf("limit=5000 answered limit %d, entries %v; want capped at %d and a list", capped.Limit, capped.Entries, overlay.MaxAuditLimit)
	}

	brIngest(t, addr, "aud", msg("a-1", "spammer", "FREE followers at bit.ly/xyz", 0), msg("a-2", "fan", "lovely colours today", 0))
	var res struct {
		Entries []store.AuditEntry `json:"entries"`
	}
	// The automatic entry first, so that the moderator's is the newest.
	eventually(t, 5*time.Second, "the automatic hide of a-1 is audited", func() bool {
		callJSON(t, "GET", base+"/v1/audit?stream=aud&user=spammer", adminSecret, "", &res)
		return len(res.Entries) == 1
	})
	if code, body := call(t, "POST", base+"/v1/messages/a-2/hide", modSecret, `{"stream":"aud","reason":"off topic"}`); code != 200 {
		t.Fatalf("hide: %d %s", code, body)
	}
	if e := res.Entries[0]; e.Actor != "auto" || e.Action != "hide" || e.Target != "a-1" || e.Rule == "" || e.TS == 0 {
		t.Errorf("auto entry = %+v; want actor auto, action hide, target a-1, a rule and a time", e)
	}
	callJSON(t, "GET", base+"/v1/audit?user=fan&since="+url.QueryEscape(time.Now().Add(-time.Minute).Format(time.RFC3339)), adminSecret, "", &res)
	if len(res.Entries) != 1 || res.Entries[0].Actor != "mods" || res.Entries[0].Reason != "off topic" || res.Entries[0].Target != "a-2" {
		t.Errorf("audit of fan = %+v; want the moderator's hide with its reason", res.Entries)
	}
	callJSON(t, "GET", base+fmt.Sprintf("/v1/audit?stream=aud&since=%d", time.Now().Add(time.Hour).UnixMilli()), adminSecret, "", &res)
	if len(res.Entries) != 0 {
		t.Errorf("since in the future: %d entries, want 0", len(res.Entries))
	}
	callJSON(t, "GET", base+"/v1/audit?stream=aud&limit=1", adminSecret, "", &res)
	if len(res.Entries) != 1 || res.Entries[0].Target != "a-2" {
		t.Errorf("limit=1: %+v; want only the newest entry (the hide of a-2)", res.Entries)
	}
}

// export is the part of GET /v1/users/{id}/export the tests read.
type export struct {
	User       string                 `json:"user"`
	Messages   []moderate.UserMessage `json:"messages"`
	Replies    []chat.Reply           `json:"replies"`
	Handoffs   []chat.Ticket          `json:"handoffs"`
	OptOut     *chat.OptOut           `json:"optout"`
	Labeled    []store.LabeledExample `json:"labeled_examples"`
	Audit      []store.AuditEntry     `json:"audit"`
	Automation struct {
		Recent []chat.TicketMessage `json:"recent_messages"`
		Drafts []chat.Draft         `json:"drafts"`
	} `json:"automation"`
	Restriction *store.Restriction   `json:"restriction"`
	Questions   []trend.UserQuestion `json:"trending_questions"`
}

// TestExportAndErase: a user's messages, ticket, opt-out, labeled example
// and audit entries are in the export; erasure removes them everywhere
// (also after a restart), and leaves only the record that it happened.
func TestExportAndErase(t *testing.T) {
	dir := t.TempDir()
	app1 := openApp(t, dir)
	base := "http://" + app1.Addr()
	brIngest(t, app1.Addr(), "ex",
		msg("x-1", "u-1", "how long does shipping take?", 0),
		msg("x-2", "u-1", "agent please, order 5521 refund", 0),
		msg("x-3", "u-1", "FREE followers at bit.ly/xyz", 0),
		msg("x-4", "u-1", "STOP", 0),
		msg("o-1", "u-2", "great show, love it", 0))
	decisionsOf(t, base, map[string]string{"x-3": "u-1", "o-1": "u-2"})
	if code, body := call(t, "POST", base+"/v1/messages/x-3/approve", modSecret, `{"stream":"ex","reason":"my own link"}`); code != 200 {
		t.Fatalf("approve: %d %s", code, body)
	}
	var ex export
	eventually(t, 5*time.Second, "u-1's export has 4 messages, a ticket, the opt-out, a labeled example and audit entries", func() bool {
		callJSON(t, "GET", base+"/v1/users/u-1/export", adminSecret, "", &ex)
		return len(ex.Messages) == 4 && len(ex.Handoffs) == 1 && ex.OptOut != nil && len(ex.Labeled) == 1 && len(ex.Audit) >= 2
	})
	if len(ex.Questions) != 1 || ex.Questions[0].Text != "how long does shipping take?" || ex.Questions[0].Stream != "ex" {
		t.Errorf("exported trending questions = %+v; want u-1's shipping question", ex.Questions)
	}
	if !ex.OptOut.Out || ex.Handoffs[0].OrderID != "5521" || ex.Labeled[0].ID != "x-3" || ex.Labeled[0].Source != "approve" || len(ex.Replies) == 0 || len(ex.Automation.Recent) == 0 {
		t.Errorf("export = %+v", ex)
	}
	if ex.Labeled[0].Labels.Has(chat.LabelSpam) || ex.Labeled[0].Labels.Has(chat.LabelLink) {
		t.Errorf("approved link labeled %v; approve drops the blocking labels", ex.Labeled[0].Labels)
	}
	for _, m := range ex.Messages {
		if !strings.Contains(string(m.Decision), `"u-1"`) {
			t.Errorf("u-1's export holds another user's message: %s", m.Decision)
		}
	}

	if code, _ := call(t, "DELETE", base+"/v1/users/u-1", modSecret, ""); code != http.StatusForbidden {
		t.Errorf("DELETE by a moderator: %d, want 403", code)
	}
	var er struct {
		Erased map[string]int `json:"erased"`
	}
	callJSON(t, "DELETE", base+"/v1/users/u-1", adminSecret, "", &er)
	for k, min := range map[string]int{"messages": 4, "handoffs": 1, "optouts": 1, "labeled_examples": 1, "audit_redacted": 2, "replies": 1, "automation": 1, "trending_questions": 1} {
		if er.Erased[k] < min {
			t.Errorf("erased %s = %d, want ≥ %d (%v)", k, er.Erased[k], min, er.Erased)
		}
	}
	checkErased := func(base string) {
		t.Helper()
		var after export
		callJSON(t, "GET", base+"/v1/users/u-1/export", adminSecret, "", &after)
		if len(after.Messages)+len(after.Handoffs)+len(after.Labeled)+len(after.Replies)+len(after.Automation.Recent)+len(after.Questions) != 0 || after.OptOut != nil {
			t.Errorf("export after erasure = %+v; want it empty", after)
		}
		// The erasure record, then only the audit of later exports (an
		// export is audited, naming the user it was about).
		if len(after.Audit) == 0 || after.Audit[0].Action != "erase" || after.Audit[0].Actor != "ops" || after.Audit[0].Target != "u-1" {
			t.Errorf("audit after erasure = %+v; want the erasure record first", after.Audit)
		}
		for _, e := range after.Audit[min(1, len(after.Audit)):] {
			if e.Action != "export" || e.Actor != "ops" {
				t.Errorf("audit after erasure has %+v; want only the erasure and later exports", e)
			}
		}
		var qs struct{ Questions []trend.TrendQuestion }
		callJSON(t, "GET", base+"/v1/questions?stream=ex", hostSecret, "", &qs)
		for _, q := range qs.Questions {
			if strings.Contains(q.Text, "shipping") {
				t.Errorf("the overlay still shows the erased user's question: %+v", q)
			}
		}
		var list struct{ Handoffs []chat.Ticket }
		callJSON(t, "GET", base+"/v1/handoffs?stream=ex", agentSecret, "", &list)
		if len(list.Handoffs) != 0 {
			t.Errorf("handoffs after erasure: %+v", list.Handoffs)
		}
		var aud struct{ Entries []store.AuditEntry }
		callJSON(t, "GET", base+"/v1/audit?stream=ex&limit=1000", adminSecret, "", &aud)
		redacted := 0
		for _, e := range aud.Entries {
			if e.Erased {
				redacted++
				if e.User != "" || e.Reason != "" || e.Target == "u-1" || e.TS == 0 || e.Action == "" {
					t.Errorf("redacted entry %+v keeps the user or a reason, or lost when/what", e)
				}
			}
			if strings.Contains(e.Reason, "my own link") {
				t.Errorf("the moderator's reason about an erased message survived: %+v", e)
			}
		}
		if redacted < 2 {
			t.Errorf("%d redacted entries in the stream's audit, want ≥ 2", redacted)
		}
		var other export
		callJSON(t, "GET", base+"/v1/users/u-2/export", adminSecret, "", &other)
		if len(other.Messages) != 1 && base == "http://"+app1.Addr() {
			t.Errorf("u-2's messages = %d, want 1: erasure of u-1 must not touch them", len(other.Messages))
		}
	}
	checkErased(base)

	// The erasure is durable: nothing comes back after a restart.
	app1.stop(t)
	app2 := openApp(t, dir)
	checkErased("http://" + app2.Addr())
}

func openApp(t *testing.T, dir string) *testApp {
	t.Helper()
	return runApp(t, dir, withAgent)
}

func (ta *testApp) stop(t *testing.T) {
	t.Helper()
	if ta.cancel == nil {
		return
	}
	ta.cancel()
	ta.cancel = nil
	if err := <-ta.done; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// TestRestrictionsSurviveRestart: a ban and a running timeout hold after
// the server restarts from the same data dir; an unban and a timeout
// that ended do not come back.
func TestRestrictionsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	a1 := openApp(t, dir)
	base := "http://" + a1.Addr()
	for _, c := range []struct{ user, action, body string }{
		{"u-ban", "ban", `{"reason":"raid"}`},
		{"u-long", "timeout", `{"seconds":600}`},
		{"u-short", "timeout", `{"seconds":1}`},
		{"u-freed", "ban", `{}`},
		{"u-freed", "unban", `{}`},
	} {
		if code, body := call(t, "POST", base+"/v1/users/"+c.user+"/"+c.action, modSecret, c.body); code != 200 {
			t.Fatalf("%s %s: %d %s", c.action, c.user, code, body)
		}
	}
	var short export
	callJSON(t, "GET", base+"/v1/users/u-short/export", adminSecret, "", &short)
	if short.Restriction == nil || short.Restriction.Until == 0 {
		t.Fatalf("u-short's timeout is not kept: %+v", short.Restriction)
	}
	a1.stop(t)
	for time.Now().UnixMilli() <= short.Restriction.Until { // the timeout must have ended
		time.Sleep(20 * time.Millisecond)
	}

	a2 := openApp(t, dir)
	base = "http://" + a2.Addr()
	brIngest(t, a2.Addr(), "rs", msg("r-1", "u-ban", "hello again", 0), msg("r-2", "u-long", "i am back", 0),
		msg("r-3", "u-short", "hi there", 0), msg("r-4", "u-freed", "hi all", 0))
	decisionsOf(t, base, map[string]string{"r-1": "u-ban", "r-2": "u-long", "r-3": "u-short", "r-4": "u-freed"})
	for user, want := range map[string]string{"u-ban": "user.ban", "u-long": "user.timeout"} {
		until, _, ok := a2.Desk.Restricted(user)
		if !ok || (want == "user.ban") != (until == 0) {
			t.Errorf("%s after restart: restricted %v until %d; want %s", user, ok, until, want)
		}
	}
	for _, user := range []string{"u-short", "u-freed"} {
		if _, _, ok := a2.Desk.Restricted(user); ok {
			t.Errorf("%s is restricted after restart; the timeout ended / the ban was lifted", user)
		}
		var ex export
		callJSON(t, "GET", base+"/v1/users/"+user+"/export", adminSecret, "", &ex)
		if ex.Restriction != nil {
			t.Errorf("%s's restriction is still kept: %+v", user, ex.Restriction)
		}
	}
	for id, state := range map[string]string{"r-1": moderate.StateHidden, "r-2": moderate.StateHidden, "r-3": moderate.StateVisible, "r-4": moderate.StateVisible} {
		if got, _ := a2.Desk.State("rs", id); got != state {
			t.Errorf("message %s after restart: %s, want %s", id, got, state)
		}
	}
}

// TestKPIs drives a scripted show: an automatic hide undone by a
// moderator, a ticket claimed a minute after it was asked for, an FAQ
// answer, and checks every number.
func TestKPIs(t *testing.T) {
	addr := startApp(t, withAgent)
	base := "http://" + addr
	asked := time.Now().Add(-time.Minute).UnixMilli()
	msgs := []string{
		msg("k-1", "v-1", "FREE followers at bit.ly/xyz", 0),
		msg("k-2", "v-2", "great show, love the colours", 0),
		msg("k-3", "v-3", "agent please, order 5521 not delivered", asked),
		msg("k-4", "v-4", "how long does shipping take?", 0),
		msg("k-5", "v-5", "hello from pune", 0),
	}
	brIngest(t, addr, "kp", msgs...)
	decs := decisionsOf(t, base, map[string]string{"k-1": "v-1", "k-2": "v-2", "k-3": "v-3", "k-4": "v-4", "k-5": "v-5"})
	auto, meaningful, replies := 0, 0, 0
	for _, d := range decs {
		for _, r := range d.Reasons {
			if r.Rule == "faq.answer" || r.Rule == "handoff.notice" {
				replies++
			}
		}
		if d.Action != chat.Allow {
			auto++
		}
		if moderate.Meaningful(&d) {
			meaningful++
		}
	}
	if decs["k-1"].Action != chat.Hide || decs["k-3"].Handoff == nil || replies == 0 {
		t.Fatalf("the scenario needs k-1 hidden, k-3 handed off and an automated reply: %+v", decs)
	}
	if code, body := call(t, "POST", base+"/v1/messages/k-1/approve", modSecret, `{"stream":"kp"}`); code != 200 {
		t.Fatalf("approve: %d %s", code, body)
	}
	claimed := time.Now().UnixMilli()
	if code, body := call(t, "POST", base+"/v1/handoffs/"+decs["k-3"].Handoff.ID+"/claim", agentSecret, ""); code != 200 {
		t.Fatalf("claim: %d %s", code, body)
	}

	for _, c := range []struct {
		token string
		want  int
	}{{"", 401}, {ingestSecret, 403}, {agentSecret, 403}, {hostSecret, 200}, {modSecret, 200}, {adminSecret, 200}} {
		if code, body := get(t, base+"/v1/kpis?stream=kp", c.token); code != c.want {
			t.Errorf("/v1/kpis with token %q: %d, want %d (%s)", c.token, code, c.want, body)
		}
	}
	if code, body := get(t, base+"/v1/kpis", hostSecret); code != 400 || !strings.Contains(body, "stream") {
		t.Errorf("/v1/kpis without stream: %d %s, want 400", code, body)
	}
	var rep moderate.Report
	callJSON(t, "GET", base+"/v1/kpis?stream=kp", hostSecret, "", &rep)
	ratio := func(name string, r moderate.Ratio, n, of int64) {
		t.Helper()
		if r.N != n || r.Of != of || r.Rate == nil || *r.Rate != float64(n)/float64(of) {
			t.Errorf("%s = %+v, want %d/%d", name, r, n, of)
		}
	}
	ratio("false_positive_rate", rep.FalsePositiveRate, 1, int64(auto))
	ratio("meaningful_comment_rate", rep.MeaningfulRate, int64(meaningful), 5)
	ratio("resolution_rate", rep.ResolutionRate, 0, 1)
	if rep.FirstResponseMS.N != 1 || *rep.FirstResponseMS.Median != *rep.FirstResponseMS.P90 ||
		*rep.FirstResponseMS.Median < claimed-asked || *rep.FirstResponseMS.Median > claimed-asked+10_000 {
		t.Errorf("first_response_ms = %+v, want one claim ≈ %d ms after the ask", rep.FirstResponseMS, claimed-asked)
	}
	if rep.AutoReplies != int64(replies) {
		t.Errorf("auto_replies = %d, want %d (FAQ answers and handoff notices)", rep.AutoReplies, replies)
	}
	if rep.MessagesPerSecond != 5.0/60 || rep.DecisionsPerSecond != float64(auto+1)/60 {
		t.Errorf("per second: messages %v, decisions %v; want 5/60 and %d/60 (automatic hides and the approve)", rep.MessagesPerSecond, rep.DecisionsPerSecond, auto+1)
	}
	if code, body := call(t, "POST", base+"/v1/handoffs/"+decs["k-3"].Handoff.ID+"/resolve", agentSecret, ""); code != 200 {
		t.Fatalf("resolve: %d %s", code, body)
	}
	callJSON(t, "GET", base+"/v1/kpis?stream=kp", modSecret, "", &rep)
	ratio("resolution_rate after resolve", rep.ResolutionRate, 1, 1)
}
