package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/config"
	"github.com/livemod/livemod/connect"
)

// TestWebhookClaimAndResolve: the CRM webhook hears of a ticket's
// creation, claim and resolution, each signed, in that order, through
// the outbox.
func TestWebhookClaimAndResolve(t *testing.T) {
	const secret = "webhook-secret-123"
	var mu sync.Mutex
	var events []string
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get(connect.SignatureHeader) != connect.Sign(secret, body) {
			t.Errorf("event %s: bad signature", r.Header.Get(connect.EventHeader))
		}
		mu.Lock()
		events = append(events, r.Header.Get(connect.EventHeader)+" "+r.Header.Get("X-Livemod-Ticket"))
		mu.Unlock()
	}))
	defer crm.Close()
	ta := runApp(t, t.TempDir(), func(c *config.Config) {
		withAgent(c)
		c.Handoff.Webhook, c.Handoff.WebhookSecret = crm.URL, secret
	})
	base := "http://" + ta.Addr()
	brIngest(t, ta.Addr(), "wh", msg("w-1", "u-1", "agent please, order 5521 refund", 0))
	var list struct{ Handoffs []chat.Ticket }
	eventually(t, 5*time.Second, "the ticket", func() bool {
		callJSON(t, "GET", base+"/v1/handoffs?stream=wh", agentSecret, "", &list)
		return len(list.Handoffs) == 1
	})
	id := list.Handoffs[0].ID
	eventually(t, 10*time.Second, "the created event", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(events) == 1
	})
	for _, a := range []string{"claim", "resolve"} {
		if code, body := call(t, "POST", base+"/v1/handoffs/"+id+"/"+a, agentSecret, ""); code != 200 {
			t.Fatalf("%s: %d %s", a, code, body)
		}
	}
	eventually(t, 10*time.Second, "three events", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(events) >= 3
	})
	mu.Lock()
	defer mu.Unlock()
	want := []string{"created " + id, "claimed " + id, "resolved " + id}
	if len(events) != 3 || events[0] != want[0] || events[1] != want[1] || events[2] != want[2] {
		t.Errorf("webhook events = %q; want %q", events, want)
	}
}
