package stream

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/livemod/livemod/chat"
)

var parseLine = []byte(`{"id":"b3-000123","stream":"show","platform":"twitch","user":{"id":"u-7123","name":"asha_k","badges":["subscriber"]},"text":"how much is the blue jacket? kitne ka hai bhai, COD available hai kya?","ts":1795000000000}`)

// BenchmarkParse measures decoding and validating one ~250-byte message.
func BenchmarkParse(b *testing.B) {
	in := NewIngest(nil, IngestOptions{}, nil)
	b.SetBytes(int64(len(parseLine)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, reason := in.parse(parseLine, "show"); reason != "" {
			b.Fatal(reason)
		}
	}
}

// FuzzParse: any line yields a message or a reason, never a panic, and an
// accepted message is valid.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		string(parseLine),
		`{"user":{"id":"u"},"text":"नमस्ते"}`,
		`{"id":"m-43","user":{"id":"u"},"text":""}`,
		`{"text":"hi","user":{"id":"u"},"ts":-1}`,
		`{"text":"\u0000\ud800","user":{"id":"u"}}`,
		`[1,2,3]`, `null`, `{"user":"x"}`, `{`,
	} {
		f.Add([]byte(s))
	}
	in := NewIngest(nil, IngestOptions{}, nil)
	f.Fuzz(func(t *testing.T, line []byte) {
		m, reason := in.parse(line, "show")
		if reason == "" {
			if m == nil {
				t.Fatal("no message and no reason")
			}
			if err := m.Validate(); err != nil {
				t.Fatalf("accepted an invalid message: %v", err)
			}
			if m.Stream != "show" || !utf8.ValidString(m.Text) || strings.TrimSpace(m.Text) == "" {
				t.Fatalf("accepted %+v", m)
			}
			if now := time.Now().UnixMilli(); m.TS < now-chat.MaxClockSkew.Milliseconds()-60_000 || m.TS > now+chat.MaxClockSkew.Milliseconds()+60_000 {
				t.Fatalf("accepted ts %d, more than a day from the clock", m.TS)
			}
		}
	})
}

func TestAppendAckIsJSON(t *testing.T) {
	for _, id := range []string{"m-42", `we"ird\id`, "नमस्ते", "<b>", ""} {
		line := appendAck(nil, id, 7)
		var a ackFrame
		if err := json.Unmarshal(line, &a); err != nil || a.Type != "ack" || a.Upto != id || a.N != 7 {
			t.Errorf("appendAck(%q) = %s: %+v %v", id, line, a, err)
		}
	}
}

// BenchmarkParseFrame measures decoding a frame of 64 NDJSON messages, as
// `livemod bench --batch 64` sends them; ns/op is per frame.
func BenchmarkParseFrame(b *testing.B) {
	in := NewIngest(nil, IngestOptions{}, nil)
	var frame []byte
	for range 64 {
		frame = append(append(frame, parseLine...), '\n')
	}
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	var msgs []*chat.Message
	var errs []byte
	for b.Loop() {
		msgs, errs, _ = in.parseFrame(frame, "show", msgs[:0], errs[:0])
		if len(msgs) != 64 || len(errs) != 0 {
			b.Fatalf("%d messages, errors %s", len(msgs), errs)
		}
	}
}
