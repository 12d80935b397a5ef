package train

import (
	_ "embed"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
)

// Example is one labeled message for training and evaluation.
type Example struct {
	Text   string
	Labels chat.Labels
	// Annotated are the labels the example was judged on: a data set of
	// spam comments says nothing about questions. Zero means every label.
	Annotated chat.Labels
}

// TrainOptions tune Train. Zero values mean the documented defaults.
type TrainOptions struct {
	Bits   int     // log2 of the hashed feature buckets; zero means 17 (128 Ki buckets), range 10–22
	Epochs int     // passes over the data; zero means 8
	Rate   float64 // Adagrad learning rate; zero means 0.2
	L2     float64 // weight decay per update; zero means 1e-6
	Seed   uint64  // shuffling seed; zero means 1
	// Labels are the labels to learn; nil means those of ModelLabels that
	// some example has.
	Labels []chat.Label
	Info   string // copied into Model.Info
	// Priors are the base rates in live chat of the labels whose scores
	// are calibrated to them (prior correction: training weighs the
	// classes equally, so a raw score assumes one message in two has the
	// label). Nil means DefaultPriors; an empty map means none.
	Priors map[chat.Label]float64
}

// DefaultPriors: about one chat line in seven is a question (the
// hand-labeled chat of classify/model/data: 14%). Spam and toxic keep
// balanced scores, with thresholds set on them (DefaultThresholds).
var DefaultPriors = map[chat.Label]float64{chat.LabelQuestion: 0.14}

// Train fits a model to the examples: logistic regression per label by
// Adagrad SGD over the hashed features, then weights quantized to int8.
// An example counts for a label only if it was annotated for it.
// Training is deterministic for a given seed.
func Train(examples []Example, opts TrainOptions) (*classify.Model, error) {
	bitsN := opts.Bits
	if bitsN == 0 {
		bitsN = 17
	}
	if bitsN < 10 || bitsN > 22 {
		return nil, fmt.Errorf("classify: train: bits %d out of range 10–22", bitsN)
	}
	epochs := opts.Epochs
	if epochs == 0 {
		epochs = 8
	}
	rate := opts.Rate
	if rate == 0 {
		rate = 0.2
	}
	l2 := opts.L2
	if l2 == 0 {
		l2 = 1e-6
	}
	seed := opts.Seed
	if seed == 0 {
		seed = 1
	}
	labels := opts.Labels
	if labels == nil {
		var have chat.Labels
		for _, e := range examples {
			have |= e.Labels
		}
		for _, l := range classify.ModelLabels {
			if have.Has(l) {
				labels = append(labels, l)
			}
		}
	}
	if len(labels) == 0 {
		return nil, errors.New("classify: train: no labels to learn; the data needs positive examples")
	}
	if len(labels) > classify.MaxModelLabels {
		return nil, fmt.Errorf("classify: train: %d labels; at most %d", len(labels), classify.MaxModelLabels)
	}
	nl := len(labels)
	shift := 64 - uint(bitsN)

	// Featurize once: bucket indices per example.
	type row struct {
		feats  []uint32
		x      float32
		labels chat.Labels
		annot  chat.Labels
	}
	rows := make([]row, len(examples))
	var buf []uint64
	for i, e := range examples {
		buf = classify.TextFeatures(buf[:0], e.Text)
		f := make([]uint32, len(buf))
		for j, h := range buf {
			f[j] = uint32(h >> shift)
		}
		annot := e.Annotated
		if annot == 0 {
			annot = chat.Labels(chat.LabelEnd - 1)
		}
		rows[i] = row{feats: f, x: classify.FeatureScale(len(f)), labels: e.Labels, annot: annot}
	}

	// Weigh each label's classes equally: the data sets have nothing like
	// chat's base rates (83% of the tweets are offensive), and a model that
	// learned their prior would flag "hi" for want of evidence.
	cw := make([][2]float64, nl) // [negative, positive] weight per label
	for l, lab := range labels {
		var n [2]float64
		for i := range rows {
			if rows[i].annot.Has(lab) {
				if rows[i].labels.Has(lab) {
					n[1]++
				} else {
					n[0]++
				}
			}
		}
		for c := range n {
			if n[c] > 0 {
				cw[l][c] = (n[0] + n[1]) / (2 * n[c])
			}
		}
	}

	nb := 1 << bitsN
	w := make([]float32, nb*nl)
	g2 := make([]float32, nb*nl)
	bias := make([]float64, nl)
	bg2 := make([]float64, nl)
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(seed, 0x6c6976656d6f64))
	for ep := 0; ep < epochs; ep++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, ri := range order {
			r := &rows[ri]
			for l, lab := range labels {
				if !r.annot.Has(lab) {
					continue
				}
				z := bias[l]
				for _, f := range r.feats {
					z += float64(w[int(f)*nl+l] * r.x)
				}
				y, c := 0.0, 0
				if r.labels.Has(lab) {
					y, c = 1, 1
				}
				g := (1/(1+math.Exp(-z)) - y) * cw[l][c] // dLoss/dz
				bg2[l] += g * g
				bias[l] -= rate * g / math.Sqrt(bg2[l]+1e-8)
				gx := float32(g) * r.x
				for _, f := range r.feats {
					k := int(f)*nl + l
					gk := gx + float32(l2)*w[k]
					g2[k] += gk * gk
					w[k] -= float32(rate) * gk / float32(math.Sqrt(float64(g2[k])+1e-8))
				}
			}
		}
	}

	mbias, mscale, mw := make([]float32, nl), make([]float32, nl), make([]int8, nb*nl)
	priors := opts.Priors
	if priors == nil {
		priors = DefaultPriors
	}
	for l, lab := range labels {
		mbias[l] = float32(bias[l])
		if p, ok := priors[lab]; ok && p > 0 && p < 1 {
			mbias[l] += float32(math.Log(p / (1 - p)))
		}
		var mx float32
		for k := l; k < len(w); k += nl {
			mx = max(mx, float32(math.Abs(float64(w[k]))))
		}
		if mx == 0 {
			mx = 1
		}
		mscale[l] = mx / 127
		for k := l; k < len(w); k += nl {
			mw[k] = int8(math.Round(float64(w[k] / mscale[l])))
		}
	}
	return classify.NewModel(bitsN, labels, mbias, mscale, mw, opts.Info)
}
