package config

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Connect lists the platform connectors: each Twitch channel and YouTube
// live chat is read into a stream, and that stream's actions go back.
type Connect struct {
	Twitch  []Twitch  `yaml:"twitch"`
	YouTube []YouTube `yaml:"youtube"`
	// Actions tunes the durable outbox of platform actions.
	Actions ConnectActions `yaml:"actions"`
}

// ConnectActions tunes the outbox of platform actions.
type ConnectActions struct {
	MaxAttempts int           `yaml:"max_attempts"` // zero means 8
	Initial     time.Duration `yaml:"initial"`      // zero means 1s
	Max         time.Duration `yaml:"max"`          // zero means 5m
	Keep        int           `yaml:"keep"`         // finished actions kept; zero means 1000
}

// Twitch is one Twitch channel. Secrets may be written env:NAME to read
// them from the environment.
type Twitch struct {
	Channel       string `yaml:"channel"`
	Stream        string `yaml:"stream"`         // empty means channel
	Server        string `yaml:"server"`         // empty means wss://irc-ws.chat.twitch.tv:443
	Nick          string `yaml:"nick"`           // empty means an anonymous justinfan nick
	Token         string `yaml:"token"`          // user token: act back and reply
	ClientID      string `yaml:"client_id"`      // the token's application
	BroadcasterID string `yaml:"broadcaster_id"` // the channel's user id
	ModeratorID   string `yaml:"moderator_id"`   // the token's user id
	RefreshToken  string `yaml:"refresh_token"`  // optional: refresh the token when it expires
	ClientSecret  string `yaml:"client_secret"`  // with refresh_token
	API           string `yaml:"api"`            // empty means https://api.twitch.tv/helix
	EventSub      bool   `yaml:"eventsub"`       // read over EventSub (needs token) instead of IRC
	DryRun        bool   `yaml:"dry_run"`        // log actions instead of making them
}

// YouTube is one YouTube live chat.
type YouTube struct {
	LiveChatID  string        `yaml:"live_chat_id"`
	Stream      string        `yaml:"stream"`        // empty means live_chat_id
	APIKey      string        `yaml:"api_key"`       // read-only
	Token       string        `yaml:"token"`         // OAuth access token: delete, ban, reply
	API         string        `yaml:"api"`           // empty means https://www.googleapis.com/youtube/v3
	QuotaPerDay int           `yaml:"quota_per_day"` // zero means 10,000
	ShowLength  time.Duration `yaml:"show_length"`   // zero means 4h
	DryRun      bool          `yaml:"dry_run"`
}

// Secret returns v, or the environment variable it names as env:NAME.
func Secret(v string) (string, error) {
	name, ok := strings.CutPrefix(v, "env:")
	if !ok {
		return v, nil
	}
	s, set := os.LookupEnv(name)
	if !set || s == "" {
		return "", fmt.Errorf("environment variable %s is not set", name)
	}
	return s, nil
}

func (c *Connect) validate(add func(string, ...any)) {
	secret := func(key, v string) {
		if _, err := Secret(v); err != nil {
			add("%s: %v; export it or write the value", key, err)
		}
	}
	for i, t := range c.Twitch {
		k := fmt.Sprintf("connect.twitch[%d]", i)
		if t.Channel == "" {
			add("%s.channel: empty; name the channel to read, e.g. channel: show", k)
		}
		if t.Server != "" {
			u, err := url.Parse(t.Server)
			if err != nil || (u.Scheme != "wss" && u.Scheme != "ws" && u.Scheme != "irc") || u.Host == "" {
				add("%s.server: %q; use wss://irc-ws.chat.twitch.tv:443 or irc://host:port", k, t.Server)
			}
		}
		secret(k+".token", t.Token)
		secret(k+".refresh_token", t.RefreshToken)
		secret(k+".client_secret", t.ClientSecret)
		if t.Token != "" && (t.ClientID == "" || t.BroadcasterID == "" || t.ModeratorID == "") {
			add("%s: a token needs client_id, broadcaster_id and moderator_id (see docs/CONNECTORS.md)", k)
		}
		if t.EventSub && t.Token == "" {
			add("%s.eventsub: needs a token; remove eventsub to read anonymously over IRC", k)
		}
		if t.API != "" && !strings.HasPrefix(t.API, "http://") && !strings.HasPrefix(t.API, "https://") {
			add("%s.api: %q is not an http(s) URL", k, t.API)
		}
	}
	for i, y := range c.YouTube {
		k := fmt.Sprintf("connect.youtube[%d]", i)
		if y.LiveChatID == "" {
			add("%s.live_chat_id: empty; it is the broadcast's snippet.liveChatId (see docs/CONNECTORS.md)", k)
		}
		if y.APIKey == "" && y.Token == "" {
			add("%s: set api_key (read) or token (read and act)", k)
		}
		secret(k+".api_key", y.APIKey)
		secret(k+".token", y.Token)
		if y.QuotaPerDay < 0 {
			add("%s.quota_per_day: negative; use 0 for the default of 10000", k)
		}
		if y.API != "" && !strings.HasPrefix(y.API, "http://") && !strings.HasPrefix(y.API, "https://") {
			add("%s.api: %q is not an http(s) URL", k, y.API)
		}
	}
	if c.Actions.MaxAttempts < 0 || c.Actions.Initial < 0 || c.Actions.Max < 0 || c.Actions.Keep < 0 {
		add("connect.actions: negative value; use 0 for the defaults")
	}
}
