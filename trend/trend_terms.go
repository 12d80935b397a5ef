package trend

import (
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
)

// The terms a question is reduced to, and how two sets of them compare.

// questionTerms appends to terms the sorted term hashes of a plain-form
// question and to intents, among them, its intents (concept terms such as
// #price).
func questionTerms(plain string, terms, intents []uint64) ([]uint64, []uint64) {
	var words [maxTerms * 2]string
	nw := 0
	for i := 0; i < len(plain) && nw < len(words); {
		r, size := utf8.DecodeRuneInString(plain[i:])
		if !isTermRune(r) {
			i += size
			continue
		}
		j := i + size
		for j < len(plain) {
			r, size := utf8.DecodeRuneInString(plain[j:])
			if !isTermRune(r) {
				break
			}
			j += size
		}
		words[nw] = plain[i:j]
		nw++
		i = j
	}
	for k := 0; k < nw && len(terms) < maxTerms; k++ {
		w := words[k]
		if w == "how" && k+1 < nw && words[k+1] == "much" {
			k++
			w = "#price"
		}
		term, ok := termOf(w)
		if !ok {
			continue
		}
		h := xxhash.Sum64String(term)
		terms = append(terms, h)
		if term[0] == '#' {
			intents = append(intents, h)
		}
	}
	slices.Sort(terms)
	terms = slices.Compact(terms)
	slices.Sort(intents)
	intents = slices.Compact(intents)
	return terms, intents
}

// termOf maps a word to its term, or reports that it carries no meaning
// for clustering.
func termOf(w string) (string, bool) {
	if w[0] == '#' {
		return w, true
	}
	if c, ok := concepts[w]; ok {
		return c, c != ""
	}
	if stopwords[w] {
		return "", false
	}
	if utf8.RuneCountInString(w) < 2 && !isASCIIDigit(w[0]) {
		return "", false
	}
	// English plurals: jackets → jacket, shoes → shoe (not "dress").
	if n := len(w); n > 3 && w[n-1] == 's' && w[n-2] != 's' && w[0] < utf8.RuneSelf {
		s := w[:n-1]
		if c, ok := concepts[s]; ok {
			return c, c != ""
		}
		return s, true
	}
	return w, true
}

func isASCIIDigit(c byte) bool { return '0' <= c && c <= '9' }

func isTermRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)
}

func signature(terms []uint64) uint64 {
	var s uint64
	for _, h := range terms {
		s |= 1 << (h & 63)
	}
	return s
}

func intersects(a, b []uint64) bool {
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			return true
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return false
}

func jaccard(a, b []uint64) float64 {
	inter := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			inter++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	union := len(a) + len(b) - inter
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for k := 0; k < n-1; k++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i] + "…"
}

// stopwords carry no topic: question words, pronouns, fillers and
// politeness, in English, Hinglish and Hindi (plain form: no nukta,
// chandrabindu folded to anusvara).
var stopwords = setOf(
	// English
	"a", "an", "the", "is", "are", "was", "were", "be", "been", "am", "of", "for", "to", "in",
	"on", "at", "and", "or", "it", "its", "this", "that", "these", "those", "there", "what",
	"whats", "which", "who", "whom", "how", "hows", "when", "where", "why", "do", "does", "did",
	"can", "could", "will", "would", "should", "shall", "may", "might", "much", "many", "any",
	"some", "i", "me", "my", "we", "us", "our", "you", "your", "ur", "u", "he", "she", "they",
	"them", "his", "her", "please", "pls", "plz", "pl", "tell", "know", "want", "get", "got",
	"have", "has", "had", "with", "about", "hey", "hi", "hello", "guys", "sir", "mam", "maam",
	"madam", "bro", "dear", "so", "just", "also", "too", "one", "ok", "okay", "s", "re", "if",
	"then", "than", "from", "by", "as", "still", "yet", "now", "again", "really", "thanks",
	// Hinglish
	"kya", "kyaa", "hai", "hain", "he", "h", "ka", "ki", "ke", "ko", "se", "me", "mein", "main",
	"mai", "ye", "yeh", "ya", "wo", "woh", "vo", "kaise", "kaisa", "kaisi", "kab", "kahan",
	"kaha", "kaun", "kon", "koi", "bhi", "toh", "na", "aap", "ap", "apka", "aapka", "tum",
	"hum", "bata", "batao", "bataiye", "batana", "bataye", "sakte", "sakta", "sakti", "mil",
	"milega", "milegi", "milenge", "hoga", "hogi", "ho", "tha", "thi", "wala", "wali", "vala",
	"vali", "ji", "bhai", "didi", "di", "yaar", "kuch", "abhi",
	"iska", "iski", "iske", "uska", "uski", "uske", "is", "us", "liye", "lie", "par", "pe",
	// Hindi
	"क्या", "है", "हैं", "का", "की", "के", "को", "से", "में", "मैं", "यह", "ये", "वह", "वो",
	"कैसे", "कैसा", "कैसी", "कब", "कहां", "कौन", "कोई", "भी", "तो", "ना", "आप", "आपका",
	"बताइए", "बताओ", "बताना", "बताएं", "बताइये", "हो", "था", "थी", "वाला", "वाली", "जी",
	"मिलेगा", "मिलेगी", "मिल", "होगा", "होगी", "सकते", "सकता", "इसका", "इसकी", "इसके", "इस",
	"उस", "लिए", "पर", "कुछ", "अभी", "भाई", "दीदी",
)

// concepts fold words onto one term: intents (#…) and a few common
// product words written in Latin or Devanagari. An empty term drops the
// word.
var concepts = func() map[string]string {
	m := map[string]string{}
	add := func(term string, words ...string) {
		for _, w := range words {
			m[w] = term
		}
	}
	add("#price", "price", "pricing", "cost", "costs", "rate", "rs", "rupees", "rupee", "inr", "mrp",
		"kitna", "kitne", "kitni", "daam", "dam", "keemat", "kimat", "kimmat", "paisa", "paise",
		"कितना", "कितने", "कितनी", "कीमत", "दाम", "मूल्य", "रेट", "प्राइस")
	add("#size", "size", "sizes", "sizing", "fit", "saiz", "naap", "साइज", "नाप")
	add("#ship", "shipping", "ship", "ships", "delivery", "deliver", "delivered", "arrive",
		"arrives", "dispatch", "courier", "डिलीवरी", "शिपिंग")
	add("#stock", "stock", "available", "availability", "instock", "उपलब्ध", "स्टॉक", "स्टाक")
	add("#color", "colour", "color", "colours", "colors", "rang", "रंग", "कलर")
	add("#discount", "discount", "offer", "offers", "coupon", "coupons", "sale", "छूट", "ऑफर", "डिस्काउंट")
	add("#return", "return", "returns", "exchange", "refund", "वापसी", "रिटर्न")
	add("#cod", "cod", "कैश")
	add("blue", "neela", "neeli", "nila", "nili", "नीला", "नीली", "नीले", "ब्लू")
	add("red", "lal", "laal", "लाल", "रेड")
	add("black", "kala", "kaala", "kali", "kaali", "काला", "काली", "काले", "ब्लैक")
	add("white", "safed", "safed", "सफेद", "व्हाइट")
	add("green", "hara", "hari", "हरा", "हरी", "ग्रीन")
	add("jacket", "jackets", "jaket", "जैकेट", "जेकेट")
	add("shirt", "shirts", "शर्ट")
	add("kurta", "kurtas", "kurti", "कुर्ता", "कुर्ती")
	add("saree", "sari", "sarees", "saari", "साडी", "सारी")
	add("shoe", "shoes", "joote", "joota", "जूते", "जूता")
	add("dress", "dresses", "ड्रेस")
	add("bag", "bags", "बैग")
	add("phone", "phones", "mobile", "फोन", "मोबाइल")
	add("watch", "watches", "ghadi", "घडी")
	return m
}()

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}
