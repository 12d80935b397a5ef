package classify

import (
	"strings"
	"sync"

	"github.com/cespare/xxhash/v2"
)

// Romanized Hindi has no one spelling: "behenchod", "bhenchod",
// "bahanchod" and "behnchod" are one word, as are "kameena" and "kamina",
// "chutiya", "chutiye" and "chootia", "bewakoof" and "bevkuf". The lexicon
// lists a few spellings; a phonetic key folds the rest onto them:
//
//   - doubled vowels are long vowels: "ee" → i, "oo" → u, "aa" → a;
//   - z → j, w → v, q → k, ph → f, y → i (vowel-like in these spellings);
//   - h is dropped after the first letter (the optional aspirate: "bh",
//     "chh", "th"; and "behen" / "bahan", where it only lengthens);
//   - e → a and o → u (the schwa and the two o/u spellings);
//   - a final run of vowels is one ending (-a, -e, -i, -iya, -iye, -ey);
//   - an inner 'a' between two consonants is dropped (schwa deletion:
//     "bhosadike" and "bhosdike"), the word's first vowel excepted.
//
// A key is coarse by design, so it is guarded: a word of the English word
// list (lexicon/scowl_en.txt), of livemod_safe.txt or of the allow-list of
// names and places (livemod_allow.txt) is never matched through its key —
// "sale" is not "saala", "randy" is not "randi", "chutti" (a holiday) is
// not "chutiya". Keys shorter than five bytes are not used: too many
// innocent words share them. Nor are common words of romanized Hindi
// (livemod_hinglish_common.txt) matched through their key.

// maxKeyWord is the longest raw word that gets a key; longer ones are not
// Hindi insults.
const maxKeyWord = 24

// minKey is the shortest key used, and minKeyEntry the shortest entry
// indexed by its key: short words share their keys with too many others
// ("katua" and "kahta", "aandu" and "andhe"); they are matched as listed.
const (
	minKey      = 5
	minKeyEntry = 6
)

// keyEnd marks a word's final vowel run in its key.
const keyEnd = 'V'

// phoneticKey appends the key of the raw ASCII word w (lower case, digits
// read as leetspeak) to dst. It reports false for a word that is not all
// letters after leetspeak.
func phoneticKey(dst []byte, w []byte) ([]byte, bool) {
	if len(w) > maxKeyWord || len(w) == 0 {
		return dst, false
	}
	var a [maxKeyWord * 2]byte
	n := 0
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch c {
		case '0':
			c = 'o'
		case '1':
			c = 'i'
		case '3':
			c = 'e'
		case '4', '@':
			c = 'a'
		case '5', '$':
			c = 's'
		case '7':
			c = 't'
		}
		if c < 'a' || c > 'z' {
			return dst, false
		}
		a[n] = c
		n++
	}
	// Long vowels, then consonant spellings; h after the first letter goes.
	b := a[:0:len(a)]
	for i := 0; i < n; i++ {
		c := a[i]
		if i+1 < n && a[i+1] == c && (c == 'e' || c == 'o' || c == 'a' || c == 'i' || c == 'u') {
			switch c {
			case 'e':
				c = 'i'
			case 'o':
				c = 'u'
			}
			i++
		}
		switch c {
		case 'z':
			c = 'j'
		case 'w':
			c = 'v'
		case 'q':
			c = 'k'
		case 'y':
			c = 'i'
		case 'p':
			if i+1 < n && a[i+1] == 'h' {
				c = 'f'
				i++
			}
		case 'h':
			if len(b) > 0 {
				continue
			}
		case 'e':
			c = 'a'
		case 'o':
			c = 'u'
		}
		if len(b) > 0 && b[len(b)-1] == c {
			continue
		}
		b = append(b, c)
	}
	// The ending.
	end := len(b)
	for end > 1 && isKeyVowel(b[end-1]) {
		end--
	}
	ending := end < len(b)
	b = b[:end]
	// Schwa deletion, the first vowel excepted.
	out := len(dst)
	seenVowel := false
	for i, c := range b {
		if isKeyVowel(c) {
			if c == 'a' && seenVowel && i > 0 && i+1 < len(b) && !isKeyVowel(b[i-1]) && !isKeyVowel(b[i+1]) {
				continue
			}
			seenVowel = true
		}
		dst = append(dst, c)
	}
	if ending {
		dst = append(dst, keyEnd)
	}
	return dst, len(dst)-out > 0
}

func isKeyVowel(c byte) bool { return c == 'a' || c == 'i' || c == 'u' }

// dictionary is the set of words matched only as written: the English
// word list, the safe list and the allow-list of names and places. It is
// consulted only when a lexicon entry matched through the skeleton or the
// key, never per word.
var dictionaryWords = sync.OnceValue(func() map[uint64]struct{} {
	d := make(map[uint64]struct{}, 48<<10)
	for _, name := range []string{"scowl_en.txt", "livemod_hinglish_common.txt", "livemod_safe.txt", "livemod_allow.txt"} {
		for _, line := range readList(name) {
			for _, w := range strings.Fields(line) {
				d[xxhash.Sum64String(w)] = struct{}{}
			}
		}
	}
	return d
})

// allowList are names and places that are never read as abuse, however
// spelt ("Lund", "Kamini", "Dikshit", "Nigeria" …).
var allowWords = sync.OnceValue(func() map[uint64]struct{} {
	d := make(map[uint64]struct{})
	for _, line := range readList("livemod_allow.txt") {
		for _, w := range strings.Fields(line) {
			d[xxhash.Sum64String(w)] = struct{}{}
		}
	}
	return d
})

// isLatinWord reports a raw word of ASCII letters and digits only.
func isLatinWord(w []byte) bool {
	for _, c := range w {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return len(w) > 0
}

// wordFilter is a Bloom filter of the dictionary's words (xxhash of the
// raw word), 64 KiB with three probes: about 1.5% false positives at the
// dictionary's 48 thousand words. Decide asks it before computing a
// word's phonetic key, so that English and common Hindi words ("jacket",
// "refund", "kitne") cost two loads instead of a key; a word it lets
// through is confirmed in the dictionary only when its key matched.
type wordFilter [1 << 13]uint64

func (f *wordFilter) add(h uint64) {
	for k := range 3 {
		b := (h >> (k * 19)) & (1<<19 - 1)
		f[b>>6] |= 1 << (b & 63)
	}
}

func (f *wordFilter) has(h uint64) bool {
	for k := range 3 {
		b := (h >> (k * 19)) & (1<<19 - 1)
		if f[b>>6]&(1<<(b&63)) == 0 {
			return false
		}
	}
	return true
}

// dictionaryFilter is the filter of dictionaryWords, built once.
var dictionaryFilter = sync.OnceValue(func() *wordFilter {
	f := new(wordFilter)
	for h := range dictionaryWords() {
		f.add(h)
	}
	return f
})
