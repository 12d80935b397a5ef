package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/handoff"
	bolt "go.etcd.io/bbolt"
)

// TestRetentionPurge: on an injected clock, every kind's records past
// their retention are gone after the purge (in memory too), younger ones
// stay, the purge's one audit entry gives the counts per kind, the audit
// chain still verifies, and the oldest record per kind moves.
func TestRetentionPurge(t *testing.T) {
	dir := t.TempDir()
	db, a := openAutomation(t, dir, AutomationOptions{Outbox: true})
	now := time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC)
	day := func(n int) int64 { return now.Add(-time.Duration(n) * 24 * time.Hour).UnixMilli() }
	r := Retention{Support: 365 * 24 * time.Hour, Chat: 182 * 24 * time.Hour, Labels: 365 * 24 * time.Hour, OptOuts: 730 * 24 * time.Hour}

	// Tickets: one resolved 400 days ago (gone, with its webhook
	// delivery), one resolved 10 days
	// ago (stays), one open since 500 days (stays: active).
	for _, tk := range []struct {
		id, user, state string
		resolved        int64
	}{{"h-1", "u-1", chat.TicketResolved, day(400)}, {"h-2", "u-2", chat.TicketResolved, day(10)}, {"h-3", "u-3", chat.TicketOpen, 0}} {
		tk := tk
		a.Upsert("s", tk.user, handoff.ChangeFunc(func(*chat.Ticket) *chat.Ticket {
			return &chat.Ticket{ID: tk.id, Stream: "s", User: chat.User{ID: tk.user}, State: tk.state, Created: day(500), ResolvedAt: tk.resolved}
		}))
	}
	// On disk, each with its webhook delivery (the outbox is on).
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	a.SetOptOut(chat.OptOut{User: "old", Out: true, TS: day(800)})
	a.SetOptOut(chat.OptOut{User: "new", Out: true, TS: day(100)})
	for _, at := range []int64{day(400), day(30)} {
		if err := db.AppendLabel(LabeledExample{Message: chat.Message{ID: "m", Stream: "s", User: chat.User{ID: "u"}}, Source: "hide", At: at}); err != nil {
			t.Fatal(err)
		}
	}
	for _, ap := range []Appeal{{Stream: "s", User: "v1", Text: "x", Created: day(400)}, {Stream: "s", User: "v2", Text: "y", Created: day(400)}, {Stream: "s", User: "v3", Text: "z", Created: day(5)}} {
		got, err := db.AddAppeal(ap)
		if err != nil {
			t.Fatal(err)
		}
		if ap.User != "v2" { // v2's stays open
			if _, err := db.DecideAppeal(got.ID, AppealUpheld, "m", "r", ap.Created+1000, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Audit: a chunk 400 days old (deleted), a chunk 200 days old of
	// chat (detail redacted) and support (kept whole), a young chunk.
	old := []AuditEntry{{TS: day(400), Actor: "auto", Action: "hide", Target: "m1", Stream: "s", User: "u1", Reason: "spam"}}
	mid := []AuditEntry{
		{TS: day(200), Actor: "auto", Action: "hide", Target: "m2", Stream: "s", User: "u2", Reason: "spam link"},
		{TS: day(200), Actor: "auto", Action: "ticket.create", Target: "h-9", Stream: "s", User: "u2", Reason: "refund"},
	}
	young := []AuditEntry{{TS: day(1), Actor: "auto", Action: "hide", Target: "m3", Stream: "s", User: "u3", Reason: "spam"}}
	for _, b := range [][]AuditEntry{old, mid, young} {
		if err := db.AppendAudit(b...); err != nil {
			t.Fatal(err)
		}
	}
	before := db.Oldest()

	var recorded []AuditEntry
	tick := make(chan time.Time)
	done := make(chan Purged, 1)
	p := &Purger{DB: db, Automation: a, Retention: r, Now: func() time.Time { return now }, Tick: tick,
		Audit: func(e AuditEntry) {
			recorded = append(recorded, e)
			if err := db.AppendAudit(e); err != nil {
				t.Error(err)
			}
		},
		OnPurge: func(p Purged, err error) {
			if err != nil {
				t.Error(err)
			}
			done <- p
		}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)
	tick <- now
	got := <-done

	want := Purged{"kpi_minutes": 0, "drafts": 0, "tickets": 1, "outbox": 1, "appeals": 1, "audit": 1, "chat_detail": 1, "labels": 1, "optouts": 1}
	for _, k := range RetentionKinds {
		if got[k] != want[k] {
			t.Errorf("purged %s = %d, want %d (all: %v)", k, got[k], want[k], got)
		}
	}
	if len(recorded) != 1 || recorded[0].Action != "retention.purge" || recorded[0].Reason != want.String() || recorded[0].TS != now.UnixMilli() {
		t.Errorf("the purge's audit = %+v; want one retention.purge entry saying %q", recorded, want.String())
	}
	// Memory and disk agree.
	if _, ok := a.Get("h-2"); !ok {
		t.Error("the young resolved ticket h-2 is gone")
	}
	if tk, ok := a.Get("h-3"); !ok || tk.State != chat.TicketOpen {
		t.Error("the open ticket h-3 is gone")
	}
	if tk, ok := a.Get("h-1"); ok && tk.User.ID != "" {
		t.Errorf("h-1 still holds its content: %+v", tk)
	}
	if _, ok := a.OptOut("old"); ok {
		t.Error("the 800-day-old opt-out is still in memory")
	}
	if !a.OptedOut("new") {
		t.Error("the 100-day-old opt-out is gone")
	}
	db.bolt.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketHandoffs).Get([]byte("h-1")) != nil || tx.Bucket(bucketHandoffs).Get([]byte("h-2")) == nil {
			t.Error("on disk: h-1 should be gone and h-2 kept")
		}
		if tx.Bucket(bucketOptouts).Get([]byte("old")) != nil || tx.Bucket(bucketOptouts).Get([]byte("new")) == nil {
			t.Error("on disk: the old opt-out should be gone and the new kept")
		}
		return nil
	})
	aps, _ := db.Appeals("", "", 10)
	if len(aps) != 2 {
		t.Errorf("%d appeals left, want 2 (the open old one and the young one)", len(aps))
	}
	entries, _ := db.Audit(AuditQuery{Limit: 100})
	byTarget := map[string]AuditEntry{}
	for _, e := range entries {
		byTarget[e.Target] = e
	}
	if _, ok := byTarget["m1"]; ok {
		t.Error("the 400-day-old audit entry is still there")
	}
	if e := byTarget["m2"]; e.User != "" || e.Reason != "" || !e.Erased || e.Action != "hide" {
		t.Errorf("the 200-day-old chat entry = %+v; want its detail redacted, the action kept", e)
	}
	if e := byTarget["h-9"]; e.User != "u2" || e.Reason != "refund" {
		t.Errorf("the 200-day-old support entry = %+v; want it whole", e)
	}
	if e := byTarget["m3"]; e.User != "u3" || e.Reason != "spam" {
		t.Errorf("the young entry = %+v; want it whole", e)
	}
	rep, err := db.VerifyAudit()
	if err != nil || !rep.Anchored || rep.First != 2 {
		t.Errorf("VerifyAudit after the purge = %+v, %v; want valid, anchored, starting at entry 2", rep, err)
	}
	after := p.Oldest()
	for _, k := range []string{"audit", "labels", "optouts"} {
		if !(after[k] > before[k]) {
			t.Errorf("oldest %s: %d before, %d after; want it younger", k, before[k], after[k])
		}
	}

	// Removing the first entry after the purge is still found.
	db.bolt.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAudit).Cursor()
		k, _ := c.First()
		return tx.Bucket(bucketAudit).Delete(append([]byte(nil), k...))
	})
	var br *ChainBreak
	if _, err := db.VerifyAudit(); !errors.As(err, &br) || !strings.Contains(br.Reason, "missing") {
		t.Errorf("after removing the entry after the anchor: %v; want missing entries", err)
	}
}
