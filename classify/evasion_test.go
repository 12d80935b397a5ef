package classify

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/livemod/livemod/chat"
)

// The evasion suite: seed insults in three languages, each put through
// the transformations people use to slip past filters. At least 95% must
// still be caught. The look-alike suite: innocent words that contain or
// resemble bad ones; at most 1% may be flagged.

var evasionSeeds = []string{
	"fuck you", "you bitch", "stupid idiot", "piece of shit", "asshole",
	"chutiya", "madarchod", "bhosdike", "behenchod", "harami",
	"चूतिया", "मादरचोद", "हरामी",
}

var evasionTransforms = map[string]func(string) string{
	"plain":       func(s string) string { return s },
	"upper":       strings.ToUpper,
	"leet":        strings.NewReplacer("a", "4", "e", "3", "i", "1", "o", "0", "s", "$", "t", "7").Replace,
	"dots":        func(s string) string { return joinRunes(s, ".") },
	"spaces":      func(s string) string { return joinRunes(s, " ") },
	"zero-width":  func(s string) string { return joinRunes(s, "\u200b") },
	"soft-hyphen": func(s string) string { return joinRunes(s, "\u00ad") },
	"repeats": func(s string) string {
		var b strings.Builder
		for _, r := range s {
			b.WriteRune(r)
			if r != ' ' && r < 0x900 {
				b.WriteRune(r)
				b.WriteRune(r)
			}
		}
		return b.String()
	},
	"fullwidth": func(s string) string {
		return strings.Map(func(r rune) rune {
			if 'a' <= r && r <= 'z' {
				return r - 'a' + 'ａ'
			}
			return r
		}, s)
	},
	"math-bold": func(s string) string {
		return strings.Map(func(r rune) rune {
			if 'a' <= r && r <= 'z' {
				return r - 'a' + '𝐚'
			}
			return r
		}, s)
	},
	"accents": func(s string) string {
		return strings.NewReplacer("a", "á", "e", "é", "i", "í", "o", "ö", "u", "ü").Replace(s)
	},
	"cyrillic": strings.NewReplacer("a", "а", "e", "е", "o", "о", "c", "с", "p", "р").Replace,
	"zwj-devanagari": func(s string) string {
		if !strings.ContainsRune(s, 'च') && !strings.ContainsRune(s, 'म') && !strings.ContainsRune(s, 'ह') {
			return s
		}
		return joinRunes(s, "\u200d")
	},
}

func joinRunes(s, sep string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r != ' ' && !isMarkRune(r) {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isMarkRune(r rune) bool { return 0x93A <= r && r <= 0x94F || r == 0x902 || r == 0x93C }

func TestEvasionSuite(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	total, caught := 0, 0
	for name, tr := range evasionTransforms {
		for _, seed := range evasionSeeds {
			text := tr(seed)
			if !utf8.ValidString(text) {
				t.Fatalf("%s: invalid UTF-8", name)
			}
			total++
			d := e.Decide(&chat.Message{ID: "m", Stream: "ev", User: chat.User{ID: "u" + name + seed}, Text: text, TS: int64(total) * 600_000})
			// Mild words not aimed at anyone are labelled profanity: the
			// evasion was seen through all the same.
			if d.Labels.Has(chat.LabelToxic) || d.Labels.Has(chat.LabelThreat) || d.Labels.Has(chat.LabelProfanity) {
				caught++
			} else {
				t.Logf("missed %s %q", name, text)
			}
		}
	}
	rate := float64(caught) / float64(total)
	t.Logf("evasions caught: %d/%d (%.1f%%)", caught, total, 100*rate)
	if rate < 0.95 {
		t.Errorf("evasions caught %.1f%%, want ≥ 95%%", 100*rate)
	}
}

var lookalikes = []string{
	"Scunthorpe", "assassin", "cocktail", "classic", "therapist", "Sussex", "Essex", "Middlesex",
	"passion", "assistant", "bass guitar", "pass the ball", "grape", "shiitake", "Dickens",
	"Hitchcock", "peacock", "cockpit", "analysis", "Penistone", "title", "butter", "hello",
	"grassroots", "Kamini", "Gandhinagar", "Lund university", "Land Rover", "chot lagi",
	"Shital", "Nishit", "Sakshi", "Dhruv", "Ananya", "Harish",
	"Kutch", "Mahesh", "Ramesh", "Suresh", "Bharat", "Chandigarh", "Bhopal", "Dehradun",
	"namaste ji", "shukriya", "बहुत अच्छा", "धन्यवाद", "नमस्ते", "शुभकामनाएं",
}

// ambiguousWords are both innocent and abusive ("Lund" is a Swedish city
// and a Hindi slur): the lexicon holds them for a human, and the suite
// reports them apart.
var ambiguousWords = map[string]bool{"Lund university": true}

func TestLookalikeSuite(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	flagged, ambiguous := 0, 0
	for i, w := range lookalikes {
		d := e.Decide(&chat.Message{ID: "m", Stream: "la", User: chat.User{ID: w}, Text: w, TS: int64(i) * 600_000})
		if d.Labels.Has(chat.LabelToxic) || d.Labels.Has(chat.LabelSpam) || d.Action != chat.Allow {
			if ambiguousWords[w] {
				ambiguous++
				t.Logf("flagged ambiguous %q: %v %v", w, d.Labels.Slice(), d.Reasons)
				continue
			}
			flagged++
			t.Logf("flagged %q: %v %v", w, d.Labels.Slice(), d.Reasons)
		}
	}
	rate := float64(flagged) / float64(len(lookalikes)-ambiguous)
	t.Logf("look-alikes flagged: %d/%d (%.1f%%); ambiguous words flagged apart: %d", flagged, len(lookalikes)-ambiguous, 100*rate, ambiguous)
	if rate > 0.01 {
		t.Errorf("look-alikes flagged %.1f%%, want ≤ 1%%", 100*rate)
	}
}
