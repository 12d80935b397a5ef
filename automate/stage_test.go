package automate_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livemod/livemod/automate"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
	"github.com/livemod/livemod/state"
	"github.com/livemod/livemod/trend"
)

// step is one message with the labels classify would have given it.
type step struct {
	user, text string
	sec        int64
	labels     chat.Labels
	action     chat.Action
	reasons    []chat.Reason
	// want
	faq     string // reply text must contain this; "" means no faq
	reason  string // a reason with this rule must be present
	handoff string // ticket id
}

const (
	q      = chat.Labels(chat.LabelQuestion)
	stop   = chat.Labels(chat.LabelOptout)
	agent  = chat.Labels(chat.LabelAgentRequest)
	suprt  = chat.Labels(chat.LabelSupport)
	t0     = int64(1795000000000)
	noFAQ  = ""
	noRule = ""
)

func run(t *testing.T, opts automate.Options, steps []step) (*automate.Stage, *recorder) {
	t.Helper()
	rec := &recorder{}
	opts.Output = rec
	s, err := automate.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range steps {
		m := &chat.Message{ID: "m-" + string(rune('a'+i)), Stream: "s", User: chat.User{ID: st.user, Name: st.user}, Text: st.text, TS: t0 + st.sec*1000}
		d := chat.Decision{ID: m.ID, Stream: "s", User: m.User, Text: m.Text, TS: m.TS, Labels: st.labels, Action: st.action, Reasons: slices.Clone(st.reasons)}
		s.Apply(m, &d)
		switch {
		case st.faq == "" && d.FAQ != nil:
			t.Errorf("step %d (%s %q): faq = %q, want none", i, st.user, st.text, d.FAQ.Reply)
		case st.faq != "" && (d.FAQ == nil || !strings.Contains(d.FAQ.Reply, st.faq)):
			t.Errorf("step %d (%s %q): faq = %+v, want a reply with %q", i, st.user, st.text, d.FAQ, st.faq)
		}
		if st.reason != "" && !slices.ContainsFunc(d.Reasons, func(r chat.Reason) bool { return r.Rule == st.reason }) {
			t.Errorf("step %d (%s %q): reasons %+v lack %s", i, st.user, st.text, d.Reasons, st.reason)
		}
		got := ""
		if d.Handoff != nil {
			got = d.Handoff.ID
		}
		if got != st.handoff {
			t.Errorf("step %d (%s %q): handoff %q, want %q", i, st.user, st.text, got, st.handoff)
		}
	}
	return s, rec
}

func TestStage(t *testing.T) {
	t.Parallel()
	base := func(t *testing.T) automate.Options { o := showOptions(t); return o }
	tests := []struct {
		name  string
		steps []step
	}{
		{"prefix and name", []step{
			{user: "a", text: "shipping?", labels: q, faq: "Automated reply: @a, shipping", reason: "faq.answer"},
		}},
		{"cooldown groups askers", []step{
			{user: "a", text: "shipping?", labels: q, faq: "@a,"},
			{user: "b", text: "delivery time?", sec: 10, labels: q, reason: "faq.cooldown"},
			{user: "c", text: "कब तक आएगा?", sec: 20, labels: q, reason: "faq.cooldown"},
			{user: "b", text: "delivery time??", sec: 25, labels: q, reason: "faq.cooldown"}, // asked twice, named once
			{user: "d", text: "shipping kab tak aayega?", sec: 31, labels: q, faq: "Automated reply: @b @c @d, shipping"},
		}},
		{"hourly cap by message time", []step{
			{user: "a", text: "shipping?", labels: q, faq: "@a"},
			{user: "a", text: "size chart?", sec: 1, labels: q, faq: "@a"},
			{user: "a", text: "shipping?", sec: 100, labels: q, reason: "reply.cap"},
			{user: "a", text: "shipping?", sec: 3601, labels: q, faq: "@a"}, // the first reply left the hour
		}},
		{"STOP and START", []step{
			{user: "a", text: "STOP", labels: stop},
			{user: "a", text: "shipping?", sec: 1, labels: q, reason: "reply.optout"},
			{user: "a", text: "start", sec: 2, reasons: []chat.Reason{{Rule: "optout.start"}}},
			{user: "a", text: "shipping?", sec: 3, labels: q, faq: "@a"},
		}},
		{"hidden and held get nothing", []step{
			{user: "a", text: "shipping? bit.ly/x", labels: q, action: chat.Hide},
			{user: "b", text: "shipping? idiot", labels: q, action: chat.Hold},
			{user: "c", text: "agent please", labels: agent, action: chat.Hide},
		}},
		{"approval drafts", []step{
			{user: "a", text: "how much?", labels: q, reason: "faq.draft"},
			{user: "b", text: "kitne ka hai?", sec: 1, labels: q, reason: "faq.draft"},
		}},
		{"one ticket per user per stream", []step{
			{user: "a", text: "hi", labels: 0},
			{user: "a", text: "agent please", sec: 1, labels: agent, reason: "handoff.notice", handoff: "h-1"},
			{user: "a", text: "order 5521 refund", sec: 2, labels: suprt, reasons: []chat.Reason{{Rule: "support.refund"}}, reason: "handoff.join", handoff: "h-1"},
			{user: "a", text: "thanks", sec: 3, handoff: "h-1"},
			{user: "b", text: "where is my order", sec: 4, labels: suprt, reasons: []chat.Reason{{Rule: "support.not_delivered"}}, handoff: "h-2"},
			{user: "a", text: "shipping?", sec: 5, labels: q, faq: "@a", handoff: "h-1"}, // joins, and still gets FAQ answers
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, rec := run(t, base(t), tc.steps)
			switch tc.name {
			case "approval drafts":
				ds := s.Drafts("s", chat.DraftPending)
				if len(ds) != 1 || !slices.Equal(ds[0].To, []string{"a", "b"}) || !strings.HasPrefix(ds[0].Text, "Automated reply: @a @b,") {
					t.Fatalf("drafts = %+v", ds)
				}
				for _, l := range rec.lines {
					if strings.HasPrefix(l, "  reply") {
						t.Errorf("a draft was sent before approval: %s", l)
					}
				}
				if _, err := s.DecideDraft(ds[0].ID, false, "mod", 1); err != nil {
					t.Fatal(err)
				}
				if _, err := s.DecideDraft(ds[0].ID, true, "mod", 2); err == nil {
					t.Error("a rejected draft was approved")
				}
			case "one ticket per user per stream":
				tk, ok := s.Tickets().Get("h-1")
				if !ok || tk.OrderID != "5521" || tk.Issue != "refund" || len(tk.Messages) != 5 || !tk.Noticed ||
					tk.Summary != "Transferring to agent. Summary: order 5521, issue: refund." {
					t.Errorf("h-1 = %+v", tk)
				}
				notices := 0
				for _, l := range rec.lines {
					if strings.Contains(l, `"handoff":"h-1"`) {
						notices++
					}
				}
				if notices != 1 {
					t.Errorf("%d notices for h-1, want 1", notices)
				}
				if _, err := s.Claim(context.Background(), "h-1", "agent7", 1); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Claim(context.Background(), "h-1", "agent8", 2); err == nil {
					t.Error("another agent claimed a claimed ticket")
				}
				if tk, err := s.Resolve(context.Background(), "h-1", "agent7", 3); err != nil || tk.State != chat.TicketResolved {
					t.Fatalf("resolve: %+v %v", tk, err)
				}
			}
		})
	}
}

func TestNewRefusesBadTemplates(t *testing.T) {
	if _, err := automate.New(automate.Options{PublicNotice: "{nope}"}); err == nil {
		t.Error("unknown token in public_notice accepted")
	}
	if _, err := automate.New(automate.Options{Cooldown: -time.Second}); err == nil {
		t.Error("negative cooldown accepted")
	}
}

func BenchmarkApplyOrdinary(b *testing.B) {
	s, _ := automate.New(showOptions(b))
	m := &chat.Message{ID: "m", Stream: "s", User: chat.User{ID: "u"}, Text: "love this jacket", TS: t0}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		d := chat.Decision{Stream: "s", User: m.User, Text: m.Text, TS: m.TS}
		s.Apply(m, &d)
	}
}

// A chat line joins its author's ticket without a new version of it:
// with no agent page watching, only the changes that alter the ticket
// are sent, yet every read of the ticket shows the line.
func TestJoinBuildsNoVersionUnlessWatched(t *testing.T) {
	rec := &recorder{quiet: true}
	s, err := automate.New(automate.Options{Output: rec})
	if err != nil {
		t.Fatal(err)
	}
	say := func(id, text string, labels chat.Labels, reasons ...chat.Reason) *chat.Decision {
		m := &chat.Message{ID: id, Stream: "s", User: chat.User{ID: "a", Name: "a"}, Text: text, TS: t0}
		d := &chat.Decision{ID: id, Stream: "s", User: m.User, Text: text, TS: t0, Labels: labels, Reasons: reasons}
		s.Apply(m, d)
		return d
	}
	say("m-1", "agent please", agent)
	if n := len(rec.lines); n != 1 || !strings.Contains(rec.lines[0], "ticket.created") {
		t.Fatalf("after opening: %q", rec.lines)
	}
	if d := say("m-2", "still waiting", 0); d.Handoff == nil || d.Handoff.ID != "h-1" {
		t.Fatalf("chat line: handoff %+v, want h-1", d.Handoff)
	}
	if len(rec.lines) != 1 {
		t.Errorf("a chat line was sent as a ticket change with nobody watching: %q", rec.lines[1:])
	}
	tk, _ := s.Tickets().Get("h-1")
	if n := len(tk.Messages); n != 2 || tk.Messages[1].Text != "still waiting" {
		t.Fatalf("ticket lines = %+v, want the chat line last", tk.Messages)
	}
	say("m-3", "order 777 never came, refund", suprt, chat.Reason{Rule: "support.refund"})
	if len(rec.lines) != 2 || !strings.Contains(rec.lines[1], `"order_id":"777"`) {
		t.Fatalf("a line with an order number: %q, want one change with it", rec.lines[1:])
	}
	if tk, _ := s.Tickets().Get("h-1"); len(tk.Messages) != 3 || tk.Issue != "refund" {
		t.Errorf("after the order line: %d lines, issue %q", len(tk.Messages), tk.Issue)
	}
}

// TestRestrictedUserGetsNoAutomation: a restricted user's message is
// hidden by the engine before the stage sees it; the stage then opens no
// ticket, sends no notice or answer and records no opt-out for it.
func TestRestrictedUserGetsNoAutomation(t *testing.T) {
	restr := &state.MemoryRestrictions{}
	restr.Set("u-3", 0)
	e, err := classify.New(classify.Options{Restrictions: restr, Trending: trend.NewTrending(trend.TrendOptions{})})
	if err != nil {
		t.Fatal(err)
	}
	out := &recorder{}
	optouts := &state.MemoryOptOuts{}
	s, err := automate.New(automate.Options{PublicNotice: "{author_name}, an agent will message you privately.", Output: out, OptOuts: optouts})
	if err != nil {
		t.Fatal(err)
	}
	dec := s.Wrap(e)
	for i, text := range []string{"agent please, my order 1234 never arrived", "does it come in XL?", "STOP"} {
		d := dec.Decide(&chat.Message{ID: "m" + strconv.Itoa(i), Stream: "s", User: chat.User{ID: "u-3", Name: "three"}, Text: text, TS: 1000 + int64(i)})
		if d.Action != chat.Hide || d.Reasons[0].Rule != chat.RuleUserBan || d.Handoff != nil || d.Question != nil || d.FAQ != nil {
			t.Fatalf("%q: %+v", text, d)
		}
		if i == 0 && !d.Labels.Has(chat.LabelAgentRequest) {
			t.Errorf("the agent request lost its label (moderators should see it): %v", d.Labels.Slice())
		}
	}
	if len(out.lines) != 0 || optouts.OptedOut("u-3") {
		t.Fatalf("automation for a banned user: %q, opted out %v", out.lines, optouts.OptedOut("u-3"))
	}
	if snap := e.Trending().(*trend.Trending).Snapshot("s", 2000, 0); len(snap.Questions) != 0 {
		t.Fatalf("a banned user's question trends: %+v", snap.Questions)
	}
	// A timeout ends by the message's time.
	restr.Set("u-3", 5000)
	d := dec.Decide(&chat.Message{ID: "late", Stream: "s", User: chat.User{ID: "u-3", Name: "three"}, Text: "agent please", TS: 6000})
	if d.Action != chat.Allow || d.Handoff == nil || len(out.lines) == 0 || !strings.HasPrefix(out.lines[0], "  reply ") {
		t.Fatalf("after the timeout: %+v, out %q", d, out.lines)
	}
}
