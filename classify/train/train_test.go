package train

import (
	"testing"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
)

func TestTrainLearns(t *testing.T) {
	var ex []Example
	for i := 0; i < 20; i++ {
		ex = append(ex,
			Example{Text: "buy cheap followers now", Labels: chat.Labels(chat.LabelSpam)},
			Example{Text: "great show today", Labels: 0},
		)
	}
	m, err := Train(ex, TrainOptions{Bits: 12, Labels: []chat.Label{chat.LabelSpam}})
	if err != nil {
		t.Fatal(err)
	}
	s1, s2 := m.Score("cheap followers"), m.Score("great show")
	if s1.Get(chat.LabelSpam) < 0.7 || s2.Get(chat.LabelSpam) > 0.3 {
		t.Errorf("spam scores %v and %v: the model did not learn", s1.Get(chat.LabelSpam), s2.Get(chat.LabelSpam))
	}
}

// TestQuestionPrior: the question head is calibrated to chat's base rate.
func TestQuestionPrior(t *testing.T) {
	t.Parallel()
	m := classify.DefaultModel()
	if s := m.Score("nice stream today"); s.Get(chat.LabelQuestion) > 0.2 {
		t.Errorf("a statement scores %.2f as a question", s.Get(chat.LabelQuestion))
	}
	ex := []Example{{Text: "is it cotton?", Labels: chat.Labels(chat.LabelQuestion)}, {Text: "nice", Labels: 0},
		{Text: "how much?", Labels: chat.Labels(chat.LabelQuestion)}, {Text: "great show", Labels: 0}}
	raw, err := Train(ex, TrainOptions{Bits: 10, Priors: map[chat.Label]float64{}})
	if err != nil {
		t.Fatal(err)
	}
	cal, err := Train(ex, TrainOptions{Bits: 10})
	if err != nil {
		t.Fatal(err)
	}
	r, c := raw.Score("is it silk?"), cal.Score("is it silk?")
	if !(c.Get(chat.LabelQuestion) < r.Get(chat.LabelQuestion)) {
		t.Errorf("calibrated %.3f, uncalibrated %.3f: the prior did not lower the score", c.Get(chat.LabelQuestion), r.Get(chat.LabelQuestion))
	}
}
