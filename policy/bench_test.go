package policy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
)

// benchTexts are classify's benchmark lines: typical 40–120 byte chat in
// the three languages.
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

// bigPolicy is 1,000 terms and 50 regexes, made up of syllables so that
// they are as varied as a channel's real list (seller names, slurs,
// scam phrases): a tenth are two words, a tenth wildcards, a tenth
// Devanagari.
func bigPolicy() Policy {
	var p Policy
	syl := []string{"ka", "ro", "mi", "tu", "ve", "shan", "do", "pri", "lex", "zor", "bu", "nag", "fi", "quo", "yel", "gra", "hup", "jin", "wex", "pol"}
	dev := []string{"धो", "खा", "ठग", "लू", "टे", "रा", "चो", "बद", "मा", "शी"}
	word := func(i, n int) string {
		var b strings.Builder
		for k := range n {
			b.WriteString(syl[(i/pow(len(syl), k)+k*7)%len(syl)])
		}
		return b.String()
	}
	for i := range 1000 {
		t := Term{Term: word(i, 3) + strconv.Itoa(i%7)}
		switch i % 10 {
		case 1:
			t.Term = word(i, 2) + " " + word(i+13, 2) // two words
		case 2:
			t.Term = word(i, 3) + "*" // a wildcard
		case 3:
			t.Term = dev[i%10] + dev[i/10%10] + dev[i/100%10]
		}
		p.Blocked = append(p.Blocked, t)
	}
	for i := range 50 {
		w := word(i*17, 2)
		re := fmt.Sprintf(`(?i)free\s+%s-?bucks`, w)
		switch i % 5 {
		case 1:
			re = fmt.Sprintf(`(?i)(win|get|claim)\s+\d+\s+%s`, w)
		case 2:
			re = fmt.Sprintf(`%s\s*\+?\d{8,12}`, w)
		case 3:
			re = fmt.Sprintf(`(?i)telegram\.me/%s\w*`, w)
		case 4:
			re = fmt.Sprintf(`(?i)\b%s+\s*(coin|token)s?\b`, w)
		}
		p.Blocked = append(p.Blocked, Term{Regex: re, Action: "hold"})
	}
	return p
}

func pow(a, n int) int {
	r := 1
	for range n {
		r *= a
	}
	return r
}

// shopPolicy is bigPolicy with the shop example's limits, links, actions
// and allowed terms beside.
func shopPolicy() Policy {
	p := bigPolicy()
	y, err := ParseYAML([]byte(shopYAML))
	if err != nil {
		panic(err)
	}
	d := y.Default
	p.Links, p.Caps, p.Symbols, p.Emotes, p.Length, p.Exempt, p.Actions, p.Allowed, p.Sensitivity = d.Links, d.Caps, d.Symbols, d.Emotes, d.Length, d.Exempt, d.Actions, d.Allowed, d.Sensitivity
	return p
}

func benchMsgs() []chat.Message {
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

// BenchmarkDecide decides classify's benchmark lines with the engine
// alone (none), through a Book without a policy (book: as a server
// without one runs), through a Book whose policy has 1,000 terms and 50
// regexes (terms), and those with the shop example's limits, links and
// actions (shop); a Book keeps recent messages for trials. rules is
// the engine without its model (as classify's BenchmarkDecide), model
// with it (as serve runs). Compare A/B alternately in one sitting:
//
//	go test -run XXX -bench Decide -count 6 ./policy/
func BenchmarkDecide(b *testing.B) {
	for _, model := range []bool{false, true} {
		name := "rules"
		if model {
			name = "model"
		}
		for _, pol := range []struct {
			name string
			p    func() Policy
		}{{"none", nil}, {"book", func() Policy { return Policy{} }}, {"terms", bigPolicy}, {"shop", shopPolicy}} {
			b.Run(name+"/"+pol.name, func(b *testing.B) {
				e, err := classify.New(classify.Options{NoModel: !model})
				if err != nil {
					b.Fatal(err)
				}
				if pol.p == nil {
					run(b, e.DecideInto)
					return
				}
				bk, err := New(e, Config{Default: pol.p()}, Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer bk.Close(b.Context())
				run(b, bk.DecideInto)
			})
		}
	}
}

func run(b *testing.B, decide func(*chat.Decision, *chat.Message)) {
	msgs := benchMsgs()
	n := 0
	for _, m := range msgs {
		n += len(m.Text)
	}
	b.SetBytes(int64(n / len(msgs)))
	b.ReportAllocs()
	var d chat.Decision
	i := 0
	cpu0 := cpuTime()
	for b.Loop() {
		m := &msgs[i%len(msgs)]
		m.TS += 1_000_000
		decide(&d, m)
		i++
	}
	// The process's CPU time per message beside the wall time: on a
	// shared machine the wall time counts the other processes too.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(i), "cpu-ns/op")
}

// cpuTime is the process's user and system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func TestBigPolicyCompiles(t *testing.T) {
	r, err := Compile(bigPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.rx) != 50 || !strings.Contains(r.String(), "1050 rules") {
		t.Fatalf("%s", r)
	}
	// The prefilter leaves few regexes to run on every message.
	if len(r.always) > 0 {
		t.Fatalf("%d of 50 regexes have no literal", len(r.always))
	}
}

// BenchmarkDecideAB runs the engine alone (A) and a Book with the 1,000
// terms and 50 regexes (B) alternately, in short batches (ABBA), and
// reports the median over the rounds of B's time over A's: on a shared
// machine, a burst of other work then slows both of a pair alike. Run it
// once: go test -run XXX -bench DecideAB -benchtime 1x ./policy/
func BenchmarkDecideAB(b *testing.B) {
	for _, model := range []bool{false, true} {
		name := "rules"
		if model {
			name = "model"
		}
		for _, pol := range []struct {
			name string
			p    func() Policy
		}{{"book", func() Policy { return Policy{} }}, {"terms", bigPolicy}, {"shop", shopPolicy}} {
			b.Run(name+"/"+pol.name, func(b *testing.B) {
				ea, _ := classify.New(classify.Options{NoModel: !model})
				eb, _ := classify.New(classify.Options{NoModel: !model})
				bk, err := New(eb, Config{Default: pol.p()}, Options{RecentBytes: recentBytesAB})
				if err != nil {
					b.Fatal(err)
				}
				defer bk.Close(b.Context())
				ma, mb := benchMsgs(), benchMsgs()
				var da, db chat.Decision
				ia, ib := 0, 0
				batch := func(decide func(*chat.Decision, *chat.Message), msgs []chat.Message, d *chat.Decision, i *int) time.Duration {
					start := time.Now()
					for range 1024 {
						m := &msgs[*i%len(msgs)]
						m.TS += 1_000_000
						decide(d, m)
						*i++
					}
					return time.Since(start)
				}
				b.ReportAllocs()
				const rounds = 200
				ratios := make([]float64, 0, rounds)
				var ta, tb time.Duration
				for b.Loop() {
					for r := range rounds {
						var a1, b1 time.Duration
						if r%2 == 0 {
							a1 = batch(ea.DecideInto, ma, &da, &ia)
							b1 = batch(bk.DecideInto, mb, &db, &ib)
						} else {
							b1 = batch(bk.DecideInto, mb, &db, &ib)
							a1 = batch(ea.DecideInto, ma, &da, &ia)
						}
						ta, tb = ta+a1, tb+b1
						ratios = append(ratios, float64(b1)/float64(a1))
					}
				}
				slices.Sort(ratios)
				b.ReportMetric(ratios[len(ratios)/2], "B/A-median")
				b.ReportMetric(ratios[len(ratios)/4], "B/A-p25")
				b.ReportMetric(ratios[3*len(ratios)/4], "B/A-p75")
				b.ReportMetric(float64(ta.Nanoseconds())/float64(ia), "A-ns/msg")
				b.ReportMetric(float64(tb.Nanoseconds())/float64(ib), "B-ns/msg")
			})
		}
	}
}

// recentBytesAB is the Book's RecentBytes in BenchmarkDecideAB (tests
// set -1 to weigh the recorder).
var recentBytesAB = 0
