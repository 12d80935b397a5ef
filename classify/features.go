package classify

import (
	"bytes"
	"math"
	"math/bits"
	"unicode/utf8"
)

// Features of the learned model. A message becomes a bag of hashed
// features, each an index into a table of 2^bits buckets:
//
//   - skeleton words and word pairs (the xxhash of each word is already
//     computed while the skeleton is built), the first word and the last
//     word — leetspeak, homoglyphs and spacing are undone before the model
//     sees a word, so it learns "fuck" once, not every spelling of it;
//   - character 3-grams of the skeleton (runes, not bytes, so that
//     Devanagari n-grams are letters), which carry spelling variants,
//     Hinglish transliteration and words the model has not seen;
//   - a few shapes of the plain form, which keeps what the skeleton drops:
//     a question mark, a web address, a long number, shouting, length.
//
// The features are built in a caller-owned slice, so scoring does not
// allocate. Word features are the words' xxhash with a kind constant
// XORed in; character n-grams and shapes go through xxhash's final
// avalanche (mix64).
//
// featureVersion is written into model files: a model trained on other
// features is refused at load instead of scoring garbage.
const featureVersion = 2

// Feature kinds: each is mixed into the hash so that a word and a
// character n-gram with the same bytes land in different buckets.
const (
	featWord  uint64 = 0x8a5cd789635d2dff
	featPair  uint64 = 0x121fd2155c472f96
	featFirst uint64 = 0xa0761d6478bd642f
	featLast  uint64 = 0xe7037ed1a0b428db
	featChar3 uint64 = 0x589965cc75374cc3
	featShape uint64 = 0x4c8e13a4d6b2e735
)

// Shapes of the plain form.
const (
	shapeQuestion uint64 = iota + 1
	shapeQuestionEnd
	shapeURL
	shapeLongNumber
	shapeShout
	shapeExclaim
	shapeAt
	shapeLen // + length bucket
)

// mix64 is xxhash64's avalanche: cheap and good enough to spread
// combined word hashes and packed runes over the buckets.
func mix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xC2B2AE3D27D4EB4F
	h ^= h >> 29
	h *= 0x165667B19E3779F9
	h ^= h >> 32
	return h
}

const prime64 = 0x9E3779B97F4A7C15

// appendFeatures appends the hashed features of a message to dst. text
// is the original, plain and skel its two normal forms and toks the
// skeleton's words (offsets into skel).
func appendFeatures(dst []uint64, text string, plain, skel []byte, toks []tok) []uint64 {
	// Word hashes are xxhash values, already spread: a kind constant
	// XORed in is enough, without a second mix.
	for i := range toks {
		h := toks[i].h
		dst = append(dst, h^featWord)
		if i > 0 {
			dst = append(dst, toks[i-1].h*prime64^h^featPair)
		}
	}
	if n := len(toks); n > 0 {
		dst = append(dst, toks[0].h^featFirst, toks[n-1].h^featLast)
	}

	dst = appendCharGrams(dst, skel)

	// Shapes of the plain form and the original: each a vector scan or a
	// short loop, since most lines have none of them.
	q := bytes.IndexByte(plain, '?') >= 0
	qEnd := false
	if q {
		for i := len(plain) - 1; i >= 0; i-- {
			c := plain[i]
			if c == '?' {
				qEnd = true
				break
			}
			if c != ' ' && c != '!' && c != '.' {
				break
			}
		}
	}
	excl := bytes.Count(plain, []byte{'!'})
	at := bytes.IndexByte(plain, '@') >= 0
	maxDigits := 0
	if countDigits(plain) >= 7 {
		digits := 0
		for _, c := range plain {
			if '0' <= c && c <= '9' {
				digits++
				maxDigits = max(maxDigits, digits)
			} else if c != ' ' && c != '-' {
				digits = 0
			}
		}
	}
	if q {
		dst = append(dst, mix64(shapeQuestion^featShape))
	}
	if qEnd {
		dst = append(dst, mix64(shapeQuestionEnd^featShape))
	}
	if excl >= 3 {
		dst = append(dst, mix64(shapeExclaim^featShape))
	}
	if at {
		dst = append(dst, mix64(shapeAt^featShape))
	}
	if maxDigits >= 7 {
		dst = append(dst, mix64(shapeLongNumber^featShape))
	}
	if hasURLShape(plain) {
		dst = append(dst, mix64(shapeURL^featShape))
	}
	if isShouting(text) {
		dst = append(dst, mix64(shapeShout^featShape))
	}
	nw := uint64(bits.Len(uint(len(toks)))) // 0, 1, 2-3, 4-7, 8-15, …
	dst = append(dst, mix64((shapeLen+nw)^featShape))
	return dst
}

// appendCharGrams appends the rune 3-grams of " skel " but those centred
// on a space between words. Three runes of 21 bits pack exactly into 63
// bits. (Version 1 also had 4-grams: twice
// the features, a table read each, for no gain on the figures of
// docs/QUALITY.md.) An ASCII skeleton, the common case, skips decoding.
func appendCharGrams(dst []uint64, skel []byte) []uint64 {
	if isASCIIBytes(skel) {
		var r1, r2 uint64 = ' ', 0
		if len(skel) > 0 {
			r2, r1 = ' ', uint64(skel[0])
		}
		for i := 1; i <= len(skel); i++ {
			r := uint64(' ')
			if i < len(skel) {
				r = uint64(skel[i])
			}
			if r1 != ' ' { // a gram across a word gap ("b c") says little
				dst = append(dst, mix64((r2<<42|r1<<21|r)^featChar3))
			}
			r2, r1 = r1, r
		}
		return dst
	}
	var r1, r2, r3 uint64 = ' ', 0, 0 // r1 is the newest rune
	n := 1
	for i := 0; i <= len(skel); {
		r := uint64(' ')
		if i < len(skel) {
			c, size := decodeRune(skel[i:])
			r = uint64(c)
			i += size
		} else {
			i++
		}
		r3, r2, r1 = r2, r1, r
		n++
		if n < 3 {
			continue
		}
		if r2 != ' ' {
			dst = append(dst, mix64((r3<<42|r2<<21|r1)^featChar3))
		}
	}
	return dst
}

func isASCIIBytes(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// hasURLShape reports something that reads as a web address: a scheme,
// "www." or a word, a dot and a known top-level domain.
func hasURLShape(plain []byte) bool {
	if !mayBeURL(plain) {
		return false
	}
	for i := 0; i+3 < len(plain); i++ {
		switch plain[i] {
		case ':':
			if plain[i+1] == '/' && plain[i+2] == '/' {
				return true
			}
		case 'w':
			if plain[i+1] == 'w' && plain[i+2] == 'w' && plain[i+3] == '.' {
				return true
			}
		case '.':
			if i == 0 || !isASCIIAlnum(plain[i-1]) {
				continue
			}
			j := i + 1
			for j < len(plain) && 'a' <= plain[j] && plain[j] <= 'z' {
				j++
			}
			switch string(plain[i+1 : j]) {
			case "com", "net", "org", "ly", "io", "gg", "tv", "xyz", "me", "co", "info", "site", "shop", "link", "be":
				return true
			}
		}
	}
	return false
}

func isASCIIAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// isShouting reports a message mostly in capitals (at least six letters).
func isShouting(text string) bool {
	if len(text) < 6 {
		return false
	}
	up, low := 0, 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c-'A' < 26 {
			up++
		}
		if c-'a' < 26 {
			low++
		}
	}
	return up >= 6 && up > 3*low
}

// countDigits returns the number of ASCII digits in b.
func countDigits(b []byte) int {
	n := 0
	for _, c := range b {
		if c-'0' < 10 {
			n++
		}
	}
	return n
}

// FeatureScale is the value of each feature of a message with n
// features: 1/sqrt(n), so that long comments do not outvote short chat,
// but never more than for minFeatures, so that a one-word message is not
// judged on one word blown up.
func FeatureScale(n int) float32 {
	return float32(1 / math.Sqrt(float64(max(n, minFeatures))))
}

// minFeatures is about the features of a five-word message.
const minFeatures = 40
