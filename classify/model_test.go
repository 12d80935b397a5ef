package classify

import (
	"testing"

	"github.com/livemod/livemod/chat"
)

func TestModelRoundTrip(t *testing.T) {
	m := DefaultModel()
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := ParseModel(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"check out my channel", "how much is this?", "tu chutiya hai"} {
		if a, b := m.Score(text), m2.Score(text); a != b {
			t.Errorf("%q: scores differ after round trip: %v vs %v", text, a, b)
		}
	}
	b[len(b)/2] ^= 0xff
	if _, err := ParseModel(b); err == nil {
		t.Error("corrupted model parsed without error")
	}
	if _, err := ParseModel([]byte("not a model")); err == nil {
		t.Error("garbage parsed as a model")
	}
}

func TestModelInDecide(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		text   string
		label  chat.Label
		action chat.Action
	}{
		{"Hey everyone, I make 300 dollars a day from home on my laptop, ask me how", chat.LabelSpam, chat.Hold},
		{"kab aayega next live?", chat.LabelQuestion, chat.Allow},
	} {
		d := e.Decide(&chat.Message{ID: "m", Stream: "s", User: chat.User{ID: "u"}, Text: c.text, TS: 1})
		if !d.Labels.Has(c.label) {
			t.Errorf("%q: labels %v, want %s (scores %s)", c.text, d.Labels.Slice(), c.label, d.Scores.AppendJSON(nil))
		}
		if d.Action != chat.Allow && len(d.Reasons) == 0 {
			t.Errorf("%q: action %s without a reason", c.text, d.Action)
		}
	}
	if _, err := New(Options{Thresholds: map[chat.Label]float32{chat.LabelSpam: 2}}); err == nil {
		t.Error("threshold 2 accepted")
	}
}

func BenchmarkDecideModel(b *testing.B) {
	for _, c := range []struct {
		name string
		opts Options
	}{{"rules", Options{NoModel: true}}, {"model", Options{}}} {
		b.Run(c.name, func(b *testing.B) {
			e, err := New(c.opts)
			if err != nil {
				b.Fatal(err)
			}
			msgs := benchMessages()
			b.SetBytes(benchBytes(msgs))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				m := &msgs[i%len(msgs)]
				m.TS += 1_000_000
				e.Decide(m)
				i++
			}
		})
	}
}

// BenchmarkModelScore is the model's share of Decide: features and
// scoring over normal forms already built.
func BenchmarkModelScore(b *testing.B) {
	m := DefaultModel()
	type pre struct {
		text        string
		plain, skel []byte
		toks        []tok
	}
	var ps []pre
	for _, t := range benchTexts {
		var tmp []byte
		plain := appendPlain(nil, &tmp, t)
		skel, toks, _, _ := appendSkeleton(nil, nil, nil, plain)
		ps = append(ps, pre{t, plain, skel, toks})
	}
	feats := make([]uint64, 0, 256)
	var s chat.Scores
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := &ps[i%len(ps)]
		feats = appendFeatures(feats[:0], p.text, p.plain, p.skel, p.toks)
		m.scoreFeatures(feats, &s)
		i++
	}
}

// TestOrdinaryChatWithModel holds ordinary live chat to the engine as
// shipped (rules and the default model): nothing is hidden or held, and
// someone asking for a person is never spam.
func TestOrdinaryChatWithModel(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		text string
		want chat.Labels // labels that must be there
	}{
		{"hello everyone", 0},
		{"hi from Pune!", 0},
		{"great stream today, love the colours", 0},
		{"my order arrived and I love it", 0},
		{"white sneakers price?", chat.Labels(chat.LabelPurchaseIntent)},
		{"black hoodie price?", chat.Labels(chat.LabelPurchaseIntent)},
		{"please connect me to support", chat.Labels(chat.LabelAgentRequest)},
		{"agent please", chat.Labels(chat.LabelAgentRequest)},
		{"I want to talk to a human agent", chat.Labels(chat.LabelAgentRequest)},
		{"fucking love this song", chat.Labels(chat.LabelProfanity)},
		{"holy shit this is good", chat.Labels(chat.LabelProfanity)},
		{"कितने का है?", chat.Labels(chat.LabelQuestion)},
		{"bhai ye jacket bahut badhiya hai", 0},
	} {
		d := e.Decide(&chat.Message{ID: "m", Stream: "s", User: chat.User{ID: "u"}, Text: c.text, TS: int64(i) * 600_000})
		if d.Action != chat.Allow || d.Labels.Has(chat.LabelSpam) || d.Labels&c.want != c.want {
			t.Errorf("%q: action %s labels %v reasons %v (scores %s)", c.text, d.Action, d.Labels.Slice(), d.Reasons, d.Scores.AppendJSON(nil))
		}
	}
}
