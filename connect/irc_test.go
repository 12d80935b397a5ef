package connect

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"
)

// realLines are Twitch's documented IRC lines (testdata/twitch_irc.txt).
func realLines(t testing.TB) []string {
	t.Helper()
	f, err := os.Open("testdata/twitch_irc.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<16)
	for sc.Scan() {
		if l := sc.Text(); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func lineWith(t *testing.T, cmd, contains string) *IRC {
	t.Helper()
	for _, l := range realLines(t) {
		m, err := ParseIRC(l)
		if err != nil {
			t.Fatalf("ParseIRC(%q): %v", l, err)
		}
		if m.Command == cmd && strings.Contains(l, contains) {
			return &m
		}
	}
	t.Fatalf("no %s line containing %q in testdata/twitch_irc.txt", cmd, contains)
	return nil
}

func TestTwitchPrivmsgWithEmotesAndBadges(t *testing.T) {
	m := lineWith(t, "PRIVMSG", "emotes=62835")
	if m.Tags["emotes"] != "62835:0-10" || m.Tags["color"] != "#0000FF" || m.Nick() != "lovingt3s" {
		t.Fatalf("tags/prefix: %+v", m)
	}
	ev := TwitchEventOf(m, "show")
	msg := ev.Message
	if ev.Kind != "message" || msg.ID != "885196de-cb67-427a-baa8-82f9b0fcd05f" || msg.User.ID != "713936733" ||
		msg.User.Name != "lovingt3s" || msg.Text != "bleedPurple" || msg.TS != 1643904084794 ||
		msg.Platform != "twitch" || msg.Channel != "lovingt3s" || msg.Stream != "show" {
		t.Fatalf("message: %+v", ev)
	}
	if !slices.Equal(msg.User.Badges, []string{"broadcaster"}) {
		t.Fatalf("badges %v", msg.User.Badges)
	}
	if err := msg.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestTwitchClearmsg(t *testing.T) {
	ev := TwitchEventOf(lineWith(t, "CLEARMSG", ""), "show")
	if ev.Kind != "delete" || ev.Target != "abc-123-def" || ev.Login != "ronni" || ev.Channel != "dallas" {
		t.Fatalf("%+v", ev)
	}
}

func TestTwitchClearchat(t *testing.T) {
	ban := TwitchEventOf(lineWith(t, "CLEARCHAT", "target-user-id=87654321"), "show")
	if ban.Kind != "clear" || ban.Target != "87654321" || ban.Login != "ronni" || ban.Seconds != 0 {
		t.Fatalf("ban: %+v", ban)
	}
	to := TwitchEventOf(lineWith(t, "CLEARCHAT", "ban-duration=5"), "show")
	if to.Kind != "clear" || to.Target != "269899575" || to.Seconds != 5 || to.Channel != "clippyassistant" {
		t.Fatalf("timeout: %+v", to)
	}
	all := lineWith(t, "CLEARCHAT", "tmi-sent-ts=1642715695392")
	if ev := TwitchEventOf(all, "show"); ev.Kind != "clear" || ev.Target != "" || ev.Channel != "dallas" {
		t.Fatalf("whole chat: %+v", ev)
	}
}

func TestTwitchUsernotice(t *testing.T) {
	m := lineWith(t, "USERNOTICE", "resub")
	if got := m.Tags["system-msg"]; got != "ronni has subscribed for 6 months!" {
		t.Fatalf("system-msg unescaped to %q", got)
	}
	ev := TwitchEventOf(m, "show")
	if ev.Kind != "message" || ev.Message.Text != "Great stream -- keep it up!" || ev.Message.User.ID != "87654321" ||
		ev.Message.User.Name != "ronni" || !slices.Equal(ev.Message.User.Badges, []string{"staff", "broadcaster", "turbo"}) {
		t.Fatalf("%+v", ev)
	}
}

func TestTwitchReconnectAndPing(t *testing.T) {
	if ev := TwitchEventOf(lineWith(t, "RECONNECT", ""), "show"); ev.Kind != "reconnect" {
		t.Fatalf("%+v", ev)
	}
	p := lineWith(t, "PING", "")
	if p.Param(0) != "tmi.twitch.tv" || p.Prefix != "" {
		t.Fatalf("%+v", p)
	}
	if ev := TwitchEventOf(lineWith(t, "ROOMSTATE", ""), "show"); ev.Kind != "" {
		t.Fatalf("ROOMSTATE: %+v", ev)
	}
}

func TestUnescapeTag(t *testing.T) {
	for in, want := range map[string]string{
		`a\sb`: "a b", `a\:b`: "a;b", `a\\b`: `a\b`, `a\rb\n`: "a\rb\n", `a\xb`: "axb", `ab\`: "ab", ``: ``,
	} {
		if got := UnescapeTag(in); got != want {
			t.Errorf("UnescapeTag(%q) = %q, want %q", in, got, want)
		}
		if got := UnescapeTag(EscapeTag(want)); got != want {
			t.Errorf("round trip of %q: %q", want, got)
		}
	}
}

func TestParseIRCErrors(t *testing.T) {
	for _, l := range []string{"", "@a=b", ":prefix", "@a=b :prefix", strings.Repeat("x", maxIRCLine+1),
		"CMD" + strings.Repeat(" p", maxIRCParams+1)} {
		if _, err := ParseIRC(l); err == nil {
			t.Errorf("ParseIRC(%.40q): no error", l)
		}
	}
}

func FuzzParseIRC(f *testing.F) {
	for _, l := range realLines(f) {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line string) {
		m, err := ParseIRC(line)
		if err != nil {
			return
		}
		if m.Command == "" || len(m.Params) > maxIRCParams || len(m.Tags) > maxIRCTags {
			t.Fatalf("%q parsed to %+v", line, m)
		}
		for k, v := range m.Tags {
			if UnescapeTag(EscapeTag(v)) != v {
				t.Fatalf("tag %s=%q does not survive escaping", k, v)
			}
		}
		ev := TwitchEventOf(&m, "s")
		if ev.Kind == "message" && (ev.Message.Text == "" || len(ev.Message.User.Badges) > 16) {
			t.Fatalf("%q: message %+v", line, ev.Message)
		}
	})
}

func TestCountEmotes(t *testing.T) {
	for tag, want := range map[string]int{
		"":                          0,
		"62835:0-10":                1,
		"25:0-4,12-16/1902:6-10":    3,
		"emotesv2_abc:0-3,5-8,9-12": 3,
		"broken":                    0,
	} {
		if got := CountEmotes(tag); got != want {
			t.Errorf("CountEmotes(%q) = %d; want %d", tag, got, want)
		}
	}
	m := lineWith(t, "PRIVMSG", "emotes=62835")
	if ev := TwitchEventOf(m, "show"); ev.Message.Emotes != 1 {
		t.Errorf("PRIVMSG with one emote: %+v", ev.Message)
	}
}
