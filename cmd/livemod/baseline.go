package main

import (
	"math"
	"math/rand/v2"
	"strings"
	"unicode"

	"github.com/cespare/xxhash/v2"
	"github.com/livemod/livemod/chat"
)

// The baseline of eval --mode baseline: a plain logistic regression per
// label over hashed word 1–2-grams and character 2–5-grams (within
// words, with boundary marks) of the lowercased text, classes weighed
// equally, threshold 0.5 — what a data scientist would try first
// (scikit-learn's TfidfVectorizer word + char_wb with LogisticRegression
// class_weight=balanced, without the tf-idf). It shares nothing with
// the engine: no normalization of look-alikes or Hinglish spellings, no
// rules. It is trained on the lines of the --data files that
// --holdout leaves in, and measured on the held-out ones, so that the
// engine's figures have something plain to stand beside.

const baselineBits = 20

type baseline struct {
	labels []chat.Label
	w      [][]float32 // per label, per bucket
	bias   []float64
}

func baselineFeatures(dst []uint32, text string) []uint32 {
	text = strings.ToLower(text)
	words := strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsMark(r) })
	mask := uint64(1)<<baselineBits - 1
	add := func(kind byte, s string) {
		dst = append(dst, uint32((xxhash.Sum64String(s)^uint64(kind)*0x9e3779b97f4a7c15)&mask))
	}
	for i, w := range words {
		add('w', w)
		if i > 0 {
			add('p', words[i-1]+" "+w)
		}
		r := []rune(" " + w + " ")
		for n := 2; n <= 5; n++ {
			for j := 0; j+n <= len(r); j++ {
				add('c', string(r[j:j+n]))
			}
		}
	}
	return dst
}

func trainBaseline(ex []example, labels []chat.Label) *baseline {
	b := &baseline{labels: labels, w: make([][]float32, len(labels)), bias: make([]float64, len(labels))}
	feats := make([][]uint32, len(ex))
	for i := range ex {
		feats[i] = baselineFeatures(nil, ex[i].Text)
	}
	for li, lab := range labels {
		var rows []int
		var n [2]float64
		for i := range ex {
			if ex[i].Annotated != 0 && !ex[i].Annotated.Has(lab) {
				continue
			}
			rows = append(rows, i)
			if ex[i].Labels.Has(lab) {
				n[1]++
			} else {
				n[0]++
			}
		}
		var cw [2]float64
		for c := range n {
			if n[c] > 0 {
				cw[c] = (n[0] + n[1]) / (2 * n[c])
			}
		}
		w := make([]float32, 1<<baselineBits)
		g2 := make([]float32, 1<<baselineBits)
		var bg2 float64
		rng := rand.New(rand.NewPCG(1, 2))
		const rate, l2 = 0.1, 1e-6
		for ep := 0; ep < 10; ep++ {
			rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
			for _, i := range rows {
				f := feats[i]
				x := float32(1 / math.Sqrt(float64(max(len(f), 1))))
				z := b.bias[li]
				for _, k := range f {
					z += float64(w[k] * x)
				}
				y, c := 0.0, 0
				if ex[i].Labels.Has(lab) {
					y, c = 1, 1
				}
				g := (1/(1+math.Exp(-z)) - y) * cw[c]
				bg2 += g * g
				b.bias[li] -= rate * g / math.Sqrt(bg2+1e-8)
				for _, k := range f {
					gk := float32(g)*x + l2*w[k]
					g2[k] += gk * gk
					w[k] -= rate * gk / float32(math.Sqrt(float64(g2[k])+1e-8))
				}
			}
		}
		b.w[li] = w
	}
	return b
}

// decide returns the labels whose probability is at least 0.5.
func (b *baseline) decide(text string) chat.Labels {
	f := baselineFeatures(nil, text)
	x := float32(1 / math.Sqrt(float64(max(len(f), 1))))
	var out chat.Labels
	for li, lab := range b.labels {
		z := b.bias[li]
		for _, k := range f {
			z += float64(b.w[li][k] * x)
		}
		if z >= 0 {
			out.Add(lab)
		}
	}
	return out
}
