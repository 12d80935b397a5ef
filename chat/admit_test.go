package chat

import (
	"strings"
	"testing"
)

// TestAdmit: the one admission fills in what a way in knows (stream, id,
// time), clamps a broken clock only where there is a clock, refuses a
// message of another stream unless the way in mixes streams, and
// validates.
func TestAdmit(t *testing.T) {
	const now = int64(1795000000000)
	n := 0
	server := Admission{Stream: "show", ID: func() string { n++; return "lm-" + string(rune('0'+n)) }, Now: now, Clamp: true}
	day := MaxClockSkew.Milliseconds()
	for _, c := range []struct {
		name        string
		in          Message
		a           Admission
		wantStream  string
		wantID      string
		wantTS      int64
		wantClamped bool
		wantErr     string
	}{
		{name: "filled in", in: Message{User: User{ID: "u"}, Text: "hi"}, a: server, wantStream: "show", wantID: "lm-1", wantTS: now},
		{name: "kept", in: Message{ID: "m-1", Stream: "show", User: User{ID: "u"}, Text: "hi", TS: now - 5000}, a: server, wantStream: "show", wantID: "m-1", wantTS: now - 5000},
		{name: "broken clock clamped", in: Message{ID: "m-2", User: User{ID: "u"}, Text: "hi", TS: now + day + 1}, a: server, wantStream: "show", wantID: "m-2", wantTS: now, wantClamped: true},
		{name: "a day back is kept", in: Message{ID: "m-3", User: User{ID: "u"}, Text: "hi", TS: now - day}, a: server, wantStream: "show", wantID: "m-3", wantTS: now - day},
		{name: "another stream", in: Message{ID: "m-4", Stream: "other", User: User{ID: "u"}, Text: "hi"}, a: server, wantErr: `stream: "other" does not match`},
		{name: "invalid", in: Message{ID: "m-5", User: User{ID: "u"}, Text: "  "}, a: server, wantErr: "text: empty"},
		{name: "replay mixes streams and keeps old times", in: Message{Stream: "other", User: User{ID: "u"}, Text: "hi", TS: 1}, a: Admission{Stream: "replay", AnyStream: true, ID: func() string { return "line-7" }, Now: 5}, wantStream: "other", wantID: "line-7", wantTS: 1},
		{name: "replay carries the last time", in: Message{User: User{ID: "u"}, Text: "hi"}, a: Admission{Stream: "replay", AnyStream: true, ID: func() string { return "line-8" }, Now: 5}, wantStream: "replay", wantID: "line-8", wantTS: 5},
	} {
		m := c.in
		clamped, err := Admit(&m, &c.a)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.wantErr)
			}
			continue
		}
		if err != nil || m.Stream != c.wantStream || m.ID != c.wantID || m.TS != c.wantTS || clamped != c.wantClamped {
			t.Errorf("%s: %+v clamped %v err %v; want stream %s id %s ts %d clamped %v", c.name, m, clamped, err, c.wantStream, c.wantID, c.wantTS, c.wantClamped)
		}
	}
}
