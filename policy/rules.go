package policy

import (
	"bytes"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
)

// act is what a rule does: Allow, Hide or Hold, and a timeout of seconds
// (with Hide) when seconds > 0.
type act struct {
	action  chat.Action
	seconds int
}

func (a act) String() string {
	if a.seconds > 0 {
		return "timeout " + strconv.Itoa(a.seconds) + "s"
	}
	return a.action.String()
}

// stricter reports whether a should win over b: hold over hide over
// allow (a human sees what is held), a longer timeout over a shorter.
func (a act) stricter(b act) bool {
	if a.action != b.action {
		return a.action > b.action
	}
	return a.seconds > b.seconds
}

func actOf(name string, seconds int) act {
	switch name {
	case "hold":
		return act{action: chat.Hold}
	case "allow":
		return act{action: chat.Allow}
	case "timeout":
		if seconds <= 0 {
			seconds = 600
		}
		return act{action: chat.Hide, seconds: seconds}
	}
	return act{action: chat.Hide}
}

// rule is one channel rule that can fire: its reason and its act.
type rule struct {
	name   string // reason rule: policy.term:cheapfollows, policy.caps, …
	detail string
	act    act
	exempt []string // canonical badges
}

type wordPat struct {
	h    uint64
	glob []byte // nil: the word whose hash is h
}

type termPhrase struct {
	words  []wordPat
	rule   int32
	prefix []byte // of a first word that is a pattern: its bytes before '*'
}

type rxRule struct {
	re   *regexp.Regexp
	rule int32
	lits []string // one of these (lower case) is in every match; nil if unknown
}

type limitRule struct {
	rule      int32
	max       int
	maxRatio  float64
	maxWords  int
	minLength int
}

// Rules is a compiled policy: what Inspect runs on every message of a
// stream. It is read-only once compiled and safe for concurrent use.
type Rules struct {
	src   Policy
	rules []rule

	allow *classify.AllowList

	first map[uint64][]int32 // first word hash → phrases
	pair  map[uint64][]int32 // pairKey of the first two words → phrases whose first two words are exact
	// filter is one bit set (8 KiB, so it stays in cache) in front of
	// every table: bit h>>48 of each exact first word of a phrase (in
	// first or pair), bit triBit of the first three bytes of each
	// pattern (globAt) and of each regex literal (triIdx). Most words
	// and bytes of chat find their bit clear and cost one load.
	filter [1024]uint64
	phrase []termPhrase
	globs  []int32            // phrases whose first word is a pattern without a 3-byte literal start
	globAt map[uint32][]int32 // first three bytes of a pattern's start → phrases

	rx        []rxRule
	tri       []uint64           // bit set of trigram keys of the regexes' literals
	triIdx    map[uint32][]rxLit // trigram → regexes with a literal starting so
	always    []int32            // regexes without a literal: run on every message
	litStart  [256]bool          // first bytes of the literals
	litSecond [256]bool          // second bytes of the literals
	globStart [256]bool          // first bytes of the patterns in globAt

	caps, symbols, emotes, length, repeats, zalgo *limitRule
	emoteSet                                      map[string]bool
	emoteLen                                      [256]uint64 // by first byte: bit n set when an emote of n bytes starts with it

	links                   *linkRule
	labelAct                [len(labelBits)]*act
	sens                    int // -1: the engine's thresholds
	esc                     *Escalation
	exempt                  []string
	anyLimit, anyLabelAct   bool
	profanity               chat.Label // zero until the classifier has the label
	moderation, actionOnAll chat.Labels
}

type linkRule struct {
	allow, block map[string]bool
	other        *act // nil: other links are the built-in rules' business
	blockAct     act
	rule         int32
	exempt       []string
}

// labelBits are the labels of ActionLabels, by index.
var labelBits = [6]string{"spam", "toxic", "threat", "flood", "link", "profanity"}

// Limits of matching work per message.
const (
	maxPolicyReasons = 4 // reasons a policy adds to one decision
	splitMaxBytes    = 32
	// splitMin is the shortest part of a term found split in two: "cheap
	// follows", not "c heapfollows" (spaced-out letters are joined by the
	// normalizer), so that short words of chat ("ka", "to") start no
	// phrase.
	splitMin = 3
)

// Thresholds are the model scores at which sensitivity levels 0–4 give
// spam and toxic. Level 2 is the engine's default; 0 turns the model's
// spam and toxic off.
var Thresholds = [5]struct{ Spam, Toxic float32 }{
	{2, 2},
	{0.95, 0.97},
	{0.70, 0.90},
	{0.55, 0.80},
	{0.40, 0.65},
}

// Compile builds the rules of p, which is validated first.
func Compile(p Policy) (*Rules, error) {
	if err := p.Validate("policy"); err != nil {
		return nil, err
	}
	r := &Rules{src: p, sens: -1, first: map[uint64][]int32{}, esc: p.Escalation}
	r.exempt = canonList(p.Exempt)
	if p.Sensitivity != nil {
		r.sens = *p.Sensitivity
	}
	if len(p.Allowed) > 0 {
		r.allow = classify.NewAllowList(p.Allowed)
	}
	for _, t := range p.Blocked {
		ri := int32(len(r.rules))
		ru := rule{act: actOf(orHide(t.Action), t.Seconds), exempt: canonList(t.Exempt)}
		if t.Term != "" {
			ru.name = "policy.term:" + clip(t.Term, 64)
			ru.detail = t.Reason
			if ru.detail == "" {
				ru.detail = "matched '" + clip(t.Term, 64) + "'"
			}
			r.rules = append(r.rules, ru)
			r.addTerm(t.Term, ri)
			continue
		}
		re, err := regexp.Compile(t.Regex)
		if err != nil { // Validate compiled it already
			return nil, err
		}
		ru.name = "policy.regex:" + clip(t.Regex, 64)
		ru.detail = t.Reason
		if ru.detail == "" {
			ru.detail = "matched /" + clip(t.Regex, 64) + "/"
		}
		r.rules = append(r.rules, ru)
		x := rxRule{re: re, rule: ri}
		if parsed, err := syntax.Parse(t.Regex, syntax.Perl); err == nil {
			x.lits = required(parsed.Simplify())
		}
		r.rx = append(r.rx, x)
	}
	r.indexRegexes()
	limit := func(name string, l *Limit, defMin int) *limitRule {
		if l == nil {
			return nil
		}
		lr := &limitRule{rule: int32(len(r.rules)), minLength: defMin}
		if l.Max != nil {
			lr.max = *l.Max
		}
		if l.MaxRatio != nil {
			lr.maxRatio = *l.MaxRatio
		}
		if l.MaxWords != nil {
			lr.maxWords = *l.MaxWords
		}
		if l.MinLength != nil {
			lr.minLength = *l.MinLength
		}
		if lr.max == 0 && lr.maxRatio == 0 && lr.maxWords == 0 {
			return nil // a limit with no bound set (an override that only changed the action)
		}
		ex := r.exempt
		if l.Exempt != nil {
			ex = canonList(l.Exempt)
		}
		r.rules = append(r.rules, rule{name: "policy." + name, act: actOf(orHide(deref(l.Action)), derefInt(l.Seconds)), exempt: ex})
		r.anyLimit = true
		return lr
	}
	r.caps = limit("caps", p.Caps, 10)
	r.symbols = limit("symbols", p.Symbols, 10)
	r.emotes = limit("emotes", p.Emotes, 0)
	r.length = limit("length", p.Length, 0)
	r.repeats = limit("repeats", p.Repeats, 0)
	r.zalgo = limit("zalgo", p.Zalgo, 0)
	if r.emotes != nil {
		list := DefaultEmotes
		if p.Emotes.List != nil {
			list = p.Emotes.List
		}
		r.emoteSet = make(map[string]bool, len(list))
		for _, e := range list {
			r.emoteSet[e] = true
			if len(e) < 64 {
				r.emoteLen[e[0]] |= 1 << len(e)
			}
		}
	}
	if l := p.Links; l != nil {
		lr := &linkRule{allow: map[string]bool{}, block: map[string]bool{}, rule: int32(len(r.rules)), exempt: r.exempt, blockAct: act{action: chat.Hide}}
		if l.Exempt != nil {
			lr.exempt = canonList(l.Exempt)
		}
		for _, d := range l.Allow {
			dom, _ := domainOf(d)
			lr.allow[dom] = true
		}
		for _, d := range l.Block {
			dom, _ := domainOf(d)
			lr.block[dom] = true
		}
		if l.Action != nil {
			a := actOf(*l.Action, derefInt(l.Seconds))
			lr.other, lr.blockAct = &a, a
		}
		r.rules = append(r.rules, rule{name: "policy.links", exempt: lr.exempt})
		r.links = lr
	}
	if pl, err := chat.ParseLabel("profanity"); err == nil {
		r.profanity = pl
	}
	for i, name := range labelBits {
		s, ok := p.Actions[name]
		if !ok {
			continue
		}
		n, sec, _ := parseAct(s)
		a := actOf(n, sec)
		r.labelAct[i] = &a
		r.anyLabelAct = true
	}
	r.moderation = chat.Labels(chat.LabelSpam|chat.LabelToxic|chat.LabelThreat|chat.LabelFlood|chat.LabelLink) | chat.Labels(r.profanity)
	return r, nil
}

// Policy returns the policy the rules were compiled from.
func (r *Rules) Policy() Policy { return r.src }

func orHide(a string) string {
	if a == "" {
		return "hide"
	}
	return a
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefInt(n *int) int {
	if n == nil {
		return 0
	}
	return *n
}

func canonList(bs []string) []string {
	out := make([]string, 0, len(bs))
	for _, b := range bs {
		out = append(out, canonBadge(b))
	}
	return out
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// addTerm compiles a term: its words through the engine's normalization,
// a word with '*' as a pattern on the skeleton word. A one-word term is
// also found split in two ("cheap follows" for cheapfollows).
func (r *Rules) addTerm(term string, ri int32) {
	var words []wordPat
	for _, w := range strings.Fields(term) {
		if strings.Contains(w, "*") {
			var pat []byte
			for i, part := range strings.Split(w, "*") {
				if i > 0 {
					pat = append(pat, '*')
				}
				for _, sk := range classify.TermWords(part) {
					pat = append(pat, sk...)
				}
			}
			if strings.Trim(string(pat), "*") == "" {
				continue // a lone * matches any word: skip it rather than flag everything
			}
			words = append(words, wordPat{glob: pat})
			continue
		}
		for _, sk := range classify.TermWords(w) {
			words = append(words, wordPat{h: classify.HashWord(sk)})
		}
	}
	if len(words) == 0 {
		return
	}
	r.addPhrase(words, ri)
	if len(words) == 1 && words[0].glob == nil {
		sk := classify.TermWords(term)
		if len(sk) == 1 && len(sk[0]) <= splitMaxBytes {
			w := sk[0]
			for k := splitMin; k <= len(w)-splitMin; k++ {
				if !utf8.RuneStart(w[k]) {
					continue
				}
				r.addPhrase([]wordPat{{h: classify.HashWord(w[:k])}, {h: classify.HashWord(w[k:])}}, ri)
			}
		}
	}
}

func (r *Rules) addPhrase(words []wordPat, ri int32) {
	pi := int32(len(r.phrase))
	r.phrase = append(r.phrase, termPhrase{words: words, rule: ri})
	if g := words[0].glob; g != nil {
		if star := bytes.IndexByte(g, '*'); star >= 3 {
			if r.globAt == nil {
				r.globAt = map[uint32][]int32{}
			}
			k := tri(g[0], g[1], g[2])
			r.globAt[k] = append(r.globAt[k], pi)
			r.setBit(triBit(k))
			r.phrase[pi].prefix = g[:star]
			r.globStart[g[0]] = true
		} else {
			r.globs = append(r.globs, pi)
		}
	} else if len(words) >= 2 && words[1].glob == nil {
		if r.pair == nil {
			r.pair = map[uint64][]int32{}
		}
		k := pairKey(words[0].h, words[1].h)
		r.pair[k] = append(r.pair[k], pi)
		r.setBit(wordKey(words[0].h))
	} else {
		h := words[0].h
		r.first[h] = append(r.first[h], pi)
		r.setBit(wordKey(h))
	}
}

// The filter is a blocked Bloom filter: a key (22 bits of a hash) sets
// two bits in one of 1,024 words, so a test is one load, and a key
// that is not in it passes about one time in twenty-five with the
// 7,000 keys of a policy of 1,000 terms.
func (r *Rules) setBit(k uint32) { r.filter[k>>12&1023] |= filterMask(k) }

// hasBit tests key k (22 bits) against the filter.
func (r *Rules) hasBit(k uint32) bool {
	m := filterMask(k)
	return r.filter[k>>12&1023]&m == m
}

func filterMask(k uint32) uint64 { return 1<<(k&63) | 1<<(k>>6&63) }

// wordKey is the filter key of a word hash.
func wordKey(h uint64) uint32 { return uint32(h >> 42) }

// pairKey combines the hashes of two adjacent words.
func pairKey(a, b uint64) uint64 {
	k := (a ^ b>>1 ^ b<<63) * 0x9E3779B97F4A7C15
	return k ^ k>>29
}

// globMatch matches a skeleton word against a pattern where '*' stands
// for any run of bytes.
func globMatch(pat, w []byte) bool {
	star := bytes.IndexByte(pat, '*')
	if star < 0 {
		return bytes.Equal(pat, w)
	}
	if len(w) < star || !bytes.Equal(w[:star], pat[:star]) {
		return false
	}
	rest := pat[star+1:]
	for i := star; i <= len(w); i++ {
		if globMatch(rest, w[i:]) {
			return true
		}
	}
	return false
}

func (p *termPhrase) matchAt(v *classify.View, i int) bool {
	for k, wp := range p.words {
		if i+k >= v.Words() {
			return false
		}
		w, h := v.Word(i + k)
		if wp.glob != nil {
			if !globMatch(wp.glob, w) {
				return false
			}
		} else if h != wp.h {
			return false
		}
	}
	return true
}

// rxLit is one literal of a regex in the prefilter.
type rxLit struct {
	rx  int32
	lit []byte
}

// indexRegexes builds the prefilter: a regex whose every match contains
// one of a few literals of three bytes or more is run only when the
// message's plain form contains one of them.
func (r *Rules) indexRegexes() {
	if len(r.rx) == 0 {
		return
	}
	r.triIdx = map[uint32][]rxLit{}
	for i, x := range r.rx {
		if x.lits == nil {
			r.always = append(r.always, int32(i))
			continue
		}
		for _, l := range x.lits {
			k := tri(l[0], l[1], l[2])
			r.setBit(triBit(k))
			r.triIdx[k] = append(r.triIdx[k], rxLit{int32(i), []byte(l)})
			r.litStart[l[0]] = true
			r.litSecond[l[1]] = true
		}
	}
}

func tri(a, b, c byte) uint32 { return uint32(a) | uint32(b)<<8 | uint32(c)<<16 }

func triBit(k uint32) uint32 { return (k * 0x9E3779B1) >> 10 }

// maxLits bounds the literals of one regex in the prefilter.
const maxLits = 16

// required returns literals (lower case, three bytes or more) one of
// which every match of re contains, or nil if it finds none.
func required(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if l := literal(re); len(l) >= 3 {
			return []string{l}
		}
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			l := required(sub)
			if l == nil || len(out)+len(l) > maxLits {
				return nil
			}
			out = append(out, l...)
		}
		return out
	case syntax.OpConcat:
		var best []string
		cur := ""
		better := func(l []string) {
			if l != nil && (best == nil || shortest(l) > shortest(best)) {
				best = l
			}
		}
		for _, sub := range re.Sub {
			if sub.Op == syntax.OpLiteral {
				if l := literal(sub); l != "" {
					cur += l
					continue
				}
			}
			if len(cur) >= 3 {
				better([]string{cur})
			}
			cur = ""
			better(required(sub))
		}
		if len(cur) >= 3 {
			better([]string{cur})
		}
		return best
	}
	return nil
}

func shortest(l []string) int {
	n := 1 << 30
	for _, s := range l {
		n = min(n, len(s))
	}
	return n
}

// literal is re's literal in lower case if the prefilter can use it:
// ASCII, or characters without case (Devanagari). Other letters fold in
// ways a plain byte comparison would miss.
func literal(re *syntax.Regexp) string {
	var b strings.Builder
	for _, c := range re.Rune {
		switch {
		case c < utf8.RuneSelf:
			b.WriteRune(unicode.ToLower(c))
		case unicode.SimpleFold(c) == c && !unicode.IsUpper(c):
			b.WriteRune(c)
		default:
			return ""
		}
	}
	return b.String()
}

// DefaultEmotes are the emotes counted when a policy lists none: Twitch's
// global emotes that chat floods with most, and common BTTV/7TV ones.
var DefaultEmotes = []string{
	"Kappa", "PogChamp", "LUL", "Kreygasm", "BibleThump", "ResidentSleeper", "4Head", "DansGame",
	"SeemsGood", "NotLikeThis", "TriHard", "WutFace", "CoolStoryBob", "HeyGuys", "VoHiYo", "PJSalt",
	"SMOrc", "FailFish", "Jebaited", "BabyRage", "KappaPride", "MrDestructoid", "OSFrog", "PogU",
	"KEKW", "monkaS", "OMEGALUL", "Pog", "PepeHands", "catJAM", "Sadge", "EZ", "LULW", "5Head",
	"HeyGuys", "CoolCat", "BloodTrail", "GivePLZ", "TakeNRG", "PunOko", "StinkyCheese",
}

// String describes the rules for logs.
func (r *Rules) String() string {
	return fmt.Sprintf("policy: %d rules, %d term phrases, %d regexes", len(r.rules), len(r.phrase), len(r.rx))
}

func hasBadge(badges, exempt []string) bool {
	for _, b := range badges {
		if slices.Contains(exempt, canonBadge(b)) {
			return true
		}
	}
	return false
}
