package chat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// FuzzAppendJSONString: the hand encoder writes a JSON string that
// decodes to what encoding/json's own encoding decodes to (invalid UTF-8
// as U+FFFD), and that escapes <, > and & as encoding/json does, so a
// decision line can sit in an HTML page's script without ending it.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"uo\te`, "tab\tnl\ncr\r", "\x00\x1f\b\f", "<script>&", "हिंदी में सवाल?", "bad \xff utf8 \xe2\x82", "line\u2028sep\u2029", "emoji 😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := AppendJSONString(nil, s)
		var back, want string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q encodes to %s: not JSON: %v", s, got, err)
		}
		ref, _ := json.Marshal(s)
		json.Unmarshal(ref, &want)
		if back != want {
			t.Fatalf("%q encodes to %s, which decodes to %q; encoding/json's decodes to %q", s, got, back, want)
		}
		for _, c := range got {
			if c == '<' || c == '>' || c == '&' {
				t.Fatalf("%q encodes to %s: an HTML special character is not escaped", s, got)
			}
		}
	})
}

// BenchmarkDecisionAppendJSON encodes a typical decision: the pipeline
// does this once for every message.
func BenchmarkDecisionAppendJSON(b *testing.B) {
	d := Decision{
		ID: "b1x-3-120044", Stream: "launch", User: User{ID: "u-3-1234", Name: "Priya_42"},
		Text: "bhai blue jacket ka price kya hai? aur delivery kab tak aayegi mumbai mein", TS: 1795000000000,
		Labels: Labels(LabelQuestion | LabelPurchaseIntent), Action: Allow,
		Reasons:  []Reason{{Rule: "question.word", Detail: "matched 'kya'"}, {Rule: "purchase.price", Detail: "matched 'price'"}},
		Question: &QuestionRef{Cluster: "q-1f3a9c", Askers: 4},
	}
	d.Scores.Set(LabelSpam, 0.021)
	d.Scores.Set(LabelQuestion, 0.973)
	d.Scores.Set(LabelPurchaseIntent, 0.64)
	hindi := d
	hindi.Text = "भाई नीली जैकेट की कीमत क्या है? और मुंबई में डिलीवरी कब तक आएगी"
	buf := make([]byte, 0, 2048)
	for _, c := range []struct {
		name string
		d    *Decision
	}{{"hinglish", &d}, {"hindi", &hindi}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				buf = c.d.AppendJSON(buf[:0])
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

// FuzzHandoffRef: the Handoff a ticket shares with its decisions has the
// ticket's fields and, encoded once, the JSON that encoding/json writes
// for them; a decision carrying it encodes as one carrying a plain copy.
func FuzzHandoffRef(f *testing.F) {
	f.Add("t-1", "", "", "")
	f.Add("t-42", "A-1234567", "refund", "Order A-1234567: refund — \"wrong size\" <b>")
	f.Add("t-9", "", "agent_request", "हिंदी में मदद चाहिए\n\x00\xff")
	f.Fuzz(func(t *testing.T, id, order, issue, summary string) {
		tk := &Ticket{ID: id, OrderID: order, Issue: issue, Summary: summary}
		h := tk.HandoffRef()
		plain := Handoff{ID: id, OrderID: order, Issue: issue, Summary: summary}
		if h.ID != id || h.OrderID != order || h.Issue != issue || h.Summary != summary {
			t.Fatalf("HandoffRef = %+v, want the ticket's fields %+v", *h, plain)
		}
		want, err := json.Marshal(plain)
		if err != nil {
			t.Fatal(err)
		}
		var back, ref map[string]any
		if err := json.Unmarshal(h.Enc, &back); err != nil {
			t.Fatalf("encoded handoff %s is not JSON: %v", h.Enc, err)
		}
		json.Unmarshal(want, &ref)
		if got, exp := fmt.Sprint(back), fmt.Sprint(ref); got != exp {
			t.Fatalf("encoded handoff decodes to %s, encoding/json's to %s", got, exp)
		}
		d := Decision{ID: "m", Stream: "s", Handoff: h}
		d2 := d
		d2.Handoff = &plain
		if a, b := d.AppendJSON(nil), d2.AppendJSON(nil); !bytes.Equal(a, b) {
			t.Fatalf("decision with the shared handoff:\n%s\nwith a plain one:\n%s", a, b)
		}
	})
}

// TestPlainWords: the word-at-a-time scan never passes a byte that
// appendString must not copy as it is, wherever it is (the last word read
// may overlap the one before), and passes all of a plain string of eight
// bytes or more.
func TestPlainWords(t *testing.T) {
	base := []byte("abcdefghijklmnopqrstuvwxyz0123456789 ?!.,'#%()*+-/:;=@[]^_`{|}~")
	if got := plainWords(string(base)); got != len(base) {
		t.Fatalf("plainWords(all plain) = %d, want %d", got, len(base))
	}
	if got := plainWords("abc"); got != 0 {
		t.Fatalf("plainWords(short) = %d, want 0: the byte loop takes it", got)
	}
	for c := range 256 {
		if jsonPlain[c] {
			continue
		}
		for n := 8; n <= 24; n++ {
			for pos := range n {
				s := bytes.Clone(base[:n])
				s[pos] = byte(c)
				if got := plainWords(string(s)); got > pos {
					t.Fatalf("plainWords(%q) = %d: passes the %#x at %d", s, got, c, pos)
				}
			}
		}
	}
	for c := range 256 {
		if !jsonPlain[c] {
			continue
		}
		s := bytes.Repeat([]byte{byte(c)}, 17)
		if got := plainWords(string(s)); got != 17 {
			t.Fatalf("plainWords(%q) = %d, want 17", s, got)
		}
	}
}
