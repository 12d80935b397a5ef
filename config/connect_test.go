package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// issueExample is the connect section as docs/CONNECTORS.md writes it.
const issueExample = `
connect:
  twitch:
    - channel: show
      stream: show
      server: wss://irc-ws.chat.twitch.tv:443
      nick: justinfan4711
      token: env:TEST_TWITCH_TOKEN
      client_id: abc123
      broadcaster_id: "1234"
      moderator_id: "5678"
      api: https://api.twitch.tv/helix
      dry_run: false
  youtube:
    - live_chat_id: Cg0KC1h5ejEyMw
      stream: show
      api_key: env:TEST_YOUTUBE_KEY
      token: env:TEST_YOUTUBE_TOKEN
      api: https://www.googleapis.com/youtube/v3
      quota_per_day: 10000
`

func load(t *testing.T, yaml string) (Config, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "livemod.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		return c, err
	}
	return c, c.Validate()
}

func TestConnectKeys(t *testing.T) {
	t.Setenv("TEST_TWITCH_TOKEN", "tok")
	t.Setenv("TEST_YOUTUBE_KEY", "key")
	t.Setenv("TEST_YOUTUBE_TOKEN", "ytok")
	c, err := load(t, issueExample)
	if err != nil {
		t.Fatal(err)
	}
	tw, yt := c.Connect.Twitch[0], c.Connect.YouTube[0]
	if tw.Channel != "show" || tw.BroadcasterID != "1234" || tw.ModeratorID != "5678" || tw.ClientID != "abc123" || tw.Nick != "justinfan4711" ||
		yt.LiveChatID != "Cg0KC1h5ejEyMw" || yt.QuotaPerDay != 10000 || yt.Stream != "show" {
		t.Fatalf("%+v %+v", tw, yt)
	}
	if s, err := Secret(tw.Token); err != nil || s != "tok" {
		t.Fatalf("secret %q %v", s, err)
	}
}

func TestConnectProblems(t *testing.T) {
	os.Unsetenv("TEST_MISSING_TOKEN")
	_, err := load(t, `
connect:
  twitch:
    - server: http://example.com
      token: env:TEST_MISSING_TOKEN
  youtube:
    - stream: show
`)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"connect.twitch[0].channel", "connect.twitch[0].server", "TEST_MISSING_TOKEN is not set",
		"client_id, broadcaster_id and moderator_id", "connect.youtube[0].live_chat_id", "api_key (read) or token"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\nlacks %q", err, want)
		}
	}
}
