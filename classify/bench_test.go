package classify

import (
	"strconv"
	"testing"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/trend"
)

// benchTexts are typical 40–120 byte live-chat lines in the three languages.
var benchTexts = []string{
	"how much is the blue jacket? does it come in XL",
	"hello from Pune!! love the colours of this saree 😍",
	"kitne ka hai ye wala? COD available hai kya bhai",
	"नमस्ते दीदी, यह लाल वाला कितने का है? बहुत सुंदर है",
	"my order 5521 was not delivered yet, can I get a refund",
	"check out my channel for the best deals bit.ly/xyz",
	"this is the best live stream ever, thank you so much",
	"bhai ye jacket bahut badhiya hai, mujhe bhi chahiye",
}

func benchMessages() []chat.Message {
	msgs := make([]chat.Message, 1024)
	for i := range msgs {
		msgs[i] = chat.Message{
			ID: "m" + strconv.Itoa(i), Stream: "show",
			User: chat.User{ID: "u" + strconv.Itoa(i%97), Name: "viewer"},
			Text: benchTexts[i%len(benchTexts)], TS: 1795000000000 + int64(i)*40_000,
		}
	}
	return msgs
}

func benchBytes(msgs []chat.Message) int64 {
	n := 0
	for _, m := range msgs {
		n += len(m.Text)
	}
	return int64(n / len(msgs))
}

func BenchmarkDecide(b *testing.B) {
	e, err := New(rulesOnly())
	if err != nil {
		b.Fatal(err)
	}
	msgs := benchMessages()
	b.SetBytes(benchBytes(msgs))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m := &msgs[i%len(msgs)]
		m.TS += 1_000_000 // move time on so repeats do not pile up
		e.Decide(m)
		i++
	}
}

func BenchmarkDecideParallel(b *testing.B) {
	e, err := New(rulesOnly())
	if err != nil {
		b.Fatal(err)
	}
	msgs := benchMessages()
	b.SetBytes(benchBytes(msgs))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m := msgs[i%len(msgs)] // a copy: goroutines share msgs
			m.TS += int64(i) * 1000
			e.Decide(&m)
			i++
		}
	})
}

func BenchmarkNormalize(b *testing.B) {
	var tmp, dst []byte
	b.ReportAllocs()
	b.SetBytes(int64(len(benchTexts[3])))
	for b.Loop() {
		dst = appendPlain(dst[:0], &tmp, benchTexts[3])
	}
}

// BenchmarkDecideInto is BenchmarkDecide into one reused Decision, as a
// pipeline shard decides: its reasons and question are not allocated.
func BenchmarkDecideInto(b *testing.B) {
	e, err := New(Options{Trending: trend.NewTrending(trend.TrendOptions{})})
	if err != nil {
		b.Fatal(err)
	}
	msgs := benchMessages()
	b.SetBytes(benchBytes(msgs))
	b.ReportAllocs()
	var d chat.Decision
	i := 0
	for b.Loop() {
		m := &msgs[i%len(msgs)]
		m.TS += 1_000_000
		e.DecideInto(&d, m)
		i++
	}
}

// TestDecideIntoMatchesDecide: deciding message after message into one
// reused Decision gives, byte for byte, the decisions Decide returns.
func TestDecideIntoMatchesDecide(t *testing.T) {
	opts := func() Options { return Options{Trending: trend.NewTrending(trend.TrendOptions{})} }
	a, err := New(opts())
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(opts())
	if err != nil {
		t.Fatal(err)
	}
	msgs := benchMessages()
	extra := []string{"agent please, order 5521 not delivered", "free followers at bit.ly/x1", "you are an idiot", "STOP", "how much is the red saree?"}
	for i, x := range extra {
		msgs[i*7].Text = x
	}
	var d chat.Decision
	questions, reasons := 0, 0
	for i := range msgs {
		m := msgs[i]
		want := a.Decide(&m)
		b.DecideInto(&d, &m)
		if w, g := want.AppendJSON(nil), d.AppendJSON(nil); string(w) != string(g) {
			t.Fatalf("message %d %q:\nDecideInto %s\nDecide     %s", i, m.Text, g, w)
		}
		if d.Question != nil {
			questions++
		}
		reasons += len(d.Reasons)
	}
	if questions == 0 || reasons == 0 {
		t.Fatalf("the corpus exercised %d questions and %d reasons; want both", questions, reasons)
	}
}
