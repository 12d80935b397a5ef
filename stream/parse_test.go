package stream

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/livemod/livemod/classify"
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
			if now := time.Now().UnixMilli(); m.TS < now-MaxClockSkew.Milliseconds()-60_000 || m.TS > now+MaxClockSkew.Milliseconds()+60_000 {
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
	var msgs []*classify.Message
	var errs []byte
	for b.Loop() {
		msgs, errs, _ = in.parseFrame(frame, "show", msgs[:0], errs[:0])
		if len(msgs) != 64 || len(errs) != 0 {
			b.Fatalf("%d messages, errors %s", len(msgs), errs)
		}
	}
}

// FuzzDecodeMessage: wherever the fast decoder takes a line, encoding/json
// decodes it to the same message.
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{
		string(parseLine),
		`{"user":{"id":"u"},"text":"नमस्ते"}`,
		` { "id" : "m-1" , "user" : { "id" : "u" , "badges" : [ ] } , "text" : "hi" , "ts" : -0 } `,
		`{"text":"a \"quoted\" word","user":{"id":"u"}}`,
		`{"ID":"m","user":{"id":"u"},"text":"x"}`,
		`{"id":"a","id":"b"}`,
		`{"user":{"id":"a"},"user":{"name":"b"}}`,
		`{"ts":9223372036854775807}`, `{"ts":-9223372036854775808}`, `{"ts":9223372036854775808}`,
		`{"ts":01}`, `{"ts":1.5}`, `{"ts":1e3}`, `{"text":null}`, `{"extra":1}`,
		`{"text":"caf\u00e9 \ud83d\ude00 \ud800 \udc00x \n\t\"\\\/","user":{"id":"u"}}`,
		`{"emotes":[{"id":25,"at":[0,4.5e-3]},true,false,null],"Text":"x","user":{"id":"u","color":"#fff"},"text":"y"}`,
		`{"user":{"id":"u","id":"v"}}`, `{"text":"\u12"}`, `{"text":"\x"}`,
		"{\"text\":\"bad \xff utf8\"}", `{}`, `{"id":"x"} trailing`, `[1]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var fast classify.Message
		if !decodeMessage(string(line), &fast) {
			return
		}
		var std classify.Message
		if err := json.Unmarshal(line, &std); err != nil {
			t.Fatalf("fast decoder took %q, encoding/json refuses it: %v", line, err)
		}
		if !reflect.DeepEqual(fast, std) {
			t.Fatalf("%q: fast decoder %+v, encoding/json %+v", line, fast, std)
		}
	})
}

// TestDecodeMessageTakesTheCommonForm: the bench's lines and a connector's
// usual line take the fast path.
func TestDecodeMessageTakesTheCommonForm(t *testing.T) {
	for _, s := range []string{
		string(parseLine),
		`{"id":"m-1","stream":"show","user":{"id":"u-1","name":"Priya"},"text":"भाई price kya hai?","ts":1795000000000}`,
		`{"id":"m-2","user":{"id":"u-2","color":"#ff0000"},"text":"\u092d\u093e\u0908 \"quoted\"","emotes":[{"id":"25","pos":[0,4]}],"ts":1}`,
	} {
		var m classify.Message
		if !decodeMessage(s, &m) {
			t.Errorf("%s: not taken", s)
		}
	}
}

// TestDecodeEmoteCount: a bridge may say how many emotes the platform
// marked; both decoders read it, and a bad count is refused.
func TestDecodeEmoteCount(t *testing.T) {
	for _, line := range []string{
		`{"id":"m-1","stream":"s","user":{"id":"u"},"text":"Kappa Kappa","emote_count":2}`,
		`{"id":"m-1","stream":"s","user":{"id":"u"},"text":"Kappa \u004bappa","emote_count":2,"emotes":[{"id":"25"}]}`,
	} {
		var m classify.Message
		if err := DecodeMessage([]byte(line), line, &m); err != nil || m.Emotes != 2 {
			t.Errorf("%s: emotes %d, err %v", line, m.Emotes, err)
		}
	}
	m := classify.Message{ID: "m", Stream: "s", User: classify.User{ID: "u"}, Text: "hi", Emotes: -1}
	if err := m.Validate(); err == nil {
		t.Error("a negative emote_count is valid")
	}
}
