package policy

import (
	"encoding/json"
	"testing"

	"github.com/livemod/livemod/chat"
)

// FuzzParseYAML: no input panics the parser; what it accepts compiles,
// survives a JSON round trip (the REST form) and decides a message.
func FuzzParseYAML(f *testing.F) {
	f.Add([]byte(shopYAML))
	f.Add([]byte("caps: {max_ratio: 0.5}\n"))
	f.Add([]byte("blocked: [{regex: \"(?i)free\\\\s+v-?bucks\"}]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := ParseYAML(b)
		if err != nil {
			return
		}
		for _, p := range append([]Policy{cfg.Default}, values(cfg.Streams)...) {
			eff := Merge(cfg.Default, p)
			r, err := Compile(eff)
			if err != nil {
				t.Fatalf("valid policy does not compile: %v\n%s", err, b)
			}
			raw, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ParseJSON(raw); err != nil {
				t.Fatalf("JSON round trip refused: %v\n%s", err, raw)
			}
			var d chat.Decision
			testEngine().DecideWith(&d, &chat.Message{ID: "f", Stream: "s", User: chat.User{ID: "u"}, Text: "HELLO check x.com ₹₹₹ Kappa", TS: 1}, r.allow, r.Bind(nil))
			_ = Diff(cfg.Default, eff)
		}
	})
}

// FuzzInspect: any text decided under a policy with every rule kind
// keeps the decision's contract: a non-allow action has a reason.
func FuzzInspect(f *testing.F) {
	for _, s := range []string{"WHY IS NOBODY ANSWERING", "check 192.168.4.20:8080/free", "ch3apf0ll0ws", "यह धोखा है", "go to scam dot com", "z\u0301\u0302\u0303\u0304"} {
		f.Add(s)
	}
	cfg, err := ParseYAML([]byte(shopYAML))
	if err != nil {
		f.Fatal(err)
	}
	r, err := Compile(cfg.Default)
	if err != nil {
		f.Fatal(err)
	}
	env := NewEnv(0, nil)
	f.Fuzz(func(t *testing.T, text string) {
		m := &chat.Message{ID: "f", Stream: "s", User: chat.User{ID: "u"}, Text: text, TS: 1}
		if m.Validate() != nil {
			return
		}
		var d chat.Decision
		testEngine().DecideWith(&d, m, r.allow, r.Bind(env))
		if d.Action != chat.Allow && len(d.Reasons) == 0 {
			t.Fatalf("%q: %v without a reason", text, d.Action)
		}
	})
}

func values(m map[string]Policy) []Policy {
	out := make([]Policy, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	return out
}

// FuzzParseJSON: the REST body parser never panics; what it accepts
// compiles and is put back out as JSON it accepts again.
func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`{"blocked":[{"term":"cheapfollows","reason":"follower sellers"}],"caps":{"max_ratio":0.7,"min_length":15}}`))
	f.Add([]byte(`{"links":{"allow":["shopname.in"],"action":"timeout","seconds":60},"escalation":{"offences":3,"window":"10m","seconds":600}}`))
	f.Add([]byte(`{"actions":{"toxic":"hold","profanity":"allow","spam":"timeout:120"},"sensitivity":4,"exempt":["moderator/1","vip"]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseJSON(b)
		if err != nil {
			return
		}
		if _, err := Compile(p); err != nil {
			t.Fatalf("accepted but does not compile: %v\n%s", err, b)
		}
		raw, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseJSON(raw); err != nil {
			t.Fatalf("round trip refused: %v\n%s", err, raw)
		}
	})
}
