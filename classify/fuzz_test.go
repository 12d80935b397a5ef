package classify

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/livemod/livemod/chat"
)

// Seeds are in testdata/fuzz/<Name>/ (real chat lines, Hindi, evasions);
// these add the label tables' texts.

func FuzzNormalize(f *testing.F) {
	f.Add("how much is the blue jacket?")
	f.Add("जान से मार दूँगा")
	f.Add("s t u p i d  i d i o t")
	f.Add("चू ति या  मा.द.र.चो.द")
	f.Add("hello \t\n  world\u200b \u00a0!")
	f.Add(`you\nidiot sh\x69t \xe0\xa4\x9a\u0939\ud83d\ude00`)
	f.Add("it&#39;s &lt;3 &amp;lt; &#x1F600; AT&T Q&A &nbsp;")
	f.Add("&amp;amp;amp;amp;amp;lt; &l\\x74; \\x5cx41 ＆amp;")
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q: invalid UTF-8", s, n)
		}
		if n2 := Normalize(n); n2 != n {
			t.Fatalf("not idempotent: Normalize(%q) = %q, Normalize of that = %q", s, n, n2)
		}
		// One space between words, two where the text had a wider gap.
		if strings.HasPrefix(n, " ") || strings.HasSuffix(n, " ") || strings.Contains(n, "   ") {
			t.Fatalf("Normalize(%q) = %q: untidy spaces", s, n)
		}
		if sk := skeleton(s); !utf8.ValidString(sk) {
			t.Fatalf("skeleton(%q) = %q: invalid UTF-8", s, sk)
		}
	})
}

func FuzzDecide(f *testing.F) {
	f.Add("check out my channel bit.ly/x", "moderator")
	f.Add("order #A-7781 refund pls", "")
	e, err := New(rulesOnly())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text, badge string) {
		m := &chat.Message{ID: "m", Stream: "s", User: chat.User{ID: "u", Badges: []string{badge}}, Text: text, TS: 1}
		d := e.Decide(m)
		if d.Action != chat.Allow && len(d.Reasons) == 0 {
			t.Fatalf("%q: action %s without a reason", text, d.Action)
		}
		if d.Dup.Count < 1 {
			t.Fatalf("%q: dup count %d", text, d.Dup.Count)
		}
		if d.Text != text || d.ID != "m" {
			t.Fatalf("decision does not carry the message")
		}
		b := d.AppendJSON(nil)
		if !utf8.Valid(b) {
			t.Fatalf("%q: decision JSON is not UTF-8", text)
		}
	})
}

func FuzzExtractOrderID(f *testing.F) {
	f.Add("order 5521 not delivered")
	f.Add("ऑर्डर #A-7781")
	f.Fuzz(func(t *testing.T, s string) {
		id := ExtractOrderID(s)
		if id == "" {
			return
		}
		if len(id) < 3 || len(id) > 32 || !strings.ContainsAny(id, "0123456789") {
			t.Fatalf("ExtractOrderID(%q) = %q: not an order number", s, id)
		}
		if strings.ToUpper(id) != id {
			t.Fatalf("ExtractOrderID(%q) = %q: not upper case", s, id)
		}
	})
}

// FuzzAppendFields: the order-number parser splits words exactly as
// strings.Fields does, without allocating.
func FuzzAppendFields(f *testing.F) {
	for _, s := range []string{"", "  ", "order 5521 not\tdelivered\n", "ऑर्डर\u00a0#A-7781", "a\u0085b\u2028c", "bad \xff utf8", " lead and trail "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, want := appendFields(nil, s), strings.Fields(s)
		if len(got) != len(want) {
			t.Fatalf("appendFields(%q) = %q, strings.Fields = %q", s, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("appendFields(%q) = %q, strings.Fields = %q", s, got, want)
			}
		}
	})
}

func FuzzPhoneticKey(f *testing.F) {
	for _, s := range []string{"behenchod", "bhenchod", "chootiyaa", "kameena", "bh0sd1ke", "", "aaaa", "hhhh", "zzqqww"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, ok := phoneticKey(nil, []byte(s))
		if !ok {
			return
		}
		for i, c := range k {
			if !('a' <= c && c <= 'z' || c == keyEnd && i == len(k)-1) {
				t.Fatalf("phoneticKey(%q) = %q: byte %q at %d", s, k, c, i)
			}
		}
		if len(k) > 2*maxKeyWord {
			t.Fatalf("phoneticKey(%q) = %q: too long", s, k)
		}
	})
}
