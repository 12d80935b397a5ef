package connect

import (
	"strconv"
	"strings"

	"github.com/livemod/livemod/chat"
)

// PlatformTwitch and PlatformYouTube name the platforms in messages,
// decisions, actions and per-user keys.
const (
	PlatformTwitch  = "twitch"
	PlatformYouTube = "youtube"
)

// TwitchEvent is what one Twitch IRC line means to livemod.
type TwitchEvent struct {
	Kind    string       // "message", "delete", "clear", "reconnect", or "" (nothing to do)
	Message chat.Message // Kind "message"
	Channel string       // the channel, without '#'
	Target  string       // "delete": the message id; "clear": the user id, empty for the whole chat
	Login   string       // "delete" and "clear": the user's login, if given
	Seconds int          // "clear" of one user: ban-duration (0 = a ban)
}

// TwitchEventOf reads one parsed line. stream is the livemod stream the
// channel feeds. PRIVMSG and a USERNOTICE with the user's own text are
// messages (with Twitch's ids when the server sends tags; a plain IRC
// server's lines get the nick as user id and no message id, which
// admission fills in); CLEARMSG deletes one message; CLEARCHAT clears one
// user (timeout or ban) or the whole chat; RECONNECT asks us to
// reconnect.
func TwitchEventOf(m *IRC, stream string) TwitchEvent {
	ch := strings.TrimPrefix(m.Param(0), "#")
	switch m.Command {
	case "PRIVMSG", "USERNOTICE":
		text := m.Param(1)
		if len(m.Params) < 2 || text == "" {
			return TwitchEvent{} // a USERNOTICE without the user's words
		}
		if strings.HasPrefix(text, "\x01ACTION ") { // "/me …"
			text = strings.TrimSuffix(strings.TrimPrefix(text, "\x01ACTION "), "\x01")
		}
		msg := chat.Message{
			ID:       m.Tags["id"],
			Stream:   stream,
			Platform: PlatformTwitch,
			Channel:  ch,
			User:     chat.User{ID: m.Tags["user-id"], Name: m.Tags["display-name"]},
			Text:     text,
		}
		login := m.Nick()
		if login == "" || strings.Contains(login, ".") { // USERNOTICE comes from tmi.twitch.tv
			login = m.Tags["login"]
		}
		if msg.User.ID == "" {
			msg.User.ID = login
		}
		if msg.User.Name == "" {
			msg.User.Name = login
		}
		if b := m.Tags["badges"]; b != "" {
			for _, badge := range strings.Split(b, ",") {
				name, _, _ := strings.Cut(badge, "/")
				if name != "" && len(msg.User.Badges) < chat.MaxBadges {
					msg.User.Badges = append(msg.User.Badges, name)
				}
			}
		}
		if ts, err := strconv.ParseInt(m.Tags["tmi-sent-ts"], 10, 64); err == nil && ts > 0 {
			msg.TS = ts
		}
		msg.Emotes = CountEmotes(m.Tags["emotes"])
		return TwitchEvent{Kind: "message", Message: msg, Channel: ch}
	case "CLEARMSG":
		if id := m.Tags["target-msg-id"]; id != "" {
			return TwitchEvent{Kind: "delete", Channel: ch, Target: id, Login: m.Tags["login"]}
		}
	case "CLEARCHAT":
		ev := TwitchEvent{Kind: "clear", Channel: ch, Target: m.Tags["target-user-id"], Login: m.Param(1)}
		if ev.Target == "" {
			ev.Target = ev.Login // a server without tags names the user only
		}
		ev.Seconds, _ = strconv.Atoi(m.Tags["ban-duration"])
		return ev
	case "RECONNECT":
		return TwitchEvent{Kind: "reconnect"}
	}
	return TwitchEvent{}
}

// CountEmotes counts the emote positions of a Twitch emotes tag
// ("25:0-4,12-16/1902:6-10" is three), the emotes a channel's emote limit
// counts.
func CountEmotes(tag string) int {
	n := 0
	for _, set := range strings.Split(tag, "/") {
		_, ranges, ok := strings.Cut(set, ":")
		if !ok || ranges == "" {
			continue
		}
		n += strings.Count(ranges, ",") + 1
	}
	return min(n, chat.MaxTextBytes)
}
