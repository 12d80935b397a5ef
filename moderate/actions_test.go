package moderate

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
	"github.com/livemod/livemod/state"
	"github.com/livemod/livemod/store"
)

// portRecorder is an Actions port that keeps what it was given; stream
// "tw" is fed by Twitch, "yt" by YouTube, "both" by both.
type portRecorder struct {
	mu   sync.Mutex
	got  []store.Action
	fail error
}

func (p *portRecorder) Platform(stream string) string {
	return map[string]string{"tw": "twitch", "yt": "youtube"}[stream]
}

func (p *portRecorder) Enqueue(as ...store.Action) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return p.fail
	}
	p.got = append(p.got, as...)
	return nil
}

func decideOn(d *Desk, id, stream, platform, user string, action chat.Action) {
	dec := chat.Decision{ID: id, Stream: stream, Platform: platform, User: chat.User{ID: user}, Text: "t " + id, Action: action}
	d.Decided(&dec, dec.AppendJSON(nil))
}

// TestRestrictionsKeyedByPlatform: a timeout of Twitch user 42 hides
// Twitch user 42's messages, not YouTube user 42's, and goes to Twitch
// through the port; a ban without a platform holds everywhere.
func TestRestrictionsKeyedByPlatform(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	port := &portRecorder{}
	restricted := &state.MemoryRestrictions{}
	d := NewDesk(DeskOptions{Publish: rec.publish, Audit: rec, Actions: port, Restrictions: restricted})
	// The engine asks the desk's restrictions first about every message.
	engine, err := classify.New(classify.Options{NoModel: true, Restrictions: restricted})
	if err != nil {
		t.Fatal(err)
	}
	action := func(platform, user string) chat.Action {
		return engine.Decide(&chat.Message{ID: "x", Stream: "both", Platform: platform, User: chat.User{ID: user}, Text: "hello there", TS: 1}).Action
	}
	decideOn(d, "t-1", "both", "twitch", "42", chat.Allow)
	decideOn(d, "y-1", "both", "youtube", "42", chat.Allow)
	if _, err := d.User("mods", "both", "twitch:42", "timeout", 60, "spam"); err != nil {
		t.Fatal(err)
	}
	if s, _ := d.State("both", "t-1"); s != StateHidden {
		t.Errorf("twitch 42's message: %s, want hidden", s)
	}
	if s, _ := d.State("both", "y-1"); s != StateVisible {
		t.Errorf("youtube 42's message: %s, want visible", s)
	}
	if a := action("twitch", "42"); a != chat.Hide {
		t.Errorf("twitch 42's new message: %s, want hide (timed out)", a)
	}
	if a := action("youtube", "42"); a != chat.Allow {
		t.Errorf("youtube 42's new message: %s, want allow", a)
	}
	if len(port.got) != 1 || port.got[0].Kind != store.ActTimeout || port.got[0].Platform != "twitch" || port.got[0].User != "42" || port.got[0].Seconds != 60 {
		t.Fatalf("port got %+v", port.got)
	}

	// The stream's connector supplies the platform.
	decideOn(d, "y-3", "yt", "youtube", "7", chat.Allow)
	if _, err := d.User("mods", "yt", "7", "ban", 0, ""); err != nil {
		t.Fatal(err)
	}
	if got := port.got[len(port.got)-1]; got.Kind != store.ActBan || got.Platform != "youtube" || got.User != "7" {
		t.Fatalf("port got %+v", got)
	}
	if _, _, ok := d.Restricted("youtube:7"); !ok {
		t.Error("youtube:7 not restricted")
	}
	if _, _, ok := d.Restricted("7"); ok {
		t.Error("a ban on YouTube holds for user 7 of every platform")
	}

	// A ban without a platform (a stream no connector feeds) holds on
	// every platform, as before connectors.
	if _, err := d.User("mods", "bridge", "9", "ban", 0, ""); err != nil {
		t.Fatal(err)
	}
	if a := action("twitch", "9"); a != chat.Hide {
		t.Errorf("banned user 9 on twitch: %s, want hide", a)
	}
	if a := action("", "9"); a != chat.Hide {
		t.Errorf("banned user 9 without a platform: %s, want hide", a)
	}
	if n := len(port.got); n != 2 {
		t.Errorf("a ban on an unconnected stream went to the port: %+v", port.got)
	}
}

// TestDeskHideGoesToPlatform: a moderator's hide of a platform message
// is queued for its platform; a failure to queue is a 500 error.
func TestDeskHideGoesToPlatform(t *testing.T) {
	t.Parallel()
	port := &portRecorder{}
	d := NewDesk(DeskOptions{Actions: port})
	decideOn(d, "t-1", "tw", "twitch", "42", chat.Allow)
	decideOn(d, "p-1", "tw", "", "u", chat.Allow)
	if _, err := d.Act("mods", "tw", "t-1", "hide", "rude"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Act("mods", "tw", "p-1", "hide", ""); err != nil {
		t.Fatal(err)
	}
	if len(port.got) != 1 || port.got[0].Target != "t-1" || port.got[0].Kind != store.ActHide || port.got[0].Actor != "mods" {
		t.Fatalf("port got %+v", port.got)
	}
	port.fail = errors.New("disk full")
	decideOn(d, "t-2", "tw", "twitch", "42", chat.Allow)
	_, err := d.Act("mods", "tw", "t-2", "hide", "")
	// No kind of the caller's making: overlay answers it with a 500.
	var e *chat.Error
	if err == nil || errors.As(err, &e) || !strings.Contains(err.Error(), "queue for the platform") {
		t.Fatalf("hide with a failing outbox: %v", err)
	}
}

// TestMirror: deletions and bans made on the platform hide the messages
// in livemod with the platform as actor.
func TestMirror(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	var hidden []string
	d := NewDesk(DeskOptions{Publish: rec.publish, Audit: rec, Hidden: func(stream, user, id string) { hidden = append(hidden, user+"/"+id) }})
	decideOn(d, "a", "tw", "twitch", "1", chat.Allow)
	decideOn(d, "b", "tw", "twitch", "2", chat.Allow)
	decideOn(d, "c", "tw", "twitch", "2", chat.Allow)
	decideOn(d, "d", "tw", "youtube", "2", chat.Allow)
	if n := d.Mirror("twitch", "tw", "delete", "a", "", 0, "deleted on Twitch"); n != 1 {
		t.Fatalf("delete hid %d", n)
	}
	if n := d.Mirror("twitch", "tw", "clear", "", "2", 600, "timed out on Twitch"); n != 2 {
		t.Fatalf("clear of user 2 hid %d", n)
	}
	if s, _ := d.State("tw", "d"); s != StateVisible {
		t.Fatalf("youtube user 2's message: %s", s)
	}
	if n := d.Mirror("youtube", "tw", "clear", "", "", 0, "cleared"); n != 1 {
		t.Fatalf("clear all hid %d", n)
	}
	// The trending questions drop them too: a, then b and c and user 2, then d.
	if want := []string{"1/a", "2/b", "2/c", "2/", "2/d"}; !slices.Equal(hidden, want) {
		t.Fatalf("trending told %v, want %v", hidden, want)
	}
	byTwitch := 0
	for _, e := range rec.audit {
		if e.Actor == "twitch" && e.Action == "hide" {
			byTwitch++
		}
	}
	if byTwitch != 3 {
		t.Fatalf("audit %+v", rec.audit)
	}
}
