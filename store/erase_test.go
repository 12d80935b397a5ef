package store

import (
	"context"
	"testing"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/handoff"
)

func TestRestrictionsKeptAndEnded(t *testing.T) {
	db, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, r := range []Restriction{{User: "ban", Actor: "mods"}, {User: "long", Until: 5000}, {User: "over", Until: 1000}, {User: "lifted"}} {
		if err := db.PutRestriction(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.DeleteRestriction("lifted"); err != nil {
		t.Fatal(err)
	}
	rs, err := db.Restrictions(2000)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range rs {
		got[r.User] = true
	}
	if len(rs) != 2 || !got["ban"] || !got["long"] {
		t.Errorf("Restrictions(2000) = %+v; want the ban and the running timeout", rs)
	}
	if _, ok, _ := db.RestrictionOf("over"); ok {
		t.Error("an ended timeout is still kept after loading")
	}
}

// TestEraseUser: the user's tickets, outbox entries, opt-out and labeled
// examples go; audit entries about them are redacted; others' stay; a
// late write of an erased ticket is dropped.
func TestEraseUser(t *testing.T) {
	ctx := context.Background()
	db, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, err := db.OpenAutomation(AutomationOptions{Outbox: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	open := func(id, user string) {
		a.Upsert("s", user, handoff.ChangeFunc(func(*chat.Ticket) *chat.Ticket {
			return &chat.Ticket{ID: id, Stream: "s", User: chat.User{ID: user}, Summary: "order 1 of " + user, State: chat.TicketOpen}
		}))
	}
	open("h-1", "gone")
	open("h-2", "kept")
	a.SetOptOut(chat.OptOut{User: "gone", Out: true, TS: 7})
	if err := a.Flush(ctx); err != nil { // the tickets and their outbox entries are on disk
		t.Fatal(err)
	}
	for _, u := range []string{"gone", "kept"} {
		msg := chat.Message{ID: "m-" + u, Stream: "s", User: chat.User{ID: u}, Text: "secret of " + u}
		if err := db.AppendLabel(LabeledExample{Message: msg, Source: "hide", Actor: "mods"}); err != nil {
			t.Fatal(err)
		}
	}
	db.AppendAudit(
		AuditEntry{TS: 1, Actor: "mods", Action: "hide", Target: "m-gone", Stream: "s", User: "gone", Reason: "said secret"},
		AuditEntry{TS: 2, Actor: "anita", Action: "handoff.claim", Target: "h-1"},
		AuditEntry{TS: 3, Actor: "mods", Action: "ban", Target: "gone", User: "gone", Reason: "raid"},
		AuditEntry{TS: 4, Actor: "mods", Action: "hide", Target: "m-kept", User: "kept", Reason: "kept reason"},
	)

	st, err := a.EraseUser(ctx, "gone")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Tickets) != 1 || st.OptOuts != 1 || st.Outbox != 1 {
		t.Errorf("automation erased %+v; want 1 ticket, 1 opt-out, 1 outbox entry", st)
	}
	got, err := db.EraseUser("gone", st.Tickets, AuditEntry{TS: 9, Actor: "ops", Action: "erase", Target: "gone"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Labels != 1 || got.Audit != 3 {
		t.Errorf("erased %+v; want 1 label, 3 audit entries redacted", got)
	}
	if _, err := a.Update(context.Background(), "h-1", func(t *chat.Ticket) error { return nil }); err != handoff.ErrTicketNotFound {
		t.Errorf("update of an erased ticket: %v, want not found", err)
	}
	// The user chats on: no ticket of theirs is active, so their lines
	// go nowhere (before, the erased ticket's husk took them).
	if a.HasActive("s", "gone") {
		t.Error("the erased user still has an active ticket")
	}
	if ts, opt := a.UserRecords("gone"); len(ts) != 0 || opt != nil {
		t.Errorf("records of gone after erasure: %+v %+v", ts, opt)
	}
	if ls, _ := db.LabelsOf("gone"); len(ls) != 0 {
		t.Errorf("labels of gone: %+v", ls)
	}
	if ls, _ := db.LabelsOf("kept"); len(ls) != 1 {
		t.Errorf("labels of kept: %+v, want 1", ls)
	}
	about, _ := db.AuditAbout("gone", nil)
	if len(about) != 1 || about[0].Action != "erase" || about[0].Actor != "ops" {
		t.Errorf("audit about gone = %+v; want only the erasure", about)
	}
	all, _ := db.Audit(AuditQuery{})
	for _, e := range all {
		if e.Erased && (e.User != "" || e.Reason != "" || e.Target == "gone" || e.TS == 0 || e.Actor == "") {
			t.Errorf("redacted entry %+v", e)
		}
		if e.User == "kept" && e.Reason != "kept reason" {
			t.Errorf("another user's entry changed: %+v", e)
		}
	}
	// Reopen: nothing of gone comes back, kept's ticket does.
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := db.OpenAutomation(AutomationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(ctx)
	if ts, opt := b.UserRecords("gone"); len(ts) != 0 || opt != nil {
		t.Errorf("after reopening: %+v %+v", ts, opt)
	}
	if ts, _ := b.UserRecords("kept"); len(ts) != 1 {
		t.Errorf("kept's tickets after reopening: %d, want 1", len(ts))
	}
}
