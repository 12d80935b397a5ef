package classify

import (
	"testing"

	"github.com/livemod/livemod/chat"
)

// TestNegativeHead: the default model's negative head on lines written
// for this test and in none of the training files (docs/QUALITY.md,
// "Negative sentiment"): customer anger about a purchase in English and
// Hinglish is labelled negative; sarcasm and banter and mild complaints
// about the stream itself ("audio is low") are not customer anger.
func TestNegativeHead(t *testing.T) {
	t.Parallel()
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"you charged my card twice and the parcel never came, this is a scam, I want my money back now", true},
		{"third time asking, where is my refund?? absolutely disgusted with this shop", true},
		{"kitni baar bolu, galat size bheja aur ab koi reply nahi kar raha, bakwas service", true},
		{"paise kat gaye order nahi aaya, ekdum fraud company ho tum log", true},
		{"oh wow the host dropped the mic again, peak entertainment lol", false},
		{"haan haan bilkul, sabse fast internet hai mera 😂", false},
		{"great, the video froze again, love it haha", false},
		{"awaaz bahut dheemi aa rahi hai", false},
		{"the stream keeps buffering", false},
		{"mic is a bit low, can you fix it", false},
		{"आवाज़ थोड़ी कम है", false},
	} {
		d := decide(t, e, tc.text)
		if got := d.Labels.Has(chat.LabelNegative); got != tc.want {
			t.Errorf("%q: negative %v (score %.2f), want %v", tc.text, got, d.Scores.Get(chat.LabelNegative), tc.want)
		}
	}
}
