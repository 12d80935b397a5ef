package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/livemod/livemod/store"
)

// TestAppealOverturn: a hidden message's author appeals through the
// bridge (ingest token); the moderator sees it in the open queue and
// overturns it; the message is visible again on the desk, the user's
// timeout is lifted; every step is audited; a second decision is a 409;
// the KPIs count it; a limited moderator of another stream cannot see or
// decide it.
func TestAppealOverturn(t *testing.T) {
	ta := runApp(t, t.TempDir(), withShowAModerator)
	base := "http://" + ta.Addr()
	brIngest(t, ta.Addr(), "show-b", msg("m-1", "viewer-1", "is the blue one in stock?", 0))
	onOverlay := func() bool {
		_, body := get(t, base+"/v1/questions?stream=show-b", hostSecret)
		return strings.Contains(body, "blue one in stock")
	}
	eventually(t, 5*time.Second, "the question on the overlay", onOverlay)
	for _, c := range []struct{ path, body string }{
		{"/v1/messages/m-1/hide", `{"stream":"show-b","reason":"looked like spam"}`},
		{"/v1/users/viewer-1/timeout", `{"stream":"show-b","seconds":600,"reason":"spam"}`},
	} {
		if code, body := call(t, "POST", base+c.path, modSecret, c.body); code != 200 {
			t.Fatalf("%s: %d %s", c.path, code, body)
		}
	}
	if onOverlay() {
		t.Error("the hidden question is still on the overlay")
	}
	// Bad appeals are refused with what to fix.
	for _, bad := range []string{`{"stream":"show-b","text":"x"}`, `{"stream":"show-b","user":{"id":"viewer-1"}}`, `{"user":{"id":"v"},"text":"x"}`, `[1]`} {
		if code, body := call(t, "POST", base+"/v1/appeals", ingestSecret, bad); code != 400 {
			t.Errorf("appeal %s: %d %s; want 400", bad, code, body)
		}
	}
	code, body := call(t, "POST", base+"/v1/appeals", ingestSecret, `{"stream":"show-b","user":{"id":"viewer-1"},"message_id":"m-1","text":"I was asking about stock, not spamming"}`)
	var created struct{ ID string }
	if code != 200 || json.Unmarshal([]byte(body), &created) != nil || created.ID == "" {
		t.Fatalf("POST /v1/appeals: %d %s", code, body)
	}
	var q struct{ Appeals []store.Appeal }
	callJSON(t, "GET", base+"/v1/appeals?stream=show-b&state=open", modSecret, "", &q)
	if len(q.Appeals) != 1 || q.Appeals[0].ID != created.ID || q.Appeals[0].MessageID != "m-1" {
		t.Fatalf("open appeals = %+v", q.Appeals)
	}
	// Another stream's limited moderator: refused.
	if code, _ := call(t, "GET", base+"/v1/appeals?stream=show-b", showAModSecret, ""); code != 403 {
		t.Errorf("mod-a lists show-b's appeals: %d, want 403", code)
	}
	if code, _ := call(t, "POST", base+"/v1/appeals/"+created.ID+"/overturn", showAModSecret, `{"reason":"x"}`); code != 403 {
		t.Errorf("mod-a overturns show-b's appeal: %d, want 403", code)
	}
	if code, _ := call(t, "POST", base+"/v1/appeals/"+created.ID+"/overturn", modSecret, `{}`); code != 400 {
		t.Errorf("overturn without a reason: %d, want 400", code)
	}
	var ap store.Appeal
	callJSON(t, "POST", base+"/v1/appeals/"+created.ID+"/overturn", modSecret, `{"reason":"a fair question"}`, &ap)
	if ap.State != "overturned" || ap.DecidedBy != "mods" || strings.Join(ap.Undone, ",") != "unban,unhide" {
		t.Errorf("overturned appeal = %+v; want overturned by mods, undone unban,unhide", ap)
	}
	if code, body := call(t, "POST", base+"/v1/appeals/"+created.ID+"/uphold", modSecret, `{"reason":"again"}`); code != 409 || !strings.Contains(body, `"state":"overturned"`) {
		t.Errorf("second decision: %d %s; want 409 naming overturned", code, body)
	}
	if !onOverlay() {
		t.Error("the question is not back on the overlay after the overturn")
	}
	if _, _, restricted := ta.Desk.Restricted("viewer-1"); restricted {
		t.Error("the timeout is still in force after the overturn")
	}
	// Visible again on the moderator console's snapshot.
	visible := false
	for _, l := range ta.Desk.Snapshot("show-b") {
		if strings.Contains(string(l), `"m-1"`) && !strings.Contains(string(l), `"state":"hidden"`) {
			visible = true
		}
	}
	if !visible {
		t.Errorf("m-1 is not visible again on the console: %s", ta.Desk.Snapshot("show-b"))
	}
	acts := auditActions(t, base, "show-b")
	for _, a := range []string{"appeal.create", "appeal.overturn", "unhide", "unban"} {
		if len(acts[a]) != 1 {
			t.Errorf("%d %s entries in the audit, want 1", len(acts[a]), a)
		}
	}
	if e := acts["appeal.create"]; len(e) == 1 && (e[0].Actor != "bridge" || e[0].Role != "ingest" || e[0].Target != created.ID) {
		t.Errorf("appeal.create = %+v", e[0])
	}
	var k struct {
		Appeals store.AppealStats `json:"appeals"`
	}
	callJSON(t, "GET", base+"/v1/kpis?stream=show-b", modSecret, "", &k)
	if k.Appeals.Received != 1 || k.Appeals.Overturned != 1 || k.Appeals.Open != 0 {
		t.Errorf("appeal KPIs = %+v", k.Appeals)
	}
}
