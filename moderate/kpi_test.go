package moderate

import (
	"strings"
	"testing"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/state"
	"github.com/livemod/livemod/store"
)

type labels struct{ got []store.LabeledExample }

func (l *labels) AppendLabel(ex store.LabeledExample) error {
	l.got = append(l.got, ex)
	return nil
}

// TestKPIsFalsePositivesAndLabels: an automatic hide undone by approve
// counts as a false positive and teaches a label; a person's own hide
// does neither; rates are per second over the last minute.
func TestKPIsFalsePositivesAndLabels(t *testing.T) {
	t.Parallel()
	now := clock
	k := NewKPIs(KPIOptions{Now: func() time.Time { return now }, Tickets: func(string) []*chat.Ticket {
		return []*chat.Ticket{
			{Created: 0, ClaimedAt: 1000, State: chat.TicketResolved},
			{Created: 0, ClaimedAt: 3000, State: chat.TicketClaimed},
			{Created: 0, State: chat.TicketOpen},
		}
	}})
	lab := &labels{}
	d := NewDesk(DeskOptions{Now: func() time.Time { return now }, KPIs: k, Labels: lab})
	for i, a := range []chat.Action{chat.Hide, chat.Hold, chat.Allow, chat.Allow} {
		dec := chat.Decision{ID: string(rune('a' + i)), Stream: "s", User: chat.User{ID: "u"}, Text: "x", Action: a}
		if a == chat.Hide {
			dec.Labels = chat.Labels(chat.LabelSpam | chat.LabelQuestion)
			dec.AddReason("spam.link", "")
		}
		line := dec.AppendJSON(nil)
		k.Decided(&dec, line)
		d.Decided(&dec, line)
	}
	if _, err := d.Act("mods", "s", "a", "approve", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Act("mods", "s", "c", "hide", "toxic"); err != nil {
		t.Fatal(err)
	}
	r := k.Report("s")
	if r.FalsePositiveRate.N != 1 || r.FalsePositiveRate.Of != 2 || *r.FalsePositiveRate.Rate != 0.5 {
		t.Errorf("false positives = %+v, want 1 of 2", r.FalsePositiveRate)
	}
	if r.MeaningfulRate.N != 2 || r.MeaningfulRate.Of != 4 {
		t.Errorf("meaningful = %+v, want 2 of 4 (the two plain allows)", r.MeaningfulRate)
	}
	if r.MessagesPerSecond != 4.0/60 || r.DecisionsPerSecond != 4.0/60 {
		t.Errorf("per second = %v, %v; want 4/60 each (2 automatic, 2 human)", r.MessagesPerSecond, r.DecisionsPerSecond)
	}
	if *r.FirstResponseMS.Median != 1000 || *r.FirstResponseMS.P90 != 3000 || r.FirstResponseMS.N != 2 || r.ResolutionRate.N != 1 || r.ResolutionRate.Of != 3 {
		t.Errorf("tickets: %+v %+v", r.FirstResponseMS, r.ResolutionRate)
	}
	now = now.Add(61 * time.Second)
	if r := k.Report("s"); r.MessagesPerSecond != 0 || r.DecisionsPerSecond != 0 {
		t.Errorf("a minute later: %v, %v; want 0", r.MessagesPerSecond, r.DecisionsPerSecond)
	}
	if len(lab.got) != 2 {
		t.Fatalf("labels = %+v, want approve and hide", lab.got)
	}
	if ap := lab.got[0]; ap.Source != "approve" || ap.ID != "a" || ap.Labels.Labels != chat.Labels(chat.LabelQuestion) || ap.Actor != "mods" {
		t.Errorf("approve example = %+v; want the spam label dropped, question kept", ap)
	}
	if h := lab.got[1]; h.Source != "hide" || !h.Labels.Has(chat.LabelToxic) {
		t.Errorf("hide example = %+v; want toxic (the reason)", h)
	}
	if r := k.Report("none"); r.FalsePositiveRate.Rate != nil || r.MessagesPerSecond != 0 {
		t.Errorf("unknown stream: %+v", r)
	}
}

func TestDeskRestoreAndErase(t *testing.T) {
	t.Parallel()
	restr := &state.MemoryRestrictions{}
	d := NewDesk(DeskOptions{Now: func() time.Time { return clock }, Recent: 8, Restrictions: restr})
	d.Restore([]store.Restriction{{User: "b"}, {User: "over", Until: clock.UnixMilli() - 1}, {User: "t", Until: clock.UnixMilli() + 1000}})
	for user, want := range map[string]bool{"b": true, "t": true, "over": false} {
		if _, _, ok := d.Restricted(user); ok != want {
			t.Errorf("Restricted(%s) = %v, want %v", user, ok, want)
		}
		// The engine asks the same restrictions first.
		if _, ok := restr.Restricted(user, clock.UnixMilli()); ok != want {
			t.Errorf("restrictions(%s) = %v, want %v", user, ok, want)
		}
	}
	decide(d, "m-1", "s", "b", 1, chat.Hide, chat.RuleUserBan)
	decide(d, "m-2", "s", "x", 2, chat.Allow, "")
	if st, _ := d.State("s", "m-1"); st != StateHidden {
		t.Errorf("a restored ban's message is %s, want hidden", st)
	}
	if n, err := d.EraseUser("b"); n != 1 || err != nil {
		t.Errorf("EraseUser = %d, %v", n, err)
	}
	if len(d.UserMessages("b")) != 0 || len(d.UserMessages("x")) != 1 || len(d.Snapshot("s")) == 0 {
		t.Errorf("after erasure: b %v, x %v", d.UserMessages("b"), d.UserMessages("x"))
	}
	if _, ok := d.State("s", "m-1"); ok {
		t.Error("an erased message can still be acted on")
	}
}

// TestKPIsShardSinksCountAsDecided: decisions counted by two shards'
// sinks (stream.ShardSink), across streams and flushes, give the report
// that the same decisions given to Decided give.
func TestKPIsShardSinksCountAsDecided(t *testing.T) {
	t.Parallel()
	now := clock
	opts := KPIOptions{Now: func() time.Time { return now }}
	direct, sharded := NewKPIs(opts), NewKPIs(opts)
	shards := []interface {
		Decided(*chat.Decision, []byte)
		Flush()
	}{sharded.ForShard(0), sharded.ForShard(1)}
	for i := range 500 {
		dec := chat.Decision{ID: "m", Stream: []string{"a", "b"}[i/7%2], User: chat.User{ID: "u"}, Action: chat.Action(i % 3)}
		if i%5 == 0 {
			dec.Labels = chat.Labels(chat.LabelSpam)
		}
		direct.Decided(&dec, nil)
		sh := shards[i%2]
		sh.Decided(&dec, nil)
		if i%37 == 0 {
			sh.Flush()
		}
	}
	for _, sh := range shards {
		sh.Flush()
	}
	for _, s := range []string{"a", "b"} {
		want, got := direct.Report(s), sharded.Report(s)
		if got.MeaningfulRate.N != want.MeaningfulRate.N || got.MeaningfulRate.Of != want.MeaningfulRate.Of ||
			got.MessagesPerSecond != want.MessagesPerSecond || got.DecisionsPerSecond != want.DecisionsPerSecond {
			t.Errorf("stream %s: sharded %+v, want %+v", s, got, want)
		}
	}
}

// TestDeskShardSinkKeepsAtFlush: a pipeline shard's desk keeps its
// decisions, with their lines as they were decided, when the shard
// flushes. A restricted user's message arrives hidden (the engine asked
// the restrictions first): the desk adds no second hide after it.
func TestDeskShardSinkKeepsAtFlush(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	d := newDesk(rec, 16)
	if _, err := d.User("mods", "", "u", "ban", 0, "raid"); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	before, audits := len(rec.lines["s"]), len(rec.audit)
	rec.mu.Unlock()
	g := d.ForShard(0)
	dec := chat.Decision{ID: "m-1", Stream: "s", User: chat.User{ID: "u"}, Text: "hi", Action: chat.Hide}
	dec.AddReason(chat.RuleUserBan, "user is banned")
	line := dec.AppendJSON(nil)
	g.Decided(&dec, line)
	clear(line)
	if _, ok := d.State("s", "m-1"); ok {
		t.Fatal("the decision was kept before the flush")
	}
	g.Flush()
	if st, ok := d.State("s", "m-1"); !ok || st != StateHidden {
		t.Fatalf("state after the flush = %q, %v; want hidden", st, ok)
	}
	if snap := d.Snapshot("s"); len(snap) != 1 || !strings.Contains(string(snap[0]), `"text":"hi"`) {
		t.Fatalf("snapshot after the flush = %q; want the decision as decided, alone", snap)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.lines["s"]) != before || len(rec.audit) != audits {
		t.Fatalf("after the flush: events %q, audit %+v; want none added", rec.lines["s"][before:], rec.audit[audits:])
	}
}
