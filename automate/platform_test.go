package automate_test

import (
	"strings"
	"testing"

	"github.com/livemod/livemod/automate"
	"github.com/livemod/livemod/chat"
)

// TestPerUserStateKeyedByPlatform: Twitch user 42 and YouTube user 42 are
// two people: one's STOP does not stop the other's replies, and each gets
// their own ticket.
func TestPerUserStateKeyedByPlatform(t *testing.T) {
	t.Parallel()
	opts := showOptions(t)
	opts.Output = &recorder{}
	s, err := automate.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	apply := func(platform, text string, labels chat.Labels, reasons ...chat.Reason) chat.Decision {
		n++
		m := &chat.Message{ID: "m-" + string(rune('a'+n)), Stream: "s", Platform: platform, User: chat.User{ID: "42", Name: platform + "fan"},
			Text: text, TS: t0 + int64(n)*1000}
		d := chat.Decision{ID: m.ID, Stream: "s", Platform: platform, User: m.User, Text: m.Text, TS: m.TS, Labels: labels, Reasons: reasons}
		s.Apply(m, &d)
		return d
	}
	apply("twitch", "STOP", stop)
	if d := apply("youtube", "shipping?", q); d.FAQ == nil || !strings.Contains(d.FAQ.Reply, "youtubefan") {
		t.Fatalf("youtube 42 after twitch 42's STOP: %+v", d)
	}
	d := apply("twitch", "size chart?", q)
	if d.FAQ != nil || !hasRule(d, "reply.optout") {
		t.Fatalf("twitch 42 after their STOP: %+v", d)
	}
	tw := apply("twitch", "agent please, order 5521 refund", agent)
	yt := apply("youtube", "agent please, order 7788 not delivered", agent)
	if tw.Handoff == nil || yt.Handoff == nil || tw.Handoff.ID == yt.Handoff.ID {
		t.Fatalf("tickets: twitch %+v youtube %+v; want one each", tw.Handoff, yt.Handoff)
	}
	tk, ok := s.Tickets().Get(tw.Handoff.ID)
	if !ok || tk.Platform != "twitch" || tk.User.ID != "42" || !strings.Contains(string(tk.AppendJSON(nil)), `"platform":"twitch"`) {
		t.Fatalf("ticket %+v", tk)
	}
}

func hasRule(d chat.Decision, rule string) bool {
	for _, r := range d.Reasons {
		if r.Rule == rule {
			return true
		}
	}
	return false
}
