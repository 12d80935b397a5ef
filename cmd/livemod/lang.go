package main

import (
	"strings"
	"unicode"

	"github.com/cespare/xxhash/v2"
)

// Languages of evaluation: livemod's three first-class languages, told
// apart by script and by the commonest function words of romanized Hindi.
const (
	langEn = iota
	langHi
	langHinglish
	numLangs
)

var langNames = [numLangs]string{"en", "hi", "hinglish"}

// hinglishMarkers are words that are common in romanized Hindi and are not
// English words (or are rare ones).
var hinglishMarkers = func() map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(`hai hain hoga hogi tha thi nahi nahin nhi kya kyu kyun kyon kaise kaisa
		kab kahan kaha kitna kitne kitni kaun ka ki ke ko se mein mai mujhe mujhko mera meri mere
		tera teri tere tu tum tumhe tumhara aap aapka apna apni yaar yar bhai bhaiya didi behen bahut bohot
		accha acha achha theek thik sahi kar karo karna kiya raha rahi rahe bhi toh ye yeh wo woh koi kuch
		sab abhi aur liye wala wali wale sala saala ji haan hum humko hamara unka uska iska usko isko
		jo jab tab kal aaj matlab chal chalo dekho dekh bol bolo kuchh sirf phir fir lekin`) {
		m[w] = true
	}
	return m
}()

// languageOf returns the language of a message: Devanagari Hindi when a
// third of its letters are Devanagari, Hinglish when romanized Hindi
// function words make up two of its words or a fifth of them, English
// otherwise.
func languageOf(text string) int {
	letters, deva := 0, 0
	for _, r := range text {
		if unicode.IsLetter(r) || unicode.IsMark(r) {
			letters++
			if 0x0900 <= r && r <= 0x097F {
				deva++
			}
		}
	}
	if letters > 0 && 3*deva >= letters {
		return langHi
	}
	words, hits := 0, 0
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
		words++
		if hinglishMarkers[w] {
			hits++
		}
	}
	if hits >= 2 || hits > 0 && 5*hits >= words {
		return langHinglish
	}
	return langEn
}

// heldOut returns the lines of ex in the held-out fraction f (test true)
// or the others: a line is held out when the hash of its text falls in
// the first f of the hash range, so the split is the same in every run,
// for every file, and for train and eval alike.
func heldOut(ex []example, f float64, test bool) []example {
	var out []example
	cut := uint64(f * (1 << 53))
	for _, e := range ex {
		in := xxhash.Sum64String("livemod-holdout\x00"+e.Text)>>11 < cut
		if in == test {
			out = append(out, e)
		}
	}
	return out
}
