package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/livemod/livemod/app"
	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
	"github.com/livemod/livemod/classify/train"
	"github.com/livemod/livemod/store"
)

// A labeled data file is NDJSON: messages in the wire format with a
// "labels" field (an empty list means ordinary) and optionally an
// "annotated" field listing the labels the line was judged on. On the
// command line a file may be followed by ":label,label" to say which
// labels the whole file was judged on (youtube_spam.ndjson:spam): a set
// of spam comments says nothing about questions, and training must not
// read its silence as "not a question".

// labeled is one line of a labeled data file.
type labeled struct {
	chat.Message
	// Labels may hold unlabeled-hide (from livemod labels export): a
	// moderator hid the line without saying why. Such a line is skipped:
	// its silence says nothing of spam or toxicity.
	Labels    []string     `json:"labels"`
	Annotated *chat.Labels `json:"annotated,omitempty"`
}

// dataSpec is a data file and the labels it was judged on.
type dataSpec struct {
	path  string
	annot chat.Labels // zero: the line's "annotated", else every label
	skip  []string    // lines with one of these labels are left out ("!negative")
}

func parseDataSpec(s string) (dataSpec, error) {
	path, list, ok := strings.Cut(s, ":")
	d := dataSpec{path: path}
	if !ok {
		return d, nil
	}
	list, skip, _ := strings.Cut(list, "!")
	if skip != "" {
		d.skip = strings.Split(skip, ",")
	}
	for _, name := range strings.Split(list, ",") {
		l, err := chat.ParseLabel(strings.TrimSpace(name))
		if err != nil {
			return d, fmt.Errorf("--data %s: %w; labels are %s", s, err, app.LabelNames())
		}
		d.annot.Add(l)
	}
	return d, nil
}

// example is a labeled line ready for training and evaluation.
type example struct {
	train.Example
	msg chat.Message
}

// readData reads the labeled lines of every spec, in order.
func readData(specs []dataSpec) ([]example, error) {
	var out []example
	for _, d := range specs {
		f, err := os.Open(d.path)
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		ex, err := readLabeled(f, d)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("data %s: %w", d.path, err)
		}
		out = append(out, ex...)
	}
	return out, nil
}

func readLabeled(r io.Reader, d dataSpec) ([]example, error) {
	var out []example
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var l labeled
		if err := json.Unmarshal(line, &l); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if l.Text == "" {
			return nil, fmt.Errorf("line %d: text: empty", n)
		}
		// A line labelled store.UnlabeledHide (a moderator hid it without
		// saying why) or with a label the spec leaves out ("!negative") is
		// skipped: its silence says nothing of the labels learnt.
		var labels chat.Labels
		skipped := false
		for _, name := range l.Labels {
			if name == store.UnlabeledHide || slices.Contains(d.skip, name) {
				skipped = true
				break
			}
			lab, err := chat.ParseLabel(name)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w (or %s; leave such lines out with file:labels!%s)", n, err, store.UnlabeledHide, name)
			}
			labels.Add(lab)
		}
		if skipped {
			continue
		}
		annot := d.annot
		if l.Annotated != nil {
			annot = *l.Annotated
		}
		if l.User.ID == "" {
			l.User.ID = fmt.Sprintf("line-%d", n)
		}
		if l.Stream == "" {
			l.Stream = "eval"
		}
		out = append(out, example{
			Example: train.Example{Text: l.Text, Labels: labels, Annotated: annot},
			msg:     l.Message,
		})
	}
	return out, sc.Err()
}

// dataFlags is a repeatable --data flag.
type dataFlags []dataSpec

func (d *dataFlags) String() string { return fmt.Sprint(len(*d), " files") }
func (d *dataFlags) Set(v string) error {
	s, err := parseDataSpec(v)
	if err != nil {
		return err
	}
	*d = append(*d, s)
	return nil
}

func examplesOf(ex []example) []train.Example {
	out := make([]train.Example, len(ex))
	for i := range ex {
		out[i] = ex[i].Example
	}
	return out
}

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("train", "train --data labeled.ndjson[:label,…] [--data …] --out model.bin", stderr)
	var data dataFlags
	fs.Var(&data, "data", "labeled NDJSON `file[:labels[!skip]]` to learn from (repeatable); \":spam,toxic\" says which labels the file was judged on, \"!negative\" leaves out the lines labelled negative")
	out := fs.String("out", "", "model `file` to write")
	bits := fs.Int("bits", 0, "log2 of the hashed feature buckets (0 means 17)")
	epochs := fs.Int("epochs", 0, "passes over the data (0 means 8)")
	seed := fs.Uint64("seed", 0, "shuffling seed (0 means 1)")
	info := fs.String("info", "", "description written into the model (default: the command line)")
	minPer := fs.Int("min-examples", defaultMinExamples, "positive `examples` each label needs; fewer refuses to train (0 trains anyway)")
	holdout := fs.Float64("holdout", 0, "leave out the held-out `fraction` of every --data file (the lines eval --holdout evaluates)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *holdout < 0 || *holdout >= 1 {
		return usagef("train: --holdout %v: use a fraction in [0, 1), e.g. 0.2", *holdout)
	}
	if len(data) == 0 || *out == "" {
		return usagef("train: --data and --out are required")
	}
	ex, err := readData(data)
	if err != nil {
		return err
	}
	if *holdout > 0 {
		// The lines eval --holdout measures on are never trained on.
		ex = heldOut(ex, *holdout, false)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := enoughExamples(ex, *minPer); err != nil {
		return err
	}
	desc := *info
	if desc == "" {
		desc = "livemod train " + strings.Join(args, " ")
	}
	m, err := train.Train(examplesOf(ex), train.TrainOptions{Bits: *bits, Epochs: *epochs, Seed: *seed, Info: desc})
	if err != nil {
		return err
	}
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	fmt.Fprintf(stdout, "trained on %d examples from %d file(s): %s\n", len(ex), len(data), positives(ex, m.Labels()))
	fmt.Fprintf(stdout, "wrote %s: %d labels, %d buckets, %d bytes\n", *out, len(m.Labels()), m.Buckets(), len(b))
	return nil
}

// defaultMinExamples is how many positive examples a label needs before
// train learns it: a model built from three examples learns their words,
// not the label.
const defaultMinExamples = 20

// enoughExamples refuses data with a label that has some positive
// examples but fewer than min (labels with none are not learned).
func enoughExamples(ex []example, min int) error {
	if min <= 0 {
		return nil
	}
	var short []string
	for _, l := range classify.ModelLabels {
		n := 0
		for _, e := range ex {
			if e.Labels.Has(l) {
				n++
			}
		}
		if n > 0 && n < min {
			short = append(short, fmt.Sprintf("%s has %d", l, n))
		}
	}
	if len(ex) == 0 {
		return fmt.Errorf("train: no examples to learn from (lines labeled %s are skipped); label more messages", store.UnlabeledHide)
	}
	if len(short) > 0 {
		return fmt.Errorf("train: too few examples: %s, each label needs at least %d positive examples; label more messages, or pass --min-examples 0 to train anyway", strings.Join(short, ", "), min)
	}
	return nil
}

func positives(ex []example, labels []chat.Label) string {
	var parts []string
	for _, l := range labels {
		pos, n := 0, 0
		for _, e := range ex {
			if e.Annotated == 0 || e.Annotated.Has(l) {
				n++
				if e.Labels.Has(l) {
					pos++
				}
			}
		}
		parts = append(parts, fmt.Sprintf("%s %d/%d", l, pos, n))
	}
	return strings.Join(parts, ", ")
}
