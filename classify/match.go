package classify

import (
	"bytes"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// A matcher finds phrases in a message's skeleton words. Every word is
// hashed once (xxhash) while the skeleton is built; a phrase is found by
// looking its first word up in a map and comparing the next word hashes,
// so the cost is one map probe per word whatever the number of rules:
// no regexp and no allocation on the hot path.

const gap = 0 // a word hash of zero stands for " * ": up to maxGap words

const maxGap = 3

type phrase struct {
	words  []uint64
	rule   ruleID
	detail string // "matched 'bit.ly'", built once
	lit    string // a lexicon entry's first word in plain form: see accept
}

type stem struct {
	prefix []byte
	rule   ruleID
	detail string
	lit    string
}

type matcher struct {
	phrases []phrase
	first   map[uint64][]int32 // first word hash → phrases; while adding
	stems   map[uint32][]stem  // first three bytes → stems; while adding

	// Frozen for scan (freeze): the same, in open-addressing tables.
	firstT  table // word hash → index into firstL
	firstL  [][]int32
	stemT   table // mix64(key3) → index into stemL
	stemL   [][]stem
	hasStem bool
}

func newMatcher() *matcher {
	return &matcher{first: make(map[uint64][]int32), stems: make(map[uint32][]stem)}
}

func matchedDetail(s string) string { return "matched '" + s + "'" }

// compile turns a written phrase into skeleton word hashes. It reports
// false for a phrase that normalizes to nothing.
func compileWords(p string) []uint64 {
	var words []uint64
	for i, part := range strings.Split(p, " * ") {
		if i > 0 {
			words = append(words, gap)
		}
		var tmp []byte
		plain := appendPlain(nil, &tmp, part)
		_, toks, _, _ := appendSkeleton(nil, nil, nil, plain)
		for _, t := range toks {
			words = append(words, t.h)
		}
	}
	for len(words) > 0 && words[len(words)-1] == gap {
		words = words[:len(words)-1]
	}
	return words
}

// add compiles phrase p for rule r. A single word ending in '*' is a stem.
func (m *matcher) add(p string, r ruleID) {
	if w, ok := strings.CutSuffix(p, "*"); ok && !strings.Contains(w, " ") {
		var tmp []byte
		plain := appendPlain(nil, &tmp, w)
		sk, _, _, _ := appendSkeleton(nil, nil, nil, plain)
		if len(sk) >= 3 {
			k := key3(sk)
			m.stems[k] = append(m.stems[k], stem{prefix: sk, rule: r, detail: matchedDetail(w + "…"), lit: string(plain)})
			return
		}
		p = w
	}
	words := compileWords(p)
	if len(words) == 0 || words[0] == gap {
		return
	}
	var tmp []byte
	first, _, _ := strings.Cut(p, " ")
	lit := string(appendPlain(nil, &tmp, first))
	m.phrases = append(m.phrases, phrase{words: words, rule: r, detail: matchedDetail(strings.ReplaceAll(p, " * ", " … ")), lit: lit})
	m.first[words[0]] = append(m.first[words[0]], int32(len(m.phrases)-1))
}

// freeze builds the lookup tables scan reads; call it after the last add.
func (m *matcher) freeze() {
	idx := make(map[uint64]int32, len(m.first))
	m.firstL = m.firstL[:0]
	for h, ps := range m.first {
		idx[h] = int32(len(m.firstL))
		m.firstL = append(m.firstL, ps)
	}
	m.firstT = newTable(idx)
	idx = make(map[uint64]int32, len(m.stems))
	m.stemL = m.stemL[:0]
	for k, ss := range m.stems {
		idx[mix64(uint64(k))] = int32(len(m.stemL))
		m.stemL = append(m.stemL, ss)
	}
	m.stemT = newTable(idx)
	m.hasStem = len(m.stems) > 0
}

// knows reports whether the skeleton word w starts a phrase or a stem.
func (m *matcher) knows(w []byte) bool {
	if _, ok := m.firstT.get(hashWord(w)); ok {
		return true
	}
	if len(w) >= 3 {
		if k, ok := m.stemT.get(mix64(uint64(key3(w)))); ok {
			for _, s := range m.stemL[k] {
				if bytes.HasPrefix(w, s.prefix) {
					return true
				}
			}
		}
	}
	return false
}

func key3(b []byte) uint32 { return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 }

// is reports whether word i is of class r (a ruleCls… rule).
func (h *hits) is(r ruleID, i int) bool {
	return i < 64 && h.clsAt[r-ruleClsPreamble]&(1<<i) != 0
}

// any reports whether some word is of class r.
func (h *hits) any(r ruleID) bool { return h.clsAt[r-ruleClsPreamble] != 0 }

// hits is the set of rules a message matched, with the first detail of each.
type hits struct {
	set      uint64
	mildAt   uint64             // words (index, up to 63) that matched mild profanity
	severeAt uint64             // words that matched the severe lexicon
	gatedAt  uint64             // words that matched ambiguous words (livemod_gated.txt)
	quiet    uint64             // words inside an @mention or a web address: no lexicon there
	allowAt  uint64             // gated words that are allow-listed names or places ("Lund")
	clsAt    [numClasses]uint64 // words of each class (ruleClsPreamble …)
	qcue     bool               // an interrogative cue: without one the model alone gives no question
	detail   [numRules]string
}

// lexical reports whether r is a lexicon rule, one whose hits are guarded
// (see accept).
func lexical(r ruleID) bool {
	return r == ruleToxic || r == ruleToxicMild || r == ruleToxicGated || r == ruleThreat
}

// mark records the word of a lexicon or class hit.
func (h *hits) mark(r ruleID, i int) {
	bit := uint64(1) << min(i, 63)
	switch r {
	case ruleToxicMild:
		h.mildAt |= bit
	case ruleToxic:
		h.severeAt |= bit
	case ruleToxicGated:
		h.gatedAt |= bit
	default:
		if r >= ruleClsPreamble {
			h.clsAt[r-ruleClsPreamble] |= bit
		}
	}
}

// accept reports whether a lexicon hit on word i stands: not inside an
// @mention or a web address, not a name or place of the allow-list, and,
// for a word of the English word list, matched as written (lit is the
// entry's plain form, a prefix for a stem) rather than through squashed
// letters or leetspeak: "cook" is not "cock", "Nigeria" is not a slur.
// A name or place of the allow-list that is itself an entry, as written
// ("Lund"), is read as an ambiguous word: abuse only in an insult's frame
// (rule ruleToxicGated). It runs only for hits, never per word.
func accept(r ruleID, lit string, stem bool, i int, toks []tok, plain []byte, h *hits) (ruleID, bool) {
	if i < 64 && h.quiet&(1<<i) != 0 {
		return r, false
	}
	t := &toks[i]
	if r == ruleThreat || t.joined(plain) {
		return r, true
	}
	raw := plain[t.pa:t.pb]
	literal := string(raw) == lit || stem && bytes.HasPrefix(raw, []byte(lit))
	hr := xxhash.Sum64(raw)
	if _, ok := allowWords()[hr]; ok {
		if literal && !stem && r != ruleToxicGated {
			h.allowAt |= 1 << min(i, 63)
			return ruleToxicGated, true
		}
		return r, false
	}
	if _, ok := dictionaryWords()[hr]; !ok {
		return r, true
	}
	return r, literal
}

// reset empties h for the next message. The details are left as they
// are: one is read only when its rule's bit is set, and add writes it
// when it sets the bit (zeroing them all was a fifth of a kilobyte per
// message).
func (h *hits) reset() {
	h.set, h.mildAt, h.severeAt, h.gatedAt, h.quiet, h.allowAt = 0, 0, 0, 0, 0, 0
	h.qcue = false
	h.clsAt = [numClasses]uint64{}
}

func (h *hits) add(r ruleID, detail string) {
	if h.set&(1<<r) == 0 {
		h.set |= 1 << r
		h.detail[r] = detail
	}
}

func (h *hits) has(r ruleID) bool { return h.set&(1<<r) != 0 }

// scan records every phrase and stem found in the words of skel; plain
// is the plain form the words were read from. Toxic lexicon entries are
// not found at the words marked in allowed (up to 64; a channel's
// allowed terms).
func (m *matcher) scan(toks []tok, skel, plain []byte, h *hits, allowed uint64) {
	for i := range toks {
		if k, ok := m.firstT.get(toks[i].h); ok {
			var next uint64 = 1 // no word hashes to 1 … almost surely; checked below
			if i+1 < len(toks) {
				next = toks[i+1].h
			}
			for _, pi := range m.firstL[k] {
				p := &m.phrases[pi]
				// Most phrases of a common first word ("my", "how") fail on
				// their second word: test it inline before the call.
				if len(p.words) > 1 && p.words[1] != gap && p.words[1] != next {
					continue
				}
				if i < 64 && allowed&(1<<i) != 0 && isLexiconRule(p.rule) {
					continue
				}
				if len(p.words) == 1 && p.rule >= ruleClsPreamble {
					h.mark(p.rule, i) // a class word: no rule hit to record
					continue
				}
				if matchFrom(p.words, 1, toks, i+1) {
					r := p.rule
					if lexical(r) {
						var ok bool
						if r, ok = accept(r, p.lit, false, i, toks, plain, h); !ok {
							continue
						}
					}
					h.add(r, p.detail)
					h.mark(r, i)
				}
			}
		}
		if m.hasStem && toks[i].b-toks[i].a >= 3 {
			w := skel[toks[i].a:toks[i].b]
			if k, ok := m.stemT.get(mix64(uint64(key3(w)))); ok {
				for _, s := range m.stemL[k] {
					if bytes.HasPrefix(w, s.prefix) && !(i < 64 && allowed&(1<<i) != 0 && isLexiconRule(s.rule)) {
						r := s.rule
						if lexical(r) {
							var ok bool
							if r, ok = accept(r, s.lit, true, i, toks, plain, h); !ok {
								continue
							}
						}
						h.add(r, s.detail)
						h.mark(r, i)
					}
				}
			}
		}
	}
}

// matchFrom reports whether words[w:] match toks[t:].
func matchFrom(words []uint64, w int, toks []tok, t int) bool {
	for w < len(words) {
		if words[w] == gap {
			for skip := 0; skip <= maxGap && t+skip <= len(toks); skip++ {
				if matchFrom(words, w+1, toks, t+skip) {
					return true
				}
			}
			return false
		}
		if t >= len(toks) || toks[t].h != words[w] {
			return false
		}
		w++
		t++
	}
	return true
}

// isLexiconRule reports the rules of the toxic lexicons, which a
// channel's allowed terms override.
func isLexiconRule(r ruleID) bool {
	return r == ruleToxic || r == ruleToxicMild || r == ruleToxicGated
}
