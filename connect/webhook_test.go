package connect_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/connect"
	"github.com/livemod/livemod/handoff"
	"github.com/livemod/livemod/store"
)

const secret = "crm-shared-secret-123"

// crm is a receiver: it verifies signatures, fails the first failN
// attempts of each ticket, and counts accepted deliveries per ticket id.
type crm struct {
	mu       sync.Mutex
	failN    int
	attempts map[string]int
	accepted map[string]int
	badSig   int
	down     bool // answer 503 to everything
}

func newCRM(failN int) (*crm, *httptest.Server) {
	c := &crm{failN: failN, attempts: map[string]int{}, accepted: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var t chat.Ticket
		c.mu.Lock()
		defer c.mu.Unlock()
		if !connect.Verify(secret, body, r.Header.Get(connect.SignatureHeader)) || json.Unmarshal(body, &t) != nil {
			c.badSig++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		c.attempts[t.ID]++
		if c.attempts[t.ID] <= c.failN || c.down {
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		c.accepted[t.ID]++ // a real receiver dedupes by t.ID here
	}))
	return c, srv
}

func (c *crm) setDown(v bool) {
	c.mu.Lock()
	c.down = v
	c.mu.Unlock()
}

func (c *crm) get() (attempts, accepted map[string]int, bad int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, b := map[string]int{}, map[string]int{}
	for k, v := range c.attempts {
		a[k] = v
	}
	for k, v := range c.accepted {
		b[k] = v
	}
	return a, b, c.badSig
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type rig struct {
	db   *store.DB
	auto *store.Automation
	wh   *connect.Webhook
}

func open(t *testing.T, dir, url string, maxAttempts int) *rig {
	t.Helper()
	db, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{db: db}
	r.wh, err = connect.NewWebhook(db, connect.WebhookOptions{
		URL: url, Secret: secret, MaxAttempts: maxAttempts,
		Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond,
		OnError: func(err error) { t.Errorf("webhook: %v", err) },
	})
	if err != nil {
		t.Fatal(err)
	}
	r.auto, err = db.OpenAutomation(store.AutomationOptions{Outbox: true, OnCommit: r.wh.Notify})
	if err != nil {
		t.Fatal(err)
	}
	r.wh.Start()
	return r
}

func (r *rig) close(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.wh.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.auto.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.db.Close(); err != nil {
		t.Fatal(err)
	}
}

func openTicket(r *rig, id, user string) {
	r.auto.Upsert("show", user, handoff.ChangeFunc(func(cur *chat.Ticket) *chat.Ticket {
		return &chat.Ticket{ID: id, Stream: "show", User: chat.User{ID: user}, State: chat.TicketOpen, Summary: "s", Created: 1}
	}))
}

func liveEntries(t *testing.T, db *store.DB) int {
	due, next, err := db.OutboxDue(1<<62, 1000)
	if err != nil {
		t.Fatal(err)
	}
	_ = next
	return len(due)
}

// TestWebhookRetriesThenDeliversOnce: the CRM fails twice, then accepts;
// each ticket is accepted exactly once, every POST is correctly signed,
// and the outbox ends empty. Later changes to a ticket are not re-sent.
func TestWebhookRetriesThenDeliversOnce(t *testing.T) {
	c, srv := newCRM(2)
	defer srv.Close()
	r := open(t, t.TempDir(), srv.URL, 8)
	defer r.close(t)
	for _, id := range []string{"h-1", "h-2", "h-3"} {
		openTicket(r, id, "u-"+id)
	}
	r.auto.Update(context.Background(), "h-1", func(t *chat.Ticket) error { t.State = chat.TicketClaimed; return nil })
	waitFor(t, "three accepted tickets", func() bool {
		_, acc, _ := c.get()
		return len(acc) == 3
	})
	waitFor(t, "an empty outbox", func() bool { return liveEntries(t, r.db) == 0 })
	att, acc, bad := c.get()
	for id, n := range acc {
		if n != 1 || att[id] != 3 {
			t.Errorf("%s: accepted %d times after %d attempts; want once after 3", id, n, att[id])
		}
	}
	if bad != 0 {
		t.Errorf("%d POSTs had a bad signature", bad)
	}
}

// TestWebhookSurvivesRestart: the process stops mid-retry; a new one on
// the same data dir delivers the ticket, exactly once.
func TestWebhookSurvivesRestart(t *testing.T) {
	c, srv := newCRM(2)
	defer srv.Close()
	c.setDown(true) // fails until the restart, however fast retries come
	dir := t.TempDir()
	r := open(t, dir, srv.URL, 8)
	openTicket(r, "h-7", "u-7")
	waitFor(t, "a first failed attempt", func() bool {
		att, _, _ := c.get()
		return att["h-7"] >= 1
	})
	r.close(t)
	if _, acc, _ := c.get(); acc["h-7"] != 0 {
		t.Fatal("delivered before the restart, though the CRM was down")
	}
	c.setDown(false) // the CRM recovers while livemod is stopped
	r = open(t, dir, srv.URL, 8)
	defer r.close(t)
	waitFor(t, "delivery after the restart", func() bool {
		_, acc, _ := c.get()
		return acc["h-7"] == 1
	})
	waitFor(t, "an empty outbox", func() bool { return liveEntries(t, r.db) == 0 })
	if _, acc, _ := c.get(); acc["h-7"] != 1 {
		t.Errorf("accepted %d times, want 1", acc["h-7"])
	}
	if tk, ok := r.auto.Get("h-7"); !ok || tk.State != chat.TicketOpen {
		t.Errorf("ticket after restart = %+v, %v", tk, ok)
	}
}

// TestWebhookDeadLetter: after MaxAttempts failures the entry is dead,
// listed, never dropped; a retry delivers it once the CRM is back.
func TestWebhookDeadLetter(t *testing.T) {
	c, srv := newCRM(1 << 30)
	defer srv.Close()
	r := open(t, t.TempDir(), srv.URL, 3)
	defer r.close(t)
	openTicket(r, "h-9", "u-9")
	var dead []store.OutboxEntry
	waitFor(t, "a dead letter", func() bool {
		var err error
		dead, err = r.wh.DeadLetters()
		return err == nil && len(dead) == 1
	})
	if dead[0].Ticket != "h-9" || dead[0].Attempts != 3 || dead[0].LastError == "" {
		t.Errorf("dead letter = %+v", dead[0])
	}
	if att, _, _ := c.get(); att["h-9"] != 3 {
		t.Errorf("%d attempts, want 3", att["h-9"])
	}
	c.mu.Lock()
	c.failN = 0
	c.mu.Unlock()
	if _, err := r.wh.Retry(dead[0].ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delivery after retry", func() bool {
		_, acc, _ := c.get()
		return acc["h-9"] == 1
	})
	if d, _ := r.wh.DeadLetters(); len(d) != 0 {
		t.Errorf("still dead: %+v", d)
	}
}

func TestSignature(t *testing.T) {
	body := []byte(`{"id":"h-1"}`)
	sig := connect.Sign("k", body)
	if !connect.Verify("k", body, sig) || connect.Verify("other", body, sig) || connect.Verify("k", []byte(`{"id":"h-2"}`), sig) {
		t.Error("signature does not verify only the signed body under its key")
	}
	// Known answer: HMAC-SHA256("k", `{"id":"h-1"}`).
	if len(sig) != len("sha256=")+64 || sig[:7] != "sha256=" {
		t.Errorf("signature %q is not sha256=HEX", sig)
	}
}
