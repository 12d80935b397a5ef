package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/config"
	"github.com/livemod/livemod/connect"
	"github.com/livemod/livemod/store"
)

// TestTicketBoundServe: a stream fed past handoff.max_open_per_stream
// keeps that many open tickets; the longest idle are resolved by system
// with their reason in the JSON agents read (GET /v1/handoffs), audited
// as handoff.resolve by system, sent to the CRM webhook as "resolved", and
// so after a restart; the closed ticket's user opens a new one.
func TestTicketBoundServe(t *testing.T) {
	const secret = "webhook-secret-123"
	var mu sync.Mutex
	resolved := map[string]bool{}
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.Header.Get(connect.EventHeader) == "resolved" {
			mu.Lock()
			resolved[r.Header.Get("X-Livemod-Ticket")] = true
			mu.Unlock()
		}
	}))
	defer crm.Close()
	dir := t.TempDir()
	cfg := func(c *config.Config) {
		withAgent(c)
		c.Handoff.MaxOpenPerStream = 3
		c.Handoff.Webhook, c.Handoff.WebhookSecret = crm.URL, secret
	}
	ta := runApp(t, dir, cfg)
	base := "http://" + ta.Addr()
	now := time.Now().UnixMilli()
	var msgs []string
	for i := range 6 { // u-0 the longest idle, u-5 the newest
		msgs = append(msgs, msg("tb-"+strconv.Itoa(i), "u-"+strconv.Itoa(i), "agent please, order 55"+strconv.Itoa(i)+" refund", now-int64(60-i)*1000))
	}
	brIngest(t, ta.Addr(), "tb", msgs...)
	type page struct {
		Handoffs []chat.Ticket
		Total    int
	}
	var open, closed page
	eventually(t, 10*time.Second, "3 open and 3 resolved tickets", func() bool {
		callJSON(t, "GET", base+"/v1/handoffs?stream=tb&state=open", agentSecret, "", &open)
		callJSON(t, "GET", base+"/v1/handoffs?stream=tb&state=resolved", agentSecret, "", &closed)
		return open.Total == 3 && closed.Total == 3
	})
	check := func(when string, closed page) {
		t.Helper()
		users := map[string]bool{}
		for _, c := range closed.Handoffs {
			users[c.User.ID] = true
			if c.ClaimedBy != "system" || c.Outcome == nil || !strings.HasPrefix(c.Outcome.Reason, `bound: stream "tb" had more than 3 open tickets`) {
				t.Errorf("%s: closed %s by %q, outcome %+v", when, c.ID, c.ClaimedBy, c.Outcome)
			}
		}
		if !users["u-0"] || !users["u-1"] || !users["u-2"] {
			t.Errorf("%s: closed the tickets of %v, want u-0, u-1, u-2 (the longest idle)", when, users)
		}
	}
	check("served", closed)
	var audit struct {
		Entries []store.AuditEntry `json:"entries"`
	}
	eventually(t, 5*time.Second, "3 audited closes", func() bool {
		callJSON(t, "GET", base+"/v1/audit?stream=tb", adminSecret, "", &audit)
		n := 0
		for _, e := range audit.Entries {
			if e.Action == "handoff.resolve" && e.Actor == "system" && strings.Contains(e.Reason, "handoff.max_open_per_stream") {
				n++
			}
		}
		return n == 3
	})
	eventually(t, 10*time.Second, "3 resolved webhook events", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range closed.Handoffs {
			if !resolved[c.ID] {
				return false
			}
		}
		return true
	})
	ta.stop(t)

	ta = runApp(t, dir, cfg)
	base = "http://" + ta.Addr()
	var after page
	callJSON(t, "GET", base+"/v1/handoffs?stream=tb&state=resolved", agentSecret, "", &after)
	if after.Total != 3 {
		t.Fatalf("after the restart: %d resolved, want 3", after.Total)
	}
	check("after the restart", after)
	// u-0 asks again: a new ticket, which takes the stream over its
	// bound again, so the longest idle open one (u-3's) closes.
	brIngest(t, ta.Addr(), "tb", msg("tb-again", "u-0", "agent please, still no refund", 0))
	eventually(t, 10*time.Second, "u-0's new ticket, 3 open", func() bool {
		callJSON(t, "GET", base+"/v1/handoffs?stream=tb&state=open", agentSecret, "", &open)
		for _, o := range open.Handoffs {
			if o.User.ID == "u-0" && open.Total == 3 {
				return true
			}
		}
		return false
	})
}
