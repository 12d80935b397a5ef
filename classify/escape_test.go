package classify

import (
	"testing"

	"github.com/livemod/livemod/chat"
)

func TestNormalizeEscapes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{`you\nidiot`, "you idiot"},
		{`sh\x69t`, "shit"},
		{`\xe0\xa4\x9a\xe0\xa5\x82\xe0\xa4\xa4\xe0\xa4\xbf\xe0\xa4\xaf\xe0\xa4\xbe`, "चूतिया"},
		{`\u091a\u0942\u0924\u093f\u092f\u093e hai`, "चूतिया hai"},
		{`\ud83d\ude00 ok`, "😀 ok"},
		{"it&#39;s &lt;3", "it's <3"},
		{"&amp;lt;b&amp;gt;", "<b>"},
		{"fu&#x63;k", "fuck"},
		{"AT&T and Q&A", "at&t and q&a"}, // not references: no ';'
		{`C:\path`, `c:\path`},
	} {
		if got := Normalize(c.in); got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestEscapesDecided(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	if d := decide(t, e, `hey\nidiot`); !d.Labels.Has(chat.LabelToxic) {
		t.Errorf(`"hey\nidiot": labels %v, want toxic`, d.Labels.Slice())
	}
	// Devanagari sent as escaped bytes is read as Devanagari: a greeting.
	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := decide(t, m, `\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4\xe0\xa5\x87 \xe0\xa4\xa6\xe0\xa5\x80\xe0\xa4\xa6\xe0\xa5\x80`)
	if d.Action != chat.Allow || d.Labels.Has(chat.LabelToxic) {
		t.Errorf("escaped नमस्ते दीदी: %s %v %v", d.Action, d.Labels.Slice(), d.Reasons)
	}
}

func TestUnfamiliarScriptNotToxic(t *testing.T) {
	t.Parallel()
	if !unfamiliarScript([]byte("வணக்கம் நண்பர்களே")) || unfamiliarScript([]byte("hello दोस्त")) {
		t.Fatal("unfamiliarScript: Tamil is unfamiliar, Latin and Devanagari are not")
	}
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"வணக்கம் நண்பர்களே எப்படி இருக்கீங்க", "大家好，今天的直播很好看", "مرحبا بالجميع كيف حالكم"} {
		if d := decide(t, e, text); d.Labels.Has(chat.LabelToxic) || d.Action != chat.Allow {
			t.Errorf("%q: %s %v %v", text, d.Action, d.Labels.Slice(), d.Reasons)
		}
	}
}
