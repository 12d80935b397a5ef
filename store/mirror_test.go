package store

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/handoff"
)

// mirrorLog is an AutomationOptions.Mirror that keeps what it is given,
// or fails while down.
type mirrorLog struct {
	mu   sync.Mutex
	down bool
	got  []MirrorRecord
}

func (m *mirrorLog) mirror(recs []MirrorRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return errors.New("redis: connection refused")
	}
	for _, r := range recs {
		r.Value = append([]byte(nil), r.Value...)
		m.got = append(m.got, r)
	}
	return nil
}

func (m *mirrorLog) keys() map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]string{}
	for _, r := range m.got {
		out[r.Kind+"/"+r.Stream+"/"+r.Key] = string(r.Value)
	}
	return out
}

// TestMirrorBeforeCommitted: a ticket and an opt-out reach the mirror
// before Sync (what an ack or a REST answer waits for) returns; while the
// mirror fails they are kept and given again with the next commit.
func TestMirrorBeforeCommitted(t *testing.T) {
	ctx := context.Background()
	m := &mirrorLog{}
	_, a := openAutomation(t, t.TempDir(), AutomationOptions{Mirror: m.mirror})
	a.Upsert("s", "u-1", handoff.ChangeFunc(func(*chat.Ticket) *chat.Ticket {
		return &chat.Ticket{ID: "h-1", Stream: "s", User: chat.User{ID: "u-1"}, State: chat.TicketOpen}
	}))
	a.SetOptOut(chat.OptOut{User: "u-2", Out: true, TS: 7})
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got := m.keys()
	var tk chat.Ticket
	if err := json.Unmarshal([]byte(got["ticket/s/h-1"]), &tk); err != nil || tk.State != chat.TicketOpen {
		t.Errorf("mirrored ticket = %q (%v)", got["ticket/s/h-1"], err)
	}
	if got["optout//u-2"] == "" {
		t.Errorf("opt-out not mirrored: %v", got)
	}

	m.mu.Lock()
	m.down = true
	m.mu.Unlock()
	a.Update(ctx, "h-1", func(t *chat.Ticket) error { t.State = chat.TicketClaimed; t.ClaimedBy = "ag"; return nil })
	if err := a.Sync(ctx); err != nil {
		t.Fatalf("a commit fails with its mirror: %v", err)
	}
	if p, _ := a.MirrorPending(); p != 1 {
		t.Errorf("pending while the mirror is down = %d, want 1", p)
	}
	m.mu.Lock()
	m.down = false
	m.mu.Unlock()
	a.SetOptOut(chat.OptOut{User: "u-3", Out: true, TS: 8})
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got = m.keys()
	if err := json.Unmarshal([]byte(got["ticket/s/h-1"]), &tk); err != nil || tk.State != chat.TicketClaimed {
		t.Errorf("claim not mirrored after the mirror came back: %q", got["ticket/s/h-1"])
	}
	if p, _ := a.MirrorPending(); p != 0 || got["optout//u-3"] == "" {
		t.Errorf("pending %d, mirrored %v", p, got)
	}
}

// TestAdoptNewerOnly: tickets from the cluster replace older versions and
// are kept on disk; an older one changes nothing.
func TestAdoptNewerOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, a := openAutomation(t, dir, AutomationOptions{})
	a.Upsert("s", "u-1", handoff.ChangeFunc(func(*chat.Ticket) *chat.Ticket {
		return &chat.Ticket{ID: "h-1", Stream: "s", User: chat.User{ID: "u-1"}, State: chat.TicketOpen}
	}))
	cur, _ := a.Get("h-1")
	newer := cur.Clone()
	newer.State, newer.ClaimedBy, newer.Rev = chat.TicketClaimed, "ag", cur.Rev+1
	older := cur.Clone()
	older.State, older.Rev = chat.TicketResolved, 0
	other := &chat.Ticket{ID: "h-9", Stream: "s", User: chat.User{ID: "u-9"}, State: chat.TicketOpen, Rev: 3}
	if n := a.Adopt([]*chat.Ticket{newer, older, other}); n != 2 {
		t.Errorf("adopted %d, want 2", n)
	}
	if tk, _ := a.Get("h-1"); tk.State != chat.TicketClaimed || tk.ClaimedBy != "ag" {
		t.Errorf("h-1 after adopt = %+v", tk)
	}
	if !a.HasActive("s", "u-9") {
		t.Error("adopted open ticket not active")
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, a = openAutomation(t, dir, AutomationOptions{})
	if tk, ok := a.Get("h-9"); !ok || tk.Rev != 3 {
		t.Errorf("adopted ticket after reopen = %+v, %v", tk, ok)
	}
}

// TestReserveFromCluster: ids come from the cluster's counter when one is
// given, and from the store's own when it fails.
func TestReserveFromCluster(t *testing.T) {
	calls := 0
	_, a := openAutomation(t, t.TempDir(), AutomationOptions{Reserve: func(kind string, n uint64) (uint64, error) {
		calls++
		if calls > 1 {
			return 0, errors.New("down")
		}
		return 1_000_000, nil
	}})
	if n := a.Next("h"); n != 1_000_000 {
		t.Errorf("first id %d, want the cluster's 1000000", n)
	}
}
