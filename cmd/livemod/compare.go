package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"text/tabwriter"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
)

// bootstrapRounds is how many resamples eval --vs-baseline draws.
const bootstrapRounds = 2000

// compareBaseline prints, per label and language, the F1 of the engine
// (or the model alone) and of the baseline on the same held-out lines,
// their difference, and a 95% paired bootstrap interval of it: the lines
// are resampled with replacement and both F1s are computed on each
// resample, so an interval that holds zero says the gap is within the
// noise of the split (docs/QUALITY.md, "Negative sentiment").
func compareBaseline(ctx context.Context, w io.Writer, ex []example, labels []chat.Label, m *classify.Model, mode string, bl *baseline, seed uint64) error {
	var e *classify.Engine
	if mode == "engine" {
		var err error
		if e, err = classify.New(classify.Options{Model: m}); err != nil {
			return err
		}
	}
	got := make([]chat.Labels, len(ex))
	base := make([]chat.Labels, len(ex))
	lang := make([]int, len(ex))
	for i := range ex {
		if i%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if e != nil {
			msg := ex[i].msg
			got[i] = e.Decide(&msg).Labels
		} else {
			got[i], _ = modelDecide(m, ex[i].Text)
		}
		base[i] = bl.decide(ex[i].Text)
		lang[i] = languageOf(ex[i].Text)
	}
	fmt.Fprintf(w, "%s minus baseline F1 on the same lines (paired bootstrap, %d resamples, seed %d, 95%% interval):\n", mode, bootstrapRounds, seed)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "language\tlabel\tmessages\t%s F1\tbaseline F1\tdifference\t95%% interval\t\n", mode)
	for g := -1; g < numLangs; g++ {
		name := "all"
		if g >= 0 {
			name = langNames[g]
		}
		for _, l := range labels {
			var ys, as, bs []bool
			for i := range ex {
				if g >= 0 && lang[i] != g || ex[i].Annotated != 0 && !ex[i].Annotated.Has(l) {
					continue
				}
				ys = append(ys, ex[i].Labels.Has(l))
				as = append(as, got[i].Has(l))
				bs = append(bs, base[i].Has(l))
			}
			if len(ys) == 0 {
				continue
			}
			fa, fb, lo, hi := pairedBootstrap(ys, as, bs, bootstrapRounds, seed)
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.3f\t%.3f\t%+.3f\t[%+.3f, %+.3f]\t\n", name, l, len(ys), fa, fb, fa-fb, lo, hi)
		}
	}
	return tw.Flush()
}

// pairedBootstrap returns the F1 of predictions a and b against truth y
// and the 2.5th and 97.5th percentiles of F1(a) − F1(b) over rounds
// resamples of the lines, drawn with replacement (the same lines for
// both, so what is measured is the gap, not each model's own noise).
func pairedBootstrap(y, a, b []bool, rounds int, seed uint64) (fa, fb, lo, hi float64) {
	f1 := func(idx func(int) int, pred []bool) float64 {
		var c confusion
		for k := range y {
			i := idx(k)
			switch p, t := pred[i], y[i]; {
			case p && t:
				c.tp++
			case p:
				c.fp++
			case t:
				c.fn++
			}
		}
		return c.f1()
	}
	id := func(k int) int { return k }
	fa, fb = f1(id, a), f1(id, b)
	rng := rand.New(rand.NewPCG(seed, 0x626f6f74))
	pick := make([]int, len(y))
	at := func(k int) int { return pick[k] }
	d := make([]float64, rounds)
	for r := range d {
		for k := range pick {
			pick[k] = rng.IntN(len(y))
		}
		d[r] = f1(at, a) - f1(at, b)
	}
	slices.Sort(d)
	return fa, fb, d[rounds*25/1000], d[rounds*975/1000-1]
}
