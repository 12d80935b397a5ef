package classify

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/state"
	"github.com/livemod/livemod/trend"
)

// TestRestrictedFirst: a banned or timed-out user's message is hidden
// with user.ban / user.timeout first, keeps its labels, and joins no
// question; the timeout ends by the message's time.
func TestRestrictedFirst(t *testing.T) {
	restr := &state.MemoryRestrictions{}
	e, err := New(Options{Restrictions: restr, Trending: trend.NewTrending(trend.TrendOptions{})})
	if err != nil {
		t.Fatal(err)
	}
	restr.Set("b", 0)
	restr.Set("t", 5000)
	for _, tc := range []struct {
		user string
		ts   int64
		rule string
	}{{"b", 1000, chat.RuleUserBan}, {"t", 1000, chat.RuleUserTimeout}, {"t", 6000, ""}, {"ok", 1000, ""}} {
		d := e.Decide(&chat.Message{ID: tc.user, Stream: "s", User: chat.User{ID: tc.user}, Text: "how much is the blue jacket?", TS: tc.ts})
		if tc.rule == "" {
			if d.Action != chat.Allow || d.Restricted() || d.Question == nil {
				t.Errorf("%s at %d: %+v", tc.user, tc.ts, d)
			}
			continue
		}
		if d.Action != chat.Hide || d.Reasons[0].Rule != tc.rule || !d.Restricted() || d.Question != nil || !d.Labels.Has(chat.LabelQuestion) {
			t.Errorf("%s at %d: %+v", tc.user, tc.ts, d)
		}
	}
	if snap := e.Trending().(*trend.Trending).Snapshot("s", 7000, 0); len(snap.Questions) != 1 || snap.Questions[0].Askers != 2 {
		t.Errorf("trending: %+v; want one question, two askers (t after the timeout, ok)", snap.Questions)
	}
	restr.Delete("b")
	if _, ok := restr.Restricted("b", 1); ok || restr.Len() != 1 {
		t.Errorf("after delete: %v, %d", ok, restr.Len())
	}
}

// TestCopypastaIsARaid: the same long or marked text from many users is
// copypasta; short reactions, greetings, emotes and questions are not.
func TestCopypastaIsARaid(t *testing.T) {
	e, err := New(Options{NoModel: true, Trending: trend.NewTrending(trend.TrendOptions{}),
		CopypastaStreams: map[string]CopypastaOptions{"strict": {Users: 2, MinLength: 10, Window: time.Second}}})
	if err != nil {
		t.Fatal(err)
	}
	crowd := []string{"video lag ho raha hai", "your voice is so sweet", "been waiting for this show all week",
		"🔥🔥🔥", "hi from Pune 👋", "price?", "XL hai?", "what sizes do you have?", "love this!! 😍"}
	raids := []string{"THE GOAT OF LIVE SHOPPING 🐐🐐🐐 NOBODY DOES IT LIKE DIDI",
		"if you can read this you are legally required to buy the blue jacket 😤",
		"ek like to banta hai 👍👍👍 share karo sab log", "SALE SALE SALE EVERYONE SALE", "free gifts at bit.ly/x"}
	ts := int64(1_000_000)
	send := func(stream, text string, users int) chat.Decision {
		var d chat.Decision
		for range users {
			ts += 100 // a new user each time
			d = e.Decide(&chat.Message{ID: fmt.Sprint(ts), Stream: stream, User: chat.User{ID: fmt.Sprint("u", ts)}, Text: text, TS: ts})
		}
		return d
	}
	for _, text := range crowd {
		if d := send("s", text, 8); d.Labels.Has(chat.LabelFlood) || d.Action != chat.Allow {
			t.Errorf("crowd %q from 8 users: %v %v", text, d.Labels.Slice(), d.Reasons)
		}
	}
	for _, text := range raids {
		if d := send("s", text, 3); d.Labels.Has(chat.LabelFlood) && !d.Labels.Has(chat.LabelSpam) {
			t.Errorf("raid %q flagged at 3 users: %v", text, d.Reasons)
		}
		if d := send("s", text, 1); !d.Labels.Has(chat.LabelFlood) || d.Action != chat.Hide || d.Reasons[0].Rule != "flood.copypasta" && !d.Labels.Has(chat.LabelSpam) {
			t.Errorf("raid %q at 4 users: %v %v", text, d.Labels.Slice(), d.Reasons)
		}
	}
	// "does it" mid-sentence in a shouted line asks nothing.
	d := e.Decide(&chat.Message{Stream: "q", User: chat.User{ID: "x"}, Text: "THE GOAT OF LIVE SHOPPING NOBODY DOES IT LIKE DIDI", TS: ts})
	if d.Labels.Has(chat.LabelQuestion) {
		t.Errorf("shouted declaration labelled a question: %v", d.Reasons)
	}
	// A stream's own thresholds: two users of a 10-character line.
	if d := send("strict", "same words here", 2); !d.Labels.Has(chat.LabelFlood) {
		t.Errorf("strict stream: %v", d.Reasons)
	}
	if d := send("s", "same words here", 3); d.Labels.Has(chat.LabelFlood) {
		t.Errorf("default stream took the strict thresholds: %v", d.Reasons)
	}
	if _, err := New(Options{CopypastaStreams: map[string]CopypastaOptions{"x": {Users: -1}}}); err == nil {
		t.Error("negative per-stream threshold accepted")
	}
}

// TestRaidNeverTrends: a long raid line labelled a question joins a
// cluster as its first copy, and leaves it when it turns out a raid.
func TestRaidNeverTrends(t *testing.T) {
	tr := trend.NewTrending(trend.TrendOptions{})
	e, err := New(Options{NoModel: true, Trending: tr})
	if err != nil {
		t.Fatal(err)
	}
	raid := "does anyone else think this is the best show on the whole internet?"
	for i := range 6 {
		e.Decide(&chat.Message{ID: fmt.Sprint("r", i), Stream: "s", User: chat.User{ID: fmt.Sprint("r", i)}, Text: raid, TS: int64(1000 + i)})
		snap := tr.Snapshot("s", 2000, 0)
		for _, q := range snap.Questions {
			if q.Askers > 1 || (i >= 3 && q.Text == raid) {
				t.Fatalf("after %d copies: %+v", i+1, snap.Questions)
			}
		}
	}
}

// TestLongQuestionWaitsAWindow: one viewer's long question counts at
// once but its text shows only once it is clearly no raid's first copy
// (a copypasta window later); a short wording of it shows at once.
func TestLongQuestionWaitsAWindow(t *testing.T) {
	tr := trend.NewTrending(trend.TrendOptions{})
	e, err := New(Options{NoModel: true, Trending: tr})
	if err != nil {
		t.Fatal(err)
	}
	long := "could you please show the blue jacket in daylight, what colour is it really?"
	d := e.Decide(&chat.Message{ID: "l", Stream: "s", User: chat.User{ID: "a"}, Text: long, TS: 1000})
	if d.Question == nil {
		t.Fatalf("long question: %+v", d)
	}
	if snap := tr.Snapshot("s", 1000, 0); len(snap.Questions) != 0 {
		t.Fatalf("shown at once: %+v", snap.Questions)
	}
	if snap := tr.Snapshot("s", 61_000, 0); len(snap.Questions) != 1 || snap.Questions[0].Text != long {
		t.Fatalf("a window later: %+v", snap.Questions)
	}
	e.Decide(&chat.Message{ID: "s", Stream: "s", User: chat.User{ID: "b"}, Text: "what colour is the blue jacket in daylight?", TS: 2000})
	if snap := tr.Snapshot("s", 2000, 0); len(snap.Questions) != 1 || snap.Questions[0].Askers != 2 || snap.Questions[0].Text == long {
		t.Fatalf("with a short wording: %+v", snap.Questions)
	}
}

// TestClusterShowsCommonWording: the shown text is the members' common
// wording, chosen again when a member is hidden or its author restricted;
// a cluster with no member left leaves the list.
func TestClusterShowsCommonWording(t *testing.T) {
	tr := trend.NewTrending(trend.TrendOptions{})
	asks := []struct{ user, id, text string }{
		{"a", "m1", "does it come in XL you dumb cow?"},
		{"b", "m2", "does it come in XL?"},
		{"c", "m3", "does this come in XL?"},
	}
	for i, q := range asks {
		tr.ObserveMessage("s", q.user, q.id, q.text, Normalize(q.text), 0, 0, int64(1000+i))
	}
	top := func() trend.TrendQuestion {
		snap := tr.Snapshot("s", 2000, 0)
		if len(snap.Questions) != 1 {
			t.Fatalf("questions: %+v", snap.Questions)
		}
		return snap.Questions[0]
	}
	if q := top(); q.Askers != 3 || strings.Contains(q.Text, "cow") {
		t.Fatalf("three askers: %+v", q)
	}
	if !tr.Hide("s", "a", "m1") || top().Askers != 2 {
		t.Fatalf("after hiding m1: %+v", top())
	}
	if tr.Hide("s", "a", "m1") {
		t.Error("hiding m1 twice changed the list")
	}
	if !tr.RemoveUser("", "b") {
		t.Fatal("ban of b changed nothing")
	}
	if q := top(); q.Askers != 1 || q.Text != "does this come in XL?" {
		t.Fatalf("after the ban of b: %+v", q)
	}
	tr.Hide("s", "c", "m3")
	if snap := tr.Snapshot("s", 2000, 0); len(snap.Questions) != 0 {
		t.Fatalf("a cluster with every member hidden: %+v", snap.Questions)
	}
	// Beyond the members kept, a hidden question still leaves the count.
	for i := range trend.MaxMembers + 4 {
		tr.ObserveMessage("s", fmt.Sprint("v", i), fmt.Sprint("n", i), "price of the green kurta?", Normalize("price of the green kurta?"), 0, 0, 3000)
	}
	if !tr.Hide("s", "v0", "n0") || tr.Hide("s", "v1", "wrong-id") {
		t.Fatal("hide of an asker beyond the members")
	}
	if q := tr.Snapshot("s", 3000, 0).Questions; len(q) != 1 || q[0].Askers != trend.MaxMembers+3 {
		t.Fatalf("after hiding the first of %d askers: %+v", trend.MaxMembers+4, q)
	}
}

// TestTrimMessages: the pinned opening stays; of the rest the newest,
// within the count and byte bounds.
func TestTrimMessages(t *testing.T) {
	var msgs []chat.TicketMessage
	msgs = append(msgs, chat.TicketMessage{ID: "open", Text: "order 3790, wrong item"})
	for i := range 20 {
		msgs = append(msgs, chat.TicketMessage{ID: fmt.Sprint(i), Text: "wow"})
	}
	got := chat.TrimMessages(msgs, 1, 10)
	if len(got) != 10 || got[0].ID != "open" || got[9].ID != "19" || got[1].ID != "11" {
		t.Fatalf("trim: %+v", got)
	}
	long := strings.Repeat("x", 1500)
	msgs = msgs[:1]
	for i := range 8 {
		msgs = append(msgs, chat.TicketMessage{ID: fmt.Sprint(i), Text: long})
	}
	got = chat.TrimMessages(msgs, 1, 10)
	size := 0
	for _, m := range got[1:] {
		size += len(m.Text)
	}
	if got[0].ID != "open" || size > chat.TicketRecentBytes || len(got) != 3 {
		t.Fatalf("byte bound: %d messages, %d bytes", len(got), size)
	}
	if same := chat.TrimMessages(msgs[:3], 1, 10); &same[0] != &msgs[0] {
		t.Error("nothing to trim, but a copy")
	}
}

// FuzzTextMarks: the marks of any text are consistent with it: its
// length in runes, and a text without letters or digits is emotes only.
func FuzzTextMarks(f *testing.F) {
	for _, s := range []string{"THE GOAT OF LIVE SHOPPING 🐐🐐🐐 NOBODY DOES IT LIKE DIDI", "🔥🔥🔥", "नमस्ते दीदी 🙏", "price?", "", "\xff\xfe", "a\u200db 👍🏽👍🏽👍🏽 c d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := textMarks(s)
		if m.runes != utf8.RuneCountInString(s) {
			t.Fatalf("%q: %d runes, want %d", s, m.runes, utf8.RuneCountInString(s))
		}
		hasWord := strings.IndexFunc(s, func(r rune) bool {
			return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)
		}) >= 0
		if m.emoteOnly == hasWord {
			t.Fatalf("%q: emote only %v", s, m.emoteOnly)
		}
		lm := lazyMarks{text: s}
		r := newCrowdRule(CopypastaOptions{}, CopypastaOptions{})
		if got, want := lm.raidLike(r, false), !m.emoteOnly && (m.runes >= r.minLen || m.caps || m.symbols); got != want {
			t.Fatalf("%q: raid-like %v, marks say %v", s, got, want)
		}
	})
}

// TestUnfitQuestionsNeverTrend: a question labelled profanity (mild
// swearing, allowed in chat), toxic or held never becomes overlay text.
func TestUnfitQuestionsNeverTrend(t *testing.T) {
	tr := trend.NewTrending(trend.TrendOptions{})
	e, err := New(Options{NoModel: true, Trending: tr})
	if err != nil {
		t.Fatal(err)
	}
	for i, text := range []string{"what the fuck is the price of the red saree?", "how much is the red saree you idiot?"} {
		d := e.Decide(&chat.Message{ID: fmt.Sprint(i), Stream: "s", User: chat.User{ID: fmt.Sprint("u", i)}, Text: text, TS: 1000})
		if !d.Labels.Has(chat.LabelToxic) && !d.Labels.Has(chat.LabelProfanity) || d.Question != nil {
			t.Errorf("%q: %v %v, question %v", text, d.Labels.Slice(), d.Action, d.Question)
		}
	}
	if q := tr.Snapshot("s", 1000, 0).Questions; len(q) != 0 {
		t.Errorf("trending: %+v", q)
	}
}
