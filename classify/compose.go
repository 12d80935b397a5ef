package classify

import (
	"bytes"
	"slices"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// Rules composed from the phrase hits and the words around them, run
// once per message after the matcher's scan: the phonetic key of
// Hinglish words, ambiguous words that count only when aimed, insults
// mentioned rather than aimed, apologies that cancel threats, delivery
// complaints phrased with a negation, premium-SMS short codes and
// "visit" + a bare domain. Each looks at the few words a hit marked, or
// runs only when a cheap precheck (a byte, a bit) says it may apply.

// addKeys indexes the phonetic keys (hinglish.go) of the one-word Latin
// entries of the Hindi lists: gaalis (severe), mild words and ambiguous
// words. Where two entries share a key, the milder reading wins: a key
// is a guess.
func (e *Engine) addKeys(skeletal []string, mild map[string]bool, gated []string) {
	rank := map[ruleID]int{ruleToxicGated: 0, ruleToxicMild: 1, ruleToxic: 2}
	idx := make(map[uint64]int32)
	// Which raw words may give a key: a Latin word of minKey to
	// maxKeyWord bytes whose first byte may spell an entry key's first
	// letter (h and doubled letters only shorten a key).
	spell := map[byte]string{'j': "jz", 'v': "vw", 'k': "kq", 'f': "fp", 'i': "iy1", 'a': "a4@", 'u': "uo0", 's': "s5$", 't': "t7", 'b': "b8", 'g': "g9"}
	mayStart := func(k0 byte) {
		firsts := string(k0)
		if alt, ok := spell[k0]; ok {
			firsts = alt
		}
		for _, c := range []byte(firsts) {
			for n := minKey; n <= maxKeyWord; n++ {
				e.keyLen[c] |= 1 << n
			}
		}
	}
	add := func(w string, r ruleID) {
		w = strings.TrimSuffix(w, "*")
		if strings.ContainsAny(w, " ") || !isLatinWord([]byte(w)) || len(w) < minKeyEntry {
			return
		}
		k, ok := phoneticKey(nil, []byte(w))
		if !ok || len(k) < minKey {
			return
		}
		mayStart(k[0])
		h := xxhash.Sum64(k)
		if i, ok := idx[h]; ok {
			if rank[r] < rank[e.keyRule[i]] {
				e.keyRule[i], e.keyDet[i] = r, matchedDetail(w)+" (by its sound)"
			}
			return
		}
		idx[h] = int32(len(e.keyRule))
		e.keyRule = append(e.keyRule, r)
		e.keyDet = append(e.keyDet, matchedDetail(w)+" (by its sound)")
	}
	hindi := map[string]bool{}
	for _, name := range []string{"naughty-words_hi.txt", "profanity-hindi_hi.txt", "livemod_hi.txt"} {
		for _, w := range readList(name) {
			hindi[w] = true
		}
	}
	for _, w := range skeletal {
		if !hindi[w] {
			continue
		}
		if mild[w] {
			add(w, ruleToxicMild)
		} else {
			add(w, ruleToxic)
		}
	}
	for w := range mild {
		if isLatinWord([]byte(w)) && hindi[w] || hindiMild(w) {
			add(w, ruleToxicMild)
		}
	}
	for _, w := range gated {
		add(w, ruleToxicGated)
	}
	e.keys = newTable(idx)
}

// hindiMild reports the Latin entries of livemod_mild.txt that are Hindi
// (the file's Hindi part): the English ones have no phonetic key.
func hindiMild(w string) bool { return slices.Contains(hindiMildWords, w) }

var hindiMildWords = []string{
	"kamina", "kamine", "kaminey", "kameena", "kameene", "harami", "haraami", "saala",
	"saale", "saali", "bakchod", "bakchodi", "tatti", "jhant", "jhaant", "bhosda",
}

// matchKeys looks up the phonetic key of every Latin word that no
// lexicon entry matched and that may spell an entry's first letter —
// unless the word is in the dictionary (an English word, a common Hindi
// word, a safe word, a name or a place).
func (e *Engine) matchKeys(toks []tok, plain []byte, h *hits, allowed uint64) {
	done := h.mildAt | h.severeAt | h.gatedAt | h.quiet | allowed
	for c := range h.clsAt {
		done |= h.clsAt[c] // common words of a class
	}
	var buf [maxKeyWord * 2]byte
	for i := range min(len(toks), 64) {
		t := &toks[i]
		n := int(t.pb - t.pa)
		if done&(1<<i) != 0 || n >= 32 || e.keyLen[plain[t.pa]]&(1<<n) == 0 {
			continue
		}
		raw := plain[t.pa:t.pb]
		hr := xxhash.Sum64(raw)
		if e.dict.has(hr) {
			continue // most likely a dictionary word: no key
		}
		k, ok := phoneticKey(buf[:0], raw)
		if !ok || len(k) < minKey {
			continue
		}
		ki, ok := e.keys.get(xxhash.Sum64(k))
		if !ok {
			continue
		}
		if _, ok := dictionaryWords()[hr]; ok {
			continue
		}
		r := e.keyRule[ki]
		h.add(r, e.keyDet[ki])
		h.mark(r, i)
	}
}

// compose applies the composed rules to the hits of one message.
func (e *Engine) compose(toks []tok, plain []byte, h *hits, digits int, url bool) {
	// Ambiguous words: abuse beside other abuse, when aimed, or in a
	// kinship frame.
	if h.gatedAt != 0 {
		det := h.detail[ruleToxicGated]
		switch {
		case h.severeAt != 0 || h.mildAt != 0:
			h.add(ruleToxicInsult, det+", beside other abuse")
		default:
			if d, ok := e.aimed(toks, h.gatedAt, det); ok {
				h.add(ruleToxicInsult, d)
			} else if e.kinFrame(toks, h.gatedAt) {
				h.add(ruleToxicInsult, det+", about someone's family")
			} else if h.allowAt != 0 && e.genitiveFrame(toks, h.allowAt) {
				h.add(ruleToxicInsult, det+", as someone's")
			}
		}
	}
	if h.mildAt != 0 && !h.has(ruleToxic) {
		if det, ok := e.aimed(toks, h.mildAt, h.detail[ruleToxicMild]); ok {
			h.add(ruleToxicInsult, det)
		} else if e.kinFrame(toks, h.mildAt) {
			h.add(ruleToxicInsult, h.detail[ruleToxicMild]+", about someone's family")
		}
	}
	if h.has(ruleToxic) || h.has(ruleToxicInsult) {
		h.set &^= 1 << ruleToxicMild // abuse: the profanity in it is no second label
	}
	// A slur or insult that is only mentioned or reported, never aimed.
	if h.severeAt != 0 && !h.has(ruleToxicInsult) && e.mentioned(toks, plain, h.severeAt) {
		h.set &^= 1 << ruleToxic
		h.add(ruleToxicMention, h.detail[ruleToxic]+", mentioned, not aimed")
	}
	if h.has(ruleThreatNot) {
		h.set &^= 1 << ruleThreat
	}
	if !h.has(ruleSupportNotDelivered) && h.any(ruleClsOrder) && h.any(ruleClsDelivered) && h.any(ruleClsNegation) &&
		notDelivered(toks, h) {
		h.add(ruleSupportNotDelivered, "matched a delivery that did not happen")
	}
	if digits >= 4 {
		if det, ok := findShortCode(plain, toks); ok {
			h.add(ruleSpamSMS, det)
		}
	}
	if url {
		for i := range toks {
			if toks[i].h == e.visit {
				if _, _, ok := findURL(plain[toks[i].pb:]); ok {
					h.add(ruleSpamVisit, "matched 'visit' and a web address")
				}
				break
			}
		}
	}
}

// kinFrame reports a word marked in at that is about someone's family: a
// kin word among the three words before it ("maa … chod", "tera baap
// kutta"), or a possessive and a kin word anywhere ("teri maa", "your
// mother").
func (e *Engine) kinFrame(toks []tok, at uint64) bool {
	for i := range min(len(toks), 64) {
		if at&(1<<i) == 0 {
			continue
		}
		for k := i - 1; k >= 0 && k >= i-3; k-- {
			if hasHash(e.kin, toks[k].h) {
				return true
			}
		}
	}
	for i := 1; i < len(toks); i++ {
		if hasHash(e.kin, toks[i].h) && hasHash(e.yours, toks[i-1].h) {
			return true
		}
	}
	return false
}

// genitiveFrame reports a word marked in at right after a genitive or a
// possessive ("modi ka lund", "mera lund").
func (e *Engine) genitiveFrame(toks []tok, at uint64) bool {
	for i := 1; i < min(len(toks), 64); i++ {
		if at&(1<<i) != 0 && hasHash(e.genitive, toks[i-1].h) {
			return true
		}
	}
	return false
}

// mentioned reports whether every word marked in at is mentioned rather
// than aimed: quoted ('…', "…"), or after a cue ("the word", "called me",
// "stop saying") with no second-person word before it.
func (e *Engine) mentioned(toks []tok, plain []byte, at uint64) bool {
	for i := range min(len(toks), 64) {
		if at&(1<<i) == 0 {
			continue
		}
		t := &toks[i]
		quoted := t.pa > 0 && int(t.pb) < len(plain) && isQuote(plain[t.pa-1]) && isQuote(plain[t.pb]) ||
			inQuotes(plain, int(t.pa), int(t.pb))
		cue := false
		for k := i + 1; k < len(toks) && k <= i+3; k++ {
			if hasHash(e.mentionAfter, toks[k].h) { // "randi bulana", "chinki bolna band karo"
				cue = true
			}
		}
		if cue {
			continue
		}
		for k := i - 1; k >= 0 && k >= i-3; k-- {
			if hasHash(e.you, toks[k].h) || hasHash(e.yours, toks[k].h) {
				return false
			}
			if hasHash(e.mentionCue, toks[k].h) {
				cue = true
			}
		}
		if !quoted && !cue {
			return false
		}
	}
	return true
}

func isQuote(c byte) bool { return c == '"' || c == '\'' || c == '`' }

// inQuotes reports whether plain[a:b] stands inside double quotes ('"',
// '“ ”') with words outside them: a quotation, as in counter-speech
// ("saying \"…\" should get you banned").
func inQuotes(plain []byte, a, b int) bool {
	before := bytes.Count(plain[:a], []byte{'"'}) + bytes.Count(plain[:a], []byte("“"))
	if before%2 == 0 {
		return false
	}
	after := bytes.IndexByte(plain[b:], '"')
	if after < 0 {
		after = bytes.Index(plain[b:], []byte("”"))
	}
	if after < 0 {
		return false
	}
	open := bytes.LastIndexByte(plain[:a], '"')
	if o := bytes.LastIndex(plain[:a], []byte("“")); o > open {
		open = o
	}
	// Something said outside the quotes: a quote alone is not a mention.
	return open > 1 || b+after+1 < len(plain)-1
}

// quietWords marks the words inside an @mention or a web address: a
// handle or a link is a name, not something said ("@kutta_lover",
// "example.com/kill-you"). url says whether plain may hold a web address
// (mayBeURL); most lines have no '@', '.' or ':'.
func quietWords(toks []tok, plain []byte, url bool) uint64 {
	if !url && bytes.IndexByte(plain, '@') < 0 {
		return 0
	}
	// The spans of mentions and web addresses, in order.
	var spans [8][2]int32
	n := 0
	for off := 0; off < len(plain) && n < len(spans); {
		a := -1
		if i := bytes.IndexByte(plain[off:], '@'); i >= 0 {
			a = off + i
		}
		u, v, ok := 0, 0, false
		if url {
			u, v, ok = findURL(plain[off:])
			u, v = u+off, v+off
		}
		switch {
		case ok && (a < 0 || u <= a):
			spans[n] = [2]int32{int32(u), int32(v)}
			off = v + 1
		case a >= 0:
			e := chunkEnd(plain, a)
			if (a == 0 || plain[a-1] == ' ') && isHandle(plain[a+1:e]) {
				spans[n] = [2]int32{int32(a), int32(e)}
			} else {
				n-- // not a handle
			}
			off = e + 1
		default:
			off = len(plain)
			n--
		}
		n++
	}
	var q uint64
	s := 0
	for i := range min(len(toks), 64) {
		t := &toks[i]
		for s < n && spans[s][1] <= int32(t.pa) {
			s++
		}
		if s < n && spans[s][0] <= int32(t.pa) && int32(t.pb) <= spans[s][1] {
			q |= 1 << i
		}
	}
	return q
}

// isHandle reports a user name after '@': letters, digits, '_' and '.'
// ("@ss" is leetspeak, not a handle: handles have three bytes or more).
func isHandle(b []byte) bool {
	if len(b) < 3 {
		return false
	}
	for _, c := range b {
		if !(isAlnum(c) || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// findShortCode finds the premium-SMS call to action: "text WIN to
// 80082", "txt STOP to 85069", "send YES to 12345", "reply CLAIM to
// 6868" — a send verb, one or two words, "to" and a code of four to six
// digits.
func findShortCode(plain []byte, toks []tok) (string, bool) {
	for i := range toks {
		t := &toks[i]
		switch string(plain[t.pa:t.pb]) {
		case "text", "txt", "send", "sms", "reply", "msg":
		default:
			continue
		}
		for k := i + 2; k <= i+3 && k+1 < len(toks); k++ {
			if string(plain[toks[k].pa:toks[k].pb]) != "to" {
				continue
			}
			code := plain[toks[k+1].pa:toks[k+1].pb]
			if n := len(code); n >= 4 && n <= 6 && countDigits(code) == n {
				return "matched a premium-SMS short code '" + string(code) + "'", true
			}
		}
	}
	return "", false
}

// classWords are the word lists of the class rules (rules.go).
func classWords() map[ruleID][]string {
	return map[ruleID][]string{
		ruleClsPreamble: preamble, ruleClsEmote: emotes, ruleClsWh: wh, ruleClsNegatable: negatable,
		ruleClsNegation: {
			"not", "no", "never", "nahi", "nahin", "nhi", "nai", "na", "नहीं", "ना", "नही",
			"hasn", "haven", "didn", "isn", "wasn", "hasnt", "havent", "didnt", "isnt", "wasnt",
			"aint", "yet",
		},
		ruleClsDelivered: {
			"arrived", "arrive", "delivered", "deliver", "received", "receive", "recieved", "came",
			"come", "reached", "shipped", "dispatched", "mila", "mili", "mile", "aaya", "aya", "ayi",
			"aayi", "aai", "pahuncha", "pahucha", "pahunchi", "pahuchi", "pohcha", "pohncha",
			"मिला", "मिली", "आया", "आई", "पहुंचा", "पहुँचा", "पहुंची", "डिलीवर",
		},
		ruleClsOrder: {
			"order", "orders", "parcel", "package", "packet", "item", "items", "product", "delivery",
			"shipment", "courier", "saman", "samaan", "saaman", "jacket", "shoes", "dress", "phone",
			"ऑर्डर", "आर्डर", "पार्सल", "सामान", "डिलीवरी", "प्रोडक्ट",
		},
	}
}

// notDelivered reports a delivery complaint phrased with a negation: a
// delivery verb with a negation among the three words before or after it
// ("has still not arrived", "abhi tak nahi aaya", "नहीं पहुंचा") in a
// message about an order or a parcel (the caller checks that some word
// is of each class).
func notDelivered(toks []tok, h *hits) bool {
	for i := range min(len(toks), 64) {
		if !h.is(ruleClsDelivered, i) {
			continue
		}
		for k := max(i-3, 0); k < len(toks) && k <= i+3; k++ {
			if k != i && h.is(ruleClsNegation, k) {
				return true
			}
		}
	}
	return false
}
