package classify

import (
	"bytes"
	"strings"
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
}

type stem struct {
	prefix []byte
	rule   ruleID
	detail string
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
			m.stems[k] = append(m.stems[k], stem{prefix: sk, rule: r, detail: matchedDetail(w + "…")})
			return
		}
		p = w
	}
	words := compileWords(p)
	if len(words) == 0 || words[0] == gap {
		return
	}
	m.phrases = append(m.phrases, phrase{words: words, rule: r, detail: matchedDetail(strings.ReplaceAll(p, " * ", " … "))})
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

// hits is the set of rules a message matched, with the first detail of each.
type hits struct {
	set    uint64
	mildAt uint64 // words (index, up to 63) that matched mild profanity
	detail [numRules]string
}

func (h *hits) add(r ruleID, detail string) {
	if h.set&(1<<r) == 0 {
		h.set |= 1 << r
		h.detail[r] = detail
	}
}

func (h *hits) has(r ruleID) bool { return h.set&(1<<r) != 0 }

// scan records every phrase and stem found in the words of skel. Toxic
// lexicon entries are not found at the words marked in allowed (up to
// 64; a channel's allowed terms).
func (m *matcher) scan(toks []tok, skel []byte, h *hits, allowed uint64) {
	for i := range toks {
		if k, ok := m.firstT.get(toks[i].h); ok {
			for _, pi := range m.firstL[k] {
				p := &m.phrases[pi]
				if allowed&(1<<min(i, 63)) != 0 && i < 64 && isLexiconRule(p.rule) {
					continue
				}
				if matchFrom(p.words, 1, toks, i+1) {
					h.add(p.rule, p.detail)
					if p.rule == ruleToxicMild {
						h.mildAt |= 1 << min(i, 63)
					}
				}
			}
		}
		if m.hasStem && toks[i].b-toks[i].a >= 3 {
			w := skel[toks[i].a:toks[i].b]
			if k, ok := m.stemT.get(mix64(uint64(key3(w)))); ok {
				for _, s := range m.stemL[k] {
					if bytes.HasPrefix(w, s.prefix) && !(i < 64 && allowed&(1<<i) != 0 && isLexiconRule(s.rule)) {
						h.add(s.rule, s.detail)
						if s.rule == ruleToxicMild {
							h.mildAt |= 1 << min(i, 63)
						}
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
func isLexiconRule(r ruleID) bool { return r == ruleToxic || r == ruleToxicMild }
