package classify

import (
	"strings"
	"testing"
)

func testFAQ(t testing.TB) *FAQMatcher {
	t.Helper()
	f, err := NewFAQMatcher([]FAQEntry{
		{ID: "shipping", Match: []string{"shipping", "delivery time", "when will it arrive", "kab tak aayega", "कब तक आएगा"}, Answer: "{author_name}, 3–5 days."},
		{ID: "size", Match: []string{"size chart", "which size", "kaunsa size", "कौन सा साइज़"}, Answer: "{author_name}, see the chart."},
		{ID: "cod", Match: []string{"cash on delivery", "cod available", "cod milega"}, Answer: "Yes, COD on {product_name}."},
	}, FAQOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFAQMatch(t *testing.T) {
	t.Parallel()
	f := testFAQ(t)
	for _, tc := range []struct {
		text, want string
	}{
		// English: phrases, word order, typos.
		{"how long does shipping take?", "shipping"},
		{"what is the delivery time", "shipping"},
		{"time of delivery?", "shipping"},           // word order
		{"what is the delivary time?", "shipping"},  // substituted letter
		{"shpping to pune?", "shipping"},            // missing letter
		{"SHIPPPING???", "shipping"},                // shouting, repeats
		{"when will my jacket arrive?", "shipping"}, // extra word, filler missing
		{"is there a size chart?", "size"},
		{"which size for 6 feet?", "size"},
		{"is cash on delivery available?", "cod"},
		// Hinglish
		{"shipping kab tak aayega?", "shipping"},
		{"ye kab tak aayega bhai", "shipping"},
		{"aayega kab tak?", "shipping"}, // word order
		{"kab tak ayega?", "shipping"},  // spelling variant
		{"kaunsa size lu?", "size"},
		{"cod milega kya?", "cod"},
		// Hindi (Devanagari), with and without nukta and long vowels
		{"यह कब तक आएगा?", "shipping"},
		{"कौन सा साइज़ लूँ?", "size"},
		{"कौन सा साइज लूं?", "size"},
		// No match
		{"love this jacket", ""},
		{"what time does the stream end?", ""},
		{"size?", ""}, // one word of a two-word phrase is not enough
		{"kab", ""},
		{"", ""},
	} {
		got, ok := f.Match(tc.text)
		if tc.want == "" {
			if ok {
				t.Errorf("%q matched %s via %q (%.2f), want no match", tc.text, got.ID, got.Phrase, got.Score)
			}
			continue
		}
		if !ok || got.ID != tc.want {
			t.Errorf("%q = %q (%v), want %s", tc.text, got.ID, ok, tc.want)
		}
	}
}

func TestFAQThreshold(t *testing.T) {
	t.Parallel()
	f, err := NewFAQMatcher([]FAQEntry{{ID: "x", Match: []string{"delivery time"}, Answer: "a"}}, FAQOptions{Threshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Match("delivary time"); ok {
		t.Error("a typo matched at threshold 1")
	}
	if _, ok := f.Match("time of delivery"); !ok {
		t.Error("reordered exact words did not match at threshold 1")
	}
}

func TestFAQConfigErrors(t *testing.T) {
	t.Parallel()
	_, err := NewFAQMatcher([]FAQEntry{
		{ID: "ok", Match: []string{"fine"}, Answer: "{author_name} ok"},
		{ID: "bad-token", Match: []string{"x y"}, Answer: "hello {name}"},
		{ID: "no-words", Match: []string{"?!"}, Answer: "a"},
	}, FAQOptions{})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`faq "bad-token"`, "unknown token {name}", `faq "no-words"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), `"ok"`) {
		t.Errorf("error names a good entry: %v", err)
	}
}

func TestRenderTemplate(t *testing.T) {
	t.Parallel()
	f := &TemplateFields{AuthorName: "@asha", FirstName: "asha", OrderID: "5521", ProductName: "jackets", Issue: "refund", Stream: "launch"}
	for tmpl, want := range map[string]string{
		"{author_name}, order {order_id}: {issue}":       "@asha, order 5521: refund",
		"hi {first_name} from {stream} ({product_name})": "hi asha from launch (jackets)",
		"no tokens":       "no tokens",
		"{unknown} stays": "{unknown} stays",
		"unclosed {":      "unclosed {",
	} {
		if got := RenderTemplate(tmpl, f); got != want {
			t.Errorf("RenderTemplate(%q) = %q, want %q", tmpl, got, want)
		}
	}
	if ValidateTemplate("{author_name} {issue}") != nil || ValidateTemplate("{nope}") == nil || ValidateTemplate("{x") == nil {
		t.Error("ValidateTemplate accepts or refuses the wrong templates")
	}
}

func BenchmarkFAQMatch(b *testing.B) {
	f := testFAQ(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		f.Match("bhai ye jacket kab tak aayega delivery time kya hai?")
	}
}
