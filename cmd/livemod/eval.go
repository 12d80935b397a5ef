package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/livemod/livemod/app"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
	"github.com/livemod/livemod/classify/train"
)

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", "eval --data labeled.ndjson[:label,…] [--model model.bin] [--mode engine|model|rules] [--cv youtube|split:0.2|kfold:5|blocks:N,N]", stderr)
	var data, extra dataFlags
	fs.Var(&data, "data", "labeled NDJSON `file[:labels]` to evaluate on (repeatable); \":spam\" limits the labels scored")
	fs.Var(&extra, "train", "with --cv: more labeled `file[:labels]` added to every fold's training data (repeatable)")
	modelPath := fs.String("model", "", "model `file` (default: the embedded model)")
	mode := fs.String("mode", "engine", "what decides: engine (rules and model), model (model alone), rules (rules alone), baseline (a plain word and character n-gram logistic regression trained on the lines --holdout leaves in)")
	cv := fs.String("cv", "", "cross-validate, training a model per fold: youtube (leave one of the four videos out), blocks:N,N,… (line offsets), split:F (hold out a fraction F), kfold:K")
	seed := fs.Uint64("seed", 1, "seed for split and kfold")
	holdout := fs.Float64("holdout", 0, "evaluate only the held-out `fraction` of every --data file (lines whose text hashes into it; train --holdout leaves the same lines out)")
	vsBaseline := fs.Bool("vs-baseline", false, "with --holdout and mode engine or model: also train the baseline on the lines --holdout leaves in and print, per label and language, F1 minus the baseline's with a 95% paired bootstrap interval")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *holdout < 0 || *holdout >= 1 {
		return usagef("eval: --holdout %v: use a fraction in [0, 1), e.g. 0.2", *holdout)
	}
	if len(data) == 0 {
		return usagef("eval: --data is required")
	}
	if *mode != "engine" && *mode != "model" && *mode != "rules" && *mode != "baseline" {
		return usagef("eval: --mode %q: use engine, model, rules or baseline", *mode)
	}
	if *mode == "baseline" && (*holdout == 0 || *cv != "") {
		return usagef("eval: --mode baseline trains on the lines --holdout leaves in: give --holdout, not --cv")
	}
	if *vsBaseline && (*holdout == 0 || *cv != "" || *mode == "baseline" || *mode == "rules") {
		return usagef("eval: --vs-baseline compares the engine or the model with the baseline on the held-out lines: give --holdout and --mode engine or model, not --cv")
	}
	ex, err := readData(data)
	if err != nil {
		return err
	}
	var bl, cmp *baseline
	if *mode == "baseline" {
		bl = trainBaseline(heldOut(ex, *holdout, false), scoredLabels(ex))
	}
	if *vsBaseline {
		cmp = trainBaseline(heldOut(ex, *holdout, false), scoredLabels(ex))
	}
	if *holdout > 0 {
		ex = heldOut(ex, *holdout, true)
		if len(ex) == 0 {
			return fmt.Errorf("eval: --holdout %v leaves no lines to evaluate", *holdout)
		}
	}
	labels := scoredLabels(ex)
	var res evalResult
	res.labels = labels
	if *cv == "" {
		var m *classify.Model
		if *mode == "engine" || *mode == "model" {
			if m, err = app.LoadModel(*modelPath); err != nil {
				return err
			}
		}
		if err := evaluate(ctx, &res, ex, m, *mode, bl); err != nil {
			return err
		}
		title := fmt.Sprintf("eval %s, mode %s, %d messages", dataNames(data), *mode, len(ex))
		if *holdout > 0 {
			title += fmt.Sprintf(" (held-out %.0f%%)", 100**holdout)
		}
		res.write(stdout, title)
		if cmp != nil {
			return compareBaseline(ctx, stdout, ex, labels, m, *mode, cmp, *seed)
		}
		return nil
	}
	folds, err := makeFolds(*cv, len(ex), *seed)
	if err != nil {
		return err
	}
	more, err := readData(extra)
	if err != nil {
		return err
	}
	for k, test := range folds {
		inTest := make([]bool, len(ex))
		for _, i := range test {
			inTest[i] = true
		}
		var fit []train.Example
		var held []example
		for i := range ex {
			if inTest[i] {
				held = append(held, ex[i])
			} else {
				fit = append(fit, ex[i].Example)
			}
		}
		fit = append(fit, examplesOf(more)...)
		var m *classify.Model
		if *mode != "rules" {
			if m, err = train.Train(fit, train.TrainOptions{}); err != nil {
				return fmt.Errorf("fold %d: %w", k+1, err)
			}
		}
		var fr evalResult
		fr.labels = labels
		if err := evaluate(ctx, &fr, held, m, *mode, nil); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "fold %d: %d held out, %d trained; %s\n", k+1, len(held), len(fit), fr.summary())
		res.add(&fr)
	}
	res.write(stdout, fmt.Sprintf("cross-validation %s over %s, mode %s, %d messages (pooled over folds)", *cv, dataNames(data), *mode, len(ex)))
	return nil
}

func dataNames(d []dataSpec) string {
	var s []string
	for _, x := range d {
		s = append(s, x.path)
	}
	return strings.Join(s, " ")
}

// scoredLabels are the labels some example was judged on and some
// example has: scoring question on a spam set would only count misses.
// A label some line names in its "annotated" list (or the file's
// ":labels") is scored even with no positive line: a set of ordinary
// shopping chat judged on negative counts its false positives.
func scoredLabels(ex []example) []chat.Label {
	var have, judged, named chat.Labels
	for _, e := range ex {
		have |= e.Labels
		if e.Annotated == 0 {
			judged = ^chat.Labels(0)
		}
		judged |= e.Annotated
		named |= e.Annotated
	}
	var out []chat.Label
	for _, l := range chat.AllLabels() {
		if (have.Has(l) || named.Has(l)) && judged.Has(l) {
			out = append(out, l)
		}
	}
	return out
}

// makeFolds returns the test indices of each fold.
func makeFolds(cv string, n int, seed uint64) ([][]int, error) {
	kind, arg, _ := strings.Cut(cv, ":")
	rangeFolds := func(cuts []int) [][]int {
		cuts = append(append([]int{0}, cuts...), n)
		var f [][]int
		for k := 0; k+1 < len(cuts); k++ {
			var idx []int
			for i := cuts[k]; i < cuts[k+1]; i++ {
				idx = append(idx, i)
			}
			f = append(f, idx)
		}
		return f
	}
	switch kind {
	case "youtube":
		// The four videos of the YouTube Spam Collection, in id order:
		// Psy 350, Katy Perry 350, LMFAO 438, Eminem 448 comments.
		if n != 1586 {
			return nil, fmt.Errorf("eval: --cv youtube expects youtube_spam.ndjson (1586 lines), got %d; use --cv blocks:N,N,…", n)
		}
		return rangeFolds([]int{350, 700, 1138}), nil
	case "blocks":
		var cuts []int
		for _, s := range strings.Split(arg, ",") {
			c, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || c <= 0 || c >= n || len(cuts) > 0 && c <= cuts[len(cuts)-1] {
				return nil, usagef("eval: --cv %s: offsets must rise within 1..%d", cv, n-1)
			}
			cuts = append(cuts, c)
		}
		return rangeFolds(cuts), nil
	case "split", "kfold":
		perm := rand.New(rand.NewPCG(seed, 0x6576616c)).Perm(n)
		if kind == "split" {
			f, err := strconv.ParseFloat(arg, 64)
			if err != nil || f <= 0 || f >= 1 {
				return nil, usagef("eval: --cv %s: the held-out fraction must be in (0, 1), e.g. split:0.2", cv)
			}
			return [][]int{perm[:int(f*float64(n))]}, nil
		}
		k, err := strconv.Atoi(arg)
		if err != nil || k < 2 || k > n {
			return nil, usagef("eval: --cv %s: use kfold:K with K ≥ 2", cv)
		}
		f := make([][]int, k)
		for i, p := range perm {
			f[i%k] = append(f[i%k], p)
		}
		return f, nil
	}
	return nil, usagef("eval: --cv %q: use youtube, blocks:N,N, split:F or kfold:K", cv)
}

// confusion counts one label's outcomes.
type confusion struct{ tp, fp, fn, tn int }

func (c confusion) precision() float64 { return ratio(c.tp, c.tp+c.fp) }
func (c confusion) recall() float64    { return ratio(c.tp, c.tp+c.fn) }
func (c confusion) fpr() float64       { return ratio(c.fp, c.fp+c.tn) }
func (c confusion) f1() float64 {
	p, r := c.precision(), c.recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

type evalResult struct {
	labels   []chat.Label
	conf     [16]confusion // by label bit
	lang     [numLangs][16]confusion
	langN    [numLangs]int // messages per language
	langOrd  [numLangs]int // ordinary messages per language
	langBlk  [numLangs]int // ordinary messages blocked per language
	ordinary int           // examples with no label
	hidden   int           // ordinary examples hidden
	held     int           // ordinary examples held
}

func bit(l chat.Label) int {
	for i := 0; i < 16; i++ {
		if l == 1<<i {
			return i
		}
	}
	return 0
}

func (r *evalResult) add(o *evalResult) {
	for i := range r.conf {
		r.conf[i].tp += o.conf[i].tp
		r.conf[i].fp += o.conf[i].fp
		r.conf[i].fn += o.conf[i].fn
		r.conf[i].tn += o.conf[i].tn
		for g := range r.lang {
			r.lang[g][i].tp += o.lang[g][i].tp
			r.lang[g][i].fp += o.lang[g][i].fp
			r.lang[g][i].fn += o.lang[g][i].fn
			r.lang[g][i].tn += o.lang[g][i].tn
		}
	}
	for g := range r.langN {
		r.langN[g] += o.langN[g]
		r.langOrd[g] += o.langOrd[g]
		r.langBlk[g] += o.langBlk[g]
	}
	r.ordinary += o.ordinary
	r.hidden += o.hidden
	r.held += o.held
}

func (r *evalResult) summary() string {
	var parts []string
	for _, l := range r.labels {
		c := r.conf[bit(l)]
		parts = append(parts, fmt.Sprintf("%s F1 %.3f (P %.3f R %.3f)", l, c.f1(), c.precision(), c.recall()))
	}
	parts = append(parts, fmt.Sprintf("ordinary blocked %.1f%%", 100*ratio(r.hidden+r.held, r.ordinary)))
	return strings.Join(parts, "; ")
}

func (r *evalResult) write(w io.Writer, title string) {
	fmt.Fprintln(w, title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "label\tprecision\trecall\tF1\tFPR\tTP\tFP\tFN\tTN\t")
	for _, l := range r.labels {
		c := r.conf[bit(l)]
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t%d\t%d\t%d\t\n", l, c.precision(), c.recall(), c.f1(), c.fpr(), c.tp, c.fp, c.fn, c.tn)
	}
	tw.Flush()
	fmt.Fprintf(w, "ordinary messages (no label): %d; blocked %d (%.1f%%): hidden %d, held %d\n",
		r.ordinary, r.hidden+r.held, 100*ratio(r.hidden+r.held, r.ordinary), r.hidden, r.held)
	fmt.Fprintln(w, "by language (en: English; hi: Devanagari Hindi; hinglish: Hindi in Latin letters):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "language\tlabel\tmessages\tprecision\trecall\tF1\tFPR\tTP\tFP\tFN\tTN\tordinary blocked\t")
	for g := range numLangs {
		if r.langN[g] == 0 {
			continue
		}
		for _, l := range r.labels {
			c := r.lang[g][bit(l)]
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t%d\t%d\t%d\t%d/%d\t\n", langNames[g], l, r.langN[g],
				c.precision(), c.recall(), c.f1(), c.fpr(), c.tp, c.fp, c.fn, c.tn, r.langBlk[g], r.langOrd[g])
		}
	}
	tw.Flush()
}

// evaluate decides every example and counts the outcomes into r.
func evaluate(ctx context.Context, r *evalResult, ex []example, m *classify.Model, mode string, bl *baseline) error {
	var e *classify.Engine
	if mode == "engine" || mode == "rules" {
		var err error
		e, err = classify.New(classify.Options{Model: m, NoModel: mode == "rules"})
		if err != nil {
			return err
		}
	}
	for i := range ex {
		if i%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		x := &ex[i]
		g := languageOf(x.Text)
		r.langN[g]++
		var got chat.Labels
		var action chat.Action
		if bl != nil {
			got = bl.decide(x.Text)
		} else if e != nil {
			msg := x.msg
			d := e.Decide(&msg)
			got, action = d.Labels, d.Action
		} else {
			got, action = modelDecide(m, x.Text)
		}
		for _, l := range r.labels {
			if x.Annotated != 0 && !x.Annotated.Has(l) {
				continue
			}
			for _, c := range []*confusion{&r.conf[bit(l)], &r.lang[g][bit(l)]} {
				switch p, y := got.Has(l), x.Labels.Has(l); {
				case p && y:
					c.tp++
				case p:
					c.fp++
				case y:
					c.fn++
				default:
					c.tn++
				}
			}
		}
		if x.Labels == 0 {
			r.ordinary++
			r.langOrd[g]++
			switch action {
			case chat.Hide:
				r.hidden++
				r.langBlk[g]++
			case chat.Hold:
				r.held++
				r.langBlk[g]++
			}
		}
	}
	return nil
}

// modelDecide is the model alone at the default thresholds: spam and
// toxic block (hide when spam is over its hide threshold, else hold).
func modelDecide(m *classify.Model, text string) (chat.Labels, chat.Action) {
	s := m.Score(text)
	var got chat.Labels
	for _, l := range m.Labels() {
		if s.Get(l) >= classify.DefaultThresholds[l] {
			got.Add(l)
		}
	}
	switch {
	case got.Has(chat.LabelSpam) && s.Get(chat.LabelSpam) >= classify.DefaultHideThresholds[chat.LabelSpam]:
		return got, chat.Hide
	case got.Has(chat.LabelSpam), got.Has(chat.LabelToxic):
		return got, chat.Hold
	}
	return got, chat.Allow
}
