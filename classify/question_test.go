package classify

import (
	"testing"

	"github.com/livemod/livemod/chat"
)

// TestQuestionCues: lead words after greetings, names, @mentions and
// "so/well"; colloquial leads; exclamations and emote lines are not
// questions, with the rules alone and with the model.
func TestQuestionCues(t *testing.T) {
	t.Parallel()
	rulesE := newEngine(t)
	modelE, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		text string
		want bool
	}{
		{"hi all, how are you", true},
		{"hello everyone what is the price of the red one", true},
		{"so when does the sale start", true},
		{"well, is it waterproof", true},
		{"Rahul, is the blue one still there", true},
		{"@asha is it cotton", true},
		{"hows the fabric", true},
		{"r u live tomorrow", true},
		{"have you tried the blue one", true},
		{"kab aayega next live", true},
		{"what a ride", false},
		{"how cute is that puppy", false},
		{"what a game!!", false},
		{"Kappa Kappa Kappa Kappa Kappa Kappa Kappa Kappa Kappa Kappa Kappa Kappa Kappa Kappa Kappa Kappa", false},
		{"LUL LUL LUL", false},
		{"PogChamp", false},
		{"pagal kar diya is gaane ne", false},
		{"my mom loves your channel", false},
		{"kya baat hai", false},
		{"arre waah", false},
		{"arre yaar kya bakwas hai", false},
		{"arre bhai, is it cotton?", true},
	} {
		for name, e := range map[string]*Engine{"rules": rulesE, "model": modelE} {
			if c.text == "kab aayega next live" && name == "rules" {
				continue // a Hindi question without '?' or a lead the rules know: the model's
			}
			d := decide(t, e, c.text)
			if got := d.Labels.Has(chat.LabelQuestion); got != c.want {
				t.Errorf("%s %q: question %v, want %v (%v, scores %s)", name, c.text, got, c.want, d.Reasons, d.Scores.AppendJSON(nil))
			}
		}
	}
}
