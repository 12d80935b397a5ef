package store

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/handoff"
	bolt "go.etcd.io/bbolt"
)

// The personal strings of the erased user: their id, display name and
// words. None may stay in any bucket after the erasure but the erasure's
// own audit entry (which names the user: README.md, "Erasure").
const (
	goneID   = "u-gone-71"
	goneName = "Gwendolyn Gone"
	goneText = "my parcel 88 to Elm Street"
)

var goneWords = []string{goneName, goneText, "elm street appeal", "asked about elm"}

// seedGone writes, for goneID and for another user, a ticket, an opt-out,
// a labeled example, reviews (a hide and a grouped reply: one open, one
// marked), a pending and a decided draft, an appeal, platform actions, an
// ended timeout and audit entries about all of them.
func seedGone(t *testing.T, db *DB, a *Automation) {
	t.Helper()
	ctx := context.Background()
	a.Upsert("s", goneID, handoff.ChangeFunc(func(*chat.Ticket) *chat.Ticket {
		return &chat.Ticket{ID: "h-1", Stream: "s", User: chat.User{ID: goneID, Name: goneName}, Summary: goneText, State: chat.TicketOpen}
	}))
	a.Upsert("s", "kept", handoff.ChangeFunc(func(*chat.Ticket) *chat.Ticket {
		return &chat.Ticket{ID: "h-2", Stream: "s", User: chat.User{ID: "kept", Name: "Kept"}, Summary: "kept summary", State: chat.TicketOpen}
	}))
	a.SetOptOut(chat.OptOut{User: goneID, Out: true, TS: 7})
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendLabel(LabeledExample{Message: chat.Message{ID: "m-1", Stream: "s", User: chat.User{ID: goneID, Name: goneName}, Text: goneText}, Source: "hide", Actor: "mods"}); err != nil {
		t.Fatal(err)
	}
	s := NewSampler(db, 1)
	defer s.Close(ctx)
	s.Decided(&chat.Decision{ID: "m-1", Stream: "s", User: chat.User{ID: goneID, Name: goneName}, Text: goneText, Action: chat.Hide, Reasons: []chat.Reason{{Rule: "spam"}}, TS: 10}, nil)
	s.Decided(&chat.Decision{ID: "m-9", Stream: "s", User: chat.User{ID: "kept"}, Text: "kept words", Action: chat.Hide, Reasons: []chat.Reason{{Rule: "spam"}}, TS: 11}, nil)
	s.Replied(&chat.Reply{ID: "r-1", Stream: "s", To: []string{goneID, "kept"}, Text: "@" + goneName + " @Kept it ships Monday", FAQ: "ship", InReplyTo: []string{"m-2", "m-3"}, Asked: "asked about elm", TS: 12})
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rs, _ := db.Reviews("", "open", 10)
	if len(rs) != 3 {
		t.Fatalf("reviews = %+v; want 3", rs)
	}
	if _, err := s.MarkReview(rs[2].ID, false, nil, "rita", "wrong for "+goneName, 20); err != nil { // the grouped reply
		t.Fatal(err)
	}
	for _, d := range []*chat.Draft{
		{Reply: chat.Reply{ID: "r-5", Stream: "s", To: []string{goneID}, Text: "@" + goneName + " soon", FAQ: "ship", InReplyTo: []string{"m-5"}, TS: 30}, Names: []string{goneName}, State: chat.DraftPending, Asked: goneText},
		{Reply: chat.Reply{ID: "r-6", Stream: "s", To: []string{"kept", goneID}, Text: "@Kept @" + goneName + " soon", FAQ: "ship", InReplyTo: []string{"m-6", "m-7"}, TS: 31}, Names: []string{"Kept", goneName}, State: chat.DraftApproved, DecidedBy: "mods", DecidedAt: 40},
		{Reply: chat.Reply{ID: "r-7", Stream: "s", To: []string{"kept"}, Text: "@Kept soon", FAQ: "ship", InReplyTo: []string{"m-8"}, TS: 32}, Names: []string{"Kept"}, State: chat.DraftPending, Asked: "kept asks"},
	} {
		if err := db.PutDraft(d); err != nil {
			t.Fatal(err)
		}
	}
	ap, err := db.AddAppeal(Appeal{Stream: "s", User: goneID, MessageID: "m-1", Text: "elm street appeal", Created: 50, By: "bridge"})
	if err != nil {
		t.Fatal(err)
	}
	acts, err := db.EnqueueActions([]Action{
		{Kind: ActTimeout, Stream: "s", Platform: "twitch", User: goneID, Seconds: 60, Reason: "spam from " + goneName, Actor: "mods", TS: 60},
		{Kind: ActBan, Stream: "s", Platform: "twitch", User: goneID, Reason: "raid by " + goneName, Actor: "mods", TS: 61},
		{Kind: ActBan, Stream: "s", Platform: "twitch", User: "kept", Reason: "kept reason", Actor: "mods", TS: 62},
	}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateAction(acts[0].ID, func(a *Action) { a.State = ActionDone }); err != nil {
		t.Fatal(err)
	}
	for _, r := range []Restriction{
		{User: goneID, Stream: "s", Until: 100, Reason: "ended, said " + goneText, Actor: "mods", TS: 60},
		{User: goneID, Reason: "banned for " + goneText, Actor: "mods", TS: 61},
	} {
		if err := db.PutRestriction(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.AppendAudit(
		AuditEntry{TS: 1, Actor: "mods", Action: "hide", Target: "m-1", Stream: "s", User: goneID, Reason: goneText},
		AuditEntry{TS: 2, Actor: "bridge", Action: "appeal.create", Target: ap.ID, Stream: "s", User: goneID, Reason: "elm street appeal"},
		AuditEntry{TS: 3, Actor: "mods", Action: "appeal.uphold", Target: ap.ID, Stream: "s", Reason: "still " + goneName},
		AuditEntry{TS: 4, Actor: "rita", Action: "review.wrong", Target: rs[2].ID, Stream: "s", Reason: "wrong for " + goneName},
		AuditEntry{TS: 5, Actor: "mods", Action: "draft.approve", Target: "r-6", Stream: "s", Reason: "ok " + goneName},
		AuditEntry{TS: 6, Actor: "twitch", Action: "platform.ban", Target: acts[1].ID, Stream: "s", Reason: "raid by " + goneName},
		AuditEntry{TS: 7, Actor: "mods", Action: "hide", Target: "m-9", Stream: "s", User: "kept", Reason: "kept reason"},
	); err != nil {
		t.Fatal(err)
	}
}

// rawHits returns every bucket value holding one of strs, skipping the
// erasure's own audit entry.
func rawHits(t *testing.T, db *DB, strs ...string) []string {
	t.Helper()
	var hits []string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				if v == nil {
					return nil // a nested bucket
				}
				for _, line := range bytes.Split(v, []byte("\n")) {
					if string(name) == "audit" && bytes.Contains(line, []byte(`"action":"erase"`)) {
						continue
					}
					for _, s := range strs {
						if bytes.Contains(bytes.ToLower(line), []byte(strings.ToLower(s))) {
							hits = append(hits, string(name)+"/"+string(k)+": "+string(line))
						}
					}
				}
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// TestEraseEveryBucket: an export lists the user's records in every
// bucket; after the erasure none of their id, name or words is left in
// any bucket's raw values (but the erasure's audit entry naming them),
// another user's records stay, the audit chain verifies — and all of it
// holds after the store is closed and opened again.
func TestEraseEveryBucket(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, err := db.OpenAutomation(AutomationOptions{Outbox: true})
	if err != nil {
		t.Fatal(err)
	}
	seedGone(t, db, a)

	before, err := db.UserStored(goneID)
	if err != nil {
		t.Fatal(err)
	}
	if len(before.Reviews) != 2 || len(before.Drafts) != 2 || len(before.Actions) != 2 || len(before.Restrictions) != 2 {
		t.Fatalf("UserStored before = %d reviews, %d drafts, %d actions, %d restrictions; want 2, 2, 2, 2",
			len(before.Reviews), len(before.Drafts), len(before.Actions), len(before.Restrictions))
	}
	if aps, _ := db.AppealsOf(goneID); len(aps) != 1 {
		t.Fatalf("appeals of gone = %+v", aps)
	}
	ids := append(before.IDs(), "ap-1")
	about, _ := db.AuditAbout(goneID, ids)
	if len(about) != 6 {
		t.Errorf("audit about gone lists %d entries; want 6: %+v", len(about), about)
	}
	if len(rawHits(t, db, goneWords...)) == 0 || len(rawHits(t, db, goneID)) < 10 {
		t.Fatal("the seed wrote none of the strings the test looks for")
	}

	st, err := a.EraseUser(ctx, goneID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.EraseUser(goneID, st.Tickets, AuditEntry{TS: 1000, Actor: "ops", Action: "erase", Target: goneID})
	if err != nil {
		t.Fatal(err)
	}
	want := Erased{Labels: 2, Audit: 6, Reviews: 2, OpenReviews: 1, Drafts: 2, Appeals: 1, Actions: 2}
	if got != want {
		t.Errorf("erased %+v; want %+v", got, want)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}

	check := func(when string, db *DB) {
		t.Helper()
		after, err := db.UserStored(goneID)
		if err != nil {
			t.Fatal(err)
		}
		// The running ban stays (erasure does not lift it), without its
		// reason; the pending ban action too.
		if len(after.Reviews) != 0 || len(after.Drafts) != 0 || len(after.Restrictions) != 1 || after.Restrictions[0].Reason != "" ||
			len(after.Actions) != 1 || after.Actions[0].Reason != "" || after.Actions[0].State != ActionPending {
			t.Errorf("%s: UserStored = %+v; want only the running ban and its pending action, without reasons", when, after)
		}
		if aps, _ := db.AppealsOf(goneID); len(aps) != 0 {
			t.Errorf("%s: appeals of gone = %+v", when, aps)
		}
		if n := db.OpenAppeals(); n != 0 {
			t.Errorf("%s: open appeals = %d, want 0", when, n)
		}
		if ls, _ := db.LabelsOf(goneID); len(ls) != 0 {
			t.Errorf("%s: labels = %+v", when, ls)
		}
		if about, _ := db.AuditAbout(goneID, nil); len(about) != 1 || about[0].Action != "erase" {
			t.Errorf("%s: audit about gone = %+v; want only the erasure", when, about)
		}
		// Entries about their appeal, review, draft and action stay,
		// redacted.
		if about, _ := db.AuditAbout(goneID, ids); len(about) != 6 {
			t.Errorf("%s: audit about gone's records = %d entries, want 5 redacted and the erasure", when, len(about))
		} else {
			for _, e := range about[:5] {
				if !e.Erased || e.Reason != "" || e.User != "" {
					t.Errorf("%s: not redacted: %+v", when, e)
				}
			}
		}
		for _, h := range rawHits(t, db, goneWords...) {
			t.Errorf("%s: still on disk: %s", when, h)
		}
		// The id stays only where the running ban needs it.
		for _, h := range rawHits(t, db, goneID) {
			if !strings.HasPrefix(h, "users/"+goneID+":") && !strings.HasPrefix(h, "actions/") {
				t.Errorf("%s: id still on disk: %s", when, h)
			}
		}
		if rep, err := db.VerifyAudit(); err != nil || rep.Erased != 6 {
			t.Errorf("%s: VerifyAudit = %+v, %v; want intact with 6 erased", when, rep, err)
		}
		// The other user's records stay, and the decided review stays
		// counted in the precision KPI, without its words.
		if rs, _ := db.Reviews("", "", 10); len(rs) != 2 {
			t.Errorf("%s: reviews = %+v; want kept's open one and the redacted marked one", when, rs)
		}
		if p, _ := db.Precision("s"); p["faq.ship"].Wrong != 1 {
			t.Errorf("%s: precision = %+v; want the marked reply still counted", when, p)
		}
		ds, _ := db.Drafts(10)
		if len(ds) != 1 || ds[0].ID != "r-7" {
			t.Errorf("%s: drafts = %+v; want only kept's r-7", when, ds)
		}
		if ks, _ := db.UserStored("kept"); len(ks.Actions) != 1 || len(ks.Reviews) != 1 {
			t.Errorf("%s: kept's records = %+v", when, ks)
		}
	}
	check("after erasure", db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	check("after restart", db)
	b, _ := json.Marshal(before)
	if !strings.Contains(string(b), goneText) {
		t.Errorf("the export before the erasure lacks the user's words: %s", b)
	}
}
