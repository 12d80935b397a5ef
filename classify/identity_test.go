package classify

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/livemod/livemod/chat"
)

// TestDecisionCarriesPlatformIdentity: a connector's message keeps its
// platform, channel, ids and badges in the decision, and the hand-written
// encoding says the same as encoding/json.
func TestDecisionCarriesPlatformIdentity(t *testing.T) {
	e, err := New(rulesOnly())
	if err != nil {
		t.Fatal(err)
	}
	m := &chat.Message{ID: "885196de-cb67", Stream: "show", Platform: "twitch", Channel: "lovingt3s",
		User: chat.User{ID: "713936733", Name: "lovingt3s", Badges: []string{"broadcaster", "sub<1>"}}, Text: "bleedPurple", TS: 1643904084794}
	d := e.Decide(m)
	if d.Platform != "twitch" || d.Channel != "lovingt3s" || d.ID != m.ID || d.User.ID != "713936733" || len(d.User.Badges) != 2 {
		t.Fatalf("decision %+v", d)
	}
	want, err := json.Marshal(&d)
	if err != nil {
		t.Fatal(err)
	}
	// The identity part of the object, as encoding/json writes it (the
	// encoders differ elsewhere only in how they write no reasons).
	head := want[:bytes.Index(want, []byte(`,"text":`))]
	if got := d.AppendJSON(nil); !bytes.HasPrefix(got, head) {
		t.Fatalf("AppendJSON\n got %s\nwant %s…", got, head)
	}
	var back chat.Decision
	if err := json.Unmarshal(d.AppendJSON(nil), &back); err != nil || back.Platform != "twitch" || back.Channel != "lovingt3s" || back.User.Badges[1] != "sub<1>" {
		t.Fatalf("round trip %+v %v", back, err)
	}
	// Without a platform nothing is added.
	d = e.Decide(&chat.Message{ID: "m", Stream: "s", User: chat.User{ID: "u"}, Text: "hi", TS: 1})
	if bytes.Contains(d.AppendJSON(nil), []byte("platform")) || bytes.Contains(d.AppendJSON(nil), []byte("badges")) {
		t.Fatalf("%s", d.AppendJSON(nil))
	}
}

func TestSubject(t *testing.T) {
	if chat.Subject("", "42") != "42" || chat.Subject("twitch", "42") == chat.Subject("youtube", "42") || chat.Subject("twitch", "42") != "twitch:42" {
		t.Fatal("Subject does not key by platform")
	}
}
