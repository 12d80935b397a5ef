package classify

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/livemod/livemod/internal/words"
)

// Normalization has two forms, both kept beside the original text:
//
//   - the plain form (Normalize): compatibility-normalized, case-folded,
//     invisible characters and Latin accents removed, common homoglyphs
//     mapped to ASCII, runs of one character cut to two, white space
//     collapsed (a run of two or more becomes two spaces: "s t u p i d  i d i o t"
//     spells two words, and the wide gap is how a reader sees it). Digits and punctuation stay, so order numbers, prices and
//     URLs can still be read from it.
//   - the skeleton (appendSkeleton): the words of the plain form with
//     leetspeak undone (0→o, 1/l/!/|→i, 3→e, 4/@→a, 5/$→s, 7/+→t …),
//     spaced-out letters joined ("f.u.c.k" → fuck), repeats cut to one,
//     and Hindi spelling variants folded. Rules match against it; it is
//     never shown.
//
// Both are built into caller-owned byte slices so that Decide does not
// allocate.

// Normalize returns the plain matching form of s: NFKC, case-folded, with
// zero-width characters, soft hyphens and Latin combining marks removed
// (Devanagari vowel signs and virama are kept; nukta, ZWJ and ZWNJ are
// dropped so composed and decomposed spellings agree), homoglyphs mapped to
// ASCII, runs of a repeated character cut to two and white space collapsed
// to one space (two where the text had two or more, which keeps the
// boundary of words spelt out letter by letter). Invalid UTF-8 is
// dropped. Normalize is idempotent.
func Normalize(s string) string {
	var tmp []byte
	return string(appendPlain(nil, &tmp, s))
}

// appendPlainOnce appends the plain form of s to dst, escapes left as they
// are (appendPlain, escape.go, decodes them). tmp is scratch space, grown
// as needed and handed back for reuse.
func appendPlainOnce(dst []byte, tmp *[]byte, s string) []byte {
	start := len(dst)
	if words.ASCII(s) { // eight bytes at a time: every message's text passes here
		return appendPlainASCII(dst, s)
	}
	src := []byte(nil)
	compose := needsNorm(s)
	if compose && !utf8.ValidString(s) {
		// Drop invalid bytes before NFKD, not while reading its output:
		// NFKD leaves the character after an invalid byte undecomposed
		// ("\xf6Ĥ" kept its accent, and lost it only on a second pass).
		s = strings.ToValidUTF8(s, "")
		compose = needsNorm(s)
	}
	if compose {
		// Decompose first so that accents come apart from their letters and
		// compatibility forms (fullwidth, mathematical alphanumerics,
		// ligatures, circled letters) become ordinary ones; compose again at
		// the end. Text of only ASCII, Devanagari and emoji needs neither.
		*tmp = norm.NFKD.AppendString((*tmp)[:0], s)
		src = *tmp
	}
	var last rune = -1
	rep := 0
	space := 0 // white-space characters since the last rune written
	for i := 0; i < len(s) && !compose || i < len(src); {
		var r rune
		var size int
		if compose {
			r, size = decodeRune(src[i:])
		} else {
			r, size = decodeRuneString(s[i:])
		}
		i += size
		if r < utf8.RuneSelf {
			// ASCII inside mixed text: what the loop below does for it,
			// without the Unicode tables and the homoglyph map.
			if r <= ' ' || r == 0x7f {
				space++
				continue
			}
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			dst, last, rep, space = emitPlain(dst, start, r, last, rep, space)
			continue
		}
		if r == utf8.RuneError && size <= 1 {
			continue
		}
		if 0x0900 <= r && r <= 0x097F {
			switch {
			case r == 0x093C: // nukta: ज़ and ज match
				continue
			case r == 0x0901: // chandrabindu, spelled as anusvara by most writers
				r = 0x0902
			case 0x0958 <= r && r <= 0x095F: // letters with nukta, decomposed
				r = nuktaBase[r-0x0958]
			case r == 0x0929, r == 0x0931, r == 0x0934:
				r--
			}
			dst, last, rep, space = emitPlain(dst, start, r, last, rep, space)
			continue
		}
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || unicode.IsSpace(r) || unicode.IsControl(r):
			space++
			continue
		case unicode.Is(unicode.Cf, r): // ZWSP, ZWJ, ZWNJ, soft hyphen, bidi controls, tags
			continue
		case isStrippedMark(r):
			continue
		}
		r = unicode.ToLower(r)
		if h, ok := homoglyphs[r]; ok {
			for _, hr := range h {
				dst, last, rep, space = emitPlain(dst, start, hr, last, rep, space)
			}
			continue
		}
		dst, last, rep, space = emitPlain(dst, start, r, last, rep, space)
	}
	if start == len(dst) || !compose {
		return dst
	}
	// Recompose (Hangul, Indic and other scripts whose marks were kept).
	// The scratch buffer is free again: reuse it.
	*tmp = norm.NFKC.Append((*tmp)[:0], dst[start:]...)
	return append(dst[:start], *tmp...)
}

// decodeRune is utf8.DecodeRune with the Devanagari block (E0 A4 80 to
// E0 A5 BF) decoded inline: Hindi chat is common, and the general decoder
// is a call per rune.
func decodeRune(b []byte) (rune, int) {
	if len(b) >= 3 && b[0] == 0xE0 && b[1]&^1 == 0xA4 && b[2]&0xC0 == 0x80 {
		return 0x0900 | rune(b[1]&1)<<6 | rune(b[2]&0x3F), 3
	}
	return utf8.DecodeRune(b)
}

// decodeRuneString is decodeRune for a string.
func decodeRuneString(s string) (rune, int) {
	if len(s) >= 3 && s[0] == 0xE0 && s[1]&^1 == 0xA4 && s[2]&0xC0 == 0x80 {
		return 0x0900 | rune(s[1]&1)<<6 | rune(s[2]&0x3F), 3
	}
	return utf8.DecodeRuneInString(s)
}

// appendRune is utf8.AppendRune with ASCII and Devanagari inline.
func appendRune(dst []byte, r rune) []byte {
	switch {
	case r < utf8.RuneSelf:
		return append(dst, byte(r))
	case 0x0900 <= r && r <= 0x097F:
		return append(dst, 0xE0, 0xA4|byte(r>>6&1), 0x80|byte(r&0x3F))
	}
	return utf8.AppendRune(dst, r)
}

// nuktaBase maps U+0958..U+095F (क़ ख़ ग़ ज़ ड़ ढ़ फ़ य़) to their letters
// without the nukta.
var nuktaBase = [8]rune{0x0915, 0x0916, 0x0917, 0x091C, 0x0921, 0x0922, 0x092B, 0x092F}

// needsNorm reports whether s has a rune that Unicode normalization could
// change: anything but ASCII, Devanagari (handled by hand) and the emoji
// blocks.
func needsNorm(s string) bool {
	for i := 0; i < len(s); {
		r, size := decodeRuneString(s[i:])
		i += size
		switch {
		case r < utf8.RuneSelf, 0x0900 <= r && r <= 0x097F, r == 0x200B, r == 0x200C, r == 0x200D,
			r == 0xFE0F, r == 0x20B9, 0x2600 <= r && r <= 0x27BF, 0x1F300 <= r && r <= 0x1FAFF:
		default:
			return true
		}
	}
	return false
}

// emitPlain appends r, cutting runs of one rune to two (digits excepted:
// "1000" and "5555" are real numbers) and writing the space between words
// (space counts the white space seen: one space for one, two for more).
func emitPlain(dst []byte, start int, r, last rune, rep int, space int) ([]byte, rune, int, int) {
	if space > 0 && len(dst) > start {
		dst = append(dst, ' ')
		if space > 1 {
			dst = append(dst, ' ')
		}
		last, rep = ' ', 0
	}
	space = 0
	if r == last && !isDigit(r) {
		rep++
		if rep >= 2 {
			return dst, last, rep, space
		}
	} else {
		rep = 0
	}
	last = r
	return appendRune(dst, r), last, rep, space
}

func appendPlainASCII(dst []byte, s string) []byte {
	start := len(dst)
	var last byte
	rep := 0
	space := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f {
			space++
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if space > 0 && len(dst) > start {
			dst = append(dst, ' ')
			if space > 1 {
				dst = append(dst, ' ')
			}
			last, rep = ' ', 0
		}
		space = 0
		if c == last && (c < '0' || c > '9') {
			rep++
			if rep >= 2 {
				continue
			}
		} else {
			rep = 0
		}
		last = c
		dst = append(dst, c)
	}
	return dst
}

func isDigit(r rune) bool { return '0' <= r && r <= '9' }

// isStrippedMark reports whether r is a combining mark that only decorates
// a letter: accents on Latin, Greek and Cyrillic, Zalgo stacks, enclosing
// marks. Marks of the Indic scripts (vowel signs, virama, anusvara) carry
// meaning and are kept.
func isStrippedMark(r rune) bool {
	if r < 0x0300 {
		return false
	}
	if 0x0900 <= r && r <= 0x0DFF || 0x1CD0 <= r && r <= 0x1CFF || 0xA8E0 <= r && r <= 0xA8FF {
		return false
	}
	return unicode.In(r, unicode.Mn, unicode.Me)
}

// homoglyphs maps look-alike letters (after lower-casing and NFKD) to their
// Latin skeleton, after Unicode TR39 confusables. Fullwidth and
// mathematical letters need no entry: NFKD already maps them.
var homoglyphs = map[rune]string{
	// Cyrillic
	'а': "a", 'в': "b", 'е': "e", 'ѕ': "s", 'і': "i", 'ј': "j", 'к': "k",
	'м': "m", 'н': "h", 'о': "o", 'р': "p", 'с': "c", 'т': "t", 'у': "y",
	'х': "x", 'һ': "h", 'ԁ': "d", 'ԛ': "q", 'ԝ': "w", 'ӏ': "l", 'ь': "b",
	'ѵ': "v", 'ц': "u", 'п': "n", 'г': "r", 'ɡ': "g", 'ү': "y", 'ҽ': "e", 'ӕ': "ae",
	// Greek
	'α': "a", 'β': "b", 'γ': "y", 'ε': "e", 'η': "n", 'ι': "i", 'κ': "k",
	'ν': "v", 'ο': "o", 'ρ': "p", 'τ': "t", 'υ': "u", 'χ': "x", 'ω': "w",
	'ς': "s", 'ϲ': "c", 'ϳ': "j",
	// Latin look-alikes that do not decompose
	'ı': "i", 'ɑ': "a", 'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d",
	'ł': "l", 'ŧ': "t", 'ħ': "h", 'ƒ': "f", 'ɩ': "i", 'ʟ': "l", 'ɴ': "n",
	'ʀ': "r", 'ꜱ': "s", 'ᴀ': "a", 'ʙ': "b", 'ᴄ': "c", 'ᴅ': "d", 'ᴇ': "e",
	'ɢ': "g", 'ʜ': "h", 'ɪ': "i", 'ᴊ': "j", 'ᴋ': "k", 'ᴍ': "m", 'ᴏ': "o",
	'ᴘ': "p", 'ᴛ': "t", 'ᴜ': "u", 'ᴠ': "v", 'ᴡ': "w", 'ʏ': "y", 'ᴢ': "z",
	'ɾ': "r", 'ʋ': "u", 'ɛ': "e", 'ɔ': "c",
	// Dots and slashes used to write links
	'。': ".", '․': ".", '∕': "/", '⁄': "/",
}

// Skeleton building.

// tok is one word of the skeleton: its bytes are skel[a:b]; plain[pa:pb]
// is what it was read from: one raw word, or letters spelt out with
// separators between them ("f u c k", see joined).
//
// The offsets are 16 bits, which keeps a tok at 16 bytes (the matcher
// reads every one of them): a plain form or skeleton is at most about 24
// KB (MaxTextBytes of the widest NFKC expansion), and appendSkeletonKnown
// stops at 64 KB all the same.
type tok struct {
	a, b   uint16
	pa, pb uint16
	h      uint64
}

// maxTokOffset is the largest offset a tok holds.
const maxTokOffset = 1<<16 - 1

// joined reports a word spelt out over several raw words: its span in
// the plain form has a separator. (A flag would make tok 32 bytes; this
// is asked only of the few words a lexicon entry matched.)
func (t *tok) joined(plain []byte) bool {
	for _, c := range plain[t.pa:t.pb] {
		if c < utf8.RuneSelf && asciiClass[c] == classNone {
			return true
		}
	}
	return false
}

// isWordRune reports whether r belongs to a word of the plain form.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || '0' <= r && r <= '9'
	}
	if 0x0900 <= r && r <= 0x097F {
		return devanagari[r-0x0900]&devWord != 0
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// isLetter is unicode.IsLetter with the Devanagari block looked up in a
// table: Hindi chat is common, and the Unicode tables are a binary search.
func isLetter(r rune) bool {
	if 0x0900 <= r && r <= 0x097F {
		return devanagari[r-0x0900]&devLetter != 0
	}
	return unicode.IsLetter(r)
}

// Classes of the Devanagari block, from the Unicode tables at start.
const (
	devWord   = 1 << iota // letter, digit or mark
	devLetter             // letter
	devSign               // a mark that belongs to the letter before it: vowel sign, virama, anusvara, nukta
)

var devanagari = func() (t [0x80]uint8) {
	for i := range t {
		r := rune(0x0900 + i)
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) {
			t[i] |= devWord
		}
		if unicode.IsLetter(r) {
			t[i] |= devLetter
		}
		if unicode.IsMark(r) {
			t[i] |= devSign
		}
	}
	return t
}()

// leetAt reports whether the symbol at plain[i] stands for a letter: '@'
// and '$' inside or at the start of a word ("@ss", "a$$"), '!', '|' and '+'
// only between word characters ("sh!t"), so that "stop!" stays "stop".
func leetAt(plain []byte, i int) bool {
	c := plain[i]
	prev := i > 0 && isWordByte(plain[i-1])
	next := i+1 < len(plain) && isWordByte(plain[i+1])
	switch c {
	case '@', '$':
		return next || prev && (i+1 >= len(plain) || plain[i+1] == '$' || plain[i+1] == ' ' || isWordByte(plain[i+1]))
	case '!', '|', '+', '*':
		return prev && next
	}
	return false
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c >= utf8.RuneSelf || c == '@' || c == '$'
}

// leet maps a character of a word that contains letters to its skeleton.
// 'l' joins 'i' because 1, l, I, | and ! all stand for one another.
func leet(r rune) rune {
	switch r {
	case '0':
		return 'o'
	case '1', 'l', '!', '|':
		return 'i'
	case '3':
		return 'e'
	case '4', '@':
		return 'a'
	case '5', '$':
		return 's'
	case '7', '+':
		return 't'
	case '8':
		return 'b'
	case '9':
		return 'g'
	case '*':
		return 'u' // f*ck, sh*t are written out in the lexicon
	// Hindi spelling variants: long and short vowels, nasal marks.
	case 'ी':
		return 'ि'
	case 'ू':
		return 'ु'
	case 'ई':
		return 'इ'
	case 'ऊ':
		return 'उ'
	case 'ं', 'ँ':
		return -1
	}
	return r
}

// leetASCII is leet for ASCII bytes.
var leetASCII = func() (t [utf8.RuneSelf]byte) {
	for c := range t {
		t[c] = byte(leet(rune(c)))
	}
	return t
}()

// rawTok is a word of the plain form before joining.
type rawTok struct {
	a, b    int32
	single  uint8 // a unit of spelling out: singleLatin or singleDeva; zero for a word
	letters bool  // has a letter (leet applies)
}

// Units that people space out to spell a word past a filter.
const (
	singleLatin = 1 + iota // one Latin letter or digit: "f u c k"
	singleDeva             // one Devanagari letter and its signs: "चू ति या"
)

// Classes of ASCII bytes in the plain form (which has no capitals).
const (
	classNone   = iota
	classLetter // a-z
	classDigit  // 0-9
	classLeet   // may stand for a letter: see leetAt
)

var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = classLetter
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = classDigit
	}
	for _, c := range "@$!|+*" {
		t[c] = classLeet
	}
	return t
}()

// scanWords splits plain into words, appending them to out.
func scanWords(out []rawTok, plain []byte) []rawTok {
	i := 0
	for i < len(plain) {
		if c := plain[i]; c < utf8.RuneSelf && (asciiClass[c] == 0 || asciiClass[c] == classLeet && !leetAt(plain, i)) {
			i++
			continue
		}
		r, size := decodeRune(plain[i:])
		if !(isWordRune(r) || r < utf8.RuneSelf && leetAt(plain, i)) {
			i += size
			continue
		}
		t := rawTok{a: int32(i)}
		n := 0
		latin := true
		deva := 0x0900 <= r && r <= 0x097F && devanagari[r-0x0900]&devLetter != 0 // a letter first, then signs only
	word:
		for i < len(plain) {
			if c := plain[i]; c < utf8.RuneSelf {
				switch asciiClass[c] {
				case classLetter:
					t.letters = true
				case classDigit:
				case classLeet:
					if !leetAt(plain, i) {
						break word
					}
				default:
					break word
				}
				deva = false
				n++
				i++
				continue
			}
			r, size = decodeRune(plain[i:])
			if !isWordRune(r) {
				break
			}
			if isLetter(r) {
				t.letters = true
			}
			if n > 0 && deva && !(0x0900 <= r && r <= 0x097F && devanagari[r-0x0900]&devSign != 0) {
				deva = false
			}
			latin = latin && r < 0x0250
			n++
			i += size
		}
		t.b = int32(i)
		// Spacing out letters is an evasion: one Latin letter, or one
		// Devanagari letter with its vowel signs ("चू ति या"). Such a
		// syllable is also a whole Hindi word ("तो", "है"), so those runs
		// are joined only where the joined word is a known one (see
		// appendSkeletonKnown).
		switch {
		case n == 1 && latin:
			t.single = singleLatin
		case deva && n <= 3:
			t.single = singleDeva
		}
		out = append(out, t)
	}
	return out
}

// appendSkeleton appends the skeleton of plain to dst, one space between
// words, and the words themselves to toks (offsets into dst). raws is
// scratch. spaced reports a run of spaced-out letters that spelt a web
// address ("w w w . x . c o m"). Spelt-out Devanagari is joined only
// across separators other than spaces ("मा.द.र.चो.द").
func appendSkeleton(dst []byte, toks []tok, raws []rawTok, plain []byte) ([]byte, []tok, []rawTok, bool) {
	return appendSkeletonKnown(dst, toks, raws, plain, nil)
}

// appendSkeletonKnown is appendSkeleton that also joins Devanagari spelt
// out with spaces ("चू ति या") where the joined word starts a phrase or
// stem of known.
func appendSkeletonKnown(dst []byte, toks []tok, raws []rawTok, plain []byte, known *matcher) ([]byte, []tok, []rawTok, bool) {
	raws = scanWords(raws[:0], plain)
	spaced := false
	for i := 0; i < len(raws); {
		j := i + 1
		kind := raws[i].single
		spaces := false // a separator of the run is only spaces
		if kind != 0 {
			class := gapClass(plain, raws[i].b, raws[min(i+1, len(raws)-1)].a)
			for j < len(raws) && raws[j].single == kind && raws[j].a-raws[j-1].b <= 3 &&
				gapClass(plain, raws[j-1].b, raws[j].a) == class { // "s t u p i d  i d i o t", "s.t.u.p.i.d .i.d.i.o.t" are two words
				spaces = spaces || onlySpaces(plain[raws[j-1].b:raws[j].a])
				j++
			}
			if j-i < 3 { // "i", "a", "u r" are words, not evasions
				j = i + 1
			}
		}
		if len(dst) > 0 {
			dst = append(dst, ' ')
		}
		a := len(dst)
		dst = appendSkelWord(dst, plain, raws[i:j])
		if kind == singleDeva && j-i >= 3 && spaces {
			// Keep the join only for a word the rules know.
			if known == nil || !known.knows(dst[a:]) {
				dst = appendSkelWord(dst[:a], plain, raws[i:i+1])
				j = i + 1
			}
		}
		if len(dst) == a { // a word of nasal marks only
			if a > 0 {
				dst = dst[:a-1]
			}
			i = j
			continue
		}
		if j-i >= 3 && isSpacedURL(plain[raws[i].a:raws[j-1].b], j-i) {
			spaced = true
		}
		if len(dst) > maxTokOffset || raws[j-1].b > maxTokOffset {
			dst = dst[:max(a-1, 0)]
			break // past what a tok can point at: not a chat message
		}
		toks = append(toks, tok{a: uint16(a), b: uint16(len(dst)), pa: uint16(raws[i].a), pb: uint16(raws[j-1].b), h: hashWord(dst[a:])})
		i = j
	}
	return dst, toks, raws, spaced
}

// appendSkelWord appends the skeleton of the raw words ws joined as one.
func appendSkelWord(dst, plain []byte, ws []rawTok) []byte {
	letters := false
	for k := range ws {
		letters = letters || ws[k].letters
	}
	var last rune = -1
	for k := range ws {
		for p := ws[k].a; p < ws[k].b; {
			var r rune
			if c := plain[p]; c < utf8.RuneSelf {
				// ASCII: the leet table instead of leet's switch.
				p++
				if letters {
					c = leetASCII[c]
				} else if c == '@' || c == '$' {
					continue
				}
				if rune(c) == last && !(isDigit(rune(c)) && !letters) {
					continue
				}
				last = rune(c)
				dst = append(dst, c)
				continue
			} else {
				var size int
				r, size = decodeRune(plain[p:])
				p += int32(size)
			}
			if letters {
				r = leet(r)
				if r < 0 {
					continue
				}
			} else if r == '@' || r == '$' {
				continue
			}
			if r == last && !(isDigit(r) && !letters) {
				continue
			}
			last = r
			dst = appendRune(dst, r)
		}
	}
	return dst
}

// gapClass tells the gaps between spelt-out letters apart: 0 without a
// space ("f.u.c.k"), 1 with one ("f u c k", "f. u. c. k"), 2 with two
// ("s t u p i d  i d i o t"). A change of class ends the word.
func gapClass(plain []byte, a, b int32) int {
	c := 0
	for k := a; k < b; k++ {
		if plain[k] == ' ' {
			if k+1 < b && plain[k+1] == ' ' {
				return 2
			}
			c = 1
		}
	}
	return c
}

func onlySpaces(b []byte) bool {
	for _, c := range b {
		if c != ' ' {
			return false
		}
	}
	return true
}

// isSpacedURL reports whether a run of n spaced-out characters spells a
// web address: it starts with "www" or ends in a common top-level domain.
func isSpacedURL(run []byte, n int) bool {
	var b [64]byte
	k := 0
	for _, c := range run {
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' {
			if k == len(b) {
				break
			}
			b[k] = c
			k++
		}
	}
	s := string(b[:k]) // does not escape; the compiler avoids the copy for comparisons
	if len(s) >= 3 && s[:3] == "www" {
		return true
	}
	for _, tld := range [...]string{"com", "net", "org", "xyz", "info"} {
		if len(s) > len(tld)+1 && s[len(s)-len(tld):] == tld {
			return true
		}
	}
	return false
}

// skeleton returns the skeleton of s as a string: for tests and tools.
func skeleton(s string) string {
	var tmp []byte
	plain := appendPlain(nil, &tmp, s)
	sk, _, _, _ := appendSkeleton(nil, nil, nil, plain)
	return string(sk)
}
