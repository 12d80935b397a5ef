package classify

import (
	"strconv"
	"testing"
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

func benchMessages() []Message {
	msgs := make([]Message, 1024)
	for i := range msgs {
		msgs[i] = Message{
			ID: "m" + strconv.Itoa(i), Stream: "show",
			User: User{ID: "u" + strconv.Itoa(i%97), Name: "viewer"},
			Text: benchTexts[i%len(benchTexts)], TS: 1795000000000 + int64(i)*40_000,
		}
	}
	return msgs
}

func benchBytes(msgs []Message) int64 {
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
