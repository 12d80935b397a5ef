package classify

import (
	"testing"

	"github.com/livemod/livemod/chat"
)

func TestPhoneticKey(t *testing.T) {
	t.Parallel()
	same := [][]string{
		{"behenchod", "bhenchod", "bahanchod", "behnchod", "bhanchod", "behanchod"},
		{"madarchod", "maderchod", "maadarchod", "madrchod"},
		{"bhosdike", "bhosadike", "bhosdik3", "bhosdikey"},
		{"kamina", "kameena", "kamine", "kaminey"},
		{"haramzada", "haramjada", "haraamzaade"},
		{"bewakoof", "bevkoof", "bewkuf", "bewaqoof"},
	}
	for _, group := range same {
		k0, _ := phoneticKey(nil, []byte(group[0]))
		for _, w := range group[1:] {
			if k, _ := phoneticKey(nil, []byte(w)); string(k) != string(k0) {
				t.Errorf("key(%s) = %s, key(%s) = %s: want the same", w, k, group[0], k0)
			}
		}
	}
	if _, ok := phoneticKey(nil, []byte("nice-one")); ok {
		t.Error("a word with a hyphen got a key")
	}
}

// TestHinglishAbuse: spellings the lexicon does not list, gaalis held
// anywhere, mild and ambiguous words held only when aimed.
func TestHinglishAbuse(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	for _, c := range []struct {
		text   string
		labels chat.Labels
		action chat.Action
	}{
		{"bahanchod", chat.Labels(chat.LabelToxic), chat.Hold},
		{"bhosadike chup kar", chat.Labels(chat.LabelToxic), chat.Hold},
		{"haraamzaade", chat.Labels(chat.LabelToxic), chat.Hold},
		{"tu kameena hai", chat.Labels(chat.LabelToxic), chat.Hold},
		{"kameena dost hai mera", chat.Labels(chat.LabelProfanity), chat.Allow},
		{"saala kya match tha", chat.Labels(chat.LabelProfanity), chat.Allow},
		{"tu pagal hai", chat.Labels(chat.LabelToxic), chat.Hold},
		{"abe gadhe", chat.Labels(chat.LabelToxic), chat.Hold},
		{"pagal hai tu", chat.Labels(chat.LabelToxic), chat.Hold},
		{"tera baap kutta hai", chat.Labels(chat.LabelToxic), chat.Hold},
		{"kutte ki aulad", chat.Labels(chat.LabelToxic), chat.Hold},
		{"pagal chutiya", chat.Labels(chat.LabelToxic), chat.Hold},
		{"tum bewakoof ho", chat.Labels(chat.LabelToxic), chat.Hold},
		{"तू पागल है", chat.Labels(chat.LabelToxic), chat.Hold},
		{"modi ka lund", chat.Labels(chat.LabelToxic), chat.Hold},
		{"chal nikal chomu", chat.Labels(chat.LabelToxic), chat.Hold},
		{"behen ke takke", chat.Labels(chat.LabelToxic), chat.Hold},
		{"ullu ke pathe", chat.Labels(chat.LabelToxic), chat.Hold},
		// Innocent: ambiguous words not aimed, names, places, idioms.
		{"mere ghar ka kutta bahut cute hai", 0, chat.Allow},
		{"pagal kar diya is gaane ne", 0, chat.Allow},
		{"chhodo yaar, next item dikhao", 0, chat.Allow},
		{"ullu banaya sabko, kya twist tha", 0, chat.Allow},
		{"I live in Lund", 0, chat.Allow},
		{"Kamini is my sister", 0, chat.Allow},
		{"kis janta ki baat kar rahe ho", 0, chat.Allow},
		{"wo kahta hai ki accha hai", 0, chat.Allow},
		{"chutti pe hu aaj", 0, chat.Allow},
		{"hamari chamar wali zindagi hamari hai", 0, chat.Allow},
		{"काले धन से लड़ रही है सरकार", 0, chat.Allow},
	} {
		d := decide(t, e, c.text)
		if d.Labels&chat.Labels(chat.LabelToxic|chat.LabelProfanity) != c.labels || d.Action != c.action {
			t.Errorf("%q: %s %v %v, want %s %v", c.text, d.Action, d.Labels.Slice(), d.Reasons, c.action, c.labels.Slice())
		}
	}
}

// TestMatchingHygiene: no lexicon inside @mentions and web addresses, no
// squashing of English words, names and places allowed.
func TestMatchingHygiene(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	for _, text := range []string{
		"going to Nigeria next week", "can you cook biryani", "@kutta_lover hi bro",
		"@the_real_harami thanks for the tip", "see example.com/shit-happens for the recipe",
		"Scunthorpe won today", "hello from Gandhinagar", "the cocktail was great",
		"my therapist said so", "Dickens is my favourite author", "that peacock print",
	} {
		if d := decide(t, e, text); d.Labels&chat.Labels(chat.LabelToxic|chat.LabelProfanity|chat.LabelThreat) != 0 || d.Action == chat.Hold {
			t.Errorf("%q: %s %v %v", text, d.Action, d.Labels.Slice(), d.Reasons)
		}
	}
	// Evasions of lexicon words that are not dictionary words still match.
	for _, text := range []string{"you are a b1tch", "fuuuck you", "ch00tiya"} {
		if d := decide(t, e, text); !d.Labels.Has(chat.LabelToxic) {
			t.Errorf("%q: %v, want toxic", text, d.Labels.Slice())
		}
	}
}

// TestMentionedNotAimed: a slur reported, quoted or named is shown with
// the profanity label; aimed, it is toxic and held.
func TestMentionedNotAimed(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	for _, c := range []struct {
		text   string
		toxic  bool
		action chat.Action
	}{
		{"he called me a chink at school", false, chat.Allow},
		{`saying "kike" should get you banned`, false, chat.Allow},
		{"randi bulana band karo", false, chat.Allow},
		{"you are a chink", true, chat.Hold},
		{"shut up you kike", true, chat.Hold},
		{"towelhead go home", true, chat.Hold},
	} {
		d := decide(t, e, c.text)
		if d.Labels.Has(chat.LabelToxic) != c.toxic || d.Action != c.action || !c.toxic && !d.Labels.Has(chat.LabelProfanity) {
			t.Errorf("%q: %s %v %v", c.text, d.Action, d.Labels.Slice(), d.Reasons)
		}
	}
}
