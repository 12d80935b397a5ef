package classify

import (
	"bytes"
	"compress/flate"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/bits"
	"strconv"
	"sync"

	"github.com/livemod/livemod/chat"
)

// The learned model: one logistic regression per label over the hashed
// features of features.go, with int8 weights laid out bucket-major (the
// weights of all labels for one feature share a cache line), so scoring
// a message costs one table read per feature whatever the number of
// labels. The rules stay in charge of what must be exact (links, threats,
// opt-out, support issues); the model adds what must generalize (spam,
// toxic, question, purchase intent, support) and its scores go into the
// decision.

// ModelLabels are the labels the model may learn, in file order.
var ModelLabels = []chat.Label{chat.LabelSpam, chat.LabelToxic, chat.LabelQuestion, chat.LabelPurchaseIntent, chat.LabelSupport, chat.LabelNegative}

const modelMagic = "LMMODEL\x01"

// MaxModelLabels bounds the labels of one model.
const MaxModelLabels = 8

// Sentinel errors of model files.
var (
	ErrModelFormat  = errors.New("classify: not a livemod model file")
	ErrModelVersion = errors.New("classify: model built for other features; retrain it with this livemod (livemod train)")
)

// Model is a trained linear model. It is read-only once built and safe
// for concurrent use.
type Model struct {
	bits   uint8
	mask   uint64
	labels []chat.Label
	bias   []float32
	scale  []float32
	w      []int8 // [bucket*len(labels) + label]
	// Info describes how the model was trained (command, data, date);
	// it is written into the file.
	Info string
}

// NewModel builds a model from trained weights (package classify/train
// makes them): bits is log2 of the hashed feature buckets (10–22), w the
// int8 weights [bucket*len(labels) + label], scaled per label by scale,
// with bias per label. It is how a trainer outside the runtime hands its
// result over; it checks the shapes.
func NewModel(bits int, labels []chat.Label, bias, scale []float32, w []int8, info string) (*Model, error) {
	nl := len(labels)
	if bits < 10 || bits > 22 || nl == 0 || nl > MaxModelLabels || len(bias) != nl || len(scale) != nl || len(w) != (1<<bits)*nl {
		return nil, fmt.Errorf("classify: model of %d labels, %d bits: wrong shape (bias %d, scale %d, weights %d)", nl, bits, len(bias), len(scale), len(w))
	}
	return &Model{bits: uint8(bits), mask: uint64(1<<bits - 1), labels: append([]chat.Label(nil), labels...),
		bias: bias, scale: scale, w: w, Info: info}, nil
}

// Labels returns the labels the model scores.
func (m *Model) Labels() []chat.Label { return m.labels }

// Buckets returns the size of the hashed feature table.
func (m *Model) Buckets() int { return 1 << m.bits }

// scoreFeatures writes the probability of each of the model's labels for
// the features feats into out.
func (m *Model) scoreFeatures(feats []uint64, out *chat.Scores) {
	nl := len(m.labels)
	var acc [MaxModelLabels]int32
	shift := 64 - m.bits
	if nl == 6 { // the default model: unrolled, no bounds checks in the loop
		for _, f := range feats {
			w := (*[6]int8)(m.w[int(f>>shift)*6:])
			acc[0] += int32(w[0])
			acc[1] += int32(w[1])
			acc[2] += int32(w[2])
			acc[3] += int32(w[3])
			acc[4] += int32(w[4])
			acc[5] += int32(w[5])
		}
	} else if nl == 5 { // a model without the negative head
		for _, f := range feats {
			w := (*[5]int8)(m.w[int(f>>shift)*5:])
			acc[0] += int32(w[0])
			acc[1] += int32(w[1])
			acc[2] += int32(w[2])
			acc[3] += int32(w[3])
			acc[4] += int32(w[4])
		}
	} else {
		for _, f := range feats {
			base := int(f>>shift) * nl
			w := m.w[base : base+nl]
			for l := range w {
				acc[l] += int32(w[l])
			}
		}
	}
	x := FeatureScale(len(feats))
	for l, lab := range m.labels {
		z := m.bias[l] + m.scale[l]*x*float32(acc[l])
		out.Set(lab, sigmoid(z))
	}
}

func sigmoid(z float32) float32 {
	return float32(1 / (1 + math.Exp(-float64(z))))
}

// Score returns the model's scores for text. It is for tools and tests;
// Decide scores inside its own pass over the message.
func (m *Model) Score(text string) chat.Scores {
	var s chat.Scores
	f := TextFeatures(nil, text)
	m.scoreFeatures(f, &s)
	return s
}

// TextFeatures normalizes text and appends its features to dst.
func TextFeatures(dst []uint64, text string) []uint64 {
	if len(text) > chat.MaxTextBytes {
		text = text[:chat.MaxTextBytes]
	}
	var tmp []byte
	plain := appendPlain(nil, &tmp, text)
	skel, toks, _, _ := appendSkeletonKnown(nil, nil, nil, plain, defaultRules().m)
	return appendFeatures(dst, text, plain, skel, toks)
}

// MarshalBinary writes the model file: a header, the weights compressed
// with DEFLATE (most buckets are zero), and a CRC-32 of all of it.
func (m *Model) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(modelMagic)
	le := binary.LittleEndian
	b.Write(le.AppendUint16(nil, featureVersion))
	b.WriteByte(m.bits)
	b.WriteByte(byte(len(m.labels)))
	for l := range m.labels {
		b.Write(le.AppendUint16(nil, uint16(m.labels[l])))
		b.Write(le.AppendUint32(nil, math.Float32bits(m.bias[l])))
		b.Write(le.AppendUint32(nil, math.Float32bits(m.scale[l])))
	}
	b.Write(le.AppendUint32(nil, uint32(len(m.Info))))
	b.WriteString(m.Info)
	zw, err := flate.NewWriter(&b, flate.BestCompression)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, len(m.w))
	for i, v := range m.w {
		raw[i] = byte(v)
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	b.Write(le.AppendUint32(nil, crc32.ChecksumIEEE(b.Bytes())))
	return b.Bytes(), nil
}

// ParseModel reads a model file written by MarshalBinary.
func ParseModel(data []byte) (*Model, error) {
	if len(data) < len(modelMagic)+8 || string(data[:len(modelMagic)]) != modelMagic {
		return nil, ErrModelFormat
	}
	le := binary.LittleEndian
	body, sum := data[:len(data)-4], le.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch (truncated or corrupted)", ErrModelFormat)
	}
	p := body[len(modelMagic):]
	if le.Uint16(p) != featureVersion {
		return nil, ErrModelVersion
	}
	m := &Model{bits: p[2]}
	nl := int(p[3])
	p = p[4:]
	if m.bits < 10 || m.bits > 22 || nl == 0 || nl > MaxModelLabels || len(p) < nl*10+4 {
		return nil, fmt.Errorf("%w: bad header", ErrModelFormat)
	}
	for range nl {
		l := chat.Label(le.Uint16(p))
		if l == 0 || l&(l-1) != 0 || l >= chat.LabelEnd {
			return nil, fmt.Errorf("%w: unknown label %d", ErrModelFormat, l)
		}
		m.labels = append(m.labels, l)
		m.bias = append(m.bias, math.Float32frombits(le.Uint32(p[2:])))
		m.scale = append(m.scale, math.Float32frombits(le.Uint32(p[6:])))
		p = p[10:]
	}
	n := int(le.Uint32(p))
	p = p[4:]
	if n > len(p) {
		return nil, fmt.Errorf("%w: bad header", ErrModelFormat)
	}
	m.Info = string(p[:n])
	p = p[n:]
	size := (1 << m.bits) * nl
	raw := make([]byte, size+1)
	k, err := io.ReadFull(flate.NewReader(bytes.NewReader(p)), raw)
	if err != io.ErrUnexpectedEOF || k != size {
		return nil, fmt.Errorf("%w: weights are %d bytes, want %d", ErrModelFormat, k, size)
	}
	m.mask = uint64(1<<m.bits - 1)
	m.w = make([]int8, size)
	for i := range m.w {
		m.w[i] = int8(raw[i])
	}
	return m, nil
}

//go:embed model/default.lmm
var defaultModelFile []byte

// DefaultModel returns the model embedded in the binary, trained on the
// data listed in classify/model/ATTRIBUTION.md. It is parsed once.
var DefaultModel = sync.OnceValue(func() *Model {
	m, err := ParseModel(defaultModelFile)
	if err != nil {
		panic("classify: embedded model: " + err.Error()) // a build defect
	}
	return m
})

// DefaultThresholds are the model scores at which the engine gives a
// label, chosen on the leave-one-source-out figures of docs/QUALITY.md:
// high enough that the model adds what the rules miss without blocking
// ordinary chat.
var DefaultThresholds = map[chat.Label]float32{
	chat.LabelSpam:           0.8,
	chat.LabelToxic:          0.95,
	chat.LabelQuestion:       0.5,
	chat.LabelPurchaseIntent: 0.75,
	chat.LabelNegative:       0.5,
	// Support is scored but not given by the model alone: a support label
	// opens an agent handoff, and that must rest on an exact rule (an
	// issue). Set classify.thresholds.support to let the model add it.
}

// DefaultHideThresholds are the scores at which the model alone may hide
// a message. Only spam may be hidden on the model's word, and only when
// it is nearly sure; below that a spam score holds the message for a
// human. Toxic is always held, never hidden.
var DefaultHideThresholds = map[chat.Label]float32{
	chat.LabelSpam: 0.97,
}

// modelPolicy is what an engine does with the model's scores.
type modelPolicy struct {
	model    *Model
	mildHold float32     // see DefaultMildHoldScore
	labels   chat.Labels // the model's labels
	label    [chat.NumLabels]float32
	hide     [chat.NumLabels]float32
	detail   [chat.NumLabels][101]string // "score 0.93", built once: Decide does not format
}

// newModelPolicy returns the policy of opts, or nil for rules only.
func newModelPolicy(opts Options) (*modelPolicy, error) {
	if opts.NoModel {
		return nil, nil
	}
	m := opts.Model
	if m == nil {
		m = DefaultModel()
	}
	p := &modelPolicy{model: m, mildHold: DefaultMildHoldScore}
	for i := range p.label {
		p.label[i], p.hide[i] = 2, 2 // never
	}
	for _, l := range m.labels {
		p.labels |= chat.Labels(l)
	}
	set := func(dst *[chat.NumLabels]float32, def, over map[chat.Label]float32, what string) error {
		for l, v := range def {
			dst[bits.TrailingZeros16(uint16(l))] = v
		}
		for l, v := range over {
			if l == 0 || l&(l-1) != 0 || l >= chat.LabelEnd {
				return fmt.Errorf("classify: %s: bad label %d", what, l)
			}
			if !(v > 0 && v <= 1) {
				return fmt.Errorf("classify: %s %s: %v is out of range; use a score in (0, 1]", what, l, v)
			}
			dst[bits.TrailingZeros16(uint16(l))] = v
		}
		return nil
	}
	if err := set(&p.label, DefaultThresholds, opts.Thresholds, "threshold"); err != nil {
		return nil, err
	}
	if err := set(&p.hide, DefaultHideThresholds, opts.HideThresholds, "hide threshold"); err != nil {
		return nil, err
	}
	for i := range p.detail {
		for k := range p.detail[i] {
			p.detail[i][k] = "score " + strconv.FormatFloat(float64(k)/100, 'f', 2, 64)
		}
	}
	return p, nil
}

// decide scores feats into s and returns the labels the scores give and
// those the model is sure enough of to hide.
func (p *modelPolicy) decide(feats []uint64, s *chat.Scores) (labels, hide chat.Labels) {
	p.model.scoreFeatures(feats, s)
	for _, l := range p.model.labels {
		i := bits.TrailingZeros16(uint16(l))
		v := s[i]
		if v >= p.label[i] {
			labels |= chat.Labels(l)
			if v >= p.hide[i] {
				hide |= chat.Labels(l)
			}
		}
	}
	return labels, hide
}

// reason returns the reason for a label the model gave.
func (p *modelPolicy) reason(l chat.Label, s *chat.Scores) chat.Reason {
	i := bits.TrailingZeros16(uint16(l))
	k := int(s[i]*100 + 0.5)
	return chat.Reason{Rule: modelRuleNames[i], Detail: p.detail[i][min(max(k, 0), 100)]}
}

var modelRuleNames = func() (n [chat.NumLabels]string) {
	for i := range chat.NumLabels {
		name := chat.Label(1 << i).String()
		n[i] = "model." + name
	}
	return n
}()

// applyModel merges the model's view into a decision whose rules gave
// ruleLabels: labels the rules missed are added with a "model.<label>"
// reason, spam the model is sure of is hidden, other model spam and
// model toxic are held for a human. It returns the merged labels.
func (p *modelPolicy) applyModel(d *chat.Decision, feats []uint64, ruleLabels chat.Labels, priv, qcue bool, skel []byte) chat.Labels {
	ml, hide := p.decide(feats, &d.Scores)
	if ruleLabels.Has(chat.LabelLink) && !ml.Has(chat.LabelSpam) && d.Scores.Get(chat.LabelSpam) >= linkSpam {
		// A link is evidence of its own: promotion with a link needs less
		// of the model's word than a message without one.
		ml |= chat.Labels(chat.LabelSpam)
	}
	if !qcue {
		// No '?', no question word: the model alone does not make a
		// question of a statement ("pagal kar diya is gaane ne") or of a
		// line of emotes.
		ml &^= chat.Labels(chat.LabelQuestion)
	}
	if ml.Has(chat.LabelToxic) && unfamiliarScript(skel) {
		// Mostly a script the model never saw: its score is the noise of
		// hashed n-grams, not a reading.
		ml &^= chat.Labels(chat.LabelToxic)
	}
	if ruleLabels&chat.Labels(chat.LabelAgentRequest|chat.LabelSupport) != 0 {
		// Someone asking for a person or reporting a problem with an
		// order is never spam, whatever words they use for it.
		ml &^= chat.Labels(chat.LabelSpam)
	}
	if ruleLabels.Has(chat.LabelQuestion) && p.labels.Has(chat.LabelQuestion) && d.Scores.Get(chat.LabelQuestion) < questionVeto {
		ruleLabels = p.vetoQuestion(d, ruleLabels)
	}
	added := ml &^ ruleLabels
	if added == 0 {
		return ruleLabels
	}
	labels := ruleLabels | added
	d.Labels = labels
	switch {
	case d.Action != chat.Allow:
	case added.Has(chat.LabelSpam) && !priv && hide.Has(chat.LabelSpam):
		d.Action = chat.Hide
	case added.Has(chat.LabelSpam) && !priv, added.Has(chat.LabelToxic):
		d.Action = chat.Hold
	}
	for _, l := range ModelLabels {
		if added.Has(l) {
			d.Reasons = append(d.Reasons, p.reason(l, &d.Scores))
		}
	}
	return labels
}

// applyModel scores the message whose normal forms sc holds and merges
// the model's view into d (see modelPolicy.applyModel).
func (e *Engine) applyModel(d *chat.Decision, sc *scratch, text string, labels chat.Labels, badges []string) {
	if e.policy == nil {
		return
	}
	sc.feats = appendFeatures(sc.feats[:0], text, sc.plain, sc.skel, sc.toks)
	e.policy.applyModel(d, sc.feats, labels, isPrivileged(badges), sc.hits.qcue, sc.skel)
	if d.Action == chat.Allow && (sc.hits.mildAt|sc.hits.gatedAt) != 0 && !d.Labels.Has(chat.LabelToxic) &&
		d.Scores.Get(chat.LabelToxic) >= e.policy.mildHold && !unfamiliarScript(sc.skel) {
		// Mild profanity or an ambiguous word the rules let through, but
		// the model reads as abuse: two weak signals make one. Toxic, held
		// for a human, with the score as the reason.
		d.Labels |= chat.Labels(chat.LabelToxic)
		d.Action = chat.Hold
		d.Reasons = append(d.Reasons, e.policy.reason(chat.LabelToxic, &d.Scores))
	}
}

// linkSpam is the spam score at which a message with a web address is
// labelled spam (DefaultThresholds' spam without one). A viewer's link is
// hidden anyway; the label says why.
const linkSpam = 0.5

// DefaultMildHoldScore is the model toxic score at which a message with
// mild profanity or an ambiguous Hindi word that no rule saw aimed at
// anyone is labelled toxic and held all the same ("she is a fucking
// joke", "ye suar log desh bech denge"): below DefaultThresholds' toxic,
// since the word is evidence of its own. Profanity in praise ("fucking
// love this song", "holy shit") scores lower. See docs/QUALITY.md.
const DefaultMildHoldScore = 0.8

// questionVeto is the question score under which the model overrules the
// question rules: a lead word or a '?' is weak evidence ("what a
// comeback", "can't wait", a '?' inside a link), and the model, trained
// on hand-labeled chat, tells them apart. Price questions stay: they
// carry purchase intent, a rule that must be exact.
const questionVeto = 0.03

// vetoQuestion takes the question label and its rule reasons out of d.
func (p *modelPolicy) vetoQuestion(d *chat.Decision, labels chat.Labels) chat.Labels {
	for _, r := range d.Reasons {
		if r.Rule == "question.price" {
			return labels
		}
	}
	labels.Remove(chat.LabelQuestion)
	d.Labels = labels
	kept := d.Reasons[:0]
	for _, r := range d.Reasons {
		if r.Rule != "question.mark" && r.Rule != "question.word" {
			kept = append(kept, r)
		}
	}
	d.Reasons = kept
	if len(kept) == 0 && d.Action == chat.Allow {
		d.Reasons = nil
	}
	return labels
}
