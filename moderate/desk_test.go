package moderate

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/state"
	"github.com/livemod/livemod/store"
	"github.com/livemod/livemod/stream"
)

type recorder struct {
	mu    sync.Mutex
	lines map[string][]string
	audit []store.AuditEntry
}

func (r *recorder) publish(stream string, line []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lines == nil {
		r.lines = map[string][]string{}
	}
	r.lines[stream] = append(r.lines[stream], string(line))
}

func (r *recorder) Record(e store.AuditEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.audit = append(r.audit, e)
}

func decide(d *Desk, id, stream, user string, ts int64, action chat.Action, rule string) {
	dec := chat.Decision{ID: id, Stream: stream, User: chat.User{ID: user}, Text: "t " + id, TS: ts, Action: action}
	if rule != "" {
		dec.AddReason(rule, "")
	}
	line := dec.AppendJSON(nil)
	d.Decided(&dec, line)
	clear(line) // as the pipeline reuses its line: the desk keeps a copy
}

var clock = time.UnixMilli(1795000000000)

func newDesk(rec *recorder, recent int) *Desk {
	return NewDesk(DeskOptions{Publish: rec.publish, Audit: rec, Now: func() time.Time { return clock }, Recent: recent, SnapshotRecent: 2})
}

func TestDeskActions(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	d := newDesk(rec, 16)
	decide(d, "m-1", "s", "u-1", 1, chat.Hold, "toxic.insult")
	decide(d, "m-2", "s", "u-2", 2, chat.Allow, "")
	for _, tc := range []struct{ id, action, state string }{
		{"m-1", "approve", StateApproved},
		{"m-2", "hide", StateHidden},
		{"m-2", "unhide", StateVisible},
	} {
		ev, err := d.Act("mods", "", tc.id, tc.action, "because")
		if err != nil {
			t.Fatal(err)
		}
		if ev.State != tc.state || ev.Stream != "s" || ev.Actor != "mods" {
			t.Fatalf("%s %s: %+v", tc.action, tc.id, ev)
		}
		if st, _ := d.State("s", tc.id); st != tc.state {
			t.Fatalf("state %s, want %s", st, tc.state)
		}
	}
	if _, err := d.Act("mods", "s", "m-404", "hide", ""); err == nil || !errors.Is(err, chat.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	if _, err := d.Act("mods", "s", "m-1", "explode", ""); err == nil || !errors.Is(err, chat.ErrInvalid) {
		t.Fatalf("bad action: %v", err)
	}
	if len(rec.lines["s"]) != 3 || len(rec.audit) != 3 || rec.audit[0].Actor != "mods" || rec.audit[0].Target != "m-1" {
		t.Fatalf("lines %v audit %+v", rec.lines, rec.audit)
	}
	var ev map[string]any
	json.Unmarshal([]byte(rec.lines["s"][0]), &ev)
	if ev["type"] != "moderation" || ev["state"] != "approved" || ev["action"] != "approve" || ev["user"] != "u-1" {
		t.Fatalf("event line %s", rec.lines["s"][0])
	}
}

func TestDeskBanHidesNewAndRecentMessages(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	restr := &state.MemoryRestrictions{}
	var hidden []string
	d := NewDesk(DeskOptions{Publish: rec.publish, Audit: rec, Now: func() time.Time { return clock }, Recent: 16, SnapshotRecent: 2,
		Restrictions: restr, Hidden: func(s, user, id string) { hidden = append(hidden, s+"/"+user+"/"+id) }})
	decide(d, "m-1", "s", "troll", 1, chat.Allow, "")
	decide(d, "m-2", "s", "fan", 2, chat.Allow, "")
	ev, err := d.User("mods", "", "troll", "ban", 0, "raid")
	if err != nil || ev.Hidden != 1 || ev.Action != "ban" {
		t.Fatalf("ban: %+v %v", ev, err)
	}
	if st, _ := d.State("s", "m-1"); st != StateHidden {
		t.Fatalf("recent message of banned user: %s", st)
	}
	// The ban takes effect where the engine asks first, and the overlay
	// is told.
	if until, ok := restr.Restricted("troll", 5); !ok || until != 0 {
		t.Fatalf("restrictions after ban: %d %v", until, ok)
	}
	if _, ok := restr.Restricted("fan", 5); ok {
		t.Fatal("fan restricted")
	}
	if len(hidden) != 1 || hidden[0] != "/troll/" {
		t.Fatalf("hidden hook: %q", hidden)
	}
	// A second ban is a no-op: 409 with the state, no audit entry.
	n := len(rec.audit)
	if _, err := d.User("mods", "s", "troll", "ban", 0, "again"); err == nil || !errors.Is(err, chat.ErrConflict) || err.(*chat.Error).State != "banned" {
		t.Fatalf("second ban: %v", err)
	}
	if len(rec.audit) != n {
		t.Fatalf("second ban audited: %+v", rec.audit[n:])
	}
	if _, err := d.User("mods", "s", "troll", "unban", 0, ""); err != nil {
		t.Fatal(err)
	}
	if _, ok := restr.Restricted("troll", 5); ok {
		t.Fatal("still restricted after unban")
	}
	if _, err := d.User("mods", "s", "troll", "unban", 0, ""); err == nil || err.(*chat.Error).State != "none" {
		t.Fatalf("second unban: %v", err)
	}
	// Timeouts end by themselves, by the message's time.
	d.User("mods", "s", "fan", "timeout", 60, "")
	if _, ok := restr.Restricted("fan", clock.UnixMilli()+59_000); !ok {
		t.Fatal("timed out user not restricted")
	}
	if _, ok := restr.Restricted("fan", clock.UnixMilli()+61_000); ok {
		t.Fatal("timeout did not end")
	}
	if _, err := d.User("mods", "s", "fan", "timeout", 30*86400, ""); err == nil {
		t.Fatal("30-day timeout accepted")
	}
}

// TestDeskNoOpActionsConflict: acting on a message in the state the
// action would give answers 409 with that state, and audits nothing.
func TestDeskNoOpActionsConflict(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	d := newDesk(rec, 16)
	decide(d, "m-1", "s", "u-1", 1, chat.Allow, "")
	if _, err := d.Act("mods", "s", "m-1", "hide", ""); err != nil {
		t.Fatal(err)
	}
	n := len(rec.audit)
	for _, tc := range []struct{ action, state string }{{"hide", StateHidden}} {
		_, err := d.Act("mods", "s", "m-1", tc.action, "")
		var e *chat.Error
		if err == nil || !errors.As(err, &e) || !errors.Is(err, chat.ErrConflict) || e.State != tc.state {
			t.Fatalf("%s again: %v", tc.action, err)
		}
	}
	d.Act("mods", "s", "m-1", "unhide", "")
	if _, err := d.Act("mods", "s", "m-1", "unhide", ""); err == nil || err.(*chat.Error).State != StateVisible {
		t.Fatalf("unhide of a visible message: %v", err)
	}
	d.Act("mods", "s", "m-1", "approve", "")
	if _, err := d.Act("mods", "s", "m-1", "approve", ""); err == nil || err.(*chat.Error).State != StateApproved {
		t.Fatalf("approve again: %v", err)
	}
	if got := len(rec.audit) - n; got != 2 {
		t.Fatalf("%d audit entries for unhide + approve, want 2: %+v", got, rec.audit[n:])
	}
}

func TestDeskUndoRuleBurst(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	d := newDesk(rec, 64)
	decide(d, "old", "s", "u", 100, chat.Hide, "spam.link")
	for i := 0; i < 20; i++ {
		decide(d, fmt.Sprintf("r-%d", i), "s", fmt.Sprintf("u-%d", i), 1000+int64(i), chat.Hide, "spam.link")
	}
	decide(d, "other", "s", "u", 1500, chat.Hide, "flood.repeat")
	d.Act("mods", "s", "r-3", "unhide", "not spam") // a person's call stays
	// A banned bot's spam stays hidden, and the undo says so.
	d.User("mods", "s", "u-7", "ban", 0, "bot")
	u, err := d.UndoRule("mods", "s", "spam.link", 1000)
	if err != nil || u.Undone != 18 || len(u.Events) != 18 {
		t.Fatalf("undo: %+v, %v", u, err)
	}
	skipped := map[string]string{}
	for _, sk := range u.Skipped {
		skipped[sk.ID] = sk.Reason
	}
	if len(skipped) != 2 || !strings.Contains(skipped["r-7"], "banned") || !strings.Contains(skipped["r-3"], "already decided") {
		t.Fatalf("skipped: %+v", u.Skipped)
	}
	for id, want := range map[string]string{"old": StateHidden, "r-0": StateVisible, "r-19": StateVisible, "r-3": StateVisible, "r-7": StateHidden, "other": StateHidden} {
		if st, _ := d.State("s", id); st != want {
			t.Errorf("%s: %s, want %s", id, st, want)
		}
	}
	// Only the rule that hid: a hidden spam line that also asked
	// something is not "question.mark"'s to undo, nor is an unknown rule.
	dec := chat.Decision{ID: "q", Stream: "s", User: chat.User{ID: "q-bot"}, Text: "sub4sub anyone?", TS: 1600, Action: chat.Hide}
	dec.AddReason("spam.promo", "")
	dec.AddReason("question.mark", "")
	d.Decided(&dec, dec.AppendJSON(nil))
	for _, rule := range []string{"question.mark", "no.such.rule"} {
		if _, err := d.UndoRule("mods", "s", rule, 1000); err == nil || !errors.Is(err, chat.ErrNotFound) {
			t.Errorf("undo %s: %v, want 404", rule, err)
		}
	}
	if st, _ := d.State("s", "q"); st != StateHidden {
		t.Errorf("q: %s", st)
	}
}

func TestDeskRingBoundedAndSnapshot(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	d := newDesk(rec, 8)
	decide(d, "held", "s", "u", 0, chat.Hold, "threat")
	for i := 0; i < 5; i++ {
		decide(d, fmt.Sprintf("m-%d", i), "s", "u", int64(i), chat.Allow, "")
	}
	d.Act("mods", "s", "m-4", "hide", "")
	snap := d.Snapshot("s")
	// held (queue) + the 2 newest, with m-4's hide event after it.
	if len(snap) != 4 {
		t.Fatalf("snapshot %d lines: %q", len(snap), snap)
	}
	for _, l := range snap {
		var v struct{ ID string }
		if err := json.Unmarshal(l, &v); err != nil || v.ID == "" {
			t.Fatalf("snapshot line %q: %v", l, err)
		}
	}
	for i := 5; i < 40; i++ {
		decide(d, fmt.Sprintf("m-%d", i), "s", "u", int64(i), chat.Allow, "")
	}
	if _, ok := d.State("s", "held"); ok {
		t.Fatal("ring kept more than its size")
	}
	if _, ok := d.State("s", "m-39"); !ok {
		t.Fatal("newest lost")
	}
}

func TestHostPublishesMergedQuestions(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	h := NewHost(HostOptions{Publish: rec.publish, Audit: rec, Interval: 5 * time.Millisecond, Now: func() time.Time { return clock }})
	defer h.Close(t.Context())
	for i, q := range []string{"how much is the blue jacket?", "blue jacket price?", "what's the price of the blue jacket"} {
		dec := chat.Decision{ID: fmt.Sprint(i), Stream: "s", User: chat.User{ID: fmt.Sprint("u", i)}, Text: q, TS: clock.UnixMilli()}
		dec.Labels.Add(chat.LabelQuestion)
		h.Decided(&dec, nil)
	}
	agent := chat.Decision{ID: "a", Stream: "s", User: chat.User{ID: "u9"}, Text: "agent please", TS: clock.UnixMilli()}
	agent.Labels.Add(chat.LabelAgentRequest)
	h.Decided(&agent, nil)
	deadline := time.Now().Add(2 * time.Second)
	for {
		o := h.List("s")
		rec.mu.Lock()
		n := len(rec.lines["s"])
		rec.mu.Unlock()
		if n > 0 && len(o.Questions) == 1 && o.Questions[0].Askers == 3 && o.AgentRequests == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("overlay %+v, %d lines", o, n)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, with a deadline
	}
	cl := h.List("s").Questions[0].Cluster
	if _, err := h.Act("host", "", cl, "pin"); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	last := rec.lines["s"][len(rec.lines["s"])-1]
	rec.mu.Unlock()
	var o Overlay
	json.Unmarshal([]byte(last), &o)
	if o.Pinned == nil || o.Pinned.Cluster != cl || len(o.Questions) != 0 {
		t.Fatalf("after pin: %s", last)
	}
	if _, err := h.Act("host", "", "q-none", "pin"); err == nil {
		t.Fatal("pinned an unknown cluster")
	}
}

// TestHostShardGathers: a pipeline shard's decisions reach the host's
// counts when the shard flushes, once per requester however many shards
// saw them.
func TestHostShardGathers(t *testing.T) {
	t.Parallel()
	h := NewHost(HostOptions{Interval: time.Hour, Now: func() time.Time { return clock }})
	defer h.Close(t.Context())
	g0, g1 := h.ForShard(0), h.ForShard(1)
	for i, g := range []stream.FlushSink{g0, g1, g0} {
		d := chat.Decision{ID: fmt.Sprint("a", i), Stream: "s", User: chat.User{ID: fmt.Sprint("u", i%2)}, Text: "agent please", TS: clock.UnixMilli()}
		d.Labels.Add(chat.LabelAgentRequest)
		g.Decided(&d, nil)
	}
	if n := h.List("s").AgentRequests; n != 0 {
		t.Fatalf("%d agent requests counted before the shards flushed", n)
	}
	g0.Flush()
	if n := h.List("s").AgentRequests; n != 1 {
		t.Fatalf("after one shard's flush: %d agent requests, want 1", n)
	}
	g1.Flush()
	g0.Flush() // nothing new
	if n := h.List("s").AgentRequests; n != 2 {
		t.Fatalf("after both flushed: %d agent requests, want 2 (u0 and u1)", n)
	}
	h.mu.Lock()
	dirty := h.dirty["s"]
	h.mu.Unlock()
	if !dirty {
		t.Error("the stream's list is not marked changed")
	}
}
