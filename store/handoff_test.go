package store

import (
	"context"
	"testing"

	"github.com/livemod/livemod/classify"
)

// TestAutomationSurvivesReopen: tickets, opt-outs and ids written behind
// are there after Close and Open on the same directory, and ids never
// repeat.
func TestAutomationSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, err := db.OpenAutomation(AutomationOptions{Outbox: true})
	if err != nil {
		t.Fatal(err)
	}
	first := a.Next("h")
	a.Upsert("s", "u-1", func(cur *classify.Ticket) *classify.Ticket {
		return &classify.Ticket{ID: "h-1", Stream: "s", User: classify.User{ID: "u-1"}, State: classify.TicketOpen}
	})
	a.Update("h-1", func(t *classify.Ticket) error { t.State = classify.TicketClaimed; t.ClaimedBy = "ag"; return nil })
	a.SetOptOut(classify.OptOut{User: "u-2", Out: true, TS: 42})
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, err = db.OpenAutomation(AutomationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(context.Background())
	if tk, ok := a.Get("h-1"); !ok || tk.State != classify.TicketClaimed || tk.ClaimedBy != "ag" || !a.HasActive("s", "u-1") {
		t.Errorf("ticket after reopen = %+v, %v", tk, ok)
	}
	if o, ok := a.OptOut("u-2"); !ok || !o.Out || o.TS != 42 || !a.OptedOut("u-2") {
		t.Errorf("opt-out after reopen = %+v, %v", o, ok)
	}
	if n := a.Next("h"); n <= first {
		t.Errorf("id %d after reopen repeats %d", n, first)
	}
	due, _, err := db.OutboxDue(1<<62, 10)
	if err != nil || len(due) != 1 || due[0].Ticket != "h-1" {
		t.Errorf("outbox = %+v, %v; want the created ticket once", due, err)
	}
}
