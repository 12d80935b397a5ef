package classify

import "testing"

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
		labels Labels
		action Action
	}{
		{"bahanchod", Labels(LabelToxic), Hold},
		{"bhosadike chup kar", Labels(LabelToxic), Hold},
		{"haraamzaade", Labels(LabelToxic), Hold},
		{"tu kameena hai", Labels(LabelToxic), Hold},
		{"kameena dost hai mera", Labels(LabelProfanity), Allow},
		{"saala kya match tha", Labels(LabelProfanity), Allow},
		{"tu pagal hai", Labels(LabelToxic), Hold},
		{"abe gadhe", Labels(LabelToxic), Hold},
		{"pagal hai tu", Labels(LabelToxic), Hold},
		{"tera baap kutta hai", Labels(LabelToxic), Hold},
		{"kutte ki aulad", Labels(LabelToxic), Hold},
		{"pagal chutiya", Labels(LabelToxic), Hold},
		{"tum bewakoof ho", Labels(LabelToxic), Hold},
		{"तू पागल है", Labels(LabelToxic), Hold},
		{"modi ka lund", Labels(LabelToxic), Hold},
		{"chal nikal chomu", Labels(LabelToxic), Hold},
		{"behen ke takke", Labels(LabelToxic), Hold},
		{"ullu ke pathe", Labels(LabelToxic), Hold},
		// Innocent: ambiguous words not aimed, names, places, idioms.
		{"mere ghar ka kutta bahut cute hai", 0, Allow},
		{"pagal kar diya is gaane ne", 0, Allow},
		{"chhodo yaar, next item dikhao", 0, Allow},
		{"ullu banaya sabko, kya twist tha", 0, Allow},
		{"I live in Lund", 0, Allow},
		{"Kamini is my sister", 0, Allow},
		{"kis janta ki baat kar rahe ho", 0, Allow},
		{"wo kahta hai ki accha hai", 0, Allow},
		{"chutti pe hu aaj", 0, Allow},
		{"hamari chamar wali zindagi hamari hai", 0, Allow},
		{"काले धन से लड़ रही है सरकार", 0, Allow},
	} {
		d := decide(t, e, c.text)
		if d.Labels&Labels(LabelToxic|LabelProfanity) != c.labels || d.Action != c.action {
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
		if d := decide(t, e, text); d.Labels&Labels(LabelToxic|LabelProfanity|LabelThreat) != 0 || d.Action == Hold {
			t.Errorf("%q: %s %v %v", text, d.Action, d.Labels.Slice(), d.Reasons)
		}
	}
	// Evasions of lexicon words that are not dictionary words still match.
	for _, text := range []string{"you are a b1tch", "fuuuck you", "ch00tiya"} {
		if d := decide(t, e, text); !d.Labels.Has(LabelToxic) {
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
		action Action
	}{
		{"he called me a chink at school", false, Allow},
		{`saying "kike" should get you banned`, false, Allow},
		{"randi bulana band karo", false, Allow},
		{"you are a chink", true, Hold},
		{"shut up you kike", true, Hold},
		{"towelhead go home", true, Hold},
	} {
		d := decide(t, e, c.text)
		if d.Labels.Has(LabelToxic) != c.toxic || d.Action != c.action || !c.toxic && !d.Labels.Has(LabelProfanity) {
			t.Errorf("%q: %s %v %v", c.text, d.Action, d.Labels.Slice(), d.Reasons)
		}
	}
}
